//! The transfer-function editor: the volume's histogram (log scale) under the opacity
//! curve's points, the colour stops, and gradient opacity. A point is dragged, added (a
//! click off the points) or removed (a double or right click); what the reader made is
//! a [`Preset`] the 3D view shows in place of its own (`transfer`) and saves as a preset
//! file. The same widget serves the view rendered here and the one streamed from a server.

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Stroke, Vec2};
use render_core::transfer::{ColourPoint, GradientOpacityPoint, OpacityPoint};
use render_core::transfer::{Preset, ValueDomain, ValueHistogram};

/// Points within this many screen points of a press are taken by it.
const REACH: f32 = 8.0;
/// The opacity curve's size on screen (points).
const CURVE: Vec2 = Vec2::new(360.0, 150.0);
/// The colour strip's size.
const STRIP: Vec2 = Vec2::new(360.0, 20.0);
/// The gradient-opacity curve's size.
const GRADIENT: Vec2 = Vec2::new(360.0, 70.0);

/// One curve of the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// Opacity over the volume's values.
    Opacity,
    /// The colour stops over the volume's values.
    Colour,
    /// Opacity's factor over the gradient's magnitude.
    Gradient,
}

impl Curve {
    fn index(self) -> usize {
        self as usize
    }
}

/// What the reader did in the editor this frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferEdit {
    /// The function changed: the 3D view should show [`TransferEditor::edited`].
    pub changed: bool,
    /// A point is being dragged (interactive frames).
    pub dragging: bool,
    /// Save was clicked.
    pub save: bool,
    /// Save on the server was clicked (offered on a streamed view).
    pub save_on_server: bool,
}

/// The editor's state: the function edited, the histogram behind it, the name it saves
/// under, and the point being dragged.
#[derive(Debug, Default)]
pub struct TransferEditor {
    preset: Option<Preset>,
    histogram: Option<ValueHistogram>,
    /// The name the function is shown and saved under.
    pub name: String,
    /// The colour stop whose colour the picker edits.
    chosen_stop: Option<usize>,
    dragging: Option<(Curve, usize)>,
    /// Where each curve was drawn last (screen points).
    rects: [Option<Rect>; 3],
    /// What the last save said.
    pub status: Option<String>,
}

impl TransferEditor {
    /// Edits `preset` from now on, over `histogram` when one is known.
    pub fn show(&mut self, preset: Preset, histogram: Option<ValueHistogram>) {
        self.name.clone_from(&preset.name);
        self.preset = Some(preset);
        self.histogram = histogram;
        self.chosen_stop = None;
        self.dragging = None;
    }

    /// Takes `preset` when another client changed the function (a shared session's
    /// steering reader), unless a point is being dragged here.
    pub fn follow(&mut self, preset: &Preset) {
        if self.dragging.is_none() && self.preset.as_ref() != Some(preset) {
            self.name.clone_from(&preset.name);
            self.preset = Some(preset.clone());
            self.chosen_stop = None;
        }
    }

    /// The histogram drawn behind the opacity curve, when one is known.
    #[cfg(test)]
    pub fn histogram(&self) -> Option<&ValueHistogram> {
        self.histogram.as_ref()
    }

    /// Whether a function is being edited.
    pub fn is_shown(&self) -> bool {
        self.preset.is_some()
    }

    /// The function as the reader made it, under the name given.
    pub fn edited(&self) -> Option<Preset> {
        let mut preset = self.preset.clone()?;
        let name = self.name.trim();
        if !name.is_empty() {
            name.clone_into(&mut preset.name);
        }
        Some(preset)
    }

    /// Where on screen a press takes point `n` of `curve` (inside the curve's drawing),
    /// once drawn.
    #[cfg(test)]
    pub fn point_on_screen(&self, curve: Curve, n: usize) -> Option<Pos2> {
        let rect = self.rects[curve.index()]?;
        let point = self.points(curve).get(n).copied()?;
        let at = self.to_screen(curve, rect, point);
        Some(at.clamp(rect.min + Vec2::splat(2.0), rect.max - Vec2::splat(2.0)))
    }

