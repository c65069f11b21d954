//! The pointer over the remote frame: drags and wheel turned into protocol actions, the
//! cell and the fractions under it, and the value under the cursor asked of the server.

use std::time::Instant;

use eframe::egui;
use hounsfield_protocol::{Action, Layout, SlicePlane};
use render_core::view::Cell;
use render_core::view::layout::quad_cells;

use super::{PROBE_EVERY, RemoteView, SCROLL_PER_SLICE};
use crate::findings::SliceTool;
use crate::gestures::{Gesture, dragged_window};

/// The four cells (3D, axial, coronal, sagittal) of a 2×2 frame of `size` pixels drawn
/// stretched over `rect`.
pub(super) fn cells_in(rect: egui::Rect, size: [u32; 2]) -> [egui::Rect; 4] {
    let scale = egui::vec2(
        rect.width() / size[0].max(1) as f32,
        rect.height() / size[1].max(1) as f32,
    );
    quad_cells(size).map(|cell: Cell| {
        egui::Rect::from_min_size(
            rect.min + egui::vec2(cell.x as f32 * scale.x, cell.y as f32 * scale.y),
            egui::vec2(cell.width as f32 * scale.x, cell.height as f32 * scale.y),
        )
    })
}

/// The slice plane whose cell holds `pos`, with the fractions (0..=1) of that cell from
/// its top left; `None` over the 3D cell or outside.
pub(super) fn slice_under(
    cells: &[egui::Rect; 4],
    pos: egui::Pos2,
) -> Option<(SlicePlane, f64, f64)> {
    let index = cells.iter().position(|cell| cell.contains(pos))?;
    let plane = *SlicePlane::ALL.get(index.checked_sub(1)?)?;
    let cell = cells[index];
    let fraction =
        |at: f32, min: f32, extent: f32| f64::from(((at - min) / extent.max(1.0)).clamp(0.0, 1.0));
    Some((
        plane,
        fraction(pos.x, cell.min.x, cell.width()),
        fraction(pos.y, cell.min.y, cell.height()),
    ))
}

impl RemoteView {
    /// The frame size the cells are laid out on: the shown frame's, else the one asked for.
    pub(crate) fn frame_size(&self) -> [u32; 2] {
        self.shown_size.unwrap_or(self.size)
    }

    /// The four cells of the 2×2 layout where they are drawn in `rect`.
    pub(super) fn cells_on_screen(&self, rect: egui::Rect) -> [egui::Rect; 4] {
        cells_in(rect, self.frame_size())
    }

    /// Where `plane`'s cell was last drawn in the 2×2 layout (egui points).
    #[cfg(test)]
    pub fn slice_cell(&self, plane: SlicePlane) -> Option<egui::Rect> {
        let rect = self.shown_rect?;
        (self.layout() == Layout::Quad)
            .then(|| self.cells_on_screen(rect)[render_core::view::layout::cell_index(plane)])
    }

    /// The slice plane under `pos` in the 2×2 layout and the fractions of its cell;
    /// `None` over the 3D cell or in the 1×1 layout.
    pub(super) fn slice_at(
        &self,
        rect: egui::Rect,
        pos: egui::Pos2,
    ) -> Option<(SlicePlane, f64, f64)> {
        if self.layout() != Layout::Quad {
            return None;
        }
        slice_under(&self.cells_on_screen(rect), pos)
    }

    /// The slice step (mm): the smallest voxel spacing.
    pub(super) fn slice_step_mm(&self) -> f64 {
        self.opened
            .as_ref()
            .map(|opened| opened.spacing_mm.iter().copied().fold(f64::MAX, f64::min))
            .filter(|step| step.is_finite() && *step > 0.0)
            .unwrap_or(1.0)
    }

