//! Keyboard shortcuts: the same actions as the toolbar's buttons, for views rendered here
//! and streamed alike.

use eframe::egui;
use hounsfield_protocol::Action;

use super::{DesktopApp, State};
use crate::findings::SliceTool;
use render_core::view::Layout;

impl DesktopApp {
    /// Keys: 1 and 2 (layout), C and M (slice tool), R (reset), O (overlay), S (screenshot),
    /// Delete (the selected finding); streamed, `]`, `[` and P (a series over time's next
    /// and previous volume, cine).
    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let pressed = |key: egui::Key| ctx.input(|input| input.key_pressed(key));
        if pressed(egui::Key::S) {
            self.request_user_screenshot(ctx);
        }
        if pressed(egui::Key::B) {
            self.show_browser = !self.show_browser;
        }
        if pressed(egui::Key::O) {
            self.settings.show_overlay = !self.settings.show_overlay;
            self.save_settings();
        }
        match &mut self.state {
            State::Local(workspace) => {
                let before = workspace.layout;
                if pressed(egui::Key::Num1) {
                    workspace.layout = Layout::Single;
                }
                if pressed(egui::Key::Num2) {
                    workspace.layout = Layout::Quad;
                }
                if pressed(egui::Key::C) {
                    workspace.link.tool = SliceTool::Crosshair;
                }
                if pressed(egui::Key::M) {
                    workspace.link.tool = SliceTool::Measure;
                }
                if pressed(egui::Key::R) {
                    workspace.reset();
                }
                // A series over time: the next and the previous volume, play or pause.
                if pressed(egui::Key::CloseBracket) {
                    workspace.step_volume(1);
                }
                if pressed(egui::Key::OpenBracket) {
                    workspace.step_volume(-1);
                }
                if pressed(egui::Key::P) {
                    workspace.play_or_pause(std::time::Instant::now());
                }
                if pressed(egui::Key::Delete) || pressed(egui::Key::Backspace) {
                    workspace.delete_selected_finding();
                }
                if workspace.layout != before {
                    self.settings.layout = workspace.layout;
                    self.save_settings();
                }
            }
            State::Remote { view, .. } => {
                if pressed(egui::Key::R) {
                    view.act(Action::Reset);
                }
                // A series over time: the next and the previous volume, play or pause.
                if pressed(egui::Key::CloseBracket) {
                    view.step_volume(1);
                }
                if pressed(egui::Key::OpenBracket) {
                    view.step_volume(-1);
                }
                if pressed(egui::Key::P) {
                    view.play_or_pause();
                }
                if pressed(egui::Key::C) {
                    view.tool = SliceTool::Crosshair;
                }
                if pressed(egui::Key::M) {
                    view.tool = SliceTool::Measure;
                }
                if pressed(egui::Key::Delete) || pressed(egui::Key::Backspace) {
                    view.delete_selected_finding();
                }
                let layout = if pressed(egui::Key::Num1) {
                    Some(Layout::Single)
                } else if pressed(egui::Key::Num2) {
                    Some(Layout::Quad)
                } else {
                    None
                };
                if let Some(layout) = layout {
                    view.set_layout(layout);
                    if layout != self.settings.layout {
                        self.settings.layout = layout;
                        self.save_settings();
                    }
                }
            }
            _ => {}
        }
    }
}
