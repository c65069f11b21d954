//! Each slice cell's slab from the thin client: the same control as in a view rendered
//! here, in the bottom corner of each cell of the server's 2×2 frame; a choice is sent as
//! `slab` and mirrored.

use eframe::egui;
use hounsfield_protocol::{Action, Layout, SlicePlane};
use render_core::view::layout::cell_index;

use super::RemoteView;
use crate::slab_control::slab_control;

impl RemoteView {
    /// Draws each slice cell's slab control over the frame shown in `rect` (the 2×2 layout
    /// only) and sends the slab chosen in one.
    pub(super) fn slab_controls(&mut self, ui: &mut egui::Ui, rect: egui::Rect) {
        if self.layout() != Layout::Quad {
            return;
        }
        let Some(slabs) = self.mirror.as_ref().map(|mirror| mirror.slabs) else {
            return;
        };
        let cells = self.cells_on_screen(rect);
        for plane in SlicePlane::ALL {
            let cell = cells[cell_index(plane)];
            if let Some(chosen) = slab_control(ui, cell, plane, slabs.of(plane)) {
                self.act(Action::Slab {
                    plane: plane.name().to_string(),
                    mm: chosen.mm,
                    mode: chosen.mode.name().to_string(),
                });
            }
        }
    }
}
