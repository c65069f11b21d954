//! A shared session joined from the thin client: this participant's pointer sent as it
//! moves over the picture (the cell under it and where, at most 20 a second; that it left
//! once it leaves), the others' pointers drawn over the frames with their names in their
//! colours (never rendered into the frames), and the host's view followed as the server
//! tells it at rest.

use super::*;

/// The least time between two pointers sent (20 a second, as the web page sends them).
const POINTER_EVERY: Duration = Duration::from_millis(50);
/// A pointer not moved for this long is taken to have gone.
const STALE: Duration = Duration::from_secs(15);
/// The cells as the protocol names them, in the 2×2 layout's order.
const CELL_NAMES: [&str; 4] = ["3d", "axial", "coronal", "sagittal"];

/// Where this participant's pointer was last told to the others.
#[derive(Debug, Default)]
pub(super) struct PointerShared {
    sent_at: Option<Instant>,
    over: bool,
}

/// The cell under `pos` and where in it (fractions from its top left): of the 2×2 layout's
/// `cells`, or the whole `rect` (the 3D view) in the 1×1 layout.
fn cell_under(
    rect: egui::Rect,
    cells: Option<&[egui::Rect; 4]>,
    pos: egui::Pos2,
) -> Option<(&'static str, [f64; 2])> {
    let (name, cell) = match cells {
        Some(cells) => {
            let index = cells.iter().position(|cell| cell.contains(pos))?;
            (CELL_NAMES[index], cells[index])
        }
        None if rect.contains(pos) => (CELL_NAMES[0], rect),
        None => return None,
    };
    let fraction = |at: f32, min: f32, extent: f32| {
        let fraction = f64::from(((at - min) / extent.max(1.0)).clamp(0.0, 1.0));
        (fraction * 1e4).round() / 1e4
    };
    Some((
        name,
        [
            fraction(pos.x, cell.min.x, cell.width()),
            fraction(pos.y, cell.min.y, cell.height()),
        ],
    ))
}

/// Where a pointer in cell `name` at `at` shows: in the 2×2 layout's `cells`, or in the
/// whole `rect` when the 1×1 layout shows the 3D view; `None` where it is not shown.
fn spot(
    rect: egui::Rect,
    cells: Option<&[egui::Rect; 4]>,
    name: &str,
    at: [f64; 2],
) -> Option<egui::Pos2> {
    let cell = match cells {
        Some(cells) => cells[CELL_NAMES.iter().position(|known| *known == name)?],
        None if name == CELL_NAMES[0] => rect,
        None => return None,
    };
    Some(cell.min + egui::vec2(at[0] as f32 * cell.width(), at[1] as f32 * cell.height()))
}

/// `#rrggbb` as a colour (grey when it does not read).
fn colour(hex: &str) -> egui::Color32 {
    let channel = |at: usize| {
        hex.get(at..at + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
    };
    match (
        hex.strip_prefix('#').map(str::len),
        channel(1),
        channel(3),
        channel(5),
    ) {
        (Some(6), Some(r), Some(g), Some(b)) => egui::Color32::from_rgb(r, g, b),
        _ => egui::Color32::GRAY,
    }
}

impl RemoteView {
    /// The quad's cells on screen, or `None` in the 1×1 layout.
    fn pointer_cells(&self, rect: egui::Rect) -> Option<[egui::Rect; 4]> {
        (self.layout() == Layout::Quad).then(|| self.cells_on_screen(rect))
    }

    /// Tells the others where this participant points, while it is in a shared session.
    pub(super) fn share_pointer(&mut self, response: &egui::Response) {
        if !self.link.joined() {
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
        let pointers: Vec<_> = {
            let mut state = self.link.state();
            state
                .pointers
                .retain(|_, pointer| pointer.told.elapsed() < STALE);
            state.pointers.values().cloned().collect()
        };
        for pointer in pointers {
            let Some(at) = spot(rect, cells.as_ref(), &pointer.cell, pointer.at) else {
                continue;
            };
            let colour = colour(&pointer.colour);
            painter.circle(
                at,
                5.0,
                colour,
                egui::Stroke::new(1.5, egui::Color32::BLACK),
            );
            painter.text(
                at + egui::vec2(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                &pointer.name,
                egui::FontId::proportional(13.0),
                colour,
            );
        }
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
