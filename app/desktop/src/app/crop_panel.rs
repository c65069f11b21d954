//! The crop panel on the right of the window: the crop box control for the view rendered
//! here (its 3D view redrawn as the sliders move) or for the view streamed from a server
//! (sent as `crop` inputs).

use std::time::Instant;

use eframe::egui;

use super::{DesktopApp, State};
use crate::crop_control::crop_control;
use crate::thin_client::remote_view::CROP_SEND_INTERVAL;

impl DesktopApp {
    /// The crop panel, when it is shown and there is a view to crop.
    pub(super) fn crop_panel(&mut self, ui: &mut egui::Ui) {
        if !self.show_crop || !matches!(self.state, State::Local(_) | State::Remote { .. }) {
            return;
        }
        egui::Panel::right("crop")
            .resizable(false)
            .show(ui, |ui| match &mut self.state {
                State::Local(workspace) => {
                    let view3d = &mut workspace.view3d;
                    let edit = crop_control(ui, &mut view3d.view.crop);
                    if edit.changed || edit.drag_stopped {
                        view3d.changed(edit.dragging && !edit.drag_stopped);
                    }
                }
                State::Remote { view, .. } => {
                    let mut crop = view.shown_crop();
                    let edit = crop_control(ui, &mut crop);
                    view.edit_crop(crop, edit, Instant::now());
                    // A box held back during the drag goes out even if the pointer rests.
                    if view.crop_held() {
                        ui.ctx().request_repaint_after(CROP_SEND_INTERVAL);
                    }
                }
                _ => {}
            });
    }
}
