//! The 3D viewport: renders the view through render-core on eframe's device, keeps the
//! frame in a texture of its own for egui, turns mouse input into camera moves and draws
//! an orientation marker.

use std::time::Instant;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use glam::DVec3;
use render_core::Volume;
use render_core::camera::Camera;
use render_core::gpu::{CinematicPicture, CinematicSettings, FrameImage, Renderer};
use render_core::transfer::RenderMode;
use render_core::view::change::Action;
use render_core::view::{Quality, ViewState};

use super::gestures::{Gesture, GestureReader, dragged_window};
use super::local_frame_rate::Pace;
use super::slice_view::direction_letter;
use super::viewport_texture::ViewportTexture;

/// The 3D view of one volume.
pub struct View3d {
    /// The view being shown.
    pub view: ViewState,
    initial: ViewState,
    texture: ViewportTexture,
    /// The size of the frame on screen (physical pixels).
    size: Option<[u32; 2]>,
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
    /// The cinematic picture being refined, and the rows a step draws.
    refinement: Option<(CinematicPicture, u32)>,
}

/// The share of the view's pixels rendered when `reduced`, per side.
const REDUCED_SCALE: f32 = 0.7;

/// What a cinematic step between two of the window's frames may take (ms): the rows it
/// draws follow from the last step's time a row.
const CINEMATIC_STEP_MS: f64 = 40.0;

impl View3d {
    /// The first view of `volume` with `renderer`'s default preset for its modality.
    pub fn new(renderer: &Renderer, volume: &Volume) -> Self {
        let preset = renderer.presets().default_for(&volume.modality);
        let view = ViewState::initial(volume, &preset.name, preset.mode);
        Self {
            initial: view.clone(),
            view,
            texture: ViewportTexture::default(),
            size: None,
            pending: Some(Quality::Full),
            gestures: GestureReader::default(),
            shown: None,
            frame_ms: 0.0,
            error: None,
            reduced: false,
            pace: Pace::default(),
            refinement: None,
        }
    }

    /// The frame that ends a drag: refining first where full ones are slow
    /// ([`Renderer::refining_pays`]), else full.
    fn after_drag(renderer: &Renderer) -> Quality {
        if renderer.refining_pays() {
            Quality::Refining
        } else {
            Quality::Full
        }
    }

    /// The frame due after one of `quality` was shown, without new input: the full one
    /// after a refining frame.
    fn due_after(quality: Quality) -> Option<Quality> {
        (quality == Quality::Refining).then_some(Quality::Full)
    }

    /// Asks for a full-quality frame of the current view.
    pub fn refresh(&mut self) {
        self.pending = Some(Quality::Full);
    }

    /// Asks for a frame of the changed view: interactive while the user drags, else full.
    pub fn changed(&mut self, dragging: bool) {
        self.pending = Some(if dragging {
            Quality::Interactive
        } else {
            Quality::Full
        });
    }

    /// Back to the view the volume opened with.
    pub fn reset(&mut self) {
        self.view = self.initial.clone();
        self.refresh();
    }

    /// The size of the frame on screen (physical pixels), once drawn.
    pub fn drawn_size(&self) -> Option<[u32; 2]> {
        self.size
    }

    /// The view as it is drawn on screen now, rendered again at full quality and read
    /// back: the pixels a snapshot keeps.
    pub fn read_back(&self, renderer: &mut Renderer) -> Result<FrameImage, String> {
        let size = self
            .drawn_size()
            .ok_or_else(|| "the 3D view is not drawn yet".to_string())?;
        let mut view = self.view.clone();
        view.quality = Quality::Full;
        renderer
            .render_image(&view, size)
            .map_err(|error| format!("the 3D view could not be read back: {error}"))
    }

