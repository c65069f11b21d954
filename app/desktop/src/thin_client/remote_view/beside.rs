//! A study laid out on the thin client as the server's hanging protocol hangs it: the first
//! cell's layout, window and preset applied to this view, the next cell streamed beside it
//! (a session of its own on the same server, drawn in the right half of the window) and
//! moved with the first; and the patient's other studies (`priors`) offered to open beside.
//! The window shows two cells, as the desktop's own reading beside does: a protocol's
//! third and fourth cells are named in the log, not shown.

use eframe::egui;
use glam::DVec3;
use hounsfield_protocol::{Action, HungCell, SeriesKind, StudyInfo};

use super::RemoteView;
use crate::browser::reading_heading;

/// A series streamed beside the first view, following it.
pub struct RemoteBeside {
    /// Its own view (and link), drawn in the right half.
    view: Box<RemoteView>,
    /// What it shows, for its heading: `prior 2006-01-01 · T2_TSE_SAG`.
    label: String,
    /// Whether the first view's grey window moves this one too.
    window_linked: bool,
    /// The crosshair it was last at, as its server told it (logged when it moves).
    crosshair: Option<DVec3>,
}

/// Whether the series beside takes `action` as the first view took it: the moves that
/// mean the same in any series of the patient (a slice step in mm, the 3D camera, the
/// layout, the planes' turn and reset), and the grey window while it is linked. A click's
/// spot (`crosshair`), a size or a finding belong to the view they were made on.
fn follows(action: &Action, window_linked: bool) -> bool {
    match action {
        Action::Slice { .. }
        | Action::Orbit { .. }
        | Action::Pan { .. }
        | Action::Zoom { .. }
        | Action::View { .. }
        | Action::Reset
        | Action::Layout { .. }
        | Action::TurnPlanes { .. }
        | Action::ResetPlanes
        | Action::Interact { .. } => true,
        Action::Window { .. } => window_linked,
        _ => false,
    }
}
impl RemoteView {
    /// Lays the reading out as the server's hanging protocol `protocol` hung it: the first
    /// cell is this view's (applied once its series is open), the second opens beside.
    pub(super) fn hang(&mut self, ctx: &egui::Context, protocol: &str, cells: Vec<HungCell>) {
        let mut cells = cells.into_iter();
        let Some(first) = cells.next() else {
            return;
        };
        tracing::info!(
            "hanging protocol {protocol:?}: series {} in the first cell",
            first.series
        );
        self.hung_cell = Some(first);
        if let Some(second) = cells.next() {
            let label = reading_heading(second.role.name(), &second.date, &second.description);
            let series = second.series.clone();
            self.open_beside(ctx, &series, label, Some(second));
        }
        for unshown in cells {
            tracing::info!(
                "the hanging protocol's cell of series {} is not shown: the window shows two",
                unshown.series
            );
        }
    }

    /// Applies the cell the reading was hung with, once the series is open: its layout,
    /// window and preset (one the series offers).
    pub(super) fn apply_hung_cell(&mut self) {
        if self.mirror.is_none() {
            return;
        }
        let Some(cell) = self.hung_cell.take() else {
            return;
        };
        if let Some(layout) = cell.layout {
            self.set_layout(layout);
        }
        if let Some(window) = cell.window {
            self.act(Action::Window {
                width: window.width,
                center: window.center,
            });
        }
        let offered = self.opened.as_ref().is_some_and(|opened| {
            cell.preset
                .as_ref()
                .is_some_and(|p| opened.presets.contains(p))
        });
        if let (Some(preset), true) = (cell.preset, offered) {
            self.act(Action::Preset { name: preset });
        }
    }

    /// Streams `series` of the same server beside this view, as a session of its own,
    /// replacing the one beside; `cell` is what it is hung with.
    pub(super) fn open_beside(
        &mut self,
        ctx: &egui::Context,
        series: &str,
        label: String,
        cell: Option<HungCell>,
    ) {
        let mut target = self.link.target.clone();
        target.series = Some(series.to_string());
        target.study = None;
        target.join = None;
        match RemoteView::connect(ctx, target, None) {
            Ok(mut view) => {
                tracing::info!("beside: series {series} ({label})");
                view.hung_cell = cell;
                self.beside = Some(Box::new(RemoteBeside {
                    view: Box::new(view),
                    label,
                    window_linked: false,
                    crosshair: None,
                }));
            }
            Err(error) => tracing::warn!("the series beside did not open: {error}"),
        }
    }

