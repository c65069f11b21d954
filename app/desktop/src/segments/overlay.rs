//! The segments over one slice: the server's slice-cell paint made as an image of its
//! own (transparent where no segment is), uploaded to egui and laid over the slice the
//! renderer drew. Made again only when the slice or the segments change.

use eframe::egui;
use hounsfield_server::compose::segment_overlay;
use render_core::Volume;
use render_core::view::MprPlane;

use super::ShownSegments;
use crate::layer_texture::LayerTexture;

/// One slice view's overlay of the segments.
pub struct SegmentTexture {
    /// The picture, made for a slice, a size and a generation of the segments.
    texture: LayerTexture<(MprPlane, [u32; 2], u64)>,
}

impl Default for SegmentTexture {
    fn default() -> Self {
        // Nearest: a voxel's edge stays sharp however far the slice is zoomed.
        Self {
            texture: LayerTexture::new("segments", egui::TextureOptions::NEAREST),
        }
    }
}

impl SegmentTexture {
    /// Lays `shown` over the slice `plane` of `volume` drawn at `size` pixels in `rect`.
    pub fn paint(
        &mut self,
        painter: &egui::Painter,
        rect: egui::Rect,
        volume: &Volume,
        plane: &MprPlane,
        size: [u32; 2],
        shown: &ShownSegments,
    ) {
        if shown.segments.is_empty() {
            self.texture.clear();
            return;
        }
        let key = (*plane, size, shown.generation);
        self.texture.paint(painter, rect, key, || {
            let overlay = segment_overlay(volume, plane, size, &shown.segments);
            egui::ColorImage::from_rgba_unmultiplied(
                [overlay.width as usize, overlay.height as usize],
                &overlay.rgba,
            )
        });
    }
}
