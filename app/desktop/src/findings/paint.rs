//! How a finding is painted over a slice: its outline or lines, its handles while it is
//! selected, and beside it what it measured (an arrow: its note). The same on slices
//! rendered here and on a server's frames.

use eframe::egui::{self, Color32, Pos2, Stroke};
use hounsfield_findings::FindingKind;

use hounsfield_protocol::SlicePlane;

use super::model::FindingList;
use super::shape::outline;
use super::sketch::{Placed, Sketch, handles};

/// The colour of findings.
pub const FINDING_COLOUR: Color32 = Color32::from_rgb(80, 220, 255);
/// The colour of the selected finding.
pub const SELECTED_COLOUR: Color32 = Color32::from_rgb(255, 150, 60);
/// The length (points) of an arrowhead's sides.
const ARROWHEAD: f32 = 12.0;

/// Paints a finding of `kind` at `points` (on screen), with `label` beside it; a selected
/// finding in its own colour, with its handles.
pub fn paint_finding(
    painter: &egui::Painter,
    kind: FindingKind,
    points: &[Pos2],
    label: &[String],
    selected: bool,
) {
    let colour = if selected {
        SELECTED_COLOUR
    } else {
        FINDING_COLOUR
    };
    paint_lines(painter, kind, points, Stroke::new(2.0, colour), true);
    if selected {
        for handle in handles(kind, points) {
            let square = egui::Rect::from_center_size(handle, egui::vec2(7.0, 7.0));
            painter.rect_filled(square, 1.0, colour);
        }
    }
    if !label.is_empty()
        && let Some(anchor) = label_anchor(kind, points)
    {
        paint_label(painter, anchor, &label.join("\n"), colour);
    }
}

/// Paints the findings `placed` on `plane`'s slice, each labelled (a finding being moved
/// where the pointer holds it), and the shape being drawn there.
pub fn paint_slice(
    painter: &egui::Painter,
    list: &FindingList,
    sketch: &Sketch,
    plane: SlicePlane,
    placed: &[Placed],
) {
    for finding in placed {
        let Some(entry) = list.get(finding.id) else {
            continue;
        };
        let label = if finding.kind == FindingKind::Arrow {
            let note = &entry.finding().note;
            if note.is_empty() {
                Vec::new()
            } else {
                vec![note.clone()]
            }
        } else {
            entry.figures()
        };
        let points = sketch.moving(finding.id).unwrap_or(&finding.points);
        let selected = list.selected == Some(finding.id);
        paint_finding(painter, finding.kind, points, &label, selected);
    }
    if let Some((kind, points)) = sketch.draft_on(plane) {
        paint_draft(painter, kind, points);
    }
}

/// Paints a shape being drawn: thinner, an outline still open.
pub fn paint_draft(painter: &egui::Painter, kind: FindingKind, points: &[Pos2]) {
    let stroke = Stroke::new(1.5, FINDING_COLOUR.gamma_multiply(0.8));
    paint_lines(painter, kind, points, stroke, false);
}

fn paint_lines(
    painter: &egui::Painter,
    kind: FindingKind,
    points: &[Pos2],
    stroke: Stroke,
    finished: bool,
) {
    let line = outline(kind, points);
    match kind {
        FindingKind::Ellipse | FindingKind::Rectangle => {
            painter.add(egui::Shape::closed_line(line, stroke));
        }
        FindingKind::Polygon if finished => {
            painter.add(egui::Shape::closed_line(line, stroke));
        }
        FindingKind::Polygon | FindingKind::Angle => {
            painter.add(egui::Shape::line(line, stroke));
        }
        FindingKind::Arrow => {
            if let [tail, head] = points {
                painter.line_segment([*tail, *head], stroke);
                let back = (*tail - *head).normalized() * ARROWHEAD;
                if back.is_finite() {
                    for side in [-0.45f32, 0.45] {
                        let (sin, cos) = side.sin_cos();
                        let wing =
                            egui::vec2(back.x * cos - back.y * sin, back.x * sin + back.y * cos);
                        painter.line_segment([*head, *head + wing], stroke);
                    }
                }
            }
        }
        FindingKind::Ruler => {
            if let [a, b] = points {
                painter.line_segment([*a, *b], stroke);
                painter.circle_filled(*a, 3.0, stroke.color);
                painter.circle_filled(*b, 3.0, stroke.color);
            }
        }
    }
}

