//! Hounsfield's renderer: the wgpu device, the ray caster and the reformats (flat, turned
//! and curved) that draw a [`view::ViewState`] of a [`Volume`]. It knows nothing of UI or
//! network. The layers beneath it are re-exported at the same paths (`render_core::dicom`,
//! `render_core::view`…), so that a crate that draws has one door; a crate that only reads
//! studies or describes a view uses `hounsfield-volume` or `hounsfield-scene` alone.

pub mod curved;
pub mod gpu;

pub use hounsfield_scene::{camera, colour_map, fusion, transfer, view};
pub use hounsfield_volume::{
    Modality, ValueRange, Volume, Voxels, Window, dicom, downsample, packed, panics, phantom,
    progress, value_counts, volume,
};
