//! Hounsfield's studies and volumes: DICOM series → volumes in patient space (the
//! catalogue of what files and folders hold, DICOMDIR, loading and decoding, stack
//! geometry), the CPU copy of a volume packed slice by slice, and the built-in phantom.
//! It knows nothing of GPUs, UI or network: the renderer, the findings and DICOMweb
//! build on it.

pub mod dicom;
pub mod downsample;
pub mod packed;
pub mod panics;
pub mod phantom;
pub mod progress;
pub mod value_counts;
pub mod volume;

pub use volume::{Modality, ValueRange, Volume, Voxels, Window};
