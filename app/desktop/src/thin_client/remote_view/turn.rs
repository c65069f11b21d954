//! The planes turned from the thin client: a drag of another plane's line by its handle in
//! a slice cell sends `turn_planes` about that cell's normal, step by step as the pointer
//! goes round the crosshair (between the drag's `interact` inputs, like an orbit); Reset
//! planes sends `reset_planes`.

use eframe::egui;
use hounsfield_protocol::{Action, SlicePlane};
use render_core::view::layout::cell_index;

use super::RemoteView;
use super::overlay::plane_lines;
use crate::plane_lines::PlaneLines;
use crate::plane_lines::PlaneTurn;

impl RemoteView {
    /// The other planes' lines in `plane`'s cell of the frame drawn in `rect`, where the
    /// server last said the crosshair shows; `None` before it said so.
    fn lines_in(&self, rect: egui::Rect, plane: SlicePlane) -> Option<PlaneLines> {
        let crosshair = self.crosshair_cells.as_ref()?;
        let cell = self.cells_on_screen(rect)[cell_index(plane)];
        Some(plane_lines(
            cell,
            plane,
            crosshair.of(plane),
            self.planes.as_ref(),
        ))
    }

    /// Follows a drag of a line's handle: the turn this frame (the cell's plane and the
    /// degrees, counter-clockwise as the cell shows it), to send once the drag's
    /// `interact` has gone. `None` when no handle is being dragged; `Some((_, 0.0))` while
    /// one is but the pointer did not go round.
    pub(super) fn turn_by_handle(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
    ) -> Option<(SlicePlane, f64)> {
        let rect = response.rect;
        if response.drag_started_by(egui::PointerButton::Primary)
            && let Some(origin) = ui.input(|input| input.pointer.press_origin())
            && let Some((plane, _, _)) = self.slice_at(rect, origin)
            && let Some(lines) = self.lines_in(rect, plane)
            && lines.handle_under(origin).is_some()
        {
            self.turning = Some(PlaneTurn::start(plane, lines.at, origin));
        }
        let turn = self.turning.as_mut()?;
        let mut degrees = 0.0;
        if (response.dragged() || response.drag_stopped())
            && let Some(pos) = response.interact_pointer_pos()
        {
            degrees = turn.follow(pos);
        }
        let cell = turn.cell;
        if !response.dragged() {
            self.turning = None;
        }
        Some((cell, degrees))
    }

    /// Sends a turn of the planes about `plane`'s normal by `degrees`.
    pub(super) fn turn_planes(&mut self, plane: SlicePlane, degrees: f64) {
        if degrees != 0.0 {
            self.act(Action::TurnPlanes {
                plane: plane.name().to_string(),
                degrees,
            });
        }
    }

    /// How the slice cells of the frame on screen show their turned planes (`None`: the
    /// standard planes).
    #[cfg(test)]
    pub fn planes(&self) -> Option<hounsfield_protocol::SlicePlanesInCells> {
        self.planes
    }

    /// Where the crosshair and the handle of `other`'s line were drawn in `plane`'s cell.
    #[cfg(test)]
    pub fn handle(&self, plane: SlicePlane, other: SlicePlane) -> Option<(egui::Pos2, egui::Pos2)> {
        let rect = self.shown_rect?;
        if self.layout() != hounsfield_protocol::Layout::Quad {
            return None;
        }
        let lines = self.lines_in(rect, plane)?;
        lines
            .handles()
            .into_iter()
            .find(|(line, _)| *line == other)
            .and_then(|(_, spot)| spot)
            .map(|spot| (lines.at, spot))
    }
}
