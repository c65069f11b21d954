//! The segments panel on the right of the window, beside the 2×2 layout of a series
//! rendered here: the series' segments, their tools and saving them.

use eframe::egui;
use render_core::view::Layout;

use super::{DesktopApp, State};
use crate::segments::panel::segments_panel;

impl DesktopApp {
    /// The segments panel, while it is on and the slices of a series rendered here show.
    pub(super) fn segments_panel(&mut self, ui: &mut egui::Ui) {
        if !self.show_segments {
            return;
        }
        let State::Local(workspace) = &mut self.state else {
            return;
        };
        if workspace.layout != Layout::Quad {
            return;
        }
        egui::Panel::right("segments")
            .resizable(true)
            .default_size(280.0)
            .show(ui, |ui| {
                let save_ready = workspace.findings.where_to_keep().map(|_| ());
                let actions = segments_panel(
                    ui,
                    &mut workspace.segments,
                    &mut workspace.link.tool,
                    save_ready,
                );
                workspace.take_segment_actions(ui.ctx(), actions);
            });
    }
}
