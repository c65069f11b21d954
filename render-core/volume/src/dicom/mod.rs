//! DICOM in: a catalog of what files and folders hold (headers only) and a loader that
//! turns a series into a [`Volume`](crate::volume::Volume) with exact patient geometry.

pub mod budget;
pub mod catalog;
pub mod checked_pixels;
pub mod codestream_size;
pub mod declared;
pub mod dicomdir;
pub mod error;
pub mod header;
pub mod header_reading;
pub mod jpeg12;
pub mod jpeg2000;
pub mod library_walk;
pub mod loader;
pub mod over_time;
pub mod pixels;
pub mod predecoded;
pub mod rescale;
pub mod series_kind;
pub mod skipped;
pub mod stack;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod text;
pub mod thumbnail;
pub mod time_points;

pub use budget::VoxelBudget;
pub use catalog::{Catalog, Series, Study};
pub use error::{Attribute, DicomError};
pub use loader::{LoadedSeries, load_series, load_series_predecoded, load_series_within};
pub use over_time::{SeriesOverTime, VolumeAtTime, load_series_over_time};
pub use predecoded::PreDecoded;
pub use series_kind::SeriesKind;
pub use skipped::SkippedFile;
pub use stack::{StackPlan, StackWarning};
pub use time_points::{TimePoint, plan_time_points};
