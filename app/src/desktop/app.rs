//! The eframe application: toolbar, central view, status bar, the background load that
//! feeds them, and the switch between rendering here and streaming from a server.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::{PresetLibrary, RenderMode};
use render_core::view::Quality;
use server_mode::protocol::Action;

use super::Launch;
use super::browser::{OpenChoice, SeriesBrowser};
use super::loading::{Loading, Poll};
use super::screenshot::{self, Outcome};
use super::session_share::{ShareOptions, SharedSeries, Sharing};
use super::settings::{Layout, ServerEntry, Settings};
use super::slice_view::{OVERLAY_TEXT, SliceTool};
use super::thin_client::connection::{LinkTarget, accepts_connections, websocket_url};
use super::thin_client::remote_view::{RemoteView, START_VIEWPORT, mirror_mode};
use super::workspace::{LocalWorkspace, protocol_layout, settings_layout};
use crate::cli::RenderPreference;

/// How long `auto` waits for a configured server to answer before rendering here.
const SERVER_ANSWER_TIMEOUT: Duration = Duration::from_millis(700);

/// What the window should open, and whether to take a screenshot and close.
pub struct OpenRequest {
    /// A volume to open (rendered here or streamed), or a server to connect to.
    pub launch: Launch,
    /// Where to save a screenshot after the first full-quality frame, and where to report.
    pub screenshot: Option<(PathBuf, Outcome)>,
    /// The settings file (none: nothing is remembered).
    pub settings_path: Option<PathBuf>,
}

/// Where the window is: loading, showing a volume, or showing why it cannot.
enum State {
    Loading(Loading, Box<Renderer>),
    /// Rendered here.
    Local(Box<LocalWorkspace>),
    /// Streamed from a server; the local view, when there is one, waits to be switched
    /// back to.
    Remote {
        view: Box<RemoteView>,
        parked: Option<Box<LocalWorkspace>>,
    },
    Failed(String),
}

/// A screenshot under way (test hook).
struct Screenshot {
    path: PathBuf,
    outcome: Outcome,
    taken: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    requested: bool,
}

/// The desktop application.
pub struct DesktopApp {
    state: State,
    adapter: String,
    /// The adapter is a software rasteriser (lavapipe, llvmpipe, WARP).
    software: bool,
    label: String,
    warnings: Vec<String>,
    screenshot: Option<Screenshot>,
    preference: RenderPreference,
    /// The server to stream from, when one is known.
    server: Option<ServerEntry>,
    settings: Settings,
    settings_path: Option<PathBuf>,
    /// Why local rendering is at reduced quality, or why the switch is offered.
    note: Option<String>,
    /// The offer to switch to the server was turned down.
    offer_dismissed: bool,
    /// Patient, study and series lines drawn over the view (when the overlay is on).
    overlay: Vec<String>,
    /// A screenshot the user asked for: the window's pixels arrive here.
    user_shot: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    /// The studies panel.
    browser: SeriesBrowser,
    /// Whether the studies panel is shown.
    show_browser: bool,
    /// The session shared with colleagues, while it is.
    sharing: Option<Sharing>,
    /// The share dialog's choices, while it is open.
    share_dialog: Option<ShareOptions>,
}

