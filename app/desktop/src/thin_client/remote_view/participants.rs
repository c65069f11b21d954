//! A shared session joined from the thin client: this participant's pointer sent as it
//! moves over the picture (the cell under it and where, at most 20 a second; that it left
//! once it leaves), the others' pointers drawn over the frames with their names in their
//! colours (never rendered into the frames), and the host's view followed as the server
//! tells it at rest.

use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::Layout;

use super::RemoteView;
use crate::pointer_spots::{cell_under, current_pointers, paint_pointers};

/// The least time between two pointers sent (20 a second, as the web page sends them).
const POINTER_EVERY: Duration = Duration::from_millis(50);
/// Where this participant's pointer was last told to the others.
#[derive(Debug, Default)]
pub(super) struct PointerShared {
    sent_at: Option<Instant>,
    over: bool,
}

impl RemoteView {
    /// The quad's cells on screen, or `None` in the 1×1 layout.
    fn pointer_cells(&self, rect: egui::Rect) -> Option<[egui::Rect; 4]> {
        (self.layout() == Layout::Quad).then(|| self.cells_on_screen(rect))
    }

    /// Tells the others where this participant points, while it is in a shared session.
    pub(super) fn share_pointer(&mut self, response: &egui::Response) {
        if !self.link.in_shared_session() {
            return;
        }
        let cells = self.pointer_cells(response.rect);
        let under = response
            .hover_pos()
            .and_then(|pos| cell_under(response.rect, cells.as_ref(), pos));
        let now = Instant::now();
        match under {
            Some(at) => {
                let due = self
                    .shared_pointer
                    .sent_at
                    .is_none_or(|sent| now.duration_since(sent) >= POINTER_EVERY);
                if due && self.link.point(Some(at)) {
                    self.shared_pointer = PointerShared {
                        sent_at: Some(now),
                        over: true,
                    };
                }
            }
            // Told once that it left; told again next time round when the queue was full.
            None if self.shared_pointer.over && self.link.point(None) => {
                self.shared_pointer.over = false;
            }
            None => {}
        }
    }

    /// Draws the other participants' pointers over the frame shown in `rect`: a dot and
    /// the name, in the cell each is in; those not moved for a while are dropped.
    pub(super) fn paint_pointers(&self, painter: &egui::Painter, rect: egui::Rect) {
        let cells = self.pointer_cells(rect);
        let pointers = current_pointers(&mut self.link.state().pointers);
        paint_pointers(painter, rect, cells.as_ref(), &pointers);
    }

    /// In a shared session joined, the view the server tells at rest is the host's: the
    /// mirror follows it (its layout, window and the rest).
    pub(super) fn follow_told_view(&mut self) {
        if !self.link.joined() {
            return;
        }
        if let Some(view) = self.link.state().told_view.take() {
            self.mirror = Some(view);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pointer::cells_in;
    use super::*;
    use crate::pointer_spots::{colour, spot};

    #[test]
    fn a_pointer_is_told_by_cell_and_fraction_and_drawn_where_it_was_told() {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(400.0, 300.0));
        let cells = cells_in(rect, [400, 300]);
        let pos = egui::pos2(
            cells[2].min.x + cells[2].width() * 0.25,
            cells[2].min.y + cells[2].height() * 0.75,
        );
        let (name, at) = cell_under(rect, Some(&cells), pos).expect("over a cell");
        assert_eq!(name, "coronal");
        assert!(
            (at[0] - 0.25).abs() < 1e-3 && (at[1] - 0.75).abs() < 1e-3,
            "{at:?}"
        );
        let back = spot(rect, Some(&cells), name, at).expect("shown");
        assert!(back.distance(pos) < 0.5, "{back:?} against {pos:?}");
        // In the 1×1 layout the 3D view is the whole picture; a slice's pointer is not shown.
        assert_eq!(
            cell_under(rect, None, rect.center()).map(|(n, _)| n),
            Some("3d")
        );
        assert_eq!(spot(rect, None, "axial", [0.5, 0.5]), None);
        assert_eq!(cell_under(rect, None, egui::pos2(0.0, 0.0)), None);
        assert_eq!(colour("#51cf66"), egui::Color32::from_rgb(0x51, 0xcf, 0x66));
        assert_eq!(colour("#5"), egui::Color32::GRAY);
    }
}
