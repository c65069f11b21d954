//! The segments panel beside the 2×2 layout: each segment of the series with its colour,
//! whether it shows, and its numbers (volume, voxels, mean of the values inside); the
//! tools that edit the selected one (the brush, the eraser and growing from a click on a
//! slice; threshold, islands, margin, smoothing and filling between slices at a click
//! here), taking back and making again, and saving them as a Segmentation.

use eframe::egui;
use hounsfield_protocol::SegmentInfo;
use hounsfield_segment::{Edit, ValueInterval};

use super::SegmentBrush;
use crate::findings::SliceTool;

/// The tools' settings and what the panel says, kept between frames.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentTools {
    /// The segment the tools edit.
    pub selected: Option<u32>,
    /// The brush's radius (mm).
    pub brush_mm: f64,
    /// The range of the threshold and of growing (the series' values).
    pub range: [f64; 2],
    /// The margin's and the smoothing's distance (mm; a negative margin shrinks).
    pub distance_mm: f64,
    /// Whether the slices preview the threshold of the range (before Threshold).
    pub preview: bool,
    /// The last refusal, and why.
    pub problem: Option<String>,
    /// What the last save did.
    pub last_save: Option<Result<String, String>>,
}

impl Default for SegmentTools {
    fn default() -> Self {
        Self {
            selected: None,
            brush_mm: 5.0,
            range: [200.0, 3000.0],
            distance_mm: 2.0,
            preview: false,
            problem: None,
            last_save: None,
        }
    }
}

impl SegmentTools {
    /// The range as the tools take it.
    pub fn interval(&self) -> Result<ValueInterval, String> {
        ValueInterval::new(self.range[0], self.range[1]).map_err(|why| why.to_string())
    }
}

/// Whether the segments can be edited and saved now.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentsOffer {
    /// An edit is under way (or waiting).
    pub busy: bool,
    /// A save is under way.
    pub saving: bool,
    /// Whether the series has somewhere to keep a Segmentation, or why not.
    pub save_ready: Result<(), String>,
    /// The Segmentations saved before on the series, a line each, newest first.
    pub saved: Vec<String>,
    /// Whether a segmentation model may be run (the server's), and how its last run
    /// stands.
    pub model: Option<Option<String>>,
}

/// What the panel asks of the segments.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentAction {
    /// Adds an empty segment (selected).
    Add,
    /// Makes segment `id` the one the tools edit.
    Select(u32),
    /// Deletes segment `id`.
    Delete(u32),
    /// Shows or hides segment `id`.
    Visible(u32, bool),
    /// Edits the selected segment (a new one when none is).
    Edit(Edit),
    /// Fills the slices between those drawn on the plane last painted on, as it is
    /// turned now.
    FillBetween,
    /// Takes the selected segment's last edit back.
    Undo,
    /// Makes the last edit taken back again.
    Redo,
    /// Saves the segments as a Segmentation where the series keeps its findings.
    Save,
    /// Shows the segments of the saved Segmentation at this place in the list.
    Show(usize),
    /// Runs the segmentation model on the series.
    RunModel,
    /// Stops the model's run.
    StopModel,
}

/// A segment's numbers in one line.
pub fn numbers_line(info: &SegmentInfo) -> String {
    let numbers = &info.numbers;
    let mut line = format!("{:.2} mL · {} voxels", numbers.volume_ml, numbers.voxels);
    if let Some(mean) = numbers.mean {
        line.push_str(&format!(" · mean {mean:.1} {}", numbers.unit));
    }
    // A PET segment's uptake (measured here, or told by the server).
    if let Some(suv) = &numbers.suv {
        line.push_str(&format!(
            " · SUVmax {:.2} · SUVmean {:.2} · SUVpeak {:.2}",
            suv.suv_max, suv.suv_mean, suv.suv_peak
        ));
    }
    line.trim_end().to_string()
}

