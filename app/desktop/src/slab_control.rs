//! The slab control of a slice cell: a compact menu at the cell's bottom left, above its
//! grey window (the top holds its name, a letter and the series' description), that thickens
//! the cell's slice to a slab of some millimetres and picks how its voxels combine.

use eframe::egui;
use hounsfield_protocol::SlicePlane;
use render_core::view::{Slab, SlabMode};

/// The thicknesses offered (mm); 0 is a thin slice.
pub const SLAB_CHOICES_MM: [f64; 6] = [0.0, 5.0, 10.0, 20.0, 30.0, 50.0];

/// The name a slab mode is shown by.
fn mode_label(mode: SlabMode) -> &'static str {
    match mode {
        SlabMode::Mip => "MIP",
        SlabMode::Minip => "MinIP",
        SlabMode::Average => "Average",
    }
}

/// What `plane`'s cell's menu button says: e.g. `Coronal slab: thin`, `Coronal slab: 20 mm
/// MIP`.
pub fn slab_button_label(plane: SlicePlane, slab: Slab) -> String {
    let name = match plane {
        SlicePlane::Axial => "Axial",
        SlicePlane::Coronal => "Coronal",
        SlicePlane::Sagittal => "Sagittal",
    };
    if slab.is_thin() {
        format!("{name} slab: thin")
    } else {
        format!("{name} slab: {} mm {}", slab.mm, mode_label(slab.mode))
    }
}

/// How far above the cell's bottom edge the control ends: over the grey window's line.
const ABOVE_WINDOW: f32 = 22.0;

/// Shows `plane`'s slab control at the bottom left of `cell`, above its grey window; the
/// slab chosen there, when one was.
pub fn slab_control(
    ui: &mut egui::Ui,
    cell: egui::Rect,
    plane: SlicePlane,
    slab: Slab,
) -> Option<Slab> {
    let mut area = cell.shrink(4.0);
    area.max.y -= ABOVE_WINDOW;
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(area)
            .layout(egui::Layout::bottom_up(egui::Align::Min)),
    );
    let mut chosen = None;
    child
        .menu_button(slab_button_label(plane, slab), |menu| {
            for mm in SLAB_CHOICES_MM {
                let text = if mm == 0.0 {
                    "thin".to_owned()
                } else {
                    format!("{mm} mm")
                };
                if menu.selectable_label(slab.mm == mm, text).clicked() {
                    chosen = Some(Slab { mm, ..slab });
                }
            }
            menu.separator();
            for mode in SlabMode::ALL {
                if menu
                    .selectable_label(slab.mode == mode, mode_label(mode))
                    .clicked()
                {
                    chosen = Some(Slab { mode, ..slab });
                }
            }
        })
        .response
        .on_hover_text("Slab: the slice thickened, its voxels combined into one pixel");
    chosen.filter(|new| *new != slab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_names_the_cell_and_its_slab() {
        assert_eq!(
            slab_button_label(SlicePlane::Coronal, Slab::THIN),
            "Coronal slab: thin"
        );
        let slab = Slab {
            mm: 20.0,
            mode: SlabMode::Minip,
        };
        assert_eq!(
            slab_button_label(SlicePlane::Axial, slab),
            "Axial slab: 20 mm MinIP"
        );
    }
}
