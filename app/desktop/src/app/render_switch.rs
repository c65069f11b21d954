//! Where the view is rendered: here on the window's device or streamed from the server.
//! `--render` decides at the start, the Local | Server buttons while running, and the
//! switch keeps the view (camera, preset, window, crop, layout) both ways; a server that gives
//! up falls back to rendering here, and slow local interaction offers the server.

use std::time::Duration;

use eframe::egui;

use super::{DesktopApp, State};
use crate::launch::RenderPreference;
use crate::thin_client::connection::{LinkTarget, accepts_connections, trust_for, websocket_url};
use crate::thin_client::remote_view::{RemoteView, START_VIEWPORT};

/// How long `auto` waits for a configured server to answer before rendering here.
const SERVER_ANSWER_TIMEOUT: Duration = Duration::from_millis(700);

impl DesktopApp {
    /// `--render`: local stays; remote streams from the server; auto streams only on a
    /// software adapter when a server answers, else renders here at reduced quality.
    pub(super) fn decide_where_to_render(&mut self, ctx: &egui::Context) {
        match self.preference {
            RenderPreference::Local => {}
            RenderPreference::Remote => {
                if self.server.is_some() {
                    self.switch_to_remote(ctx);
                } else {
                    self.warnings.push(
                        "--render remote needs a server: pass --server URL (rendering here)"
                            .to_string(),
                    );
                }
            }
            RenderPreference::Auto if self.software => {
                let answering = self
                    .server
                    .as_ref()
                    .is_some_and(|server| accepts_connections(&server.url, SERVER_ANSWER_TIMEOUT));
                if answering {
                    self.switch_to_remote(ctx);
                } else {
                    self.note = Some(format!(
                        "software adapter ({}): rendering here at reduced quality{}",
                        self.adapter,
                        if self.server.is_some() {
                            "; the server did not answer"
                        } else {
                            "; configure a server (--server URL) to stream instead"
                        }
                    ));
                    if let State::Local(view) = &mut self.state {
                        view.view3d.reduced = true;
                    }
                }
            }
            RenderPreference::Auto => {}
        }
    }

    /// Streams the local view's series from the server, handing over the view; first
    /// signs in through the server's identity provider where it asks (`server_sign_in`).
    pub(super) fn switch_to_remote(&mut self, ctx: &egui::Context) {
        let Some(server) = self.server.clone() else {
            return;
        };
        if !matches!(self.state, State::Local(_)) || self.signing_in_first(ctx, &server) {
            return;
        }
        let url = match websocket_url(&server.url) {
            Ok(url) => url,
            Err(error) => {
                self.warnings.push(error);
                return;
            }
        };
        let State::Local(local) = std::mem::replace(&mut self.state, State::Failed(String::new()))
        else {
            return;
        };
        let trust = trust_for(&url, &server.url, Vec::new(), |server| {
            self.settings.trusted_certificate(server)
        });
        let target = LinkTarget {
            url,
            token: server.token.clone(),
            login: self.server_login(),
            series: Some(self.label.clone()),
            study: None,
            join: None,
            viewport: START_VIEWPORT,
            trust,
            offer_webrtc: self.transport.offers_webrtc(),
        };
        let shared = local.shared_view();
        if self.sharing.take().is_some() {
            self.warnings
                .push("the share ended: this window now streams from a server".to_string());
        }
        match RemoteView::connect(ctx, target, Some(shared)) {
            Ok(view) => {
                self.note = None;
                self.state = State::Remote {
                    view: Box::new(view),
                    parked: Some(local),
                };
            }
            Err(error) => {
                self.warnings
                    .push(format!("cannot start the connection: {error}"));
                self.state = State::Local(local);
            }
        }
    }

    /// Renders here again, from the view the server was showing.
    pub(super) fn switch_to_local(&mut self, reason: Option<String>) {
        let State::Remote { view, parked } =
            std::mem::replace(&mut self.state, State::Failed(String::new()))
        else {
            return;
        };
        let Some(mut local) = parked else {
            self.state = State::Remote { view, parked: None };
            return;
        };
        if let Some(mirror) = &view.mirror {
            let known = mirror.transfer.is_some()
                || local.renderer().presets().get(&mirror.preset).is_some();
            let shown = &mut local.view3d.view;
            shown.camera = render_core::camera::Camera {
                scene_radius_mm: shown.camera.scene_radius_mm,
                ..mirror.camera
            };
            if known {
                shown.preset = mirror.preset.clone();
                shown.transfer = mirror.transfer.clone();
            }
            shown.mode = mirror.mode;
            shown.window = mirror.window.map(|w| render_core::Window {
                width: w.width,
                center: w.center,
            });
            shown.crop = mirror
                .crop
                .and_then(|crop| render_core::view::CropBox::from_info(&crop).ok())
                .unwrap_or_default();
            shown.lighting = mirror.lighting;
            local.adopt_layout(mirror);
            self.settings.layout = local.layout;
        }
        local.view3d.refresh();
        if let Some(reason) = reason {
            self.warnings.push(reason);
        }
        self.state = State::Local(local);
    }

    /// Falls back to local rendering when the server gave up on the link, and offers the
    /// server when local interaction stays slow.
    pub(super) fn watch_rendering(&mut self) {
        if let State::Remote {
            view,
            parked: Some(_),
        } = &self.state
            && let Some(reason) = view.closed()
        {
            self.forget_refused_login(&reason);
            let reason = format!("the server stopped streaming ({reason}): rendering here");
            self.switch_to_local(Some(reason));
        }
        if let State::Local(view) = &self.state
            && self.server.is_some()
            && self.signing_in.is_none()
            && !self.offer_dismissed
            && view.view3d.pace.is_slow()
        {
            self.note = Some(format!(
                "local rendering is slow ({:.0} frames/s while interacting): the server can render instead",
                view.view3d.pace.sustained_fps().unwrap_or(0.0)
            ));
        }
    }

    /// Local | Server: switches while running, keeping the view.
    pub(super) fn rendering_switch(&mut self, ui: &mut egui::Ui) {
        let (local, can_local, can_remote) = match &self.state {
            State::Local(_) => (true, true, self.server.is_some()),
            State::Remote { parked, .. } => (false, parked.is_some(), true),
            _ => return,
        };
        let local_button = ui
            .add_enabled(can_local, egui::Button::selectable(local, "Local"))
            .on_hover_text("render on this machine")
            .on_disabled_hover_text("the series is on the server: only its pixels are here");
        let server_text = self
            .server
            .as_ref()
            .map_or("no server configured (--server URL)".to_string(), |s| {
                format!("stream from {}", s.url)
            });
        let remote_button = ui
            .add_enabled(can_remote, egui::Button::selectable(!local, "Server"))
            .on_hover_text(server_text.clone())
            .on_disabled_hover_text(server_text);
        if local_button.clicked() && !local {
            self.switch_to_local(None);
        }
        if remote_button.clicked() && local {
            let ctx = ui.ctx().clone();
            self.switch_to_remote(&ctx);
        }
    }
}
