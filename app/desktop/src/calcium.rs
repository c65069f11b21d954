//! Coronary calcium on a CT rendered here: the Calcium part of the findings panel scores
//! the series off the window's thread by the rules the server and `hounsfield calcium`
//! share, shows the total with its risk category and each artery's scores, and names
//! lesions: with **Name lesions** on, a click on a lesion of the axial slice names it (and
//! the lesions touching it above and below) the artery chosen, a drag there the lesions
//! of that slice inside the box. The lesions lie over the slices, the candidates in
//! yellow and each artery's in its colour, as the server's slice cells show them. With
//! **Mark calibration** on, a box dragged on the axial slice over a phantom's insert of
//! the density given calibrates the mass score; **Default calibration** goes back to the
//! stated default.

use std::sync::Arc;

use eframe::egui;
use hounsfield_findings::arteries::{Artery, NamedRegion};
use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::naming::{CalciumAsked, NamedScore, NamingGesture};
use hounsfield_protocol::{CalciumReport, CalciumTotals, KnownDensity, MOST_KEPT_ARTERY_REGIONS};
use hounsfield_server::compose::{SegmentOverlay, calcium_lesion_overlays};
use render_core::Volume;

use crate::findings::pending::Pending;

/// The box a naming drag on `response` spans now, from where the press began to the
/// pointer; none unless a primary drag is under way.
pub fn naming_box(ui: &egui::Ui, response: &egui::Response) -> Option<egui::Rect> {
    if !response.dragged_by(egui::PointerButton::Primary) {
        return None;
    }
    let from = ui.input(|input| input.pointer.press_origin())?;
    let to = response.interact_pointer_pos()?;
    Some(egui::Rect::from_two_pos(from, to))
}

/// The box a naming drag on `response` spanned as it was let go: from where the press
/// began to the pointer, or, once the press's origin is forgotten (egui forgets it on
/// the frame of the release), the box the last frame `outlined`.
pub fn released_box(
    ui: &egui::Ui,
    response: &egui::Response,
    outlined: Option<egui::Rect>,
) -> Option<egui::Rect> {
    let from = ui.input(|input| input.pointer.press_origin());
    let to = response
        .interact_pointer_pos()
        .or_else(|| ui.input(|input| input.pointer.latest_pos()));
    match (from, to) {
        (Some(from), Some(to)) => Some(egui::Rect::from_two_pos(from, to)),
        _ => outlined,
    }
}

/// Outlines `naming`, the box being dragged, over the picture painted by `painter`.
pub fn paint_naming_box(painter: &egui::Painter, naming: Option<egui::Rect>) {
    if let Some(rect) = naming {
        let stroke = egui::Stroke::new(1.5, egui::Color32::WHITE);
        painter.rect_stroke(rect, 0.0, stroke, egui::StrokeKind::Middle);
    }
}

/// How the reader marks the mass score's calibration: whether a box dragged on the axial
/// slice marks it, and the density of the insert it is drawn over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibrating {
    /// Whether a box dragged on the axial slice marks the calibration region.
    pub marking: bool,
    /// The insert's density (mg/cm³).
    pub mg_per_cm3: f64,
}

impl Default for Calibrating {
    fn default() -> Self {
        Self {
            marking: false,
            mg_per_cm3: 200.0,
        }
    }
}

/// The calibration's controls, beside the naming's (`naming`: one of the two takes the
/// axial slice's presses at a time): the insert's density, Mark calibration, Default
/// calibration once a region calibrates `report`, and the factor's line. Whether
/// Default calibration was clicked.
pub fn calibration_bar(
    ui: &mut egui::Ui,
    naming: &mut bool,
    calibrating: &mut Calibrating,
    report: &CalciumReport,
) -> bool {
    let mut by_default = false;
    ui.horizontal_wrapped(|ui| {
        ui.label("Insert");
        ui.add(
            egui::DragValue::new(&mut calibrating.mg_per_cm3)
                .range(1.0..=2000.0)
                .suffix(" mg/cm³"),
        )
        .on_hover_text("the calcium density of the calibration phantom's insert the box is drawn over");
        if ui
            .toggle_value(&mut calibrating.marking, "Mark calibration")
            .on_hover_text("then drag a box over a calibration insert on the axial slice: the mass is calibrated by its density over the box's mean value")
            .changed()
            && calibrating.marking
        {
            *naming = false;
        }
        if *naming {
            calibrating.marking = false;
        }
        by_default = ui
            .add_enabled(report.calibration.is_some(), egui::Button::new("Default calibration"))
            .on_hover_text("calibrate the mass by the stated default again")
            .clicked();
    });
    ui.label(match &report.calibration {
        Some(known) => format!(
            "mass: {:.3} mg/cm³ per HU, from an insert of {} mg/cm³",
            report.mg_per_cm3_per_hu, known.mg_per_cm3
        ),
        None => format!(
            "mass: {:.3} mg/cm³ per HU (the stated default)",
            report.mg_per_cm3_per_hu
        ),
    });
    by_default
}

