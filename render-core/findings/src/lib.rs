//! What a radiologist keeps of a reading: findings drawn on the slices of a series
//! (regions with their statistics, rulers, angles, arrows with notes), and the DICOM
//! Measurement Report (Comprehensive 3D SR, TID 1500) that carries them to a PACS or a
//! findings folder and back.

pub mod arteries;
pub mod calcium;
pub mod curve;
mod error;
mod finding;
pub mod folder;
pub mod naming;
pub mod outline;
pub mod report;
pub mod scoring;
pub mod segmentation;
mod statistics;
pub mod uptake;

pub use error::FindingError;
pub use finding::{Finding, Measurement};
pub use hounsfield_vocabulary::{FindingKind, RegionStatistics, RegionSuv};
pub use statistics::{MAX_REGION_SAMPLES, rounded, unit_of};

/// The most findings one series keeps: far more than a reading draws, and a bound on
/// what a client can make the server hold and every report carry.
pub const MAX_FINDINGS_PER_SERIES: usize = 500;

/// The most bytes a findings report may have when read back: 500 findings of the largest
/// polygon are well under it.
pub const MAX_REPORT_BYTES: u64 = 16 * 1024 * 1024;
