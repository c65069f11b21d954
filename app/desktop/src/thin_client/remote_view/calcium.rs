//! Coronary calcium from the thin client: for a CT, a bar above the frame scores the
//! series on the server (`calcium`) and shows the total with its risk category and each
//! artery's scores. With **Name lesions** on, a click on a lesion of the axial cell names
//! it (and the lesions touching it on the slices above and below) the artery chosen, and
//! a drag there names the lesions of that slice inside the box. The server keeps the
//! names while the series stays open and lays the lesions over the slices, the candidates
//! in yellow and each artery's in its colour; **On slices** takes them off. With **Mark
//! calibration** on, a box dragged on the axial cell over a phantom's insert of the
//! density given calibrates the mass score (`calibration_on_slice`); the server answers
//! the box it took, which every later score sends, until **Default calibration**.

use eframe::egui;
use hounsfield_findings::arteries::Artery;
use hounsfield_protocol::{
    CalciumReport, CalciumRequest, DrawnDensity, KnownDensity, Layout, LesionNaming, SlicePlane,
};

use super::RemoteView;
use crate::calcium::{Calibrating, artery_choice, calibration_bar, score_lines};

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
    /// The box the last frame outlined: the drag's once it is let go.
    last_box: Option<egui::Rect>,
    /// How the reader marks the calibration.
    pub calibrating: Calibrating,
    /// The region of known density the server calibrated the last score by; none: the
    /// default.
    pub calibration: Option<KnownDensity>,
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
            last_box: None,
            calibrating: Calibrating::default(),
            calibration: None,
        }
    }
}

impl RemoteCalcium {
    /// Takes the naming box off the picture, kept as the last frame's (the drag's corners
    /// once it is let go).
    pub(super) fn forget_box(&mut self) {
        self.last_box = self.naming_box.take();
    }
}

impl RemoteView {
    /// Asks the server to score the open series' calcium with `request`, the lesions
    /// shown over the slices as **On slices** says, the mass calibrated by the region the
    /// last score was unless `request` draws another.
    pub fn ask_calcium(&mut self, request: CalciumRequest) {
        let kept = self
            .calcium
            .calibration
            .filter(|_| request.calibration_on_slice.is_none());
        let request = CalciumRequest {
            highlight: self.calcium.on_slices,
            calibration: request.calibration.or(kept),
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
            self.calcium.calibration = report.calibration;
            if report.calibration.is_some() {
                self.calcium.calibrating.marking = false;
            }
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
            calibrating: Calibrating {
                marking: false,
                ..self.calcium.calibrating
            },
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
        if let Some(report) = self.calcium.report.as_deref()
            && calibration_bar(
                ui,
                &mut self.calcium.naming,
                &mut self.calcium.calibrating,
                report,
            )
        {
            self.calcium.calibration = None;
            asked = Some(CalciumRequest::default());
        }
        if let Some(request) = asked {
            self.ask_calcium(request);
        }
        let report = self.calcium.report.as_deref();
        score_lines(ui, self.calcium.refused.as_deref(), report);
    }

    /// With Name lesions on, a click on the axial cell (2×2 layout) names the lesion
    /// there, a drag the lesions of the slice inside its box; with Mark calibration on, a
    /// drag's box calibrates the mass. Whether the press was theirs (and so goes no
    /// further).
    pub(super) fn calcium_gesture(&mut self, ui: &egui::Ui, response: &egui::Response) -> bool {
        let marking = self.calcium.calibrating.marking;
        if !(self.calcium.naming || marking) || self.layout() != Layout::Quad {
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
        let outlined = self.calcium.last_box.take();
        self.calcium.naming_box = crate::calcium::naming_box(ui, response);
        let points = if response.clicked_by(egui::PointerButton::Primary) {
            Some(vec![from])
        } else if response.drag_stopped_by(egui::PointerButton::Primary) {
            let dragged = crate::calcium::released_box(ui, response, outlined);
            let corner = |at: Option<egui::Pos2>| on_axial(self, at).unwrap_or(from);
            Some(vec![
                corner(dragged.map(|rect| rect.min)),
                corner(dragged.map(|rect| rect.max)),
            ])
        } else {
            None
        };
        let cell = SlicePlane::Axial.name().to_string();
        let request = match points {
            Some(points) if marking && points.len() == 2 => CalciumRequest {
                calibration_on_slice: Some(DrawnDensity {
                    cell,
                    points,
                    mg_per_cm3: self.calcium.calibrating.mg_per_cm3,
                }),
                ..CalciumRequest::default()
            },
            Some(_) if marking => {
                self.calcium.refused = Some("drag a box over the insert".to_string());
                return true;
            }
            Some(points) => CalciumRequest {
                name: Some(LesionNaming {
                    artery: self.calcium.artery.code().to_string(),
                    cell,
                    points,
                }),
                ..CalciumRequest::default()
            },
            None => return true,
        };
        self.ask_calcium(request);
        true
    }
}