    /// Draws the editor and takes the reader's gestures; `on_server` offers saving the
    /// function on the server too (a streamed view).
    pub fn ui(&mut self, ui: &mut egui::Ui, on_server: bool) -> TransferEdit {
        let mut edit = TransferEdit::default();
        if self.preset.is_none() {
            ui.label("asking for the transfer function…");
            return edit;
        }
        ui.label("Opacity over the values (histogram behind, log scale)");
        self.curve_ui(ui, Curve::Opacity, CURVE, &mut edit);
        if let (Some((Curve::Opacity, n)), Some(preset)) = (self.dragging, &self.preset)
            && let Some(point) = preset.opacity.get(n)
        {
            ui.label(format!("{}: opacity {}", point.value, point.opacity));
        }
        self.curve_ui(ui, Curve::Colour, STRIP, &mut edit);
        if let (Some(n), Some(preset)) = (self.chosen_stop, self.preset.as_mut())
            && let Some(stop) = preset.colour.get_mut(n)
        {
            ui.horizontal(|ui| {
                ui.label("Colour of the stop chosen");
                if egui::color_picker::color_edit_button_rgb(ui, &mut stop.rgb).changed() {
                    edit.changed = true;
                }
            });
        }
        ui.label("Gradient opacity (opacity's factor over the gradient)");
        self.curve_ui(ui, Curve::Gradient, GRADIENT, &mut edit);
        ui.horizontal(|ui| {
            ui.label("Name");
            if ui.text_edit_singleline(&mut self.name).lost_focus() {
                edit.changed = true;
            }
        });
        ui.horizontal(|ui| {
            edit.save = ui
                .button("Save preset")
                .on_hover_text("as a preset file in your presets folder, offered from then on")
                .clicked();
            edit.save_on_server = on_server
                && ui
                    .button("Save on the server")
                    .on_hover_text(
                        "as a preset of the server's, offered to every session opened from now on (administrators)",
                    )
                    .clicked();
        });
        if let Some(status) = &self.status {
            ui.label(status);
        }
        edit.dragging = self.dragging.is_some();
        edit
    }

    /// One curve: drawn, and its points dragged, added and removed.
    fn curve_ui(&mut self, ui: &mut egui::Ui, curve: Curve, size: Vec2, edit: &mut TransferEdit) {
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        self.rects[curve.index()] = Some(rect);
        let pressed_at = ui.input(|input| input.pointer.press_origin());
        if response.drag_started()
            && let Some(at) = pressed_at
        {
            let n = self
                .nearest(curve, rect, at)
                .unwrap_or_else(|| self.add(curve, rect, at));
            self.dragging = Some((curve, n));
            if curve == Curve::Colour {
                self.chosen_stop = Some(n);
            }
        }
        if let (Some((dragged, n)), Some(at)) = (self.dragging, response.interact_pointer_pos())
            && dragged == curve
            && response.dragged()
        {
            self.move_point(curve, rect, n, at);
            edit.changed = true;
        }
        if response.drag_stopped() && self.dragging.is_some_and(|(dragged, _)| dragged == curve) {
            self.dragging = None;
            edit.changed = true;
        }
        let clicked_at = response.interact_pointer_pos();
        if (response.double_clicked() || response.secondary_clicked())
            && let Some(at) = clicked_at
            && let Some(n) = self.nearest(curve, rect, at)
        {
            self.remove(curve, n);
            edit.changed = true;
        } else if response.clicked()
            && let Some(at) = clicked_at
        {
            let n = self.nearest(curve, rect, at).unwrap_or_else(|| {
                edit.changed = true;
                self.add(curve, rect, at)
            });
            if curve == Curve::Colour {
                self.chosen_stop = Some(n);
            }
        }
        self.draw(ui, curve, rect);
    }

    /// The x of `curve`'s axis: the volume's values (with every point), or percentiles,
    /// or gradients.
    fn x_range(&self, curve: Curve) -> (f32, f32) {
        let Some(preset) = &self.preset else {
            return (0.0, 1.0);
        };
        if curve == Curve::Gradient {
            let last = preset.gradient_opacity.last().map_or(0.0, |p| p.gradient);
            let least = if preset.domain == ValueDomain::Percentile {
                10.0
            } else {
                100.0
            };
            return (0.0, (last * 1.25).max(least));
        }
        if preset.domain == ValueDomain::Percentile {
            return (0.0, 100.0);
        }
        let values = preset.colour.iter().map(|p| p.value);
        let values = values.chain(preset.opacity.iter().map(|p| p.value));
        let (low, high) = values.fold(
            self.histogram
                .as_ref()
                .map_or((f32::INFINITY, f32::NEG_INFINITY), |h| (h.low, h.high)),
            |(low, high), v| (low.min(v), high.max(v)),
        );
        if high > low {
            (low, high)
        } else {
            (low, low + 1.0)
        }
    }

    /// `curve`'s points as (x, y): y is 0.5 for the colour stops.
    fn points(&self, curve: Curve) -> Vec<(f32, f32)> {
        let Some(preset) = &self.preset else {
            return Vec::new();
        };
        match curve {
            Curve::Opacity => preset
                .opacity
                .iter()
                .map(|p| (p.value, p.opacity))
                .collect(),
            Curve::Colour => preset.colour.iter().map(|p| (p.value, 0.5)).collect(),
            Curve::Gradient => preset
                .gradient_opacity
                .iter()
                .map(|p| (p.gradient, p.factor))
                .collect(),
        }
    }

