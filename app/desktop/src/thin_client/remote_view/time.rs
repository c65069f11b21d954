//! A series over time from the thin client: a bar above the frame (for such a series
//! only) steps through its volumes (`time_point`), plays them at a chosen rate (`cine`,
//! kept by the server) and names the volume the frames show, as the server told it; beside
//! it, a time-intensity curve is plotted with its measures: the voxel's last read under
//! the cursor (the probe's `values`), or, chosen in **Curve of**, a region's or a
//! segment's (their means in every volume, as the server measured them); **Save CSV**
//! writes it (a row a volume: its label, time and value) to the folder screenshots go to.
//! Keys: `]` and `[` step, `P` plays or pauses.

use eframe::egui;
use hounsfield_protocol::{Action, TimePointInfo};

use super::RemoteView;
use super::findings::TimeValues;
use crate::time_curve;
pub use crate::time_curve::CurveOf;
pub use crate::workspace::time::{CINE_FPS, DEFAULT_CINE_FPS, volume_text};

impl RemoteView {
    /// What the bar's curve may be of, each with its name: the voxel under the cursor,
    /// then each region and each segment the server told a curve of.
    fn curve_choices(&self) -> Vec<(CurveOf, String)> {
        let regions = self
            .findings
            .curves
            .keys()
            .map(|id| (CurveOf::Region(*id), format!("region {id}")));
        let segments = self
            .segments
            .list
            .iter()
            .filter(|info| info.numbers.values.len() > 1)
            .map(|info| (CurveOf::Segment(info.id), format!("segment {}", info.label)));
        std::iter::once((CurveOf::Pointer, time_curve::POINTER_CURVE.to_string()))
            .chain(regions)
            .chain(segments)
            .collect()
    }

    /// The curve the bar plots: `curve_of`'s, while the server has told one.
    fn plotted_curve(&self) -> Option<TimeValues> {
        match self.curve_of {
            CurveOf::Pointer => self.curve.as_ref().map(|probe| TimeValues {
                values: probe.values.clone(),
                unit: probe.unit.clone(),
                measures: probe.curve,
            }),
            CurveOf::Region(id) => self.findings.curves.get(&id).cloned(),
            CurveOf::Segment(id) => self
                .segments
                .list
                .iter()
                .find(|info| info.id == id && info.numbers.values.len() > 1)
                .map(|info| TimeValues {
                    values: info.numbers.values.clone(),
                    unit: info.numbers.unit.clone(),
                    measures: info.numbers.curve,
                }),
        }
    }

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

    /// The curve chosen (the voxel last read under the cursor unless a region or a
    /// segment is), when the server told one: its values over the volumes' times, the
    /// volume shown marked, and its measures; the cursor's is kept when the pointer
    /// leaves the slices (for Save CSV).
    fn curve_plot(&mut self, ui: &mut egui::Ui, volumes: &[TimePointInfo], shown: usize) {
        let choices = self.curve_choices();
        time_curve::curve_choice(ui, &choices, &mut self.curve_of);
        let Some(plotted) = self.plotted_curve() else {
            return;
        };
        let volumes: Vec<(String, Option<f64>)> = volumes
            .iter()
            .map(|volume| (volume.label.clone(), volume.time_s))
            .collect();
        let curve = time_curve::Shown {
            volumes: &volumes,
            values: &plotted.values,
            unit: &plotted.unit,
            shown,
            measures: plotted.measures,
        };
        if time_curve::show(ui, &curve, self.curve_saved.as_ref()) {
            let series = self
                .opened
                .as_ref()
                .map_or("series", |opened| opened.series.as_str());
            self.curve_saved = Some(time_curve::save_csv(&curve, &self.curve_folder, series));
        }
    }
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
        let curve = hounsfield_protocol::CurveInfo {
            time_unit: hounsfield_protocol::TimeUnit::Seconds,
            baseline: 100.0,
            peak: 250.0,
            time_to_peak: 15.0,
            wash_in_slope: 12.5,
            area_under_curve: 1800.0,
        };
        assert_eq!(
            time_curve::measures_text(&curve),
            "baseline 100.0, peak 250.0 at 15.0 s, wash-in 12.50 a second, area 1800"
        );
    }
}