/// A scoring's answer: the score to keep from now on, and why none was made.
type Answer = (Option<NamedScore>, Result<(), String>);

/// What the panel asks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CalciumAsk {
    /// Score with the names kept.
    Score,
    /// Score, every name forgotten.
    Forget,
}

/// The Calcium part of the findings panel for a series rendered here.
pub struct LocalCalcium {
    /// The artery the next lesions named are.
    pub artery: Artery,
    /// Whether a press on the axial slice names lesions.
    pub naming: bool,
    /// Whether the lesions lie over the slices.
    pub on_slices: bool,
    /// The last score.
    pub report: Option<CalciumReport>,
    /// Why the last score asked for was not made.
    pub problem: Option<String>,
    /// How the reader marks the calibration.
    pub calibrating: Calibrating,
    /// The region of known density the mass is calibrated by, with the factor it gives
    /// (measured once, when it is marked); none: the default.
    pub calibration: Option<(KnownDensity, f64)>,
    /// The score kept while lesions are named (with it while one is being made).
    kept: Option<NamedScore>,
    /// The names the series' last report gave its lesions: the first score here names
    /// them so.
    named_before: Vec<NamedRegion>,
    /// The lesions over the slices, and a number that changes with them.
    lesions: (Arc<[SegmentOverlay]>, u64),
    /// The score being made.
    scoring: Option<Pending<Answer>>,
}

impl Default for LocalCalcium {
    fn default() -> Self {
        Self {
            artery: Artery::LeftAnteriorDescending,
            naming: false,
            on_slices: true,
            report: None,
            problem: None,
            calibrating: Calibrating::default(),
            calibration: None,
            kept: None,
            named_before: Vec::new(),
            lesions: (Arc::default(), 0),
            scoring: None,
        }
    }
}

/// A set of lesions' scores in one line: "Agatston 123.4 (moderate: 100–399) · …".
pub fn totals_line(totals: &CalciumTotals) -> String {
    format!(
        "Agatston {:.1} ({}: {}) · volume {:.1} mm³ · mass {:.2} mg · {} lesion{}",
        totals.agatston,
        totals.category,
        totals.range,
        totals.volume_mm3,
        totals.mass_mg,
        totals.lesions,
        if totals.lesions == 1 { "" } else { "s" }
    )
}

/// The artery the next lesions named are, chosen among [`Artery::ALL`].
pub fn artery_choice(ui: &mut egui::Ui, id: &str, artery: &mut Artery) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(format!("artery {}", artery.code()))
        .show_ui(ui, |ui| {
            for each in Artery::ALL {
                ui.selectable_value(artery, each, each.code());
            }
        });
}

/// Why the last score was refused, then the score's total and each artery's line.
pub fn score_lines(ui: &mut egui::Ui, refused: Option<&str>, report: Option<&CalciumReport>) {
    if let Some(why) = refused {
        ui.colored_label(ui.visuals().warn_fg_color, why);
    }
    if let Some(report) = report {
        ui.label(format!("Total: {}", totals_line(&report.total)));
        for artery in &report.arteries {
            ui.label(format!(
                "{}: {}",
                artery.artery,
                totals_line(&artery.scores)
            ));
        }
    }
}

impl LocalCalcium {
    /// No score yet; the first names the lesions as `named_before` (the series' last
    /// report's names) does.
    pub fn named_as(named_before: Vec<NamedRegion>) -> Self {
        Self {
            named_before,
            ..Self::default()
        }
    }

    /// The lesions over the slices, and a number that changes whenever they do.
    pub fn lesions(&self) -> (&Arc<[SegmentOverlay]>, u64) {
        (&self.lesions.0, self.lesions.1)
    }

    /// Whether a score is being made.
    pub fn busy(&self) -> bool {
        self.scoring.is_some()
    }

