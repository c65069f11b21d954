//! A second series drawn over the 3D view (a PET over its CT, a perfusion map over an
//! anatomical MR): its volume uploaded as a texture of its own, its colour map as a row
//! of texels, and how the first series' texture coordinates are found in it. The ray
//! caster takes the second series' highest value along each ray through the crop box
//! (its maximum intensity projection), windows and colours it, and blends it at its
//! opacity where the ray crosses the second series: the slices' fusion, along a ray.

use std::sync::Arc;

use glam::{DMat4, DVec3};
use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::segment_labels::colour_row_descriptor;
use super::volume_texture::GpuVolume;
use crate::Volume;
use crate::colour_map::ColourMap;
use crate::fusion::{Fusion, SeriesOver};
use crate::view::series_link::SeriesLink;

/// Entries of a colour map's row of texels.
const COLOUR_ENTRIES: usize = 256;

/// The series drawn over the 3D view, uploaded.
pub(crate) struct GpuOver {
    /// The series as given: showing it again with another style keeps the upload.
    volume: Arc<Volume>,
    /// Its voxels on the GPU.
    pub(crate) gpu: GpuVolume,
    /// How it is drawn.
    fusion: Fusion,
    /// How the first series' points are found in it.
    link: SeriesLink,
    /// Its colour map as a row of [`COLOUR_ENTRIES`] texels.
    pub(crate) colours: wgpu::TextureView,
    /// Whether it is drawn (kept, not drawn, once hidden).
    pub(crate) shown: bool,
}

impl GpuOver {
    /// Uploads `over`'s volume and colour map.
    pub(crate) fn upload(context: &GpuContext, over: &SeriesOver) -> Self {
        Self {
            volume: Arc::clone(&over.volume),
            gpu: GpuVolume::upload(context, &over.volume),
            fusion: over.fusion,
            link: over.link,
            colours: colour_row(context, over.fusion.colours),
            shown: true,
        }
    }

    /// Whether it draws `over` already: the same volume, style and link.
    pub(crate) fn draws(&self, over: &SeriesOver) -> bool {
        Arc::ptr_eq(&self.volume, &over.volume)
            && self.fusion == over.fusion
            && self.link == over.link
    }

    /// Whether `over` is the same volume drawn another way (no upload needed).
    pub(crate) fn holds(&self, over: &SeriesOver) -> bool {
        Arc::ptr_eq(&self.volume, &over.volume)
    }

    /// Draws it, as `over` says (of the volume it holds), its colour row made again only
    /// when the colour map changed.
    pub(crate) fn restyle(&mut self, context: &GpuContext, over: &SeriesOver) {
        if over.fusion.colours != self.fusion.colours {
            self.colours = colour_row(context, over.fusion.colours);
        }
        self.fusion = over.fusion;
        self.link = over.link;
        self.shown = true;
    }

    /// How it is drawn.
    pub(crate) fn fusion(&self) -> Fusion {
        self.fusion
    }

    /// The first series' point `lps` → the second's, as a matrix.
    pub(crate) fn follow(&self) -> DMat4 {
        DMat4::from_translation(self.link.follow(DVec3::ZERO))
    }
}

/// `colours` as a row of [`COLOUR_ENTRIES`] texels, the first at place 0, the last at 1.
fn colour_row(context: &GpuContext, colours: ColourMap) -> wgpu::TextureView {
    let texels: Vec<[u8; 4]> = (0..COLOUR_ENTRIES)
        .map(|n| {
            let [r, g, b] = colours.rgb(n as f64 / (COLOUR_ENTRIES - 1) as f64);
            let byte = |c: f64| (c * 255.0).round().clamp(0.0, 255.0) as u8;
            [byte(r), byte(g), byte(b), 255]
        })
        .collect();
    context
        .device
        .create_texture_with_data(
            &context.queue,
            &colour_row_descriptor("colour map", COLOUR_ENTRIES as u32),
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&texels),
        )
        .create_view(&wgpu::TextureViewDescriptor::default())
}
