//! The eframe application: the window's state (loading, a view rendered here or streamed,
//! or why it failed), the panels it draws each frame and the wiring between them. The
//! toolbar, the switch between rendering here and streaming, the share dialog, screenshots
//! and keyboard shortcuts each have a module of their own beside this one.

mod beside_panel;
mod capture;
mod certificate_prompt;
mod crop_panel;
mod findings_panel;
mod movie_dialog;
mod over_panel;
mod render_switch;
mod segments_panel;
mod server_sign_in;
mod share_dialog;
mod shortcuts;
mod toolbar;
mod transfer_panel;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::PresetLibrary;
use render_core::view::{CropBox, Quality};

use super::Launch;
use super::browser::{OpenChoice, SeriesBrowser};
use super::findings::store;
use super::loading::{Loaded, Loading, Poll};
use super::screenshot::Outcome;
use super::session_share::{ShareOptions, Sharing};
use super::settings::{ServerEntry, Settings};
use super::slice_view::OVERLAY_TEXT;
use super::study_hanging;
use super::thin_client::connection::{
    LinkTarget, link_parameter, server_authority, trust_for, websocket_url,
};
use super::thin_client::remote_view::{RemoteView, START_VIEWPORT};
use super::workspace::LocalWorkspace;
use crate::launch::{FrameTransport, RenderPreference};
use beside_panel::BesideState;
use capture::Screenshot;
use hounsfield_protocol::HungCell;

