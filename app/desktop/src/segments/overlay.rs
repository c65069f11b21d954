//! The segments over one slice: the server's slice-cell paint made as an image of its
//! own (transparent where no segment is), uploaded to egui and laid over the slice the
//! renderer drew. Made again only when the slice or the segments change.

use eframe::egui;
use hounsfield_server::compose::segment_overlay;
use render_core::Volume;
use render_core::view::MprPlane;

use super::ShownSegments;

/// One slice view's overlay of the segments.
#[derive(Default)]
pub struct SegmentTexture {
    texture: Option<egui::TextureHandle>,
    /// The slice, size and segments it was made for.
    made_for: Option<(MprPlane, [u32; 2], u64)>,
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
            self.texture = None;
            self.made_for = None;
            return;
        }
        let wanted = (*plane, size, shown.generation);
        if self.made_for != Some(wanted) {
            let overlay = segment_overlay(volume, plane, size, &shown.segments);
            let image = egui::ColorImage::from_rgba_unmultiplied(
                [overlay.width as usize, overlay.height as usize],
                &overlay.rgba,
            );
            // Nearest: a voxel's edge stays sharp however far the slice is zoomed.
            let options = egui::TextureOptions::NEAREST;
            match &mut self.texture {
                Some(texture) => texture.set(image, options),
                None => {
                    self.texture = Some(painter.ctx().load_texture("segments", image, options));
                }
            }
            self.made_for = Some(wanted);
        }
        if let Some(texture) = &self.texture {
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.image(texture.id(), rect, uv, egui::Color32::WHITE);
        }
    }
}