    pub(super) fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response) {
        let rect = response.rect;
        // A drag belongs to the cell it started in; the wheel to the cell under the pointer.
        let pointer = if response.dragged() || response.drag_stopped() {
            ui.input(|input| input.pointer.press_origin())
        } else {
            response.hover_pos()
        };
        let on_slice = pointer.and_then(|pos| self.slice_at(rect, pos));
        if let Some((plane, _, _)) = on_slice
            && response.hovered()
            && !response.dragged()
        {
            self.scrolled += ui.input(|input| input.smooth_scroll_delta.y);
            let notches = (self.scrolled / SCROLL_PER_SLICE).trunc();
            if notches != 0.0 {
                self.scrolled -= notches * SCROLL_PER_SLICE;
                // Scrolling up moves towards the viewer, as on local slices.
                self.act(Action::Slice {
                    plane: plane.name().to_string(),
                    delta_mm: -self.slice_step_mm() * f64::from(notches),
                });
            }
        }
        self.ask_value_under_cursor(ui, response, rect);
        // A line's handle dragged: the drag turns the planes, sent between its `interact`
        // inputs below.
        let mut turn = self.turn_by_handle(ui, response);
        let turning = turn.is_some();
        let primary = response.dragged_by(egui::PointerButton::Primary)
            || response.clicked_by(egui::PointerButton::Primary);
        let shift = ui.input(|input| input.modifiers.shift);
        let measuring = self.tool == SliceTool::Measure || shift;
        // A shift-drag measures whatever the tool.
        let on_findings = self.tool.acts_on_findings() && !shift;
        if ui.input(|input| input.key_pressed(egui::Key::Escape)) {
            self.draft_ruler = None;
        }
        if !self.tool.acts_on_findings() {
            // Another tool picked: what was being drawn or moved is dropped.
            self.findings.sketch.cancel();
        }
        // A ruler begun is drawn to its end, though shift is let go with the button or the
        // pointer leaves the slice (on slow frames both can come with the release).
        if turning {
            // The handle's drag: no ruler, finding or crosshair.
        } else if self.draft_ruler.is_some() || (measuring && !on_findings && on_slice.is_some()) {
            let origin = ui.input(|input| input.pointer.press_origin());
            self.draw_ruler(response, rect, origin);
        } else if !shift && self.calcium_gesture(ui, response) {
            // Name lesions on: the press on the axial cell named calcium lesions.
        } else if matches!(self.tool, SliceTool::Segment(_)) && !shift {
            self.segment_gesture(ui, response);
        } else if on_findings && (on_slice.is_some() || self.findings.sketch.busy()) {
            self.findings_gesture(ui, response);
        } else if on_slice.is_some()
            && primary
            && let Some((plane, x, y)) = response
                .interact_pointer_pos()
                .and_then(|pos| self.slice_at(rect, pos))
            && Some(plane) == on_slice.map(|(plane, _, _)| plane)
        {
            self.act(Action::Crosshair {
                plane: plane.name().to_string(),
                x,
                y,
            });
        }
        for gesture in self.gestures.read(ui, response) {
            let action = match gesture {
                Gesture::Begin => Action::Interact { active: true },
                Gesture::End => {
                    if let Some((plane, degrees)) = turn.take() {
                        self.turn_planes(plane, degrees);
                    }
                    Action::Interact { active: false }
                }
                // On a slice the drag moved the crosshair and the wheel the slice.
                Gesture::Orbit(..) | Gesture::Pan(..) | Gesture::Zoom(_) if on_slice.is_some() => {
                    continue;
                }
                Gesture::Orbit(dx, dy) => Action::Orbit { dx, dy },
                Gesture::Pan(dx, dy) => Action::Pan { dx, dy },
                Gesture::Zoom(factor) => Action::Zoom { factor },
                Gesture::Window(dx, dy) => {
                    let Some(window) = self.current_window() else {
                        continue;
                    };
                    let changed = dragged_window(window, dx, dy);
                    Action::Window {
                        width: changed.width,
                        center: changed.center,
                    }
                }
            };
            self.act(action);
        }
        if let Some((plane, degrees)) = turn {
            self.turn_planes(plane, degrees);
        }
    }

    /// Asks the server for the value under the cursor on a slice: at most 20 times a
    /// second, the latest spot winning; forgets the value off the slices.
    pub(super) fn ask_value_under_cursor(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        rect: egui::Rect,
    ) {
        let hovered = response
            .hover_pos()
            .and_then(|pos| self.slice_at(rect, pos));
        match hovered {
            Some((plane, x, y)) => {
                if self.probe_spot != Some((plane, [x, y])) {
                    self.probe_spot = Some((plane, [x, y]));
                    self.probe_wanted = self.probe_spot;
                }
            }
            None => {
                self.probe = None;
                self.probe_wanted = None;
                self.probe_spot = None;
            }
        }
        let Some((plane, at)) = self.probe_wanted else {
            return;
        };
        let since = self.probe_asked_at.map(|asked| asked.elapsed());
        match since {
            Some(since) if since < PROBE_EVERY => {
                ui.ctx().request_repaint_after(PROBE_EVERY - since);
            }
            _ => {
                if self.link.probe(plane, at) {
                    self.probe_wanted = None;
                    self.probe_asked_at = Some(Instant::now());
                }
            }
        }
    }
}
