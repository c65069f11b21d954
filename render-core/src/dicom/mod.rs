//! DICOM in: a catalog of what files and folders hold (headers only) and a loader that
//! turns a series into a [`Volume`](crate::volume::Volume) with exact patient geometry.

pub mod catalog;
pub mod dicomdir;
pub mod error;
pub mod header;
pub mod jpeg12;
pub mod jpeg2000;
pub mod loader;
pub mod pixels;
pub mod rescale;
pub mod stack;

pub use catalog::{Catalog, Series, SkippedFile, Study};
pub use error::{Attribute, DicomError};
pub use loader::{LoadedSeries, load_series};
pub use stack::{StackPlan, StackWarning};
