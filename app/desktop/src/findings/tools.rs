//! What a left drag does on a slice, and the toolbar's buttons that choose it: the
//! crosshair, the ruler, selecting findings, and drawing each kind of finding (the
//! segment tools are the segments panel's).

use eframe::egui;
use hounsfield_findings::FindingKind;

use crate::segments::SegmentBrush;

/// What a left drag does on a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SliceTool {
    /// Moves the crosshair (and so the other slices) to the point.
    #[default]
    Crosshair,
    /// Draws a ruler and shows its length in millimetres.
    Measure,
    /// Selects a finding; a drag moves it, or reshapes it by one of its handles.
    Select,
    /// Draws a finding of this kind.
    Draw(FindingKind),
    /// Adds a point to the curved reformat's path.
    Path,
    /// Paints, erases or grows the selected segment (the segments panel picks it).
    Segment(SegmentBrush),
}

/// The kinds the tools draw (the ruler has a tool of its own), in the toolbar's order.
pub const DRAWN_KINDS: [FindingKind; 5] = [
    FindingKind::Ellipse,
    FindingKind::Rectangle,
    FindingKind::Polygon,
    FindingKind::Angle,
    FindingKind::Arrow,
];

impl SliceTool {
    /// Whether a drag with this tool acts on findings (selects or draws them).
    pub fn acts_on_findings(self) -> bool {
        matches!(self, Self::Select | Self::Draw(_))
    }
}

/// How a kind is drawn, for its button's hover text.
fn how_drawn(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Ellipse => "drag across a slice: a region's statistics inside the ellipse",
        FindingKind::Rectangle => "drag across a slice: a region's statistics inside the box",
        FindingKind::Polygon => "trace an outline on a slice: a region's statistics inside it",
        FindingKind::Angle => "drag one arm to the vertex, then click the end of the other arm",
        FindingKind::Arrow => "drag from the tail to the head; the note below labels it",
        FindingKind::Ruler => "drag on a slice to measure a distance",
    }
}

/// The slice tools' buttons (the Path tool's where `with_path`: views rendered here draw
/// the curved reformat), and the arrow's note while the arrow tool is chosen.
pub fn tool_choice(ui: &mut egui::Ui, tool: &mut SliceTool, note: &mut String, with_path: bool) {
    ui.selectable_value(tool, SliceTool::Crosshair, "Crosshair")
        .on_hover_text("a click on a slice moves the crosshair (key C)");
    ui.selectable_value(tool, SliceTool::Measure, "Ruler")
        .on_hover_text("drag on a slice to measure a distance (key M)");
    ui.selectable_value(tool, SliceTool::Select, "Select")
        .on_hover_text("click a finding to select it, drag it to move it, drag a handle to reshape it; Delete removes it");
    if with_path {
        ui.selectable_value(tool, SliceTool::Path, "Path")
            .on_hover_text("click points along a vessel on any slice: the curved reformat straightens the path");
    }
    for kind in DRAWN_KINDS {
        let name = kind_label(kind);
        let mut label = name.to_string();
        if let Some(first) = label.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        ui.selectable_value(tool, SliceTool::Draw(kind), label)
            .on_hover_text(how_drawn(kind));
    }
    if *tool == SliceTool::Draw(FindingKind::Arrow) {
        let label = ui.label("Note");
        ui.add(
            egui::TextEdit::singleline(note)
                .hint_text("the arrow's label")
                .desired_width(140.0),
        )
        .labelled_by(label.id);
    }
}

/// A kind as the tools name it (`freehand` for a polygon).
pub fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Polygon => "freehand",
        other => other.name(),
    }
}