    fn to_screen(&self, curve: Curve, rect: Rect, (x, y): (f32, f32)) -> Pos2 {
        let (low, high) = self.x_range(curve);
        let inner = rect.shrink2(Vec2::new(0.0, REACH));
        Pos2::new(
            rect.left() + (x - low) / (high - low) * rect.width(),
            inner.bottom() - y * inner.height(),
        )
    }

    fn on_axes(&self, curve: Curve, rect: Rect, at: Pos2) -> (f32, f32) {
        let (low, high) = self.x_range(curve);
        let inner = rect.shrink2(Vec2::new(0.0, REACH));
        let along = ((at.x - rect.left()) / rect.width()).clamp(0.0, 1.0);
        let up = ((inner.bottom() - at.y) / inner.height()).clamp(0.0, 1.0);
        (round(low + along * (high - low), 2), round(up, 4))
    }

    fn nearest(&self, curve: Curve, rect: Rect, at: Pos2) -> Option<usize> {
        self.points(curve)
            .into_iter()
            .map(|point| self.to_screen(curve, rect, point).distance(at))
            .enumerate()
            .filter(|(_, distance)| *distance <= REACH)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n)
    }

    /// Adds a point at `at` (a colour stop takes the colour there); its index.
    fn add(&mut self, curve: Curve, rect: Rect, at: Pos2) -> usize {
        let (x, y) = self.on_axes(curve, rect, at);
        let n = self.points(curve).iter().take_while(|p| p.0 <= x).count();
        let Some(preset) = self.preset.as_mut() else {
            return n;
        };
        match curve {
            Curve::Opacity => preset.opacity.insert(
                n,
                OpacityPoint {
                    value: x,
                    opacity: y,
                },
            ),
            Curve::Colour => {
                let rgb = colour_at(&preset.colour, x);
                preset.colour.insert(n, ColourPoint { value: x, rgb });
            }
            Curve::Gradient => preset.gradient_opacity.insert(
                n,
                GradientOpacityPoint {
                    gradient: x.max(0.0),
                    factor: y,
                },
            ),
        }
        n
    }

    /// Moves point `n` to `at`, kept between its neighbours so the points stay ascending.
    fn move_point(&mut self, curve: Curve, rect: Rect, n: usize, at: Pos2) {
        let points = self.points(curve);
        let (x, y) = self.on_axes(curve, rect, at);
        let low = n.checked_sub(1).map_or(f32::NEG_INFINITY, |m| points[m].0);
        let high = points.get(n + 1).map_or(f32::INFINITY, |p| p.0);
        let x = x.clamp(low, high);
        let Some(preset) = self.preset.as_mut() else {
            return;
        };
        match curve {
            Curve::Opacity => {
                if let Some(point) = preset.opacity.get_mut(n) {
                    *point = OpacityPoint {
                        value: x,
                        opacity: y,
                    };
                }
            }
            Curve::Colour => {
                if let Some(point) = preset.colour.get_mut(n) {
                    point.value = x;
                }
            }
            Curve::Gradient => {
                if let Some(point) = preset.gradient_opacity.get_mut(n) {
                    *point = GradientOpacityPoint {
                        gradient: x.max(0.0),
                        factor: y,
                    };
                }
            }
        }
    }

    /// Removes point `n`, keeping at least one opacity point and one colour stop.
    fn remove(&mut self, curve: Curve, n: usize) {
        let Some(preset) = self.preset.as_mut() else {
            return;
        };
        match curve {
            Curve::Opacity if preset.opacity.len() > 1 => {
                preset.opacity.remove(n);
            }
            Curve::Colour if preset.colour.len() > 1 => {
                preset.colour.remove(n);
                self.chosen_stop = None;
            }
            Curve::Gradient => {
                preset.gradient_opacity.remove(n);
            }
            _ => {}
        }
    }

    fn draw(&self, ui: &egui::Ui, curve: Curve, rect: Rect) {
        let Some(preset) = &self.preset else {
            return;
        };
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(18));
        let (low, high) = self.x_range(curve);
        let x_of = |value: f32| rect.left() + (value - low) / (high - low) * rect.width();
        match curve {
            Curve::Colour => {
                let steps = rect.width().max(1.0) as usize;
                for step in 0..steps {
                    let value = low + (step as f32 + 0.5) / steps as f32 * (high - low);
                    let x = rect.left() + step as f32;
                    painter.rect_filled(
                        Rect::from_x_y_ranges(x..=x + 1.0, rect.y_range()),
                        0.0,
                        colour32(colour_at(&preset.colour, value)),
                    );
                }
                for (n, stop) in preset.colour.iter().enumerate() {
                    let x = x_of(stop.value);
                    let colour = if Some(n) == self.chosen_stop {
                        Color32::YELLOW
                    } else {
                        Color32::WHITE
                    };
                    painter.rect_stroke(
                        Rect::from_x_y_ranges(x - 3.0..=x + 3.0, rect.y_range()),
                        0.0,
                        Stroke::new(2.0, colour),
                        egui::StrokeKind::Inside,
                    );
                }
                return;
            }
            Curve::Opacity => {
                if let Some(histogram) = self
                    .histogram
                    .as_ref()
                    .filter(|_| preset.domain == ValueDomain::Hu)
                {
                    draw_histogram(&painter, rect, histogram, &x_of);
                }
                let unit = match preset.domain {
                    ValueDomain::Hu => " HU",
                    ValueDomain::Percentile => "%",
                };
                draw_ticks(&painter, rect, (low, high), unit);
            }
            Curve::Gradient => {}
        }
        let points: Vec<Pos2> = self
            .points(curve)
            .into_iter()
            .map(|point| self.to_screen(curve, rect, point))
            .collect();
        let line = if curve == Curve::Opacity {
            Color32::from_gray(230)
        } else {
            Color32::from_rgb(150, 200, 255)
        };
        painter.add(egui::Shape::line(points.clone(), Stroke::new(1.5, line)));
        for (point, at) in self.points(curve).into_iter().zip(points) {
            let fill = match curve {
                Curve::Opacity => colour32(colour_at(&preset.colour, point.0)),
                _ => line,
            };
            painter.circle(at, 5.0, fill, Stroke::new(1.0, Color32::WHITE));
        }
    }
}

