//! A finding's line on screen: what is painted and what a pointer hits.

use eframe::egui::{self, Pos2};
use hounsfield_findings::FindingKind;

/// How many points trace an ellipse.
pub(super) const ELLIPSE_STEPS: usize = 72;

/// The line a finding is drawn with on screen: an ellipse traced round its bounds, a
/// box's corners, a polygon's vertices (each closed), an angle's two arms through its
/// vertex, an arrow's or a ruler's two ends.
pub fn outline(kind: FindingKind, points: &[Pos2]) -> Vec<Pos2> {
    match (kind, points) {
        (FindingKind::Ellipse, [a, b]) => {
            let centre = egui::pos2((a.x + b.x) * 0.5, (a.y + b.y) * 0.5);
            let radius = (*b - *a).abs() * 0.5;
            (0..ELLIPSE_STEPS)
                .map(|step| {
                    let turn = step as f32 / ELLIPSE_STEPS as f32 * std::f32::consts::TAU;
                    centre + egui::vec2(radius.x * turn.cos(), radius.y * turn.sin())
                })
                .collect()
        }
        (FindingKind::Rectangle, [a, b]) => {
            vec![*a, egui::pos2(b.x, a.y), *b, egui::pos2(a.x, b.y)]
        }
        _ => points.to_vec(),
    }
}
