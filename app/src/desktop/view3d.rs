//! The 3D viewport: renders the view through render-core into the renderer's own texture
//! on eframe's device, shows it in egui, and turns mouse input into camera moves.

use std::sync::Arc;
use std::time::Instant;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use eframe::wgpu;
use render_core::gpu::Renderer;
use render_core::view::{Quality, ViewState};
use render_core::Volume;

use super::pace::Pace;
use super::gestures::{Gesture, GestureReader, dragged_window};

/// The 3D view of one volume.
pub struct View3d {
    renderer: Renderer,
    render_state: RenderState,
    /// The view being shown.
    pub view: ViewState,
    initial: ViewState,
    texture: Option<egui::TextureId>,
    /// What the next frame must be, when one is due.
    pending: Option<Quality>,
    gestures: GestureReader,
    /// The quality of the frame on screen.
    pub shown: Option<Quality>,
    /// How long the last frame took (ms).
    pub frame_ms: f64,
    /// The last render error, shown over the view.
    pub error: Option<String>,
    /// Render at a reduced resolution (a software adapter with no server to turn to).
    pub reduced: bool,
    /// How fast interactive frames come.
    pub pace: Pace,
}

/// The share of the view's pixels rendered when `reduced`, per side.
const REDUCED_SCALE: f32 = 0.7;

impl View3d {
    /// A view of `volume` drawn by `renderer` (which must use `render_state`'s device).
    pub fn new(
        mut renderer: Renderer,
        render_state: RenderState,
        volume: Arc<Volume>,
    ) -> (Self, Vec<String>) {
        let preset = renderer.presets().default_for(&volume.modality);
        let view = ViewState::initial(&volume, &preset.name, preset.mode);
        let warnings = renderer.load_volume(volume);
        (
            Self {
                renderer,
                render_state,
                initial: view.clone(),
                view,
                texture: None,
                pending: Some(Quality::Full),
                gestures: GestureReader::default(),
                shown: None,
                frame_ms: 0.0,
                error: None,
                reduced: false,
                pace: Pace::default(),
            },
            warnings,
        )
    }

    /// The renderer (presets, adapter).
    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// Asks for a full-quality frame of the current view.
    pub fn refresh(&mut self) {
        self.pending = Some(Quality::Full);
    }

    /// Back to the view the volume opened with.
    pub fn reset(&mut self) {
        self.view = self.initial.clone();
        self.refresh();
    }

    /// Shows the view in all of `ui`'s remaining space and handles its input.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let size = ui.available_size().max(egui::vec2(1.0, 1.0));
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        self.handle_input(ui, &response);
        let mut pixels_per_point = ui.ctx().pixels_per_point();
        if self.reduced {
            pixels_per_point *= REDUCED_SCALE;
        }
        let physical = [
            ((rect.width() * pixels_per_point).round() as u32).max(1),
            ((rect.height() * pixels_per_point).round() as u32).max(1),
        ];
        if let Some(quality) = self.pending.take() {
            self.render(quality, physical);
        }
        if let Some(texture) = self.texture {
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            ui.painter().image(texture, rect, uv, egui::Color32::WHITE);
        }
        if let Some(error) = &self.error {
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                error,
                egui::FontId::proportional(16.0),
                ui.visuals().error_fg_color,
            );
        }
    }

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response) {
        for gesture in self.gestures.read(ui, response) {
            match gesture {
                Gesture::Begin => {}
                Gesture::Orbit(azimuth, elevation) => self.view.camera.orbit(azimuth, elevation),
                Gesture::Pan(right, up) => self.view.camera.pan(right, up),
                Gesture::Zoom(factor) => self.view.camera.zoom_by(factor),
                Gesture::Window(dx, dy) => self.drag_window(dx, dy),
                Gesture::End => {
                    self.pending = Some(Quality::Full);
                    continue;
                }
            }
            if gesture != Gesture::Begin {
                self.pending = Some(Quality::Interactive);
            }
        }
    }

    /// Right-drag: changes the grey window from the one in effect.
    fn drag_window(&mut self, dx: f64, dy: f64) {
        let Some(window) = self
            .view
            .window
            .or_else(|| self.renderer.effective_window(&self.view))
        else {
            return;
        };
        self.view.window = Some(dragged_window(window, dx, dy));
    }

    fn render(&mut self, quality: Quality, size: [u32; 2]) {
        self.view.quality = quality;
        let started = Instant::now();
        match self.renderer.render(&self.view, size) {
            Ok(_) => {
                self.frame_ms = started.elapsed().as_secs_f64() * 1e3;
                self.error = None;
                self.shown = Some(quality);
                if quality == Quality::Interactive {
                    self.pace.frame(Instant::now());
                }
                self.show_frame_texture();
            }
            Err(error) => {
                self.error = Some(format!("render failed: {error}"));
                self.shown = None;
            }
        }
    }

    /// Points egui's texture at the renderer's frame texture (which changes with the size).
    fn show_frame_texture(&mut self) {
        let Some(texture) = self.renderer.frame_texture() else {
            return;
        };
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let device = &self.render_state.device;
        let mut egui_renderer = self.render_state.renderer.write();
        match self.texture {
            Some(id) => egui_renderer.update_egui_texture_from_wgpu_texture(
                device,
                &view,
                wgpu::FilterMode::Linear,
                id,
            ),
            None => {
                self.texture = Some(egui_renderer.register_native_texture(
                    device,
                    &view,
                    wgpu::FilterMode::Linear,
                ));
            }
        }
    }
}
