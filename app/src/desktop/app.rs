//! The eframe application: toolbar, central 3D view, status bar, and the background load
//! that feeds them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::{PresetLibrary, RenderMode};
use render_core::view::Quality;

use super::loading::{Loading, Poll};
use super::screenshot::{self, Outcome};
use super::view3d::View3d;

/// What the window should open, and whether to take a screenshot and close.
pub struct OpenRequest {
    /// A file, folder or DICOMDIR; none: the built-in sample.
    pub path: Option<PathBuf>,
    /// The series to open; none: the largest.
    pub series: Option<String>,
    /// Where to save a screenshot after the first full-quality frame, and where to report.
    pub screenshot: Option<(PathBuf, Outcome)>,
}

/// Where the window is: loading, showing a volume, or showing why it cannot.
enum State {
    Loading(Loading, Box<Renderer>),
    Ready(Box<View3d>),
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
    label: String,
    warnings: Vec<String>,
    screenshot: Option<Screenshot>,
}

impl DesktopApp {
    /// Borrows eframe's wgpu device for a renderer and starts loading the volume.
    pub fn new(
        creation: &eframe::CreationContext<'_>,
        request: OpenRequest,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let render_state: &RenderState = creation
            .wgpu_render_state
            .as_ref()
            .ok_or("the window has no wgpu renderer")?;
        let info = render_state.adapter.get_info();
        let context = GpuContext::borrowed(
            render_state.device.clone(),
            render_state.queue.clone(),
            &info,
        );
        let (presets, problems) = PresetLibrary::load_default();
        let warnings: Vec<String> = problems
            .iter()
            .map(|problem| format!("preset skipped: {problem}"))
            .collect();
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
        let renderer = Renderer::new(context, presets);
        let ctx = creation.egui_ctx.clone();
        let loading = Loading::start(request.path, request.series, move || ctx.request_repaint());
        Ok(Self {
            state: State::Loading(loading, Box::new(renderer)),
            adapter: info.name,
            label: String::new(),
            warnings,
            screenshot: request.screenshot.map(|(path, outcome)| Screenshot {
                path,
                outcome,
                taken: Arc::default(),
                requested: false,
            }),
        })
    }

    /// Moves a finished load into the view (or its error into the window).
    fn poll_loading(&mut self, render_state: Option<&RenderState>) {
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
                self.warnings.extend(opened.warnings);
                let (view, warnings) =
                    View3d::new(*renderer, render_state.clone(), Arc::new(opened.volume));
                self.warnings.extend(warnings);
                State::Ready(Box::new(view))
            }
            (Ok(_), None) => State::Failed("the window has no wgpu renderer".to_string()),
            (Err(error), _) => State::Failed(error),
        };
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let State::Ready(view) = &mut self.state else {
                ui.label("Hounsfield");
                return;
            };
            let mut preset = view.view.preset.clone();
            let names: Vec<String> = view
                .renderer()
                .presets()
                .names()
                .into_iter()
                .map(str::to_string)
                .collect();
            egui::ComboBox::from_label("preset")
                .selected_text(preset.as_str())
                .show_ui(ui, |ui| {
                    for name in names {
                        let text = name.clone();
                        ui.selectable_value(&mut preset, name, text);
                    }
                });
            if preset != view.view.preset {
                if let Some(chosen) = view.renderer().presets().get(&preset) {
                    view.view.mode = chosen.mode;
                }
                view.view.preset = preset;
                view.view.window = None;
                view.refresh();
            }
            let mut mode = view.view.mode;
            egui::ComboBox::from_label("mode")
                .selected_text(mode.name())
                .show_ui(ui, |ui| {
                    for choice in RenderMode::ALL {
                        ui.selectable_value(&mut mode, choice, choice.name());
                    }
                });
            if mode != view.view.mode {
                view.view.mode = mode;
                view.refresh();
            }
            if ui.button("Reset").clicked() {
                view.reset();
            }
            ui.label(&self.label);
        });
    }

    fn status_bar(&self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(format!("local · {}", self.adapter));
            if let State::Ready(view) = &self.state {
                let quality = match view.shown {
                    Some(Quality::Full) => "full",
                    Some(Quality::Interactive) => "interactive",
                    None => "-",
                };
                ui.separator();
                ui.label(format!("{:.0} ms ({quality})", view.frame_ms));
            }
            if let Some(warning) = self.warnings.last() {
                ui.separator();
                ui.label(egui::RichText::new(warning).color(ui.visuals().warn_fg_color))
                    .on_hover_text(self.warnings.join("\n"));
            }
        });
    }

    fn central(&mut self, ui: &mut egui::Ui) {
        match &mut self.state {
            State::Loading(loading, _) => {
                ui.centered_and_justified(|ui| {
                    ui.horizontal_centered(|ui| {
                        ui.spinner();
                        ui.label(format!(
                            "Loading {}… {:.1} s",
                            loading.what,
                            loading.started.elapsed().as_secs_f64()
                        ));
                    });
                });
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            State::Ready(view) => view.ui(ui),
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

    /// The test hook: once a full-quality frame is on screen, take a screenshot, save it
    /// and close; on a load error, report it and close.
    fn screenshot_step(&mut self, ctx: &egui::Context) {
        let Some(shot) = &mut self.screenshot else {
            return;
        };
        if let State::Failed(error) = &self.state {
            shot.outcome.set(Err(error.clone()));
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let taken = shot.taken.lock().ok().and_then(|mut slot| slot.take());
        if let Some(image) = taken {
            shot.outcome.set(screenshot::save_png(&image, &shot.path));
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        let full_shown =
            matches!(&self.state, State::Ready(view) if view.shown == Some(Quality::Full));
        if full_shown && !shot.requested {
            shot.requested = true;
            let slot = Arc::clone(&shot.taken);
            let wake = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(image);
                }
                wake.request_repaint();
            });
            ctx.request_repaint();
        }
    }
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.poll_loading(frame.wgpu_render_state());
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));
        let ctx = ui.ctx().clone();
        self.screenshot_step(&ctx);
    }
}
