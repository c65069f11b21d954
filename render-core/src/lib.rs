//! Hounsfield's render core: DICOM series → volumes in patient space, the built-in
//! phantom, transfer-function presets baked into lookup tables, and (later) camera and
//! the wgpu ray caster. It knows nothing of UI or network.

pub mod dicom;
pub mod phantom;
pub mod progress;
pub mod transfer;
pub mod volume;

pub use volume::{Modality, ValueRange, Volume, Voxels, Window};
