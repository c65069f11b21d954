//! What the thin client draws over the server's frames: rulers and the value probed, the
//! crosshair lines of the 2×2 layout, each in its cell.

use eframe::egui;
use hounsfield_protocol::{CrosshairInCells, SlicePlane, SlicePlanesInCells};
use render_core::view::PlaneGeometry;
use render_core::view::layout::{cell_index, quad_cells};

use super::pointer::slice_under;
use super::{RULER_COLOUR, RemoteView};
use crate::plane_lines::{PlaneLines, line_direction};
use crate::slice_view::{OVERLAY_TEXT, paint_orientation_letters};
use crate::thin_client::rulers::cell_axes;

/// Lines between the cells of the 2×2 layout, each slice's name and orientation letters
/// (of its turned plane, once turned: `planes`), and the other planes' lines with their
/// handles where the server says the crosshair shows (the server draws the images only).
pub(super) fn paint_quad_overlays(
    painter: &egui::Painter,
    cells: &[egui::Rect; 4],
    crosshair: Option<&CrosshairInCells>,
    planes: Option<&SlicePlanesInCells>,
) {
    let divider = egui::Stroke::new(1.0, egui::Color32::from_gray(90));
    let whole = cells[0].union(cells[3]);
    let middle = cells[3].min;
    painter.line_segment(
        [
            egui::pos2(middle.x, whole.top()),
            egui::pos2(middle.x, whole.bottom()),
        ],
        divider,
    );
    painter.line_segment(
        [
            egui::pos2(whole.left(), middle.y),
            egui::pos2(whole.right(), middle.y),
        ],
        divider,
    );
    let font = egui::FontId::proportional(14.0);
    let text = OVERLAY_TEXT;
    for (plane, cell) in SlicePlane::ALL.into_iter().zip(&cells[1..]) {
        if let Some(crosshair) = crosshair {
            plane_lines(*cell, plane, crosshair.of(plane), planes).paint(painter);
        }
        let (right, down) = cell_axes(planes, plane);
        paint_orientation_letters(painter, *cell, right, down);
        let name = if right.cross(down).distance(plane.normal()) > 1e-6 {
            format!("oblique {}", plane.name())
        } else {
            plane.name().to_string()
        };
        painter.text(
            cell.left_top() + egui::vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            name,
            font.clone(),
            text,
        );
    }
}

/// The other planes' lines in `plane`'s cell drawn at `cell`, through the crosshair at
/// fractions `[x, y]` of it, along the directions the cells' axes give (`planes`, the
/// standard ones without).
pub(super) fn plane_lines(
    cell: egui::Rect,
    plane: SlicePlane,
    [x, y]: [f64; 2],
    planes: Option<&SlicePlanesInCells>,
) -> PlaneLines {
    let at = egui::pos2(
        cell.left() + x as f32 * cell.width(),
        cell.top() + y as f32 * cell.height(),
    );
    PlaneLines::new(plane, cell, at, |other| {
        line_direction(|p| cell_axes(planes, p), plane, other)
    })
}

impl RemoteView {
    /// A left drag on a slice with the ruler on: the ruler follows it, and its release
    /// asks the server to measure it (a click, under 3 pixels, measures nothing).
    pub(super) fn draw_ruler(
        &mut self,
        response: &egui::Response,
        rect: egui::Rect,
        origin: Option<egui::Pos2>,
    ) {
        // From where the button went down (a drag starts a few pixels later).
        let at = origin
            .or_else(|| response.interact_pointer_pos())
            .and_then(|pos| self.slice_at(rect, pos));
        let cells = self.cells_on_screen(rect);
        if response.drag_started_by(egui::PointerButton::Primary) {
            self.draft_ruler = at.map(|(plane, x, y)| (plane, [x, y], [x, y]));
            if let Some((plane, ..)) = at {
                tracing::debug!("ruler begun on {}", plane.name());
            }
        }
        // A slow frame may bring the start, the moves and the release together: the end
        // follows the pointer on each of them.
        let moving = response.dragged_by(egui::PointerButton::Primary) || response.drag_stopped();
        if moving
            && let Some((plane, _, end)) = &mut self.draft_ruler
            && let Some(pos) = response.interact_pointer_pos()
        {
            // Kept to the cell it started in.
            let cell = cells[cell_index(*plane)];
            let inside = cell.shrink(0.01);
            let clamped = pos.clamp(inside.min, inside.max);
            if let Some((_, x, y)) = slice_under(&cells, clamped) {
                *end = [x, y];
            }
        }
        if response.drag_stopped()
            && let Some((plane, from, to)) = self.draft_ruler.take()
            && self.frame_pixels(plane, from, to) >= 3.0
            && !self.link.measure(plane, from, to)
        {
            tracing::debug!("ruler dropped: the link is busy or stopped");
        }
        if !response.dragged() && !response.drag_stopped() {
            // The button is up and no drag ends here: nothing is being drawn.
            self.draft_ruler = None;
        }
    }

