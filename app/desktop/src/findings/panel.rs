//! The findings panel: the open series' findings, one line each (a click goes to the
//! finding's slice and selects it), the selected one's note and delete button,
//! "Save findings" with what the last save did or why saving is off, then key images and
//! snapshots ([`super::key_images`]).

use eframe::egui;
use hounsfield_protocol::MAX_NOTE_CHARS;

use super::asked::{PanelAction, SaveOffer};
use super::key_images::KeyImageChoice;
use super::model::FindingList;

/// What the panel keeps between frames: the note being edited and whose, the key image's
/// cell and description.
#[derive(Debug, Clone, Default)]
pub struct PanelState {
    note: String,
    note_of: Option<u32>,
    key_images: KeyImageChoice,
}

impl PanelState {
    /// Draws the panel for `list`; `offer` is the save's, `documents` that of key images
    /// and snapshots; `problem` is the last drawing refused (said in it).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        list: &FindingList,
        offer: &SaveOffer,
        documents: &SaveOffer,
        problem: Option<&str>,
    ) -> Vec<PanelAction> {
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            ui.heading("Findings");
            if list.unsaved() {
                ui.label(egui::RichText::new("unsaved").italics())
                    .on_hover_text("changed since the findings were opened or saved");
            }
        });
        if list.is_empty() {
            ui.label(
                "None yet: pick Ellipse, Rectangle, Freehand, Angle or Arrow and draw on a slice.",
            );
        }
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() * 0.6)
            .show(ui, |ui| {
                for entry in list.iter() {
                    let selected = list.selected == Some(entry.id());
                    let mut hover = entry.figures().join("\n");
                    if !entry.author.is_empty() {
                        hover.push_str(&format!("\ndrawn by {}", entry.author));
                    }
                    let line = ui.selectable_label(selected, entry.summary());
                    let line = if hover.is_empty() {
                        line
                    } else {
                        line.on_hover_text(hover)
                    };
                    if line.clicked() {
                        actions.push(PanelAction::GoTo(entry.id()));
                    }
                }
            });
        if let Some(entry) = list.selected_entry() {
            let id = entry.id();
            if self.note_of != Some(id) {
                self.note_of = Some(id);
                self.note = entry.finding().note.clone();
            }
            ui.separator();
            ui.label(format!("Finding {id}"));
            for line in entry.figures() {
                ui.label(line);
            }
            ui.horizontal(|ui| {
                let label = ui.label("Note");
                ui.add(
                    egui::TextEdit::singleline(&mut self.note)
                        .char_limit(MAX_NOTE_CHARS)
                        .desired_width(160.0),
                )
                .labelled_by(label.id);
                if ui.button("Set note").clicked() && self.note != entry.finding().note {
                    actions.push(PanelAction::Note(id, self.note.clone()));
                }
            });
            if ui
                .button("Delete finding")
                .on_hover_text("key Delete")
                .clicked()
            {
                actions.push(PanelAction::Delete(id));
            }
        } else {
            self.note_of = None;
        }
        if let Some(problem) = problem {
            ui.label(egui::RichText::new(problem).color(ui.visuals().warn_fg_color));
        }
        ui.separator();
        let ready = offer.ready.is_ok() && !offer.waiting;
        let save = ui.add_enabled(ready, egui::Button::new("Save findings"));
        let save = match &offer.ready {
            Err(why) => save.on_disabled_hover_text(why.as_str()),
            Ok(()) => save.on_hover_text("write the findings as a DICOM Measurement Report"),
        };
        if save.clicked() {
            actions.push(PanelAction::Save);
        }
        if let Err(why) = &offer.ready {
            ui.label(egui::RichText::new(format!("Saving is off: {why}")).weak());
        }
        offer.show_progress(ui, "saving…");
        ui.separator();
        actions.extend(self.key_images.ui(ui, documents));
        actions
    }
}