/// Where a finding's label goes: right of a region's bounds, by an arrow's tail, an
/// angle's vertex, a ruler's end.
fn label_anchor(kind: FindingKind, points: &[Pos2]) -> Option<(Pos2, egui::Align2)> {
    let offset = egui::vec2(8.0, -8.0);
    match kind {
        FindingKind::Ellipse | FindingKind::Rectangle | FindingKind::Polygon => {
            let bounds = egui::Rect::from_points(points);
            Some((
                bounds.right_top() + egui::vec2(6.0, 0.0),
                egui::Align2::LEFT_TOP,
            ))
        }
        FindingKind::Arrow => points
            .first()
            .map(|tail| (*tail + offset, egui::Align2::LEFT_BOTTOM)),
        FindingKind::Angle => points
            .get(1)
            .map(|vertex| (*vertex + offset, egui::Align2::LEFT_BOTTOM)),
        FindingKind::Ruler => points
            .last()
            .map(|end| (*end + offset, egui::Align2::LEFT_BOTTOM)),
    }
}

/// Text on a dark backing, so it reads over bright bone as over air; kept inside the
/// slice (moved in from an edge it would cross).
fn paint_label(
    painter: &egui::Painter,
    (at, align): (Pos2, egui::Align2),
    text: &str,
    colour: Color32,
) {
    let galley = painter.layout_no_wrap(text.to_string(), egui::FontId::proportional(13.0), colour);
    let rect = align.anchor_size(at, galley.size());
    let clip = painter.clip_rect().shrink(3.0);
    let rect = rect.translate(egui::vec2(
        (clip.right() - rect.right()).min(0.0) + (clip.left() - rect.left()).max(0.0),
        (clip.bottom() - rect.bottom()).min(0.0) + (clip.top() - rect.top()).max(0.0),
    ));
    painter.rect_filled(rect.expand(2.0), 2.0, Color32::from_black_alpha(150));
    painter.galley(rect.min, galley, colour);
}

#[cfg(test)]
mod tests {
    use super::super::shape::ELLIPSE_STEPS;
    use super::*;

    #[test]
    fn an_ellipse_is_traced_within_its_bounds_through_their_middles() {
        let (a, b) = (egui::pos2(10.0, 20.0), egui::pos2(110.0, 80.0));
        let line = outline(FindingKind::Ellipse, &[a, b]);
        assert_eq!(line.len(), ELLIPSE_STEPS);
        let bounds = egui::Rect::from_two_pos(a, b).expand(1e-3);
        assert!(line.iter().all(|p| bounds.contains(*p)));
        assert!(
            line.iter()
                .any(|p| p.distance(egui::pos2(110.0, 50.0)) < 1e-3)
        );
        assert!(
            line.iter()
                .any(|p| p.distance(egui::pos2(60.0, 80.0)) < 1e-3)
        );
    }

    #[test]
    fn a_selected_finding_shows_its_handles_and_its_label() {
        let ctx = egui::Context::default();
        let points = [egui::pos2(10.0, 20.0), egui::pos2(110.0, 80.0)];
        let shapes = |selected: bool| {
            let output = ctx.run_ui(egui::RawInput::default(), |ui| {
                let painter = ui.ctx().layer_painter(egui::LayerId::background());
                paint_finding(
                    &painter,
                    FindingKind::Rectangle,
                    &points,
                    &["mean 40.0 HU".to_string()],
                    selected,
                );
            });
            output.shapes
        };
        let handles = |shapes: &[egui::epaint::ClippedShape]| {
            shapes
                .iter()
                .filter(|c| matches!(&c.shape, egui::Shape::Rect(r) if r.fill == SELECTED_COLOUR))
                .count()
        };
        let plain = shapes(false);
        let chosen = shapes(true);
        assert_eq!(handles(&plain), 0);
        assert_eq!(handles(&chosen), 4, "four corners");
        let texts = plain
            .iter()
            .filter(|c| matches!(c.shape, egui::Shape::Text(_)))
            .count();
        assert_eq!(texts, 1, "the label");
    }
}
