//! The Transfer panel on the right of the window: the transfer-function editor for the
//! view rendered here (its 3D view redrawn as a point moves, interactive frames while it
//! is dragged) or for the view streamed from a server (each change sent as `transfer`,
//! between `interact` on and off). A save writes the preset file into the reader's
//! presets folder beside the settings, where the presets are read from at start.

use std::path::PathBuf;

use eframe::egui;
use render_core::transfer::PresetLibrary;
use render_core::view::change::Action;

use super::{DesktopApp, State};
use crate::thin_client::remote_view::RemoteView;
use crate::transfer_editor::{TransferEdit, TransferEditor};
use crate::workspace::LocalWorkspace;

/// Bins of the histogram drawn behind the opacity curve.
const HISTOGRAM_BINS: usize = 256;

impl DesktopApp {
    /// The Transfer panel, when it is shown and there is a 3D view.
    pub(super) fn transfer_panel(&mut self, ui: &mut egui::Ui) {
        if !self.show_transfer || !matches!(self.state, State::Local(_) | State::Remote { .. }) {
            self.transfer_of = None;
            return;
        }
        let folder = self.presets_folder();
        egui::Panel::right("transfer")
            .resizable(false)
            .show(ui, |ui| {
                ui.heading("Transfer function");
                let edit = match &mut self.state {
                    State::Local(workspace) => {
                        local_edit(ui, workspace, &mut self.transfer, &mut self.transfer_of)
                    }
                    State::Remote { view, .. } => remote_edit(
                        ui,
                        view,
                        &mut self.transfer,
                        &mut self.transfer_of,
                        &mut self.transfer_dragging,
                    ),
                    _ => TransferEdit::default(),
                };
                if edit.save {
                    self.save_transfer(folder);
                }
            });
    }

    /// The reader's presets folder: `presets` beside the settings file.
    fn presets_folder(&self) -> Option<PathBuf> {
        self.settings_path
            .as_deref()
            .and_then(std::path::Path::parent)
            .map(|folder| folder.join("presets"))
    }

    /// Writes the edited function into `folder` as `NAME.toml`, offered from then on here.
    fn save_transfer(&mut self, folder: Option<PathBuf>) {
        let Some(preset) = self.transfer.edited() else {
            return;
        };
        let said = match folder {
            None => "no settings folder to save presets beside".to_string(),
            Some(folder) => match PresetLibrary::save_into(&folder, &preset) {
                Ok(path) => {
                    if let State::Local(workspace) = &mut self.state {
                        workspace.add_preset(preset);
                    }
                    format!("Saved as {}", path.display())
                }
                Err(why) => why.to_string(),
            },
        };
        self.transfer.status = Some(said);
    }
}

/// The editor of the view rendered here: filled from the renderer (the function shown, the
/// volume's histogram) when the volume changes, and its changes shown at once.
fn local_edit(
    ui: &mut egui::Ui,
    workspace: &mut LocalWorkspace,
    editor: &mut TransferEditor,
    filled_for: &mut Option<usize>,
) -> TransferEdit {
    let renderer = workspace.renderer();
    let volume = renderer
        .volume()
        .map(|v| std::sync::Arc::as_ptr(v) as usize);
    if let Some(preset) = workspace.view3d.view.preset_in(renderer.presets()).cloned() {
        if volume != *filled_for || !editor.is_shown() {
            *filled_for = volume;
            editor.show(preset, renderer.value_histogram(HISTOGRAM_BINS));
        } else {
            editor.follow(&preset);
        }
    }
    let edit = editor.ui(ui, false);
    if edit.changed
        && let Some(edited) = editor.edited()
        && let Err(why) = workspace.set_transfer(edited, edit.dragging)
    {
        editor.status = Some(why);
    }
    edit
}

/// The editor of a view streamed from a server: filled from the server's answer to
/// `transfer_function` (asked when a series opens), following the server's view at rest.
fn remote_edit(
    ui: &mut egui::Ui,
    view: &mut RemoteView,
    editor: &mut TransferEditor,
    asked_for: &mut Option<usize>,
    dragging: &mut bool,
) -> TransferEdit {
    let series = view
        .opened
        .as_ref()
        .map(|opened| opened.series.as_ptr() as usize);
    if series != *asked_for {
        *asked_for = series;
        view.ask_transfer_function();
    }
    if let Some((preset, histogram)) = view.take_transfer_function() {
        editor.show(preset, Some(histogram));
    } else if let Some(told) = view.mirror.as_ref().and_then(|m| m.transfer.as_deref()) {
        editor.follow(told);
    }
    let edit = editor.ui(ui, true);
    send_edit(view, dragging, editor, edit);
    if edit.save_on_server
        && let Some(preset) = editor.edited()
    {
        view.save_preset_on_server(preset);
        editor.status = Some("saving on the server…".into());
    }
    if let Some(said) = view.take_preset_saved() {
        editor.status = Some(match said {
            Ok(name) => format!("Saved on the server as {name}"),
            Err(why) => why,
        });
    }
    edit
}

/// Sends a change made in the editor to the server: `interact` on as a drag starts, each
/// change as `transfer` (once a frame at most, as frames are drawn), `interact` off when
/// the drag ends.
fn send_edit(
    view: &mut RemoteView,
    dragging: &mut bool,
    editor: &TransferEditor,
    edit: TransferEdit,
) {
    if edit.dragging && !*dragging {
        *dragging = true;
        view.act(Action::Interact { active: true });
    }
    if edit.changed
        && let Some(preset) = editor.edited()
    {
        view.act(Action::Transfer {
            preset: Box::new(preset),
        });
    }
    if !edit.dragging && *dragging {
        *dragging = false;
        view.act(Action::Interact { active: false });
    }
}
