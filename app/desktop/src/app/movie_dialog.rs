//! "Export movie…": the dialog (the motion, frames, size, rate and file), the movie
//! written off the UI thread with its progress, and how it ended.

use std::time::Duration;

use eframe::egui;

use super::{DesktopApp, State};
use crate::movie_export::{MovieExport, MovieMotion, MovieOptions};
use crate::screenshot::user_path;

/// The export dialog: its choices, the movie being written, and what became of the last.
pub(super) struct MovieDialog {
    pub(super) options: MovieOptions,
    /// The file as typed.
    pub(super) file: String,
    pub(super) export: Option<MovieExport>,
    /// How the last movie ended.
    pub(super) said: Option<String>,
}

impl MovieDialog {
    /// The dialog for the series `label`: a turn into the pictures folder.
    pub(super) fn new(label: &str) -> Self {
        let out = user_path(label).with_extension("mp4");
        Self {
            file: out.display().to_string(),
            options: MovieOptions::new(out),
            export: None,
            said: None,
        }
    }
}

impl DesktopApp {
    /// The export dialog, while it is open; closing it stops a movie being written.
    pub(super) fn movie_window(&mut self, ctx: &egui::Context) {
        let Some(mut dialog) = self.movie_dialog.take() else {
            return;
        };
        if let Some(export) = &mut dialog.export
            && let Some(outcome) = export.outcome()
        {
            dialog.said = Some(match outcome {
                Ok(times) => format!(
                    "Saved {} ({} frames, {}; {:.0} ms a frame)",
                    export.out.display(),
                    times.frames,
                    times.encoder,
                    times.render_ms_per_frame() + times.encode_ms_per_frame()
                ),
                Err(why) => format!("Not saved: {why}"),
            });
            dialog.export = None;
        }
        let (mut open, mut start, mut cancel) = (true, false, false);
        egui::Window::new("Export movie")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ctx, |ui| match &dialog.export {
                Some(export) => {
                    let done = export.done();
                    ui.label(format!("Writing {}", export.out.display()));
                    ui.add(
                        egui::ProgressBar::new(done as f32 / export.frames.max(1) as f32)
                            .text(format!("{done} of {} frames", export.frames)),
                    );
                    cancel = ui.button("Cancel").clicked();
                    ui.ctx().request_repaint_after(Duration::from_millis(100));
                }
                None => {
                    movie_choices(ui, &mut dialog);
                    if let Some(said) = &dialog.said {
                        ui.label(said);
                    }
                    start = ui.button("Export").clicked();
                }
            });
        if cancel && let Some(export) = &dialog.export {
            export.cancel();
        }
        if start {
            self.start_movie(&mut dialog);
        }
        if open {
            self.movie_dialog = Some(dialog);
        }
    }

    /// Starts the movie the dialog describes, from the view on screen.
    fn start_movie(&self, dialog: &mut MovieDialog) {
        let State::Local(workspace) = &self.state else {
            dialog.said = Some("Not saved: movies are made of a series rendered here".to_string());
            return;
        };
        let Some(volume) = workspace.renderer().volume().cloned() else {
            return;
        };
        let mut first = workspace.view3d.view.clone();
        if dialog.options.motion != MovieMotion::Orbit {
            first.window = workspace.link.window.or(first.window);
        }
        dialog.options.out = dialog.file.trim().into();
        match MovieExport::start(volume, &self.label, first, &dialog.options) {
            Ok(export) => {
                dialog.export = Some(export);
                dialog.said = None;
            }
            Err(why) => dialog.said = Some(format!("Not saved: {why}")),
        }
    }
}

/// The motion, frames, size, rate and file.
fn movie_choices(ui: &mut egui::Ui, dialog: &mut MovieDialog) {
    let options = &mut dialog.options;
    egui::ComboBox::from_label("movie")
        .selected_text(options.motion.label())
        .show_ui(ui, |ui| {
            for motion in MovieMotion::ALL {
                ui.selectable_value(&mut options.motion, motion, motion.label());
            }
        });
    ui.horizontal(|ui| {
        ui.label("frames");
        ui.add(egui::DragValue::new(&mut options.shape.frames).range(1..=3600));
        ui.label("per second");
        ui.add(egui::DragValue::new(&mut options.shape.fps).range(1..=60));
    });
    ui.horizontal(|ui| {
        ui.label("size");
        ui.add(egui::DragValue::new(&mut options.shape.size[0]).range(16..=4096));
        ui.label("×");
        ui.add(egui::DragValue::new(&mut options.shape.size[1]).range(16..=4096));
    });
    ui.horizontal(|ui| {
        ui.label("file");
        ui.text_edit_singleline(&mut dialog.file);
        if ui.button("Choose…").clicked()
            && let Some(path) = rfd::FileDialog::new()
                .add_filter("MP4 movie", &["mp4"])
                .set_file_name("movie.mp4")
                .save_file()
        {
            dialog.file = path.display().to_string();
        }
    });
}