/// What the window should open, and whether to take a screenshot and close.
pub struct OpenRequest {
    /// A volume to open (rendered here or streamed), or a server to connect to.
    pub launch: Launch,
    /// Where to save a screenshot after the first full-quality frame, and where to report.
    pub screenshot: Option<(PathBuf, Outcome)>,
    /// The settings file (none: nothing is remembered).
    pub settings_path: Option<PathBuf>,
    /// The site's segmentation model (`open --model`), read and checked.
    pub model: Option<Arc<hounsfield_model::SegmentationModel>>,
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
    /// Signing in to that server through the site's identity provider.
    server_login: server_sign_in::ServerLogin,
    /// A sign-in under way in the browser.
    signing_in: Option<server_sign_in::PendingSignIn>,
    /// What may carry the server's frames (`--transport`).
    transport: FrameTransport,
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
    /// The movie export dialog, while it is open.
    movie_dialog: Option<movie_dialog::MovieDialog>,
    /// Whether the crop panel is shown.
    show_crop: bool,
    /// Whether the Transfer panel (the transfer-function editor) is shown.
    show_transfer: bool,
    /// The transfer-function editor.
    transfer: crate::transfer_editor::TransferEditor,
    /// What the editor was filled for: the volume rendered here or the series streamed
    /// (an address, compared only).
    transfer_of: Option<usize>,
    /// A point of the editor is being dragged on a streamed view (`interact` sent).
    transfer_dragging: bool,
    /// Whether the findings panel is shown (beside the 2×2 layout).
    show_findings: bool,
    /// Whether the segments panel is shown (beside the 2×2 layout).
    show_segments: bool,
    /// The findings panel opened by itself once (a finding tool picked, or a series with
    /// findings shown); from then on it is the user's to show or hide.
    findings_panel_opened: bool,
    /// The crop box the 3D view starts with (`--crop`).
    start_crop: Option<CropBox>,
    /// A second series beside the first (`--beside`, or a row's "Open beside").
    beside: Option<BesideState>,
    /// The series to open beside the first once it is shown (`--beside`, or a hanging
    /// protocol's second cell).
    start_beside: Option<OpenChoice>,
    /// The hanging protocol's cell the series opening beside is hung with (`--study`).
    beside_cell: Option<HungCell>,
    /// The series to draw over the first once it is shown (`--over`).
    start_over: Option<OpenChoice>,
    /// A series loading to be drawn over the first (`--over`, or a row's "Draw over").
    over_loading: Option<Loading>,
    /// The site's segmentation model, offered on each series rendered here.
    model: Option<Arc<hounsfield_model::SegmentationModel>>,
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
        browser.pacs.url = settings.pacs_url.clone().unwrap_or_default();
        let mut show_browser = false;
        let mut start_crop = None;
        let (mut start_beside, mut start_over) = (None, None);
        let transport = match &request.launch {
            Launch::Open(args) => args.rendering.transport,
            Launch::Connect(args) => args.transport,
        };
        let (state, preference, server) = match request.launch {
            Launch::Open(args) => {
                start_crop = args.crop;
                (start_beside, start_over) = beside_and_over(&args);
                if let Some(url) = &args.rendering.server {
                    settings.remember_server(url, None);
                }
                let server = settings.servers.first().cloned();
                if let Some(path) = &args.path {
                    settings.remember_study(path, args.series.as_deref());
                    browser.scan(path, &ctx);
                    show_browser = true;
                }
                let folder = settings_path.as_deref().and_then(store::folder_beside);
                let wake = move || ctx.request_repaint();
                let loading = match (args.path, args.study) {
                    (Some(path), Some(uid)) => {
                        let (protocols, unread) =
                            study_hanging::protocols(args.hanging_protocols.as_deref());
                        warnings.extend(unread);
                        Loading::start_study(path, uid, protocols, folder, wake)
                    }
                    (path, _) => Loading::start(path, args.series, folder, wake),
                };
                (
                    State::Loading(loading, Box::new(renderer)),
                    args.rendering.render,
                    server,
                )
            }
            Launch::Connect(args) => {
                let over = args.over.clone();
                // A shared session's link carries its token.
                let token = args
                    .token
                    .clone()
                    .or_else(|| link_parameter(&args.url, "token"));
                settings.remember_server(&args.url, token);
                let server = settings.servers.first().cloned();
                let url = websocket_url(&args.url)?;
                if let Some(fingerprint) = args.given_fingerprint()? {
                    let server = server_authority(&url)
                        .ok_or_else(|| format!("{url}: no host and port to trust"))?;
                    settings.trust_certificate(&server, fingerprint);
                }
                let trust = trust_for(&url, &args.url, args.ca.clone(), |server| {
                    settings.trusted_certificate(server)
                });
                let target = LinkTarget {
                    url,
                    token: server.as_ref().and_then(|entry| entry.token.clone()),
                    login: args.login.clone(),
                    join: args
                        .join
                        .clone()
                        .or_else(|| link_parameter(&args.url, "join")),
                    series: args.series,
                    study: args.study,
                    viewport: START_VIEWPORT,
                    trust,
                    offer_webrtc: transport.offers_webrtc(),
                };
                let mut view = RemoteView::connect(&ctx, target, None)?;
                if let Some(series) = over {
                    view.ask_over(hounsfield_protocol::OverRequest {
                        series: Some(series),
                        ..Default::default()
                    });
                }
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
            screenshot: request
                .screenshot
                .map(|(path, outcome)| Screenshot::new(path, outcome)),
            preference,
            server,
            transport,
            settings,
            settings_path,
            note: None,
            offer_dismissed: false,
            server_login: server_sign_in::ServerLogin::Unknown,
            signing_in: None,
            overlay: Vec::new(),
            user_shot: Arc::default(),
            browser,
            show_browser,
            sharing: None,
            share_dialog: None,
            movie_dialog: None,
            show_crop: false,
            show_transfer: false,
            transfer: crate::transfer_editor::TransferEditor::default(),
            transfer_of: None,
            transfer_dragging: false,
            show_findings: false,
            findings_panel_opened: false,
            show_segments: false,
            start_crop,
            beside: None,
            start_beside,
            beside_cell: None,
            start_over,
            over_loading: None,
            model: request.model,
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
            (Ok(loaded), Some(render_state)) => {
                let Loaded {
                    mut opened,
                    findings,
                    unread,
                    hung,
                } = *loaded;
                let over_time = std::mem::take(&mut opened.over_time);
                self.label = opened.label;
                self.browser.current = Some(self.label.clone());
                self.overlay = opened.overlay;
                self.warnings.extend(opened.warnings);
                self.warnings.extend(unread);
                let (mut view, warnings) = LocalWorkspace::new(
                    *renderer,
                    render_state.clone(),
                    Arc::new(opened.volume),
                    self.settings.layout,
                    findings,
                );
                self.warnings.extend(warnings);
                view.set_suv_factor(opened.suv_factor);
                let volumes = over_time.len().max(1);
                view.keep_volumes_over_time(over_time);
                tracing::info!(series = %self.label, volumes, "series shown here");
                if let Some(model) = &self.model {
                    view.segments.offer_model(Arc::clone(model));
                }
                // `--crop` applies to the first series only.
                if let Some(crop) = self.start_crop.take() {
                    view.view3d.view.crop = crop;
                }
                if let Some(hung) = hung {
                    self.hang(&mut view, hung);
                }
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
        // Linked to the series that gives way, the one beside goes with it.
        self.beside = None;
        self.beside_cell = None;
        // So does a series loading to be drawn over it.
        self.over_loading = None;
        if let State::Local(workspace) = &self.state
            && workspace.findings.list.unsaved()
        {
            self.warnings.push(format!(
                "the findings drawn on {} were left unsaved when another series opened",
                self.label
            ));
        }
        self.overlay.clear();
        let wake = ctx.clone();
        let folder = self.settings_path.as_deref().and_then(store::folder_beside);
        // The old views (and their GPU memory) go now.
        self.state = State::Loading(
            Loading::start(Some(choice.path), choice.series, folder, move || {
                wake.request_repaint()
            }),
            Box::new(renderer),
        );
        // A load started from here renders where the user chose before.
        if self.preference == RenderPreference::Remote && self.server.is_none() {
            self.preference = RenderPreference::Local;
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
                    // What the server says of the series (slices missing, images the PACS
                    // did not deliver): the first shown, all on hover.
                    let warnings = view.opened.as_ref().map_or(&[][..], |o| &o.warnings[..]);
                    if let Some(first) = warnings.first() {
                        ui.separator();
                        ui.label(egui::RichText::new(first).color(ui.visuals().warn_fg_color))
                            .on_hover_text(warnings.join("\n"));
                    }
                }
                State::Local(view) => {
                    ui.label(format!("local · {}", self.adapter));
                    let quality = match view.view3d.shown {
                        Some(Quality::Full) => "full",
                        Some(Quality::Interactive) => "interactive",
                        Some(Quality::Refining) => "refining",
                        None => "-",
                    };
                    ui.separator();
                    let frame_ms = view.view3d.frame_ms;
                    ui.label(format!(
                        "{:.1} fps · {frame_ms:.0} ms ({quality})",
                        1000.0 / frame_ms.max(1e-3)
                    ));
                    if let Some((passes, _)) = view.view3d.cinematic_passes() {
                        ui.separator();
                        ui.label(format!("cinematic · {passes} paths a pixel"));
                    }
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
            State::Local(_) => self.local_views(ui),
            State::Remote { view, .. } => view.ui_with_beside(ui),
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
}

/// The series `open` asks to read beside the first (`--beside`) and to draw over it
/// (`--over`, a series of its path).
fn beside_and_over(args: &crate::launch::OpenArgs) -> (Option<OpenChoice>, Option<OpenChoice>) {
    let beside = args.beside.clone().map(|path| OpenChoice {
        path,
        series: args.beside_series.clone(),
    });
    let over = args
        .path
        .clone()
        .zip(args.over.clone())
        .map(|(path, series)| OpenChoice {
            path,
            series: Some(series),
        });
    (beside, over)
}

/// The window's own wgpu device and queue, for a renderer (never a second device).
fn window_device(render_state: &RenderState) -> GpuContext {
    GpuContext::borrowed(
        render_state.device.clone(),
        render_state.queue.clone(),
        &render_state.adapter.get_info(),
    )
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

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_loading(&ctx, frame.wgpu_render_state());
        self.poll_sign_in(&ctx);
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
            if let Some(url) = self.browser.pacs_searched.take()
                && self.settings.pacs_url.as_ref() != Some(&url)
            {
                self.settings.pacs_url = Some(url);
                self.save_settings();
            }
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
        let beside = self.browser.beside.take().or_else(|| {
            matches!(self.state, State::Local(_))
                .then(|| self.start_beside.take())
                .flatten()
        });
        if let Some(choice) = beside {
            self.open_beside(choice, &ctx, frame.wgpu_render_state());
        }
        self.poll_beside(frame.wgpu_render_state());
        let over = self.browser.over.take().or_else(|| {
            matches!(self.state, State::Local(_))
                .then(|| self.start_over.take())
                .flatten()
        });
        if let Some(choice) = over {
            self.open_over(choice, &ctx);
        }
        self.poll_over();
        self.crop_panel(ui);
        self.transfer_panel(ui);
        self.findings_panel(ui);
        self.segments_panel(ui);
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));
        self.share_window(&ctx, frame.wgpu_render_state());
        self.movie_window(&ctx);
        self.share_room(&ctx);
        self.certificate_window(&ctx);
        self.publish_shared_view();
        self.shortcuts(&ctx);
        // A series over time playing here: its next volume on the UI's clock.
        if let State::Local(view) = &mut self.state
            && let Some(next) = view.tick_cine(std::time::Instant::now())
        {
            ctx.request_repaint_after(next);
        }
        self.save_user_screenshot();
        self.screenshot_step(&ctx);
    }
}

#[cfg(test)]
mod beside_tests;
#[cfg(test)]
mod calcium_tests;
#[cfg(test)]
mod curved_tests;
#[cfg(test)]
mod findings_tests;
#[cfg(test)]
mod key_image_tests;
#[cfg(test)]
mod light_tests;
#[cfg(test)]
mod movie_tests;
#[cfg(test)]
mod over_tests;
#[cfg(test)]
mod plane_tests;
#[cfg(test)]
mod segments_tests;
#[cfg(test)]
mod share_pointer_tests;
#[cfg(test)]
mod slab_tests;
#[cfg(test)]
mod time_curve_tests;
#[cfg(test)]
mod together_ui_tests;
#[cfg(test)]
mod transfer_tests;
#[cfg(test)]
mod ui_tests;
