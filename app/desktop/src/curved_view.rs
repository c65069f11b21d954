//! The curved reformat drawn here: points clicked with the Path tool on any slice make a
//! path (the render core's centripetal spline through them), straightened into a picture
//! in a window of its own: the path down the middle, a vessel traced by it shown whole. A
//! slider turns the line across the path about it (the rotating view); a drag on the
//! picture is a ruler whose length is a length along the path, as the picture's pixels
//! are square millimetres laid out along it.

use std::sync::Arc;

use eframe::egui;
use glam::DVec3;
use render_core::curved::{Across, CurvedPath, MAX_PATH_POINTS, StraightenedReformat, straighten};
use render_core::transfer::VolumeStatistics;
use render_core::{Volume, Window};

/// The straightened picture's size in pixels: across the path, and along it.
pub const CURVED_SIZE: [u32; 2] = [256, 512];

/// The straightened picture's height on screen (points).
const SHOWN_HEIGHT: f32 = 320.0;

/// The path clicked on the slices and its straightened picture.
#[derive(Default)]
pub struct CurvedView {
    /// The points clicked (LPS, mm), in order; at most [`MAX_PATH_POINTS`].
    pub points: Vec<DVec3>,
    /// The turn of the line across the path about it (degrees): the rotating view.
    pub angle_deg: f64,
    /// The picture as last straightened, with what it was made from.
    drawn: Option<Drawn>,
    /// Why the last point or picture was refused.
    pub problem: Option<String>,
    /// A ruler on the picture: its ends in picture pixels.
    ruler: Option<(egui::Pos2, egui::Pos2)>,
    /// The grey window of a volume without one of its own, worked out once.
    default_window: Option<Window>,
    /// Where the picture was last shown (egui points).
    shown_rect: Option<egui::Rect>,
}

/// A straightened picture and the path, turn and window it shows.
struct Drawn {
    points: Vec<DVec3>,
    angle_deg: f64,
    window: Window,
    reformat: Arc<StraightenedReformat>,
    texture: egui::TextureHandle,
}

impl CurvedView {
    /// Adds a point clicked at `lps`; refused past [`MAX_PATH_POINTS`].
    pub fn add(&mut self, lps: DVec3) {
        if self.points.len() >= MAX_PATH_POINTS {
            self.problem = Some(format!(
                "a path has at most {MAX_PATH_POINTS} points; this one is full"
            ));
            return;
        }
        self.problem = None;
        self.points.push(lps);
    }

    /// The straightened picture's values as last drawn (none before two points).
    pub fn reformat(&self) -> Option<&StraightenedReformat> {
        self.drawn.as_ref().map(|drawn| drawn.reformat.as_ref())
    }

    /// The path's length along it (mm), once it has two points.
    pub fn length_mm(&self) -> Option<f64> {
        CurvedPath::through(&self.points)
            .ok()
            .map(|path| path.length_mm())
    }

    /// Where the picture was last shown on screen.
    #[cfg(test)]
    pub fn picture_rect(&self) -> Option<egui::Rect> {
        self.shown_rect
    }

    /// The ruler's length (mm along the path and across it), while one is drawn.
    pub fn ruler_mm(&self) -> Option<f64> {
        let (from, to) = self.ruler?;
        let reformat = self.reformat()?;
        Some(f64::from((to - from).length()) * reformat.mm_per_pixel)
    }

    /// Shows the window (while the path has points), straightening `volume` again when the
    /// path, the turn or `window` (the slices' grey window, or the volume's default) changed.
    pub fn window_ui(&mut self, ctx: &egui::Context, volume: &Volume, window: Option<Window>) {
        if self.points.is_empty() {
            self.drawn = None;
            return;
        }
        let window = window.unwrap_or_else(|| self.default_window(volume));
        self.straighten(ctx, volume, window);
        let mut open = true;
        egui::Window::new("Curved reformat")
            .open(&mut open)
            .default_pos(egui::pos2(60.0, 80.0))
            .show(ctx, |ui| self.contents(ui));
        if !open {
            self.points.clear();
            self.ruler = None;
        }
    }