impl DesktopApp {
    /// Borrows eframe's wgpu device for a renderer and starts loading the volume, or
    /// connects to the server.
    pub fn new(
        creation: &eframe::CreationContext<'_>,
        request: OpenRequest,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let render_state: &RenderState = creation
            .wgpu_render_state
            .as_ref()
            .ok_or("the window has no wgpu renderer")?;
        let info = render_state.adapter.get_info();
        let software = info.device_type == eframe::wgpu::DeviceType::Cpu;
        let context = window_device(render_state);
        let mut warnings = Vec::new();
        let settings_path = request.settings_path;
        let mut settings = match &settings_path {
            Some(path) => {
                let (settings, warning) = Settings::load(path);
                warnings.extend(warning);
                settings
            }
            None => Settings::fresh(),
        };
        let (presets, problems) = load_presets(&settings);
        warnings.extend(problems);
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
        let renderer = Renderer::new(context, presets);
        let ctx = creation.egui_ctx.clone();
        let mut browser = SeriesBrowser::new();
        let mut show_browser = false;
        let (state, preference, server) = match request.launch {
            Launch::Open(args) => {
                if let Some(url) = &args.rendering.server {
                    settings.remember_server(url, None);
                }
                let server = settings.servers.first().cloned();
                if let Some(path) = &args.path {
                    settings.remember_study(path, args.series.as_deref());
                    browser.scan(path, &ctx);
                    show_browser = true;
                }
                let loading = Loading::start(args.path, args.series, move || ctx.request_repaint());
                (
                    State::Loading(loading, Box::new(renderer)),
                    args.rendering.render,
                    server,
                )
            }
            Launch::Connect(args) => {
                settings.remember_server(&args.url, args.token.clone());
                let server = settings.servers.first().cloned();
                let target = LinkTarget {
                    url: websocket_url(&args.url)?,
                    token: server.as_ref().and_then(|entry| entry.token.clone()),
                    series: args.series,
                    viewport: START_VIEWPORT,
                };
                let view = RemoteView::connect(&ctx, target, None)?;
                (
                    State::Remote {
                        view: Box::new(view),
                        parked: None,
                    },
                    RenderPreference::Remote,
                    server,
                )
            }
        };
        let app = Self {
            state,
            adapter: info.name,
            software,
            label: String::new(),
            warnings,
            screenshot: request.screenshot.map(|(path, outcome)| Screenshot {
                path,
                outcome,
                taken: Arc::default(),
                requested: false,
            }),
            preference,
            server,
            settings,
            settings_path,
            note: None,
            offer_dismissed: false,
            overlay: Vec::new(),
            user_shot: Arc::default(),
            browser,
            show_browser,
            sharing: None,
            share_dialog: None,
        };
        app.save_settings();
        Ok(app)
    }

    fn save_settings(&self) {
        if let Some(path) = &self.settings_path
            && let Err(error) = self.settings.save(path)
        {
            tracing::warn!(%error, "settings not saved");
        }
    }

    /// Moves a finished load into the view (or its error into the window), then decides
    /// where to render.
    fn poll_loading(&mut self, ctx: &egui::Context, render_state: Option<&RenderState>) {
        let State::Loading(loading, _) = &self.state else {
            return;
        };
        let Poll::Done(result) = loading.poll() else {
            return;
        };
        let State::Loading(_, renderer) =
            std::mem::replace(&mut self.state, State::Failed(String::new()))
        else {
            return;
        };
        self.state = match (result, render_state) {
            (Ok(opened), Some(render_state)) => {
                self.label = opened.label;
                self.browser.current = Some(self.label.clone());
                self.overlay = opened.overlay;
                self.warnings.extend(opened.warnings);
                let (view, warnings) = LocalWorkspace::new(
                    *renderer,
                    render_state.clone(),
                    Arc::new(opened.volume),
                    self.settings.layout,
                );
                self.warnings.extend(warnings);
                State::Local(Box::new(view))
            }
            (Ok(_), None) => State::Failed("the window has no wgpu renderer".to_string()),
            (Err(error), _) => State::Failed(error),
        };
        if matches!(self.state, State::Local(_)) {
            self.decide_where_to_render(ctx);
        }
    }

    /// Opens another series (from the browser, a dropped folder or the recent list): the
    /// view in use gives way to a new load with a fresh renderer on eframe's device.
    fn open(
        &mut self,
        choice: OpenChoice,
        ctx: &egui::Context,
        render_state: Option<&RenderState>,
    ) {
        if matches!(self.state, State::Loading(..)) {
            self.note = Some("a series is still loading; open the next one after it".to_string());
            return;
        }
        let Some(render_state) = render_state else {
            return;
        };
        if let State::Remote { parked: None, .. } = self.state {
            self.note =
                Some("this window shows a server's series; it opens no local files".to_string());
            return;
        }
        let context = window_device(render_state);
        let (presets, _) = load_presets(&self.settings);
        let renderer = Renderer::new(context, presets);
        self.settings
            .remember_study(&choice.path, choice.series.as_deref());
        self.save_settings();
        self.browser.scan(&choice.path, ctx);
        self.browser.current = choice.series.clone();
        self.note = None;
        self.stop_sharing("the share ended: another series was opened");
        self.overlay.clear();
        let wake = ctx.clone();
        // The old views (and their GPU memory) go now.
        self.state = State::Loading(
            Loading::start(Some(choice.path), choice.series, move || {
                wake.request_repaint()
            }),
            Box::new(renderer),
        );
        // A load started from here renders where the user chose before.
        if self.preference == RenderPreference::Remote && self.server.is_none() {
            self.preference = RenderPreference::Local;
        }
    }

