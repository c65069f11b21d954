//! Hounsfield's render core: DICOM series → volumes in patient space, the built-in
//! phantom, transfer functions and their presets, the camera, the view state, and the
//! wgpu ray caster and reformat. It knows nothing of UI or network.

pub mod camera;
pub mod curved;
pub mod dicom;
pub mod downsample;
pub mod gpu;
pub mod packed;
pub mod panics;
pub mod phantom;
pub mod progress;
pub mod transfer;
pub mod value_counts;
pub mod view;
pub mod volume;

pub use volume::{Modality, ValueRange, Volume, Voxels, Window};
