//! Coronary calcium from the thin client: for a CT, a bar above the frame scores the
//! series on the server (`calcium`) and shows the total with its risk category and each
//! artery's scores. With **Name lesions** on, a click on a lesion of the axial cell names
//! it (and the lesions touching it on the slices above and below) the artery chosen, and
//! a drag there names the lesions of that slice inside the box. The server keeps the
//! names while the series stays open and lays the lesions over the slices, the candidates
//! in yellow and each artery's in its colour; **On slices** takes them off.

use eframe::egui;
use hounsfield_findings::arteries::Artery;
use hounsfield_protocol::{CalciumReport, CalciumRequest, Layout, LesionNaming, SlicePlane};

use super::RemoteView;
use crate::calcium::{artery_choice, score_lines};

/// The calcium bar's state: the artery the next lesions named are, whether presses on the
/// axial cell name lesions, whether the lesions show over the slices, and the server's
/// last score.
#[derive(Debug)]
pub struct RemoteCalcium {
    /// The artery the next lesions named are.
    pub artery: Artery,
    /// Whether a press on the axial cell names lesions.
    pub naming: bool,
    /// Whether the server lays the lesions over the slices.
    pub on_slices: bool,
    /// The server's last score of the open series.
    pub report: Option<Box<CalciumReport>>,
    /// Why the server refused the last score asked for.
    pub refused: Option<String>,
    /// The naming box being dragged on the axial cell (screen points).
    pub naming_box: Option<egui::Rect>,
}

impl Default for RemoteCalcium {
    fn default() -> Self {
        Self {
            artery: Artery::LeftAnteriorDescending,
            naming: false,
            on_slices: true,
            report: None,
            refused: None,
            naming_box: None,
        }
    }
}

impl RemoteView {
    /// Asks the server to score the open series' calcium with `request`, the lesions
    /// shown over the slices as **On slices** says.
    pub fn ask_calcium(&mut self, request: CalciumRequest) {
        let request = CalciumRequest {
            highlight: self.calcium.on_slices,
            ..request
        };
        self.calcium.refused = None;
        if !self.link.calcium(request) {
            self.calcium.refused = Some("not sent: the link is busy or closed".to_string());
        }
    }

    /// Takes the server's score or refusal into the bar.
    pub(super) fn take_calcium_news(&mut self) {
        let (report, refused) = {
            let mut state = self.link.state();
            (state.calcium.take(), state.calcium_refused.take())
        };
        if let Some(report) = report {
            self.calcium.report = Some(report);
        }
        if refused.is_some() {
            self.calcium.refused = refused;
        }
    }

    /// A series opened (or reopened after a reconnection, in a new session): its score
    /// and names are gone with the old session.
    pub(super) fn forget_calcium(&mut self) {
        self.calcium = RemoteCalcium {
            artery: self.calcium.artery,
            on_slices: self.calcium.on_slices,
            ..RemoteCalcium::default()
        };
    }

    /// The calcium bar, for a CT: Score calcium, then the artery, Name lesions, Forget
    /// names and On slices once scored, with the total and each artery's line.
    pub(super) fn calcium_bar(&mut self, ui: &mut egui::Ui) {
        self.take_calcium_news();
        let ct = self
            .opened
            .as_ref()
            .is_some_and(|opened| opened.modality == "CT");
        if !ct {
            return;
        }
        let mut asked = None;
        ui.horizontal_wrapped(|ui| {
            ui.label("Calcium");
            if ui
                .button("Score calcium")
                .on_hover_text("the whole series' coronary calcium, scored on the server: Agatston, volume and mass")
                .clicked()
            {
                asked = Some(CalciumRequest::default());
            }
            if self.calcium.report.is_none() {
                return;
            }
            artery_choice(ui, "calcium-artery", &mut self.calcium.artery);
            ui.toggle_value(&mut self.calcium.naming, "Name lesions")
                .on_hover_text("then click a lesion on the axial slice (it and the lesions touching it above and below), or drag a box round lesions of that slice");
            if ui.button("Forget names").clicked() {
                asked = Some(CalciumRequest {
                    arteries: Some(Vec::new()),
                    ..CalciumRequest::default()
                });
            }
            if ui
                .checkbox(&mut self.calcium.on_slices, "On slices")
                .on_hover_text("the candidates in yellow, each artery's lesions in its colour")
                .changed()
            {
                asked = Some(CalciumRequest::default());
            }
        });
        if let Some(request) = asked {
            self.ask_calcium(request);
        }
        let report = self.calcium.report.as_deref();
        score_lines(ui, self.calcium.refused.as_deref(), report);
    }

    /// With Name lesions on, a click on the axial cell (2×2 layout) names the lesion
    /// there, a drag the lesions of the slice inside its box; whether the press was the
    /// naming's (and so goes no further).
    pub(super) fn calcium_gesture(&mut self, ui: &egui::Ui, response: &egui::Response) -> bool {
        if !self.calcium.naming || self.layout() != Layout::Quad {
            return false;
        }
        let rect = response.rect;
        let origin = ui.input(|input| input.pointer.press_origin());
        let on_axial = |view: &Self, pos: Option<egui::Pos2>| {
            pos.and_then(|pos| view.slice_at(rect, pos))
                .filter(|(plane, _, _)| *plane == SlicePlane::Axial)
                .map(|(_, x, y)| [x, y])
        };
        let Some(from) = on_axial(self, origin.or(response.hover_pos())) else {
            return false;
        };
        self.calcium.naming_box = crate::calcium::naming_box(ui, response);
        let points = if response.clicked_by(egui::PointerButton::Primary) {
            Some(vec![from])
        } else if response.drag_stopped_by(egui::PointerButton::Primary) {
            let to = on_axial(self, response.interact_pointer_pos()).unwrap_or(from);
            Some(vec![from, to])
        } else {
            None
        };
        if let Some(points) = points {
            self.ask_calcium(CalciumRequest {
                name: Some(LesionNaming {
                    artery: self.calcium.artery.code().to_string(),
                    cell: SlicePlane::Axial.name().to_string(),
                    points,
                }),
                ..CalciumRequest::default()
            });
        }
        true
    }
}
