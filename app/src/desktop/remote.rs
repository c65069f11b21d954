//! The thin-client 3D view: frames streamed from a server shown as an egui texture, mouse
//! gestures sent as protocol inputs. The view is mirrored here (the same camera moves the
//! server makes) so that switching to local rendering keeps it.

use eframe::egui;
use render_core::Window;
use render_core::transfer::RenderMode;
use server_mode::protocol::{Action, Opened, SharedView, Viewport, WindowInfo};

use super::gestures::{Gesture, GestureReader, dragged_window};
use super::link::{LinkStatus, LinkTarget, RemoteLink};

/// A 3D view rendered by a server.
pub struct RemoteView {
    link: RemoteLink,
    texture: Option<egui::TextureHandle>,
    gestures: GestureReader,
    /// The view as the server shows it, mirrored from the inputs sent.
    pub mirror: Option<SharedView>,
    /// The series as the server opened it.
    pub opened: Option<Opened>,
    /// Frame size last asked of the server.
    size: [u32; 2],
    /// Whether the frame on screen is a final still of the view asked for.
    pub final_shown: bool,
    /// The first input whose frames show the view asked for (1 after a hand-over: the
    /// view sent with `set_view`).
    first_own_input: u32,
}

impl RemoteView {
    /// Connects to `target`, showing `initial` (a view handed over from local rendering)
    /// when given.
    pub fn connect(
        ctx: &egui::Context,
        target: LinkTarget,
        initial: Option<SharedView>,
    ) -> std::io::Result<Self> {
        let size = [target.viewport.width, target.viewport.height];
        let wake = ctx.clone();
        let link = RemoteLink::start(target, initial.clone(), move || wake.request_repaint())?;
        let first_own_input = u32::from(initial.is_some());
        Ok(Self {
            link,
            texture: None,
            gestures: GestureReader::default(),
            mirror: initial,
            opened: None,
            size,
            final_shown: false,
            first_own_input,
        })
    }

    /// The link's status line: state, latency, frame rate and bit rate.
    pub fn status_text(&self) -> String {
        let state = self.link.state();
        let status = match &state.status {
            None => "connecting".to_string(),
            Some(LinkStatus::Connecting { attempt: 0, .. }) => "connecting".to_string(),
            Some(LinkStatus::Connecting {
                attempt,
                reason: Some(reason),
            }) => format!("reconnecting (attempt {attempt}): {reason}"),
            Some(LinkStatus::Connecting { attempt, .. }) => {
                format!("reconnecting (attempt {attempt})")
            }
            Some(LinkStatus::Connected) => "connected".to_string(),
            Some(LinkStatus::Closed(reason)) => format!("closed: {reason}"),
        };
        let latency = state
            .latency_ms
            .map_or_else(String::new, |ms| format!(" · latency {ms:.0} ms"));
        let codec = if state.codec.is_empty() {
            String::new()
        } else {
            format!(" · {}", state.codec)
        };
        format!(
            "remote · {} · {status}{latency} · {:.0} fps · {:.0} kbit/s{codec}",
            self.link.target.url, state.fps, state.kbit_s
        )
    }

    /// The last error the server answered with.
    pub fn server_error(&self) -> Option<String> {
        self.link.state().server_error.clone()
    }

    /// Whether the link gave up (and why).
    pub fn closed(&self) -> Option<String> {
        match &self.link.state().status {
            Some(LinkStatus::Closed(reason)) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Sends `action` and applies it to the mirror.
    pub fn act(&mut self, action: Action) {
        if let Some(mirror) = &mut self.mirror {
            mirror_action(mirror, self.opened.as_ref(), &action);
            self.link.remember(mirror.clone());
        }
        if !self.link.send(action) {
            tracing::debug!("input dropped: the link is busy or stopped");
        }
    }

    /// Asks for a lossless final still (diagnostic quality).
    pub fn lossless_still(&self) {
        self.link.still(true);
    }

    /// Shows the latest frame in all of `ui`'s remaining space and sends its input.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.take_news(ui.ctx());
        let size = ui.available_size().max(egui::vec2(16.0, 16.0));
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        let pixels_per_point = ui.ctx().pixels_per_point();
        let physical = [
            ((rect.width() * pixels_per_point).round() as u32).clamp(16, 4096),
            ((rect.height() * pixels_per_point).round() as u32).clamp(16, 4096),
        ];
        if physical != self.size && !response.dragged() {
            self.size = physical;
            self.act(Action::Resize {
                width: physical[0],
                height: physical[1],
            });
        }
        self.handle_input(ui, &response);
        ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
        match &self.texture {
            Some(texture) => {
                let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
                ui.painter()
                    .image(texture.id(), rect, uv, egui::Color32::WHITE);
            }
            None => {
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    self.status_text(),
                    egui::FontId::proportional(14.0),
                    ui.visuals().text_color(),
                );
            }
        }
    }

