//! The findings panel's key images and snapshots: the slice cell whose image a key image
//! marks, the description both take, "Key image" and "Send snapshot", and where the last
//! one was kept or why not.

use eframe::egui;
use hounsfield_protocol::{MAX_NOTE_CHARS, SlicePlane};

use super::asked::{PanelAction, SaveOffer};

/// What the section keeps between frames: the cell chosen and the description typed.
#[derive(Debug, Clone)]
pub struct KeyImageChoice {
    /// The slice cell a key image marks.
    pub cell: SlicePlane,
    /// The words a key image or snapshot is kept with.
    pub description: String,
}

impl Default for KeyImageChoice {
    fn default() -> Self {
        Self {
            cell: SlicePlane::Axial,
            description: String::new(),
        }
    }
}

impl KeyImageChoice {
    /// Draws the section; what the user asked for, if anything. `offer` says whether the
    /// documents can be kept now and what the last one did.
    pub fn ui(&mut self, ui: &mut egui::Ui, offer: &SaveOffer) -> Option<PanelAction> {
        let mut action = None;
        ui.label(egui::RichText::new("Key images and snapshots").strong());
        ui.horizontal(|ui| {
            ui.label("Cell");
            for plane in SlicePlane::ALL {
                ui.radio_value(&mut self.cell, plane, plane.name());
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Description");
            ui.add(
                egui::TextEdit::singleline(&mut self.description)
                    .char_limit(MAX_NOTE_CHARS)
                    .hint_text("what they show")
                    .desired_width(160.0),
            )
            .labelled_by(label.id);
        });
        let ready = offer.ready.is_ok() && !offer.waiting;
        let description = self.description.trim().to_string();
        ui.horizontal(|ui| {
            let key_image = ui.add_enabled(ready, egui::Button::new("Key image"));
            let snapshot = ui.add_enabled(ready, egui::Button::new("Send snapshot"));
            let (key_image, snapshot) = match &offer.ready {
                Err(why) => (
                    key_image.on_disabled_hover_text(why.as_str()),
                    snapshot.on_disabled_hover_text(why.as_str()),
                ),
                Ok(()) => (
                    key_image.on_hover_text(
                        "mark the stored image the chosen cell shows as a key image (a DICOM Key Object Selection)",
                    ),
                    snapshot.on_hover_text(
                        "keep the 3D view as it is now as a DICOM Secondary Capture image",
                    ),
                ),
            };
            if key_image.clicked() {
                action = Some(PanelAction::KeyImage {
                    cell: self.cell,
                    description: description.clone(),
                });
            }
            if snapshot.clicked() {
                action = Some(PanelAction::Snapshot {
                    description: description.clone(),
                });
            }
        });
        offer.show_progress(ui, "keeping…");
        action
    }
}