/// Draws the panel of the segments `list`; `tool` is the slices' tool (the brushes are
/// picked here).
pub fn segments_panel(
    ui: &mut egui::Ui,
    list: &[SegmentInfo],
    segments: &mut SegmentTools,
    tool: &mut SliceTool,
    offer: &SegmentsOffer,
) -> Vec<SegmentAction> {
    let mut actions = Vec::new();
    ui.heading("Segments");
    if ui.button("Add segment").clicked() {
        actions.push(SegmentAction::Add);
    }
    let selected = list
        .iter()
        .find(|info| Some(info.id) == segments.selected)
        .cloned();
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() * 0.4)
        .show(ui, |ui| {
            for info in list {
                segment_row(ui, info, segments.selected == Some(info.id), &mut actions);
            }
        });
    let busy = offer.busy;
    tool_buttons(ui, selected.as_ref(), segments, tool, busy, &mut actions);
    keeping(ui, segments, offer, &mut actions);
    actions
}

/// The tools that edit the `selected` segment, and taking edits back.
fn tool_buttons(
    ui: &mut egui::Ui,
    selected: Option<&SegmentInfo>,
    segments: &mut SegmentTools,
    tool: &mut SliceTool,
    busy: bool,
    actions: &mut Vec<SegmentAction>,
) {
    ui.separator();
    ui.label(match selected {
        Some(info) => format!("Tools on {}", info.label),
        None => "Tools (a new segment takes the first edit)".to_string(),
    });
    ui.horizontal(|ui| {
        for (brush, name, how) in [
            (
                SegmentBrush::Paint,
                "Paint",
                "drag on a slice: a disc of the brush's radius along the path",
            ),
            (
                SegmentBrush::Erase,
                "Erase",
                "drag on a slice: takes the disc out along the path",
            ),
            (
                SegmentBrush::Grow,
                "Grow",
                "click a slice: adds the connected voxels within the range",
            ),
        ] {
            ui.selectable_value(tool, SliceTool::Segment(brush), name)
                .on_hover_text(how);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Brush (mm)");
        ui.add(
            egui::DragValue::new(&mut segments.brush_mm)
                .range(0.5..=50.0)
                .speed(0.1),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Range");
        ui.add(egui::DragValue::new(&mut segments.range[0]).speed(1.0))
            .labelled_by(label.id);
        ui.label("to");
        ui.add(egui::DragValue::new(&mut segments.range[1]).speed(1.0));
        ui.checkbox(&mut segments.preview, "Preview")
            .on_hover_text("the voxels in the range shown on the slices as it changes");
    });
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Threshold")
            .on_hover_text("the segment becomes the voxels within the range")
            .clicked()
        {
            match segments.interval() {
                Ok(interval) => {
                    actions.push(SegmentAction::Edit(Edit::Threshold(interval)));
                    // The threshold taken, its preview goes.
                    segments.preview = false;
                }
                Err(why) => segments.problem = Some(why),
            }
        }
        if ui.button("Largest island").clicked() {
            actions.push(SegmentAction::Edit(Edit::KeepLargest));
        }
        if ui.button("Invert").clicked() {
            actions.push(SegmentAction::Edit(Edit::Invert));
        }
        if ui.button("Clear").clicked() {
            actions.push(SegmentAction::Edit(Edit::Clear));
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Distance (mm)");
        ui.add(
            egui::DragValue::new(&mut segments.distance_mm)
                .range(-50.0..=50.0)
                .speed(0.1),
        )
        .labelled_by(label.id);
    });
    let distance = segments.distance_mm;
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Margin")
            .on_hover_text("grows by the distance (shrinks when negative), exact in mm")
            .clicked()
        {
            actions.push(SegmentAction::Edit(Edit::Margin(distance)));
        }
        if ui
            .button("Closing")
            .on_hover_text("fills gaps and notches narrower than the distance")
            .clicked()
        {
            actions.push(SegmentAction::Edit(Edit::Closing(distance.abs())));
        }
        if ui
            .button("Median")
            .on_hover_text("each voxel takes the majority of its ball of the distance")
            .clicked()
        {
            actions.push(SegmentAction::Edit(Edit::Median(distance.abs())));
        }
        if ui
            .button("Fill between")
            .on_hover_text(
                "the slices drawn on (of the plane last painted on, turned or not) joined \
                 across the slices between them",
            )
            .clicked()
        {
            actions.push(SegmentAction::FillBetween);
        }
    });
    ui.horizontal(|ui| {
        let (undo, redo) = selected.map_or((false, false), |info| (info.undo > 0, info.redo > 0));
        if ui
            .add_enabled(undo && !busy, egui::Button::new("Undo"))
            .clicked()
        {
            actions.push(SegmentAction::Undo);
        }
        if ui
            .add_enabled(redo && !busy, egui::Button::new("Redo"))
            .clicked()
        {
            actions.push(SegmentAction::Redo);
        }
        if busy {
            ui.spinner();
        }
    });
}

