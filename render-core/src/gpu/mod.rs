//! Rendering on the GPU with wgpu: the device and its capabilities, the volume texture
//! with its brick grid, the WGSL ray caster and reformat, and the renderer tying them
//! to a [`crate::view::ViewState`].

pub mod bricks;
#[cfg(test)]
mod cinematic_tests;
pub mod context;
pub mod errors;
pub mod gradients;
#[cfg(test)]
mod lighting_tests;
#[cfg(test)]
mod over_tests;
mod over_volume;
#[cfg(test)]
mod packed_tests;
pub mod pipelines;
pub mod renderer;
pub mod segment_labels;
#[cfg(test)]
mod segments_tests;
pub mod shader_mode;
mod slab_upload;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod transfer_rows;
#[cfg(test)]
mod transfer_tests;
pub mod volume_texture;

pub use context::{AdapterKind, Capabilities, GpuContext, GpuError};
pub use errors::{DeviceWatch, catch_errors};
pub use pipelines::{RayDispatch, SegmentsDrawn};
pub use renderer::{
    BAND_TAKES, BandedImage, CinematicPicture, CinematicSettings, FrameImage, FrameInfo,
    InteractiveBudget, REFINE_WHEN_FULL_TAKES, RenderError, Renderer, VolumeFootprint, bands_for,
};
pub use segment_labels::{LabelsError, MOST_LABELS, SegmentLabels};
pub use volume_texture::GpuVolume;