    /// The length in frame pixels between fractions `from` and `to` of `plane`'s cell.
    pub(super) fn frame_pixels(&self, plane: SlicePlane, from: [f64; 2], to: [f64; 2]) -> f64 {
        let cell = quad_cells(self.frame_size())[cell_index(plane)];
        f64::hypot(
            (to[0] - from[0]) * f64::from(cell.width),
            (to[1] - from[1]) * f64::from(cell.height),
        )
    }

    /// The rulers on the slices shown, the one being drawn, and in each slice's corner the
    /// grey window and (under the cursor) the value the server read.
    pub(super) fn paint_measurements(&self, painter: &egui::Painter, rect: egui::Rect) {
        let cells = self.cells_on_screen(rect);
        let size = self.frame_size();
        let on_screen = |plane: SlicePlane, [x, y]: [f64; 2]| {
            let cell = cells[cell_index(plane)];
            egui::pos2(
                cell.left() + x as f32 * cell.width(),
                cell.top() + y as f32 * cell.height(),
            )
        };
        let font = egui::FontId::proportional(14.0);
        let paint = |plane: SlicePlane, from: [f64; 2], to: [f64; 2], label: Option<String>| {
            let (a, b) = (on_screen(plane, from), on_screen(plane, to));
            let painter = painter.with_clip_rect(cells[cell_index(plane)]);
            painter.line_segment([a, b], egui::Stroke::new(2.0, RULER_COLOUR));
            painter.circle_filled(a, 3.0, RULER_COLOUR);
            painter.circle_filled(b, 3.0, RULER_COLOUR);
            if let Some(label) = label {
                painter.text(
                    b + egui::vec2(8.0, -8.0),
                    egui::Align2::LEFT_BOTTOM,
                    label,
                    font.clone(),
                    RULER_COLOUR,
                );
            }
        };
        if let Some(placement) = &self.placement {
            let tolerance = self.slice_step_mm() / 2.0;
            for ruler in &self.rulers {
                if placement.shows(ruler.plane, ruler.from_lps, tolerance) {
                    let from = placement.spot_of(ruler.plane, ruler.from_lps, size);
                    let to = placement.spot_of(ruler.plane, ruler.to_lps, size);
                    paint(ruler.plane, from, to, Some(format!("{:.1} mm", ruler.mm)));
                }
            }
        }
        if let Some((plane, from, to)) = self.draft_ruler {
            let mm = self.placement.map(|placement| {
                let scale = match plane {
                    SlicePlane::Axial => placement.mm_per_pixel.axial,
                    SlicePlane::Coronal => placement.mm_per_pixel.coronal,
                    SlicePlane::Sagittal => placement.mm_per_pixel.sagittal,
                };
                format!("{:.1} mm", self.frame_pixels(plane, from, to) * scale)
            });
            paint(plane, from, to, mm);
        }
        let window = self
            .current_window()
            .map(|window| format!("W {:.0} L {:.0}", window.width, window.center));
        for plane in SlicePlane::ALL {
            let mut lines: Vec<String> = window.iter().cloned().collect();
            if let Some(reading) = self.probe.as_ref().filter(|reading| reading.plane == plane) {
                lines.push(reading.text());
            }
            painter.text(
                cells[cell_index(plane)].left_bottom() + egui::vec2(6.0, -6.0),
                egui::Align2::LEFT_BOTTOM,
                lines.join("\n"),
                egui::FontId::proportional(12.0),
                OVERLAY_TEXT,
            );
        }
    }
}
