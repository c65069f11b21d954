//! Where a shared session's pointers are on screen: the cell under the mouse and where in
//! it (fractions from its top left, as the protocol tells them), where a pointer told that
//! way shows, and the others' pointers drawn there (a dot and the name, in their colour;
//! never rendered into the pictures), kept as they are told. The thin client and the
//! desktop sharing its session both keep and draw them so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::ServerMessage;

/// A pointer not moved for this long is taken to have gone.
const STALE: Duration = Duration::from_secs(15);

/// Another participant's pointer, as the server relayed it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotePointer {
    /// Their name.
    pub name: String,
    /// Their colour (`#rrggbb`).
    pub colour: String,
    /// The cell it is in: `3d`, `axial`, `coronal` or `sagittal`.
    pub cell: String,
    /// Where in the cell: fractions from its top left.
    pub at: [f64; 2],
    /// When it was told: one not moved for a while is taken to have gone.
    pub told: Instant,
}

/// Takes a `pointer` message into `pointers` (by session): where that participant points
/// now, or that its pointer left the picture. Any other message changes nothing.
pub(crate) fn take_pointer(pointers: &mut BTreeMap<u64, RemotePointer>, message: &ServerMessage) {
    let ServerMessage::Pointer {
        session,
        name,
        colour,
        cell,
        x,
        y,
    } = message
    else {
        return;
    };
    match (cell, x, y) {
        (Some(cell), Some(x), Some(y)) => {
            let pointer = RemotePointer {
                name: name.clone(),
                colour: colour.clone(),
                cell: cell.clone(),
                at: [*x, *y],
                told: Instant::now(),
            };
            pointers.insert(*session, pointer);
        }
        _ => {
            pointers.remove(session);
        }
    }
}

/// The pointers moved lately; those not moved for a while are dropped.
pub(crate) fn current_pointers(pointers: &mut BTreeMap<u64, RemotePointer>) -> Vec<RemotePointer> {
    pointers.retain(|_, pointer| pointer.told.elapsed() < STALE);
    pointers.values().cloned().collect()
}

/// The cells as the protocol names them, in the 2×2 layout's order.
pub(crate) const CELL_NAMES: [&str; 4] = ["3d", "axial", "coronal", "sagittal"];

/// The cell under `pos` and where in it (fractions from its top left): of the 2×2 layout's
/// `cells`, or the whole `rect` (the 3D view) in the 1×1 layout.
pub(crate) fn cell_under(
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
pub(crate) fn spot(
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
pub(crate) fn colour(hex: &str) -> egui::Color32 {
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

/// Draws `pointers` over the pictures in `rect` (the 2×2 layout's `cells`, or the 3D view
/// alone): a dot and the name, in the cell each is in.
pub(crate) fn paint_pointers(
    painter: &egui::Painter,
    rect: egui::Rect,
    cells: Option<&[egui::Rect; 4]>,
    pointers: &[RemotePointer],
) {
    for pointer in pointers {
        let Some(at) = spot(rect, cells, &pointer.cell, pointer.at) else {
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