    fn default_window(&mut self, volume: &Volume) -> Window {
        *self.default_window.get_or_insert_with(|| {
            volume
                .default_window
                .unwrap_or_else(|| VolumeStatistics::of(volume).default_window(volume))
        })
    }

    /// Straightens the path again when what it shows changed.
    fn straighten(&mut self, ctx: &egui::Context, volume: &Volume, window: Window) {
        if self.points.len() < 2 {
            self.drawn = None;
            return;
        }
        let same = self.drawn.as_ref().is_some_and(|drawn| {
            drawn.points == self.points
                && drawn.angle_deg == self.angle_deg
                && drawn.window == window
        });
        if same {
            return;
        }
        let made = CurvedPath::through(&self.points).and_then(|path| {
            straighten(
                volume,
                &path,
                Across::patient_left(self.angle_deg),
                CURVED_SIZE,
            )
        });
        match made {
            Ok(reformat) => {
                let image = reformat.image(window);
                let picture = egui::ColorImage::from_rgba_unmultiplied(
                    [image.width as usize, image.height as usize],
                    &image.rgba,
                );
                let texture =
                    ctx.load_texture("curved-reformat", picture, egui::TextureOptions::LINEAR);
                self.drawn = Some(Drawn {
                    points: self.points.clone(),
                    angle_deg: self.angle_deg,
                    window,
                    reformat: Arc::new(reformat),
                    texture,
                });
                self.problem = None;
            }
            Err(why) => {
                self.drawn = None;
                self.problem = Some(format!("no curved reformat: {why}"));
            }
        }
    }

    fn contents(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let length = self
                .length_mm()
                .map_or_else(String::new, |mm| format!(", {mm:.1} mm along it"));
            ui.label(format!("{} points{length}", self.points.len()));
            if ui.button("Undo point").clicked() {
                self.points.pop();
                self.ruler = None;
            }
            if ui.button("Clear path").clicked() {
                self.points.clear();
                self.ruler = None;
            }
        });
        ui.add(
            egui::Slider::new(&mut self.angle_deg, -180.0..=180.0)
                .text("turn about the path (°)")
                .step_by(1.0),
        );
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        let Some(drawn) = &self.drawn else {
            ui.label("click a second point on a slice to straighten the path");
            return;
        };
        let size = drawn.texture.size_vec2();
        // Small enough to leave the slices it was traced on in sight.
        let scale = (SHOWN_HEIGHT / size.y).min(1.0);
        let shown = ui.add(
            egui::Image::new((drawn.texture.id(), size * scale))
                .sense(egui::Sense::click_and_drag()),
        );
        self.shown_rect = Some(shown.rect);
        let to_picture = |pos: egui::Pos2| {
            egui::pos2(
                (pos.x - shown.rect.min.x) / scale,
                (pos.y - shown.rect.min.y) / scale,
            )
        };
        let to_screen = |pos: egui::Pos2| shown.rect.min + pos.to_vec2() * scale;
        // The ruler starts where the button went down, not where the drag was first seen.
        if shown.drag_started()
            && let Some(pos) = ui.input(|input| input.pointer.press_origin())
        {
            self.ruler = Some((to_picture(pos), to_picture(pos)));
        } else if shown.dragged()
            && let (Some(pos), Some((from, _))) = (shown.interact_pointer_pos(), self.ruler)
        {
            self.ruler = Some((from, to_picture(pos)));
        }
        if let (Some((from, to)), Some(mm)) = (self.ruler, self.ruler_mm()) {
            let painter = ui.painter_at(shown.rect);
            let stroke = egui::Stroke::new(2.0, egui::Color32::from_rgb(90, 200, 250));
            painter.line_segment([to_screen(from), to_screen(to)], stroke);
            painter.text(
                to_screen(to) + egui::vec2(6.0, 0.0),
                egui::Align2::LEFT_CENTER,
                format!("{mm:.1} mm"),
                egui::FontId::proportional(13.0),
                egui::Color32::from_rgb(90, 200, 250),
            );
        }
        ui.label(format!(
            "{:.2} mm a pixel; a length down the picture is a length along the path",
            drawn.reformat.mm_per_pixel
        ));
    }
}