    /// `--render`: local stays; remote streams from the server; auto streams only on a
    /// software adapter when a server answers, else renders here at reduced quality.
    fn decide_where_to_render(&mut self, ctx: &egui::Context) {
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

    /// Streams the local view's series from the server, handing over the view.
    fn switch_to_remote(&mut self, ctx: &egui::Context) {
        let Some(server) = self.server.clone() else {
            return;
        };
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
        let target = LinkTarget {
            url,
            token: server.token.clone(),
            series: Some(self.label.clone()),
            viewport: START_VIEWPORT,
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
    fn switch_to_local(&mut self, reason: Option<String>) {
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
            let known = local.renderer().presets().get(&mirror.preset).is_some();
            let shown = &mut local.view3d.view;
            shown.camera = render_core::camera::Camera {
                scene_radius_mm: shown.camera.scene_radius_mm,
                ..mirror.camera
            };
            if known {
                shown.preset = mirror.preset.clone();
            }
            shown.mode = mirror_mode(mirror);
            shown.window = mirror.window.map(|w| render_core::Window {
                width: w.width,
                center: w.center,
            });
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
    fn watch_rendering(&mut self) {
        if let State::Remote {
            view,
            parked: Some(_),
        } = &self.state
            && let Some(reason) = view.closed()
        {
            let reason = format!("the server stopped streaming ({reason}): rendering here");
            self.switch_to_local(Some(reason));
        }
        if let State::Local(view) = &self.state
            && self.server.is_some()
            && !self.offer_dismissed
            && view.view3d.pace.is_slow()
        {
            self.note = Some(format!(
                "local rendering is slow ({:.0} frames/s while interacting): the server can render instead",
                view.view3d.pace.sustained_fps().unwrap_or(0.0)
            ));
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        let mut changed_settings = false;
        ui.horizontal_wrapped(|ui| {
            match &mut self.state {
                State::Local(view) => {
                    local_controls(ui, view);
                    if view.layout != self.settings.layout {
                        self.settings.layout = view.layout;
                        changed_settings = true;
                    }
                }
                State::Remote { view, .. } => {
                    if let Some(layout) = remote_controls(ui, view)
                        && layout != self.settings.layout
                    {
                        self.settings.layout = layout;
                        changed_settings = true;
                    }
                }
                _ => {
                    ui.label("Hounsfield");
                }
            }
            ui.separator();
            if ui
                .selectable_label(self.show_browser, "Studies")
                .on_hover_text("the studies panel: open a folder, pick a series (key B)")
                .clicked()
            {
                self.show_browser = !self.show_browser;
            }
            if ui
                .selectable_label(self.settings.show_overlay, "Overlay")
                .on_hover_text("patient and study text over the view (key O)")
                .clicked()
            {
                self.settings.show_overlay = !self.settings.show_overlay;
                changed_settings = true;
            }
            if ui
                .button("Screenshot")
                .on_hover_text("save the window as PNG in the pictures folder (key S)")
                .clicked()
            {
                self.request_user_screenshot(ui.ctx());
            }
            if matches!(self.state, State::Local(_)) {
                let text = if self.sharing.is_some() {
                    "Sharing…"
                } else {
                    "Share…"
                };
                if ui
                    .selectable_label(self.sharing.is_some() || self.share_dialog.is_some(), text)
                    .on_hover_text("let a colleague's browser or app see this view")
                    .clicked()
                {
                    self.share_dialog = Some(ShareOptions::default());
                }
            }
            ui.separator();
            self.rendering_switch(ui);
            ui.label(&self.label);
        });
        if changed_settings {
            self.save_settings();
        }
    }

    /// Local | Server: switches while running, keeping the view.
    fn rendering_switch(&mut self, ui: &mut egui::Ui) {
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

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.state {
                State::Remote { view, .. } => {
                    ui.label(view.status_text());
                    if let Some(error) = view.server_error() {
                        ui.separator();
                        ui.label(egui::RichText::new(error).color(ui.visuals().warn_fg_color));
                    }
                }
                State::Local(view) => {
                    ui.label(format!("local · {}", self.adapter));
                    let quality = match view.view3d.shown {
                        Some(Quality::Full) => "full",
                        Some(Quality::Interactive) => "interactive",
                        None => "-",
                    };
                    ui.separator();
                    let frame_ms = view.view3d.frame_ms;
                    ui.label(format!(
                        "{:.1} fps · {frame_ms:.0} ms ({quality})",
                        1000.0 / frame_ms.max(1e-3)
                    ));
                    for slice in &view.slices {
                        if let Some(mm) = slice.ruler_mm() {
                            ui.separator();
                            ui.label(format!("ruler {mm:.1} mm"));
                        }
                    }
                }
                _ => {
                    ui.label(format!("local · {}", self.adapter));
                }
            }
            if let Some(warning) = self.warnings.last() {
                ui.separator();
                ui.label(egui::RichText::new(warning).color(ui.visuals().warn_fg_color))
                    .on_hover_text(self.warnings.join("\n"));
            }
        });
    }

    /// The note over the view: reduced quality, or the offer to switch to the server.
    fn note_bar(&mut self, ui: &mut egui::Ui) {
        let Some(note) = self.note.clone() else {
            return;
        };
        let offer =
            matches!(self.state, State::Local(_)) && self.server.is_some() && !self.offer_dismissed;
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(note).color(ui.visuals().warn_fg_color));
            if offer && ui.button("Switch to the server").clicked() {
                let ctx = ui.ctx().clone();
                self.switch_to_remote(&ctx);
            }
            if ui.button("Dismiss").clicked() {
                self.note = None;
                self.offer_dismissed = true;
            }
        });
    }