    /// Shows the view in all of `ui`'s remaining space and handles its input.
    pub fn ui(&mut self, ui: &mut egui::Ui, renderer: &mut Renderer, render_state: &RenderState) {
        let size = ui.available_size().max(egui::vec2(1.0, 1.0));
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        self.handle_input(ui, &response, renderer);
        let mut pixels_per_point = ui.ctx().pixels_per_point();
        if self.reduced {
            pixels_per_point *= REDUCED_SCALE;
        }
        let physical = [
            ((rect.width() * pixels_per_point).round() as u32).max(1),
            ((rect.height() * pixels_per_point).round() as u32).max(1),
        ];
        if self.size.is_some_and(|drawn| drawn != physical) && self.pending.is_none() {
            self.pending = Some(Quality::Full);
        }
        if let Some(quality) = self.pending.take() {
            self.render(quality, physical, renderer, render_state);
            // New input before the next paint replaces what is due.
            self.pending = Self::due_after(quality);
            if self.pending.is_some() {
                ui.ctx().request_repaint();
            }
        }
        // Cinematic rendering (the view's light says): while the view rests, it is path
        // traced a band of rows at a time between the window's frames.
        let cinematic = self.view.lighting.cinematic;
        if cinematic && self.pending.is_none() && self.shown == Some(Quality::Full) {
            if self.refine(physical, renderer, render_state) {
                ui.ctx().request_repaint();
            }
        } else if !cinematic {
            self.refinement = None;
        }
        let painter = ui.painter_at(rect);
        self.texture.paint(&painter, rect);
        paint_orientation_marker(&painter, rect, &self.view.camera);
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

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response, renderer: &Renderer) {
        for gesture in self.gestures.read(ui, response) {
            match gesture {
                Gesture::Begin => {}
                Gesture::Orbit(dx, dy) => self.change(&Action::Orbit { dx, dy }, renderer),
                Gesture::Pan(dx, dy) => self.change(&Action::Pan { dx, dy }, renderer),
                Gesture::Zoom(factor) => self.change(&Action::Zoom { factor }, renderer),
                Gesture::Window(dx, dy) => self.drag_window(dx, dy, renderer),
                Gesture::End => {
                    self.pending = Some(Self::after_drag(renderer));
                    continue;
                }
            }
            if gesture != Gesture::Begin {
                self.pending = Some(Quality::Interactive);
            }
        }
    }

    /// Applies `action` as the server applies its clients' (the render core's one place
    /// for it); a change out of bounds (a runaway gesture) is dropped.
    fn change(&mut self, action: &Action, renderer: &Renderer) {
        if let Err(why) = self.view.apply(action, renderer.presets()) {
            tracing::debug!(%why, "gesture dropped");
        }
    }

    /// Right-drag: changes the grey window from the one in effect.
    fn drag_window(&mut self, dx: f64, dy: f64, renderer: &Renderer) {
        let Some(window) = self
            .view
            .window
            .or_else(|| renderer.effective_window(&self.view))
        else {
            return;
        };
        self.view.window = Some(dragged_window(window, dx, dy));
    }

    /// Paths a pixel of the resting view's cinematic picture so far, and whether a pass is
    /// under way; `None` while none is refined.
    pub fn cinematic_passes(&self) -> Option<(u32, bool)> {
        self.refinement
            .as_ref()
            .map(|(picture, _)| (picture.passes(), picture.pass_under_way()))
    }

    /// The resting view's cinematic picture once the pass under way is whole.
    #[cfg(test)]
    pub fn cinematic_image(&mut self, renderer: &mut Renderer) -> Option<FrameImage> {
        let (picture, _) = self.refinement.as_mut()?;
        while picture.pass_under_way() {
            renderer
                .refine_cinematic_rows(picture, picture.size()[1])
                .ok()?;
        }
        renderer.read_cinematic(picture).ok()
    }

