//! A series over time from the thin client: a bar above the frame (for such a series
//! only) steps through its volumes (`time_point`), plays them at a chosen rate (`cine`,
//! kept by the server) and names the volume the frames show, as the server told it; beside
//! it, the time-intensity curve of the voxel last read under the cursor (the probe's `values`) is
//! plotted with its measures, and **Save CSV** writes it (a row a volume: its label, time
//! and value) to the folder screenshots go to. Keys: `]` and `[` step, `P` plays or
//! pauses.

use eframe::egui;
use hounsfield_protocol::{Action, CurveInfo, TimePointInfo};

use super::RemoteView;
pub use crate::workspace::time::{CINE_FPS, DEFAULT_CINE_FPS, volume_text};

/// The curve plot's size (points).
const PLOT_SIZE: egui::Vec2 = egui::vec2(220.0, 60.0);
/// The curve's colour (as the web page's).
const CURVE_COLOUR: egui::Color32 = egui::Color32::from_rgb(232, 176, 74);

impl RemoteView {
    /// The series' volumes, when it is a series over time.
    fn volumes(&self) -> Option<&[TimePointInfo]> {
        let volumes = &self.opened.as_ref()?.volumes;
        (volumes.len() > 1).then_some(volumes.as_slice())
    }

    /// The volume the frames show: as the server told it, else as the mirror has it.
    fn shown_time_point(&self) -> usize {
        self.link
            .state()
            .time_point
            .as_ref()
            .map(|told| told.index)
            .or_else(|| self.mirror.as_ref().map(|mirror| mirror.time_point))
            .unwrap_or(0)
    }

    /// Shows volume `index` (wrapping round the series' volumes).
    pub fn show_volume(&mut self, index: isize) {
        let Some(count) = self.volumes().map(<[_]>::len) else {
            return;
        };
        let count = isize::try_from(count).unwrap_or(isize::MAX);
        let index = usize::try_from(index.rem_euclid(count)).unwrap_or(0);
        self.act(Action::TimePoint { index });
    }

    /// Steps `by` volumes from the one shown (a key or a button).
    pub fn step_volume(&mut self, by: isize) {
        let shown = isize::try_from(self.shown_time_point()).unwrap_or(0);
        self.show_volume(shown + by);
    }

    /// Plays the volumes at the chosen rate, or pauses where they are.
    pub fn play_or_pause(&mut self) {
        if self.volumes().is_none() {
            return;
        }
        let playing = self.cine_playing();
        let fps = if playing { 0.0 } else { self.cine_fps };
        self.cine_asked = Some(!playing);
        self.act(Action::Cine { fps });
    }

    /// Whether a cine plays: as asked here until the server tells its next volume.
    fn cine_playing(&self) -> bool {
        let told = self
            .link
            .state()
            .time_point
            .as_ref()
            .is_some_and(|told| told.cine_fps.is_some());
        self.cine_asked.unwrap_or(told)
    }

