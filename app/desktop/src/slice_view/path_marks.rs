//! The curved reformat's path on a slice: the points clicked with the Path tool handed to
//! the workspace, and the path drawn over the slice where it was last shown: a point on
//! (or within a millimetre of) the slice's plane filled, one off it hollow, and the line
//! between them.

use eframe::egui;
use glam::DVec3;

use super::SliceView;

/// How far from the slice's plane a point still counts as on it (mm).
const ON_PLANE_MM: f64 = 1.0;
/// The path's colour.
const PATH_COLOUR: egui::Color32 = egui::Color32::from_rgb(90, 200, 250);

impl SliceView {
    /// The point clicked with the Path tool since the last call, once.
    pub fn take_path_click(&mut self) -> Option<DVec3> {
        self.path_click.take()
    }

    /// Draws the path through `points` (LPS) over the slice, where it was last shown.
    pub fn paint_path(&self, painter: &egui::Painter, points: &[DVec3]) {
        let Some(shown) = self.shown else {
            return;
        };
        let geometry = shown.geometry;
        let normal = geometry.right.cross(geometry.down).normalize_or_zero();
        let painter = painter.with_clip_rect(shown.rect);
        let on_screen: Vec<egui::Pos2> = points.iter().map(|&p| shown.screen_of(p)).collect();
        for pair in on_screen.windows(2) {
            painter.line_segment([pair[0], pair[1]], egui::Stroke::new(1.0, PATH_COLOUR));
        }
        for (&lps, &at) in points.iter().zip(&on_screen) {
            if (lps - geometry.origin).dot(normal).abs() <= ON_PLANE_MM {
                painter.circle_filled(at, 4.0, PATH_COLOUR);
            } else {
                painter.circle_stroke(at, 4.0, egui::Stroke::new(1.5, PATH_COLOUR));
            }
        }
    }
}
