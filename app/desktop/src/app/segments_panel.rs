//! The segments panel on the right of the window, beside the 2×2 layout of a series
//! rendered here or streamed: the series' segments, their tools and saving them.

use eframe::egui;
use render_core::view::Layout;

use super::{DesktopApp, State};
use crate::segments::panel::segments_panel;

impl DesktopApp {
    /// The segments panel, while it is on and the slices show.
    pub(super) fn segments_panel(&mut self, ui: &mut egui::Ui) {
        if !self.show_segments {
            return;
        }
        let panel = || {
            egui::Panel::right("segments")
                .resizable(true)
                .default_size(280.0)
        };
        if let State::Remote { view, .. } = &mut self.state {
            if view.layout() == Layout::Quad {
                panel().show(ui, |ui| view.segments_panel(ui));
            }
            return;
        }
        let State::Local(workspace) = &mut self.state else {
            return;
        };
        if workspace.layout != Layout::Quad {
            return;
        }
        panel().show(ui, |ui| {
            let save_ready = workspace.findings.where_to_keep().map(|_| ());
            let offer = workspace.segments.offer(save_ready);
            let list = workspace.segments.list();
            let actions = segments_panel(
                ui,
                &list,
                &mut workspace.segments.tools,
                &mut workspace.link.tool,
                &offer,
            );
            workspace.take_segment_actions(ui.ctx(), actions);
        });
    }
}