    /// The bar of a series over time: ◀, the volume slider, ▶, its label, Play and the
    /// rate; then the curve under the cursor. Nothing for a series of one volume.
    pub(super) fn time_bar(&mut self, ui: &mut egui::Ui) {
        let Some(volumes) = self.volumes().map(<[_]>::to_vec) else {
            return;
        };
        if self
            .link
            .state()
            .time_point
            .as_ref()
            .is_some_and(|told| told.cine_fps.is_some() == self.cine_asked.unwrap_or(false))
        {
            // The server agrees with what was asked: it tells from now on.
            self.cine_asked = None;
        }
        let shown = self.shown_time_point().min(volumes.len() - 1);
        // A cine's steps are the server's: the mirror (handed back on a reconnection or
        // to local rendering) follows the volume told.
        if let Some(mirror) = &mut self.mirror
            && mirror.time_point != shown
        {
            mirror.time_point = shown;
            self.link.remember(mirror.clone());
        }
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("<")
                .on_hover_text("the volume before (key [)")
                .clicked()
            {
                self.step_volume(-1);
            }
            let mut index = shown;
            let slider = egui::Slider::new(&mut index, 0..=volumes.len() - 1).show_value(false);
            if ui.add(slider).on_hover_text("the volume shown").changed() {
                self.show_volume(isize::try_from(index).unwrap_or(0));
            }
            if ui
                .button(">")
                .on_hover_text("the next volume (key ])")
                .clicked()
            {
                self.step_volume(1);
            }
            let volume = &volumes[shown];
            ui.label(format!(
                "{} ({} of {})",
                volume_text(&volume.label, volume.time_s),
                shown + 1,
                volumes.len()
            ));
            let playing = self.cine_playing();
            if ui
                .selectable_label(playing, if playing { "Pause" } else { "Play" })
                .on_hover_text("play the volumes in turn (cine), or pause (key P)")
                .clicked()
            {
                self.play_or_pause();
            }
            let rate = ui
                .add(
                    egui::DragValue::new(&mut self.cine_fps)
                        .range(CINE_FPS)
                        .speed(0.2)
                        .suffix(" /s"),
                )
                .on_hover_text("volumes a second while the cine plays");
            if rate.changed() && playing {
                self.act(Action::Cine { fps: self.cine_fps });
            }
            self.curve_plot(ui, &volumes, shown);
        });
    }

    /// The curve of the voxel last read under the cursor, when the server told one: its
    /// values over the volumes' times, the volume shown marked, and its measures; kept
    /// when the pointer leaves the slices (for Save CSV).
    fn curve_plot(&mut self, ui: &mut egui::Ui, volumes: &[TimePointInfo], shown: usize) {
        let Some(probe) = self.curve.as_ref() else {
            return;
        };
        ui.separator();
        let (rect, _) = ui.allocate_exact_size(PLOT_SIZE, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, egui::Color32::from_gray(17));
        let times: Vec<f64> = (0..probe.values.len())
            .map(|n| volumes.get(n).and_then(|v| v.time_s).unwrap_or(n as f64))
            .collect();
        let span = |values: &[f64]| {
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (low, (high - low).max(f64::EPSILON))
        };
        let ((t0, dt), (v0, dv)) = (span(&times), span(&probe.values));
        let inner = rect.shrink(6.0);
        let at = |t: f64, v: f64| {
            egui::pos2(
                inner.left() + ((t - t0) / dt) as f32 * inner.width(),
                inner.bottom() - ((v - v0) / dv) as f32 * inner.height(),
            )
        };
        let points: Vec<egui::Pos2> = times
            .iter()
            .zip(&probe.values)
            .map(|(t, v)| at(*t, *v))
            .collect();
        painter.add(egui::Shape::line(
            points.clone(),
            egui::Stroke::new(1.5, CURVE_COLOUR),
        ));
        if let Some(point) = points.get(shown) {
            painter.circle_filled(*point, 3.5, egui::Color32::WHITE);
        }
        if let Some(curve) = &probe.curve {
            ui.label(curve_text(curve));
        }
        if ui
            .button("Save CSV")
            .on_hover_text("the curve, a row a volume, into the folder screenshots go to")
            .clicked()
        {
            let csv = curve_csv(volumes, &probe.values, &probe.unit);
            self.save_curve(&csv);
        }
        match &self.curve_saved {
            Some(Ok(path)) => {
                ui.label(format!("saved to {}", path.display()));
            }
            Some(Err(why)) => {
                ui.colored_label(egui::Color32::LIGHT_RED, why);
            }
            None => {}
        }
    }

    /// Writes a curve's CSV into [`RemoteView::curve_folder`], named after the series.
    fn save_curve(&mut self, csv: &str) {
        let series = self
            .opened
            .as_ref()
            .map_or("series", |opened| opened.series.as_str());
        let path = self
            .curve_folder
            .join(crate::screenshot::user_file_name("curve", series, "csv"));
        let written = std::fs::write(&path, csv)
            .map(|()| path.clone())
            .map_err(|error| format!("the curve was not saved to {}: {error}", path.display()));
        match &written {
            Ok(path) => tracing::info!(path = %path.display(), "the curve was saved"),
            Err(why) => tracing::warn!(%why, "no curve saved"),
        }
        self.curve_saved = Some(written);
    }
}

/// The CSV of a probe's curve over `volumes` (as the findings' exports write it).
fn curve_csv(volumes: &[TimePointInfo], values: &[f64], unit: &str) -> String {
    let volumes: Vec<(String, Option<f64>)> = volumes
        .iter()
        .map(|volume| (volume.label.clone(), volume.time_s))
        .collect();
    hounsfield_findings::curve::curve_csv(&volumes, values, unit)
}

/// A curve's measures as the bar shows them.
pub fn curve_text(curve: &CurveInfo) -> String {
    let (unit, one) = match curve.time_unit {
        hounsfield_protocol::TimeUnit::Seconds => ("s", "second"),
        hounsfield_protocol::TimeUnit::Volumes => ("volumes", "volume"),
    };
    format!(
        "baseline {:.1}, peak {:.1} at {:.1} {unit}, wash-in {:.2} a {one}, area {:.0}",
        curve.baseline, curve.peak, curve.time_to_peak, curve.wash_in_slope, curve.area_under_curve
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_is_named_with_its_time_and_a_curve_with_its_measures() {
        assert_eq!(volume_text("volume 4", Some(15.0)), "volume 4 · 15 s");
        assert_eq!(volume_text("echo 2", None), "echo 2");
        assert_eq!(
            volume_text("trigger 120 ms", Some(0.120_000_1)),
            "trigger 120 ms · 0.12 s"
        );
        let curve = CurveInfo {
            time_unit: hounsfield_protocol::TimeUnit::Seconds,
            baseline: 100.0,
            peak: 250.0,
            time_to_peak: 15.0,
            wash_in_slope: 12.5,
            area_under_curve: 1800.0,
        };
        assert_eq!(
            curve_text(&curve),
            "baseline 100.0, peak 250.0 at 15.0 s, wash-in 12.50 a second, area 1800"
        );
    }
}
