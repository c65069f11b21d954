//! The crop box control of the side panel: a min and a max slider per axis, labelled with
//! the anatomy each axis runs through (R–L along i, A–P along j, I–S along k), and a
//! button back to the whole volume. It edits a [`CropBox`] and says what happened; the
//! caller renders here or sends `crop` to the server.

use eframe::egui;
use render_core::view::CropBox;

/// Each axis' label and the sides its fractions 0 and 1 lie on.
pub const AXES: [(&str, &str, &str); 3] = [("R–L", "R", "L"), ("A–P", "A", "P"), ("I–S", "I", "S")];

/// What the user did to the crop box this frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CropEdit {
    /// The box changed.
    pub changed: bool,
    /// A slider drag began.
    pub drag_started: bool,
    /// A slider is being dragged.
    pub dragging: bool,
    /// A slider drag ended.
    pub drag_stopped: bool,
}

/// `crop` with `axis`'s lower side moved to `fraction`, kept at least
/// [`CropBox::MIN_THICKNESS`] below its upper side.
pub fn with_min(crop: CropBox, axis: usize, fraction: f32) -> CropBox {
    let mut out = crop;
    let ceiling = (crop.max[axis] - CropBox::MIN_THICKNESS).max(0.0);
    out.min[axis] = fraction.clamp(0.0, ceiling);
    out
}

/// `crop` with `axis`'s upper side moved to `fraction`, kept at least
/// [`CropBox::MIN_THICKNESS`] above its lower side.
pub fn with_max(crop: CropBox, axis: usize, fraction: f32) -> CropBox {
    let mut out = crop;
    let floor = (crop.min[axis] + CropBox::MIN_THICKNESS).min(1.0);
    out.max[axis] = fraction.clamp(floor, 1.0);
    out
}

/// Draws the sliders and the reset button for `crop`, changing it as the user does.
pub fn crop_control(ui: &mut egui::Ui, crop: &mut CropBox) -> CropEdit {
    let mut edit = CropEdit::default();
    ui.heading("Crop");
    for (axis, (name, low, high)) in AXES.into_iter().enumerate() {
        ui.label(format!("{name} ({low} to {high})"));
        for upper in [false, true] {
            let mut value = if upper {
                crop.max[axis]
            } else {
                crop.min[axis]
            };
            let text = format!("{name} {}", if upper { "max" } else { "min" });
            let response = ui
                .add(egui::Slider::new(&mut value, 0.0..=1.0).text(text))
                .on_hover_text(format!(
                    "the {} side of the box along {name}: 0 at {low}, 1 at {high}",
                    if upper { "upper" } else { "lower" }
                ));
            if response.changed() {
                *crop = if upper {
                    with_max(*crop, axis, value)
                } else {
                    with_min(*crop, axis, value)
                };
                edit.changed = true;
            }
            edit.drag_started |= response.drag_started();
            edit.dragging |= response.dragged();
            edit.drag_stopped |= response.drag_stopped();
        }
    }
    if ui
        .add_enabled(!crop.is_whole(), egui::Button::new("Reset crop"))
        .on_hover_text("render the whole volume again")
        .clicked()
    {
        *crop = CropBox::default();
        edit.changed = true;
    }
    edit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliders_move_one_side_and_keep_the_box_thick_enough() {
        let whole = CropBox::default();
        let left = with_min(whole, 0, 0.5);
        assert_eq!((left.min, left.max), ([0.5, 0.0, 0.0], [1.0; 3]));
        let slab = with_max(left, 2, 0.25);
        assert_eq!(slab.max, [1.0, 1.0, 0.25]);
        // A lower side dragged past the upper one stops just below it, and the reverse.
        let pushed = with_min(slab, 2, 0.9);
        assert!((pushed.min[2] - (0.25 - CropBox::MIN_THICKNESS)).abs() < 1e-6);
        let pulled = with_max(left, 0, 0.1);
        assert!((pulled.max[0] - (0.5 + CropBox::MIN_THICKNESS)).abs() < 1e-6);
        // Whatever the sliders do, the server accepts the box.
        for crop in [left, slab, pushed, pulled, with_min(whole, 1, -3.0)] {
            let min = crop.min.map(f64::from);
            let max = crop.max.map(f64::from);
            assert!(CropBox::checked(min, max).is_ok(), "{crop:?}");
        }
    }
}