/// Saving the segments, the Segmentations saved before, and what the panel says.
fn keeping(
    ui: &mut egui::Ui,
    segments: &SegmentTools,
    offer: &SegmentsOffer,
    actions: &mut Vec<SegmentAction>,
) {
    let busy = offer.busy;
    ui.separator();
    let can_save = offer.save_ready.is_ok() && !offer.saving && !busy;
    let save = ui.add_enabled(can_save, egui::Button::new("Save segments"));
    let save = match &offer.save_ready {
        Ok(()) => save.on_hover_text(
            "a DICOM Segmentation and its Measurement Report, where the series keeps its findings",
        ),
        Err(why) => save.on_disabled_hover_text(why.as_str()),
    };
    if save.clicked() {
        actions.push(SegmentAction::Save);
    }
    if !offer.saved.is_empty() {
        ui.label("Saved before");
        for (index, line) in offer.saved.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!busy, egui::Button::new("Show"))
                    .on_hover_text("adds its segments to the series' own")
                    .clicked()
                {
                    actions.push(SegmentAction::Show(index));
                }
                ui.label(line.as_str());
            });
        }
    }
    if let Some(status) = &offer.model {
        ui.horizontal(|ui| {
            if ui
                .button("Run model")
                .on_hover_text("the site's segmentation model on the series: each class it finds becomes a segment")
                .clicked()
            {
                actions.push(SegmentAction::RunModel);
            }
            if ui.button("Stop model").clicked() {
                actions.push(SegmentAction::StopModel);
            }
        });
        if let Some(status) = status {
            ui.label(status.as_str());
        }
    }
    match &segments.last_save {
        Some(Ok(said)) => {
            ui.label(said.as_str());
        }
        Some(Err(why)) => {
            ui.colored_label(ui.visuals().warn_fg_color, why.as_str());
        }
        None => {}
    }
    if let Some(problem) = &segments.problem {
        ui.colored_label(ui.visuals().warn_fg_color, problem.as_str());
    }
}

/// One segment's row: its colour, whether it shows, its name (a click selects it), its
/// numbers, and deleting it.
fn segment_row(
    ui: &mut egui::Ui,
    info: &SegmentInfo,
    selected: bool,
    actions: &mut Vec<SegmentAction>,
) {
    ui.horizontal(|ui| {
        let [r, g, b] = info.colour;
        let (swatch, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
        ui.painter()
            .rect_filled(swatch, 2.0, egui::Color32::from_rgb(r, g, b));
        let mut visible = info.visible;
        if ui
            .checkbox(&mut visible, "")
            .on_hover_text("shown on the slices and in 3D")
            .changed()
        {
            actions.push(SegmentAction::Visible(info.id, visible));
        }
        if ui.selectable_label(selected, info.label.as_str()).clicked() {
            actions.push(SegmentAction::Select(info.id));
        }
        if ui.small_button("Delete").clicked() {
            actions.push(SegmentAction::Delete(info.id));
        }
    });
    ui.label(numbers_line(info));
}
