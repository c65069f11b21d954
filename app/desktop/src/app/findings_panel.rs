//! The findings panel beside the 2×2 layout: the series' findings with their numbers,
//! measured on this computer for a series rendered here, by the server for one streamed.

use eframe::egui;
use render_core::view::Layout;

use super::{DesktopApp, State};

impl DesktopApp {
    /// The findings panel on the right, while it is on and the slices show. It opens by
    /// itself the first time a finding tool is picked or a series shows with findings.
    pub(super) fn findings_panel(&mut self, ui: &mut egui::Ui) {
        let wanted = match &self.state {
            State::Local(workspace) => {
                workspace.link.tool.acts_on_findings() || !workspace.findings.list.is_empty()
            }
            State::Remote { view, .. } => {
                view.tool.acts_on_findings() || !view.findings.list.is_empty()
            }
            _ => false,
        };
        if wanted && !self.findings_panel_opened {
            self.findings_panel_opened = true;
            self.show_findings = true;
        }
        if !self.show_findings {
            return;
        }
        let panel = || {
            egui::Panel::right("findings")
                .resizable(true)
                .default_size(300.0)
        };
        match &mut self.state {
            State::Local(workspace) if workspace.layout == Layout::Quad => {
                panel().show(ui, |ui| {
                    let offer = workspace.findings.save_offer();
                    let documents = workspace.findings.document_offer();
                    let findings = &mut workspace.findings;
                    let actions = findings.panel.ui(
                        ui,
                        &findings.list,
                        &offer,
                        &documents,
                        findings.problem.as_deref(),
                    );
                    workspace.take_panel_actions(ui.ctx(), actions);
                    let ct = workspace
                        .renderer()
                        .volume()
                        .is_some_and(|volume| volume.modality == render_core::Modality::CT);
                    if ct && let Some(ask) = workspace.calcium.ui(ui) {
                        workspace.ask_calcium(ui.ctx(), ask);
                    }
                });
            }
            State::Remote { view, .. } if view.layout() == Layout::Quad => {
                panel().show(ui, |ui| view.findings_panel(ui));
            }
            _ => {}
        }
    }
}