    /// Moves a new frame into the texture and a new `opened` into the mirror.
    fn take_news(&mut self, ctx: &egui::Context) {
        let (frame, opened) = {
            let mut state = self.link.state();
            (state.frame.take(), state.opened.take())
        };
        if let Some(opened) = opened {
            // A reconnection reopens the series; the link hands the mirror over itself.
            if self.mirror.is_none() {
                self.mirror = opened.view.clone();
            }
            self.opened = Some(opened);
        }
        if let Some(frame) = frame {
            let image = egui::ColorImage::from_rgba_unmultiplied(frame.size, &frame.rgba);
            self.final_shown = frame.final_still && frame.input_seq >= self.first_own_input;
            match &mut self.texture {
                Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("remote-frame", image, egui::TextureOptions::LINEAR));
                }
            }
        }
    }

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response) {
        for gesture in self.gestures.read(ui, response) {
            let action = match gesture {
                Gesture::Begin => Action::Interact { active: true },
                Gesture::End => Action::Interact { active: false },
                Gesture::Orbit(dx, dy) => Action::Orbit { dx, dy },
                Gesture::Pan(dx, dy) => Action::Pan { dx, dy },
                Gesture::Zoom(factor) => Action::Zoom { factor },
                Gesture::Window(dx, dy) => {
                    let Some(window) = self.current_window() else {
                        continue;
                    };
                    let changed = dragged_window(window, dx, dy);
                    Action::Window {
                        width: changed.width,
                        center: changed.center,
                    }
                }
            };
            self.act(action);
        }
    }

    /// The window in effect: the mirror's, else the series'.
    fn current_window(&self) -> Option<Window> {
        let info = self
            .mirror
            .as_ref()
            .and_then(|mirror| mirror.window)
            .or_else(|| self.opened.as_ref().and_then(|opened| opened.window))?;
        Some(Window {
            width: info.width,
            center: info.center,
        })
    }
}

/// Applies `action` to `mirror` as the server applies it to its view.
fn mirror_action(mirror: &mut SharedView, opened: Option<&Opened>, action: &Action) {
    match action {
        Action::Orbit { dx, dy } => mirror.camera.orbit(*dx, *dy),
        Action::Pan { dx, dy } => mirror.camera.pan(*dx, *dy),
        Action::Zoom { factor } => mirror.camera.zoom_by(*factor),
        Action::Window { width, center } => {
            mirror.window = Some(WindowInfo {
                width: *width,
                center: *center,
            });
        }
        Action::Preset { name } => {
            mirror.preset = name.clone();
            if let Some(mode) = render_core::transfer::PresetLibrary::builtin()
                .get(name)
                .map(|preset| preset.mode)
            {
                mirror.mode = mode.name().to_string();
            }
        }
        Action::Mode { mode } => mirror.mode = mode.clone(),
        Action::View { name } => {
            if let Some(view) = render_core::camera::NamedView::from_name(name) {
                mirror.camera.set_view(view);
            }
        }
        Action::Reset => {
            if let Some(view) = opened.and_then(|opened| opened.view.clone()) {
                *mirror = view;
            }
        }
        Action::SetView { view } => *mirror = (**view).clone(),
        Action::Layout { name } => {
            if let Some(layout) = server_mode::protocol::Layout::from_name(name) {
                mirror.layout = layout;
            }
        }
        // The server says where the crosshair went (`crosshair` message).
        Action::Slice { .. } | Action::Crosshair { .. } => {}
        Action::Resize { .. } | Action::Interact { .. } => {}
    }
}

/// The render mode a mirror names (composite when unknown).
pub fn mirror_mode(mirror: &SharedView) -> RenderMode {
    RenderMode::from_name(&mirror.mode).unwrap_or(RenderMode::Composite)
}

/// The viewport a new link asks for before the first layout.
pub const START_VIEWPORT: Viewport = Viewport {
    width: 1024,
    height: 720,
};