/// Ticks along the value axis at a round step (about five across), labelled in `unit`:
/// where 300 HU lies on the curve.
fn draw_ticks(painter: &egui::Painter, rect: Rect, (low, high): (f32, f32), unit: &str) {
    let rough = (high - low) / 5.0;
    let power = 10f32.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(rough);
    if !(step.is_finite() && step > 0.0) {
        return;
    }
    let mut value = (low / step).ceil() * step;
    while value <= high {
        let x = rect.left() + (value - low) / (high - low) * rect.width();
        painter.vline(x, rect.y_range(), Stroke::new(1.0, Color32::from_gray(50)));
        painter.text(
            Pos2::new(x + 2.0, rect.top() + 1.0),
            egui::Align2::LEFT_TOP,
            format!("{value:.0}{unit}"),
            egui::FontId::proportional(10.0),
            Color32::from_gray(150),
        );
        value += step;
    }
}

/// The histogram's bars, log scale, behind the opacity curve.
fn draw_histogram(
    painter: &egui::Painter,
    rect: Rect,
    histogram: &ValueHistogram,
    x_of: &dyn Fn(f32) -> f32,
) {
    let most = histogram.counts.iter().copied().max().unwrap_or(0);
    if most == 0 {
        return;
    }
    let most = (most as f32).ln_1p();
    let bin = (histogram.high - histogram.low) / histogram.counts.len() as f32;
    for (n, &count) in histogram.counts.iter().enumerate() {
        let start = histogram.low + n as f32 * bin;
        let (x0, x1) = (x_of(start), x_of(start + bin));
        let height = (count as f32).ln_1p() / most * rect.height();
        painter.rect_filled(
            Rect::from_x_y_ranges(
                x0..=x1.max(x0 + 1.0),
                rect.bottom() - height..=rect.bottom(),
            ),
            0.0,
            Color32::from_gray(80),
        );
    }
}

/// The colour of `stops` (ascending) at `value`, interpolated as the renderer does.
fn colour_at(stops: &[ColourPoint], value: f32) -> [f32; 3] {
    let Some(first) = stops.first() else {
        return [0.0; 3];
    };
    if value <= first.value {
        return first.rgb;
    }
    for pair in stops.windows(2) {
        let [a, b] = [pair[0], pair[1]];
        if value <= b.value {
            let t = if b.value > a.value {
                (value - a.value) / (b.value - a.value)
            } else {
                1.0
            };
            return [0, 1, 2].map(|c| round(a.rgb[c] + (b.rgb[c] - a.rgb[c]) * t, 4));
        }
    }
    stops.last().map_or([0.0; 3], |last| last.rgb)
}

fn colour32([r, g, b]: [f32; 3]) -> Color32 {
    let level = |c: f32| (c.clamp(0.0, 1.0) * 255.0).round() as u8;
    Color32::from_rgb(level(r), level(g), level(b))
}

/// `value` to `digits` decimals: the points a reader places are written as such.
fn round(value: f32, digits: i32) -> f32 {
    let scale = 10f32.powi(digits);
    (value * scale).round() / scale
}