    /// One cinematic step of the resting view at `size` (a new picture when the view or
    /// the size changed): a band of rows, about [`CINEMATIC_STEP_MS`], shown at once.
    /// Whether more are due. Only the composite 3D view is path traced.
    fn refine(
        &mut self,
        size: [u32; 2],
        renderer: &mut Renderer,
        render_state: &RenderState,
    ) -> bool {
        let mut resting = self.view.clone();
        resting.quality = Quality::Full;
        if resting.mode != RenderMode::Composite {
            self.refinement = None;
            return false;
        }
        let current = self
            .refinement
            .as_ref()
            .is_some_and(|(picture, _)| *picture.view() == resting && picture.size() == size);
        if !current {
            match renderer.begin_cinematic(&resting, size, CinematicSettings::RESTING_SEED) {
                Ok(picture) => self.refinement = Some((picture, 8)),
                Err(error) => {
                    self.error = Some(error.to_string());
                    self.refinement = None;
                    return false;
                }
            }
        }
        let Some((picture, rows)) = &mut self.refinement else {
            return false;
        };
        if picture.passes() >= CinematicSettings::RESTING_PASSES {
            return false;
        }
        let started = Instant::now();
        let drawn = *rows;
        if let Err(error) = renderer.refine_cinematic_rows(picture, drawn) {
            self.error = Some(error.to_string());
            self.refinement = None;
            return false;
        }
        let ms_a_row = started.elapsed().as_secs_f64() * 1e3 / f64::from(drawn);
        *rows = ((CINEMATIC_STEP_MS / ms_a_row.max(1e-3)) as u32).clamp(1, size[1]);
        if let Some(frame) = renderer.frame_texture() {
            self.texture.copy_from(render_state, frame);
        }
        true
    }

    fn render(
        &mut self,
        quality: Quality,
        size: [u32; 2],
        renderer: &mut Renderer,
        render_state: &RenderState,
    ) {
        self.view.quality = quality;
        let started = Instant::now();
        match renderer.render(&self.view, size) {
            Ok(_) => {
                self.frame_ms = started.elapsed().as_secs_f64() * 1e3;
                self.error = None;
                self.shown = Some(quality);
                self.size = Some(size);
                if quality == Quality::Interactive {
                    self.pace.frame(Instant::now());
                }
                if let Some(frame) = renderer.frame_texture() {
                    self.texture.copy_from(render_state, frame);
                }
            }
            Err(error) => {
                self.error = Some(format!("render failed: {error}"));
                self.shown = None;
            }
        }
    }
}

/// The patient's axes as the camera sees them, bottom left: L, P and S in red, green and
/// blue, so the orientation of a turned volume can be read at a glance.
fn paint_orientation_marker(painter: &egui::Painter, rect: egui::Rect, camera: &Camera) {
    let centre = rect.left_bottom() + egui::vec2(42.0, -42.0);
    let length = 28.0;
    let right = camera.right();
    let up = camera.up;
    let axes = [
        (DVec3::X, egui::Color32::from_rgb(230, 80, 80)),
        (DVec3::Y, egui::Color32::from_rgb(90, 200, 90)),
        (DVec3::Z, egui::Color32::from_rgb(90, 140, 240)),
    ];
    for (axis, colour) in axes {
        let tip = centre
            + egui::vec2(
                (axis.dot(right) * length) as f32,
                (-axis.dot(up) * length) as f32,
            );
        painter.line_segment([centre, tip], egui::Stroke::new(2.0, colour));
        painter.text(
            tip,
            egui::Align2::CENTER_CENTER,
            direction_letter(axis),
            egui::FontId::proportional(13.0),
            colour,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_ends_refining_first_only_where_a_full_frame_is_slow() {
        let mut renderer = hounsfield_workstation::renderer::new_renderer().expect("a renderer");
        let volume = std::sync::Arc::new(render_core::phantom::ct_phantom());
        let view = View3d::new(&renderer, &volume);
        assert_eq!(
            View3d::after_drag(&renderer),
            Quality::Full,
            "none drawn yet"
        );
        renderer.load_volume(volume);
        renderer.render(&view.view, [64, 48]).expect("drawn");
        assert_eq!(
            View3d::after_drag(&renderer),
            Quality::Full,
            "a small full frame is fast"
        );
        // The refining frame is followed by the full one, and nothing else by anything.
        assert_eq!(View3d::due_after(Quality::Refining), Some(Quality::Full));
        assert_eq!(View3d::due_after(Quality::Full), None);
        assert_eq!(View3d::due_after(Quality::Interactive), None);
    }
}