    /// Scores `volume` (series `series`) off the window's thread: the names kept (none
    /// when `forget`), with the lesions `naming` names added (repainting only them on
    /// the score kept).
    pub fn score(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        series: &str,
        naming: Option<NamingGesture>,
        forget: bool,
    ) {
        if self.scoring.is_some() {
            return;
        }
        let factor = self
            .calibration
            .map_or(DEFAULT_MG_PER_CM3_PER_HU, |(_, factor)| factor);
        let volume = Arc::clone(volume);
        let series = series.to_string();
        // Forgotten, or scored once here, the report's names are not given again.
        let named_before = std::mem::take(&mut self.named_before);
        let given = if forget {
            Some(Vec::new())
        } else {
            (self.kept.is_none() && !named_before.is_empty()).then_some(named_before)
        };
        let asked = CalciumAsked {
            region: VoxelBox::whole(&volume),
            factor: (factor, self.calibration.is_some()),
            given,
            naming: naming.map(|gesture| (self.artery, gesture)),
            shown: self.on_slices,
        };
        let kept = self.kept.take();
        let started = Pending::start(ctx, "calcium-score", move || {
            let (kept, made) =
                NamedScore::asked(&volume, &series, asked, kept, MOST_KEPT_ARTERY_REGIONS);
            Ok((kept, made.map_err(|error| error.to_string())))
        });
        match started {
            Ok(pending) => {
                self.problem = None;
                self.scoring = Some(pending);
            }
            Err(why) => self.problem = Some(why),
        }
    }

    /// Calibrates the mass by the box dragged from `a` to `b` on an axial slice of
    /// `volume` (series `series`), of the density given, and scores again with the names
    /// kept; a region that is not a calcium insert is told and changes nothing.
    pub fn calibrate(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        series: &str,
        (a, b): (glam::DVec3, glam::DVec3),
    ) {
        let known = KnownDensity {
            region: calcium::box_on_slice(volume, a, b),
            mg_per_cm3: self.calibrating.mg_per_cm3,
        };
        match calcium::insert_factor(volume, known.region, known.mg_per_cm3) {
            Ok(factor) => {
                self.calibration = Some((known, factor));
                self.calibrating.marking = false;
                self.score(ctx, volume, series, None, false);
            }
            Err(why) => self.problem = Some(format!("not calibrated: {why}")),
        }
    }

    /// Takes a score that came back; whether the lesions over the slices changed.
    pub fn take_answer(&mut self) -> bool {
        let Some(answer) = self.scoring.as_ref().and_then(Pending::answer) else {
            return false;
        };
        self.scoring = None;
        let (kept, made) = match answer {
            Ok(answer) => answer,
            Err(why) => (None, Err(why)),
        };
        self.kept = kept;
        if let Err(why) = made {
            self.problem = Some(format!("not scored: {why}"));
            return false;
        }
        let Some(score) = &self.kept else {
            return false;
        };
        self.report = Some(CalciumReport {
            calibration: self.calibration.map(|(known, _)| known),
            ..score.report.clone()
        });
        let lesions = score
            .masks
            .as_ref()
            .map_or_else(Arc::default, calcium_lesion_overlays);
        self.lesions = (lesions, self.lesions.1 + 1);
        true
    }

    /// The Calcium part: Score calcium, then the artery, Name lesions, Forget names and
    /// On slices once scored, with the total and each artery's line. What was asked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<CalciumAsk> {
        let mut asked = None;
        ui.separator();
        ui.heading("Calcium");
        ui.horizontal_wrapped(|ui| {
            let score = ui
                .add_enabled(!self.busy(), egui::Button::new("Score calcium"))
                .on_hover_text("the whole series' coronary calcium: Agatston, volume and mass");
            if score.clicked() {
                asked = Some(CalciumAsk::Score);
            }
            if self.busy() {
                ui.spinner();
            }
            if self.report.is_none() {
                return;
            }
            artery_choice(ui, "local-calcium-artery", &mut self.artery);
            ui.toggle_value(&mut self.naming, "Name lesions")
                .on_hover_text("then click a lesion on the axial slice (it and the lesions touching it above and below), or drag a box round lesions of that slice");
            if ui.button("Forget names").clicked() {
                asked = Some(CalciumAsk::Forget);
            }
            if ui
                .checkbox(&mut self.on_slices, "On slices")
                .on_hover_text("the candidates in yellow, each artery's lesions in its colour")
                .changed()
            {
                asked = Some(CalciumAsk::Score);
            }
        });
        if let Some(report) = &self.report
            && calibration_bar(ui, &mut self.naming, &mut self.calibrating, report)
        {
            self.calibration = None;
            asked = Some(CalciumAsk::Score);
        }
        score_lines(ui, self.problem.as_deref(), self.report.as_ref());
        asked
    }
}
