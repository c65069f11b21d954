//! Screenshots of the window: the one the user asks for (key S, the toolbar button), saved
//! in the pictures folder, and the test hook's (`--screenshot`), taken once a full-quality
//! frame is on screen, after which the window closes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;
use render_core::view::Quality;

use super::{DesktopApp, State};
use crate::screenshot::{self, Outcome};

/// A screenshot under way (test hook).
pub(super) struct Screenshot {
    path: PathBuf,
    outcome: Outcome,
    taken: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    requested: bool,
}

impl Screenshot {
    /// A screenshot to save at `path`, reporting to `outcome`, not yet asked of egui.
    pub(super) fn new(path: PathBuf, outcome: Outcome) -> Self {
        Self {
            path,
            outcome,
            taken: Arc::default(),
            requested: false,
        }
    }
}

impl DesktopApp {
    /// Asks egui for the window's pixels; [`Self::save_user_screenshot`] writes them.
    pub(super) fn request_user_screenshot(&self, ctx: &egui::Context) {
        screenshot_into(ctx, &self.user_shot);
    }

    /// Saves a screenshot the user asked for, once its pixels have arrived, and says where.
    pub(super) fn save_user_screenshot(&mut self) {
        let taken = self.user_shot.lock().ok().and_then(|mut slot| slot.take());
        let Some(image) = taken else {
            return;
        };
        let path = screenshot::user_path(&self.label);
        match screenshot::save_png(&image, &path) {
            Ok(()) => self.note = Some(format!("screenshot saved: {}", path.display())),
            Err(error) => self.warnings.push(error),
        }
    }

    /// Whether a full-quality frame is on screen.
    pub(super) fn full_frame_shown(&self) -> bool {
        match &self.state {
            // A sign-in under way will switch to the server's frames.
            State::Local(view) => {
                view.view3d.shown == Some(Quality::Full) && !self.sign_in_pending()
            }
            State::Remote { view, .. } => view.final_shown,
            _ => false,
        }
    }

    /// The test hook: once a full-quality frame is on screen, take a screenshot, save it
    /// and close; on a load error, report it and close.
    pub(super) fn screenshot_step(&mut self, ctx: &egui::Context) {
        let failure = match &self.state {
            State::Failed(error) => Some(error.clone()),
            State::Remote { view, parked: None } => view.closed().or_else(|| {
                // Nobody is there to answer the prompt.
                view.untrusted().map(|(fingerprint, reason)| {
                    format!(
                        "the server's certificate is not trusted ({reason}); its SHA-256 fingerprint is {fingerprint}: pass --fingerprint to trust it"
                    )
                })
            }),
            _ => None,
        };
        let full_shown = self.full_frame_shown();
        let Some(shot) = &mut self.screenshot else {
            return;
        };
        if let Some(error) = failure {
            shot.outcome.set(Err(error));
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let taken = shot.taken.lock().ok().and_then(|mut slot| slot.take());
        if let Some(image) = taken {
            shot.outcome.set(screenshot::save_png(&image, &shot.path));
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if full_shown && !shot.requested {
            shot.requested = true;
            screenshot_into(ctx, &shot.taken);
        }
    }
}

/// Asks egui for the window's pixels; they arrive in `slot` and the window repaints.
fn screenshot_into(ctx: &egui::Context, slot: &Arc<Mutex<Option<Arc<egui::ColorImage>>>>) {
    let slot = Arc::clone(slot);
    let wake = ctx.clone();
    ctx.request_screenshot(move |image| {
        if let Ok(mut slot) = slot.lock() {
            *slot = Some(image);
        }
        wake.request_repaint();
    });
    ctx.request_repaint();
}
