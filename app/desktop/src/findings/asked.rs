//! What the findings panel asks of the window (go to, delete, note, save, keep a key
//! image or a snapshot), and what the window offers it back: whether documents can be kept
//! now and what the last one did.

use eframe::egui;
use hounsfield_protocol::SlicePlane;

/// What the user asked of the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelAction {
    /// Show finding `id`: select it and move the crosshair to its slice.
    GoTo(u32),
    /// Delete finding `id`.
    Delete(u32),
    /// Give finding `id` this note.
    Note(u32, String),
    /// Save the series' findings.
    Save,
    /// Keep the stored image `cell`'s slice shows as a key image, with `description`.
    KeyImage {
        /// The slice cell.
        cell: SlicePlane,
        /// The radiologist's words for it (may be empty).
        description: String,
    },
    /// Keep the 3D view as it is now as a snapshot, with `description`.
    Snapshot {
        /// The radiologist's words for it (may be empty).
        description: String,
    },
}

/// Whether the findings can be saved, and what the last save did.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveOffer {
    /// `Err(why)` when saving is off (the built-in sample belongs to no study, say).
    pub ready: Result<(), String>,
    /// A save asked for and not answered yet.
    pub waiting: bool,
    /// What the last save did: where the report went, or why it failed.
    pub last: Option<Result<String, String>>,
}

impl SaveOffer {
    /// Shows a spinner with `waiting` while an answer is awaited, then what the last one
    /// did (or, in the error colour, why it failed).
    pub fn show_progress(&self, ui: &mut egui::Ui, waiting: &str) {
        if self.waiting {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(waiting);
            });
        }
        match &self.last {
            Some(Ok(done)) => {
                ui.label(done);
            }
            Some(Err(why)) => {
                ui.label(egui::RichText::new(why).color(ui.visuals().error_fg_color));
            }
            None => {}
        }
    }
}