    fn central(&mut self, ui: &mut egui::Ui) {
        let area = ui.available_rect_before_wrap();
        self.central_view(ui);
        if self.settings.show_overlay && !self.overlay.is_empty() {
            ui.painter().text(
                area.right_top() + egui::vec2(-8.0, 6.0),
                egui::Align2::RIGHT_TOP,
                self.overlay.join("\n"),
                egui::FontId::proportional(13.0),
                OVERLAY_TEXT,
            );
        }
    }

    fn central_view(&mut self, ui: &mut egui::Ui) {
        match &mut self.state {
            State::Loading(loading, _) => {
                ui.vertical_centered(|ui| {
                    ui.add_space(ui.available_height() * 0.4);
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!(
                            "Loading {}… {:.1} s",
                            loading.what,
                            loading.started.elapsed().as_secs_f64()
                        ));
                    });
                    if let Some((step, fraction)) = loading.progress() {
                        ui.add(
                            egui::ProgressBar::new(fraction)
                                .desired_width(360.0)
                                .text(step),
                        );
                    }
                });
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            State::Local(view) => view.ui(ui),
            State::Remote { view, .. } => view.ui(ui),
            State::Failed(error) => {
                ui.centered_and_justified(|ui| {
                    ui.label(
                        egui::RichText::new(format!("Could not open the volume:\n{error}"))
                            .color(ui.visuals().error_fg_color),
                    );
                });
            }
        }
    }

    /// The share dialog: options before sharing, the address and token while it runs.
    fn share_window(&mut self, ctx: &egui::Context, render_state: Option<&RenderState>) {
        let Some(mut options) = self.share_dialog.take() else {
            return;
        };
        let mut open = true;
        let mut start = false;
        let mut stop = false;
        egui::Window::new("Share this session")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ctx, |ui| match &self.sharing {
                Some(sharing) => {
                    ui.label("Colleagues open this address (the token is part of it):");
                    let url = sharing.url();
                    ui.horizontal(|ui| {
                        ui.monospace(&url);
                        if ui.button("Copy").clicked() {
                            ui.ctx().copy_text(url.clone());
                        }
                    });
                    ui.label(if sharing.view_only {
                        "View-only: they see what you see."
                    } else {
                        "They may turn the view on their side."
                    });
                    stop = ui.button("Stop sharing").clicked();
                }
                None => {
                    ui.horizontal(|ui| {
                        ui.label("port");
                        ui.add(egui::DragValue::new(&mut options.port))
                            .on_hover_text("0: any free port");
                    });
                    ui.checkbox(&mut options.all_interfaces, "reachable from other machines");
                    ui.checkbox(&mut options.view_only, "view-only");
                    ui.label("A token is generated; only who has the address with it can connect.");
                    start = ui.button("Start sharing").clicked();
                }
            });
        if start {
            self.start_sharing(&options, render_state);
        }
        if stop {
            self.stop_sharing("sharing stopped");
        }
        if open {
            self.share_dialog = Some(options);
        }
    }

    /// Starts the in-process server on the window's device for the series on screen.
    fn start_sharing(&mut self, options: &ShareOptions, render_state: Option<&RenderState>) {
        let (State::Local(workspace), Some(render_state)) = (&self.state, render_state) else {
            return;
        };
        let Some(volume) = workspace.renderer().volume().cloned() else {
            return;
        };
        let context = window_device(render_state);
        let series = SharedSeries {
            id: self.label.clone(),
            modality: volume.modality.code().to_string(),
            description: self.overlay.last().cloned().unwrap_or_default(),
            volume,
        };
        let view = workspace.shared_view();
        let presets = workspace.renderer().presets().clone();
        match Sharing::start(context, presets, series, view, options) {
            Ok(sharing) => {
                self.note = Some(format!("sharing at {}", sharing.url()));
                self.sharing = Some(sharing);
            }
            Err(error) => self.warnings.push(format!("sharing failed: {error}")),
        }
    }

    /// Ends the share (its viewers are disconnected), saying why.
    fn stop_sharing(&mut self, why: &str) {
        if self.sharing.take().is_some() {
            self.note = Some(why.to_string());
        }
    }

    /// Shows the viewers of a share what is on screen now.
    fn publish_shared_view(&self) {
        if let (Some(sharing), State::Local(workspace)) = (&self.sharing, &self.state) {
            sharing.publish(workspace.shared_view());
        }
    }

    /// Asks egui for the window's pixels; [`Self::save_user_screenshot`] writes them.
    fn request_user_screenshot(&self, ctx: &egui::Context) {
        screenshot_into(ctx, &self.user_shot);
    }

    /// Saves a screenshot the user asked for, once its pixels have arrived, and says where.
    fn save_user_screenshot(&mut self) {
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

    /// Keys: 1 and 2 (layout), C and M (slice tool), R (reset), O (overlay), S (screenshot).
    fn shortcuts(&mut self, ctx: &egui::Context) {
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
                if workspace.layout != before {
                    self.settings.layout = workspace.layout;
                    self.save_settings();
                }
            }
            State::Remote { view, .. } => {
                if pressed(egui::Key::R) {
                    view.act(Action::Reset);
                }
                let layout = if pressed(egui::Key::Num1) {
                    Some(Layout::Single)
                } else if pressed(egui::Key::Num2) {
                    Some(Layout::Quad)
                } else {
                    None
                };
                if let Some(layout) = layout {
                    view.set_layout(protocol_layout(layout));
                    if layout != self.settings.layout {
                        self.settings.layout = layout;
                        self.save_settings();
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether a full-quality frame is on screen.
    fn full_frame_shown(&self) -> bool {
        match &self.state {
            State::Local(view) => view.view3d.shown == Some(Quality::Full),
            State::Remote { view, .. } => view.final_shown,
            _ => false,
        }
    }

    /// The test hook: once a full-quality frame is on screen, take a screenshot, save it
    /// and close; on a load error, report it and close.
    fn screenshot_step(&mut self, ctx: &egui::Context) {
        let failure = match &self.state {
            State::Failed(error) => Some(error.clone()),
            State::Remote { view, parked: None } => view.closed(),
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

/// The window's own wgpu device and queue, for a renderer (never a second device).
fn window_device(render_state: &RenderState) -> GpuContext {
    GpuContext::borrowed(
        render_state.device.clone(),
        render_state.queue.clone(),
        &render_state.adapter.get_info(),
    )
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

/// Preset, mode, CT window, layout, tool and reset for views rendered here.
fn local_controls(ui: &mut egui::Ui, workspace: &mut LocalWorkspace) {
    let names: Vec<String> = workspace
        .renderer()
        .presets()
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(preset) = preset_choice(ui, &workspace.view3d.view.preset, &names) {
        let mode = workspace
            .renderer()
            .presets()
            .get(&preset)
            .map(|chosen| chosen.mode);
        let view = &mut workspace.view3d;
        if let Some(mode) = mode {
            view.view.mode = mode;
        }
        view.view.preset = preset;
        view.view.window = None;
        view.refresh();
    }
    if let Some(mode) = mode_choice(ui, workspace.view3d.view.mode) {
        workspace.view3d.view.mode = mode;
        workspace.view3d.refresh();
    }
    if let Some(window) = window_choice(ui) {
        workspace.set_window(window);
    }
    ui.separator();
    ui.selectable_value(&mut workspace.layout, Layout::Single, "1×1")
        .on_hover_text("the 3D view alone (key 1)");
    ui.selectable_value(&mut workspace.layout, Layout::Quad, "2×2")
        .on_hover_text("3D, axial, coronal and sagittal (key 2)");
    if workspace.layout == Layout::Quad {
        ui.selectable_value(&mut workspace.link.tool, SliceTool::Crosshair, "Crosshair")
            .on_hover_text("a click on a slice moves the crosshair (key C)");
        ui.selectable_value(&mut workspace.link.tool, SliceTool::Measure, "Measure")
            .on_hover_text("drag on a slice to measure a distance (key M)");
    }
    if ui.button("Reset").on_hover_text("key R").clicked() {
        workspace.reset();
    }
}

/// Preset, mode, window, layout and reset for a view streamed from a server, sent as
/// inputs; the layout picked, when one was.
fn remote_controls(ui: &mut egui::Ui, view: &mut RemoteView) -> Option<Layout> {
    let Some(mirror) = view.mirror.clone() else {
        ui.label("connecting…");
        return None;
    };
    let names = view
        .opened
        .as_ref()
        .map(|opened| opened.presets.clone())
        .unwrap_or_default();
    if let Some(name) = preset_choice(ui, &mirror.preset, &names) {
        view.act(Action::Preset { name });
    }
    if let Some(mode) = mode_choice(ui, mirror_mode(&mirror)) {
        view.act(Action::Mode {
            mode: mode.name().to_string(),
        });
    }
    if let Some(window) = window_choice(ui) {
        view.act(Action::Window {
            width: window.width,
            center: window.center,
        });
    }
    ui.separator();
    let mut layout = settings_layout(mirror.layout);
    let single = ui
        .selectable_value(&mut layout, Layout::Single, "1×1")
        .on_hover_text("the 3D view alone (key 1)");
    let quad = ui
        .selectable_value(&mut layout, Layout::Quad, "2×2")
        .on_hover_text("3D, axial, coronal and sagittal, drawn by the server (key 2)");
    let picked = (single.clicked() || quad.clicked()).then_some(layout);
    if let Some(layout) = picked {
        view.set_layout(protocol_layout(layout));
    }
    if ui.button("Reset").clicked() {
        view.act(Action::Reset);
    }
    if ui
        .button("Lossless still")
        .on_hover_text("ask the server for the exact pixels (PNG) of this view")
        .clicked()
    {
        view.lossless_still();
    }
    picked
}

/// The preset combo box; the new name when another was picked.
fn preset_choice(ui: &mut egui::Ui, current: &str, names: &[String]) -> Option<String> {
    let mut preset = current.to_string();
    egui::ComboBox::from_label("preset")
        .selected_text(preset.as_str())
        .show_ui(ui, |ui| {
            for name in names {
                ui.selectable_value(&mut preset, name.clone(), name.as_str());
            }
        });
    (preset != current).then_some(preset)
}

/// The mode combo box; the new mode when another was picked.
fn mode_choice(ui: &mut egui::Ui, current: RenderMode) -> Option<RenderMode> {
    let mut mode = current;
    egui::ComboBox::from_label("mode")
        .selected_text(mode.name())
        .show_ui(ui, |ui| {
            for choice in RenderMode::ALL {
                ui.selectable_value(&mut mode, choice, choice.name());
            }
        });
    (mode != current).then_some(mode)
}

/// The built-in presets, the user's, and those in the settings' presets folder, with a
/// line for each file skipped.
fn load_presets(settings: &Settings) -> (PresetLibrary, Vec<String>) {
    let (mut presets, mut problems) = PresetLibrary::load_default();
    if let Some(folder) = &settings.presets_folder {
        if folder.is_dir() {
            let (more, errors) = presets.with_user_presets(folder);
            presets = more;
            problems.extend(errors);
        } else {
            let mut lines: Vec<String> = problems
                .iter()
                .map(|p| format!("preset skipped: {p}"))
                .collect();
            lines.push(format!(
                "presets folder {} (from the settings) is not a folder",
                folder.display()
            ));
            return (presets, lines);
        }
    }
    let lines = problems
        .iter()
        .map(|problem| format!("preset skipped: {problem}"))
        .collect();
    (presets, lines)
}

/// The CT window presets radiologists use, as (name, width, centre) in HU.
pub const CT_WINDOWS: [(&str, f64, f64); 5] = [
    ("brain", 80.0, 40.0),
    ("lung", 1500.0, -600.0),
    ("bone", 2000.0, 500.0),
    ("abdomen", 400.0, 50.0),
    ("mediastinum", 350.0, 50.0),
];

/// The CT window menu; the window picked, when one was.
fn window_choice(ui: &mut egui::Ui) -> Option<render_core::Window> {
    let mut chosen = None;
    egui::ComboBox::from_label("window")
        .selected_text("CT presets")
        .show_ui(ui, |ui| {
            for (name, width, center) in CT_WINDOWS {
                if ui
                    .selectable_label(false, format!("{name} (W {width:.0} L {center:.0})"))
                    .clicked()
                {
                    chosen = Some(render_core::Window { width, center });
                }
            }
        });
    chosen
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_loading(&ctx, frame.wgpu_render_state());
        self.watch_rendering();
        egui::Panel::top("toolbar").show(ui, |ui| {
            self.toolbar(ui);
            self.note_bar(ui);
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        let mut chosen = self.browser.picked(&ctx);
        if self.show_browser {
            let recent = self.settings.recent.clone();
            egui::Panel::left("studies")
                .resizable(true)
                .default_size(280.0)
                .show(ui, |ui| chosen = self.browser.ui(ui, &recent));
        }
        let dropped = ctx.input(|input| {
            input
                .raw
                .dropped_files
                .iter()
                .map(|file| file.path().to_path_buf())
                .find(|path| !path.as_os_str().is_empty())
        });
        match dropped {
            // A file is worked out into its series off the UI thread.
            Some(path) if path.is_file() => self.browser.open_file(path, &ctx),
            Some(path) => chosen = Some(OpenChoice { path, series: None }),
            None => {}
        }
        if let Some(choice) = chosen {
            self.open(choice, &ctx, frame.wgpu_render_state());
        }
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));
        self.share_window(&ctx, frame.wgpu_render_state());
        self.publish_shared_view();
        self.shortcuts(&ctx);
        self.save_user_screenshot();
        self.screenshot_step(&ctx);
    }
}

#[cfg(test)]
mod ui_tests;