    /// Hands `action`, just sent to this view's server, to the series beside when it
    /// follows it.
    pub(super) fn lead_beside(&mut self, action: &Action) {
        if let Some(beside) = &mut self.beside
            && follows(action, beside.window_linked)
        {
            beside.view.act(action.clone());
        }
    }

    /// Draws the view, with the patient's other studies above it when there are some, and
    /// the series beside it in the right half when one is open.
    pub fn ui_with_beside(&mut self, ui: &mut egui::Ui) {
        self.priors_bar(ui);
        if self.beside.is_none() {
            self.ui(ui);
            return;
        }
        let (mut left_ui, mut right_ui) = crate::beside::halves(ui);
        // The first view is drawn with the series beside in place: the inputs it sends
        // reach the one beside too.
        self.ui(&mut left_ui);
        let Some(beside) = &mut self.beside else {
            return;
        };
        let mut closed = false;
        right_ui.horizontal(|ui| {
            ui.label(egui::RichText::new(&beside.label).strong());
            ui.checkbox(&mut beside.window_linked, "Link the window")
                .on_hover_text("The grey window set on the left moves this series too");
            closed = ui.small_button("×").on_hover_text("Close").clicked();
        });
        beside.view.ui(&mut right_ui);
        beside.note_crosshair();
        if closed {
            self.beside = None;
        }
    }

    /// The patient's other studies, each volume series offered to open beside.
    fn priors_bar(&mut self, ui: &mut egui::Ui) {
        if self.priors.is_empty() {
            return;
        }
        let mut chosen = None;
        ui.horizontal(|ui| {
            ui.menu_button(format!("Priors ({})", self.priors.len()), |ui| {
                for study in &self.priors {
                    ui.label(
                        egui::RichText::new(reading_heading("", &study.date, &study.description))
                            .strong(),
                    );
                    for series in volumes_of(study) {
                        let text = format!("Open beside: {}", series.description);
                        if ui.button(text).clicked() {
                            let label = reading_heading("prior", &study.date, &series.description);
                            chosen = Some((series.id.clone(), label));
                            ui.close();
                        }
                    }
                }
            });
        });
        if let Some((series, label)) = chosen {
            self.open_beside(ui.ctx(), &series, label, None);
        }
    }
}

/// The series of `study` that open as volumes.
fn volumes_of(study: &StudyInfo) -> impl Iterator<Item = &hounsfield_protocol::SeriesInfo> {
    study
        .series
        .iter()
        .filter(|series| series.kind == SeriesKind::Volume && series.unavailable.is_none())
}

impl RemoteBeside {
    /// Logs where the series beside is when its server moves its crosshair (a slice step
    /// followed, say).
    fn note_crosshair(&mut self) {
        let now = self
            .view
            .mirror
            .as_ref()
            .and_then(|mirror| mirror.crosshair_lps);
        if now.is_some() && now != self.crosshair {
            self.crosshair = now;
            if let Some(at) = now {
                crate::beside::note_position(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_beside_follows_moves_and_the_window_only_while_linked() {
        let step = Action::Slice {
            plane: "axial".to_string(),
            delta_mm: 3.0,
        };
        assert!(follows(&step, false));
        let window = Action::Window {
            width: 400.0,
            center: 40.0,
        };
        assert!(!follows(&window, false));
        assert!(follows(&window, true));
        let click = Action::Crosshair {
            plane: "axial".to_string(),
            x: 0.5,
            y: 0.5,
        };
        assert!(!follows(&click, true));
        let resize = Action::Resize {
            width: 640,
            height: 480,
        };
        assert!(!follows(&resize, true));
    }

    #[test]
    fn a_heading_names_the_role_date_and_description_it_has() {
        assert_eq!(
            reading_heading("prior", "20060101", "T2_TSE_SAG"),
            "prior · 2006-01-01 · T2_TSE_SAG"
        );
        assert_eq!(reading_heading("current", "", "T2"), "current · T2");
    }
}
