//! A time-intensity curve in the bar of a series over time, for the view rendered here and
//! the one streamed alike: the values plotted over the volumes' times with the volume
//! shown marked, its measures in a line, and **Save CSV** (a row a volume) into the folder
//! screenshots go to.

use std::path::{Path, PathBuf};

use eframe::egui;
use hounsfield_protocol::{CurveInfo, TimeUnit};

/// The plot's size (points).
const PLOT_SIZE: egui::Vec2 = egui::vec2(220.0, 60.0);
/// The curve's colour (as the web page's).
const CURVE_COLOUR: egui::Color32 = egui::Color32::from_rgb(232, 176, 74);

/// What the bar's curve is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveOf {
    /// The voxel last read under the cursor.
    Pointer,
    /// A region (a finding), by its id.
    Region(u32),
    /// A segment, by its id.
    Segment(u32),
}

/// The name **Curve of** gives the cursor's voxel.
pub const POINTER_CURVE: &str = "the cursor's voxel";

/// **Curve of**: picks `chosen` among `choices` (each with its name), shown when there is
/// more than the cursor's voxel to choose; a choice that went (a region deleted, another
/// series) falls back to the cursor's voxel.
pub fn curve_choice(ui: &mut egui::Ui, choices: &[(CurveOf, String)], chosen: &mut CurveOf) {
    if !choices.iter().any(|(of, _)| of == chosen) {
        *chosen = CurveOf::Pointer;
    }
    if choices.len() < 2 {
        return;
    }
    let name = choices
        .iter()
        .find(|(of, _)| of == chosen)
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    egui::ComboBox::from_label("Curve of")
        .selected_text(name)
        .show_ui(ui, |ui| {
            for (of, name) in choices {
                ui.selectable_value(chosen, *of, name.as_str());
            }
        });
}

/// A curve's measures as the bar shows them.
pub fn measures_text(curve: &CurveInfo) -> String {
    let (unit, one) = match curve.time_unit {
        TimeUnit::Seconds => ("s", "second"),
        TimeUnit::Volumes => ("volumes", "volume"),
    };
    format!(
        "baseline {:.1}, peak {:.1} at {:.1} {unit}, wash-in {:.2} a {one}, area {:.0}",
        curve.baseline, curve.peak, curve.time_to_peak, curve.wash_in_slope, curve.area_under_curve
    )
}

/// One curve to show: its values over the volumes, and what to save.
pub struct Shown<'a> {
    /// Each volume's label and time (s), in order.
    pub volumes: &'a [(String, Option<f64>)],
    /// The value in each volume.
    pub values: &'a [f64],
    /// The values' unit (`HU`), or empty.
    pub unit: &'a str,
    /// The volume shown.
    pub shown: usize,
    /// Its measures, where they could be taken.
    pub measures: Option<CurveInfo>,
}

/// Draws `curve` and its measures; true when **Save CSV** was pressed. `saved` is the last
/// saving's outcome, said beside the button.
pub fn show(ui: &mut egui::Ui, curve: &Shown, saved: Option<&Result<PathBuf, String>>) -> bool {
    ui.separator();
    let (rect, _) = ui.allocate_exact_size(PLOT_SIZE, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(17));
    let times: Vec<f64> = (0..curve.values.len())
        .map(|n| {
            curve
                .volumes
                .get(n)
                .and_then(|(_, time)| *time)
                .unwrap_or(n as f64)
        })
        .collect();
    let span = |values: &[f64]| {
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low, (high - low).max(f64::EPSILON))
    };
    let ((t0, dt), (v0, dv)) = (span(&times), span(curve.values));
    let inner = rect.shrink(6.0);
    let at = |t: f64, v: f64| {
        egui::pos2(
            inner.left() + ((t - t0) / dt) as f32 * inner.width(),
            inner.bottom() - ((v - v0) / dv) as f32 * inner.height(),
        )
    };
    let points: Vec<egui::Pos2> = times
        .iter()
        .zip(curve.values)
        .map(|(t, v)| at(*t, *v))
        .collect();
    painter.add(egui::Shape::line(
        points.clone(),
        egui::Stroke::new(1.5, CURVE_COLOUR),
    ));
    if let Some(point) = points.get(curve.shown) {
        painter.circle_filled(*point, 3.5, egui::Color32::WHITE);
    }
    if let Some(measures) = &curve.measures {
        ui.label(measures_text(measures));
    }
    let pressed = ui
        .button("Save CSV")
        .on_hover_text("the curve, a row a volume, into the folder screenshots go to")
        .clicked();
    match saved {
        Some(Ok(path)) => {
            ui.label(format!("saved to {}", path.display()));
        }
        Some(Err(why)) => {
            ui.colored_label(egui::Color32::LIGHT_RED, why);
        }
        None => {}
    }
    pressed
}

/// Writes `curve`'s CSV (as the findings' exports write it) into `folder`, named after
/// `series`: the file, or why not.
pub fn save_csv(curve: &Shown, folder: &Path, series: &str) -> Result<PathBuf, String> {
    let csv = hounsfield_findings::curve::curve_csv(curve.volumes, curve.values, curve.unit);
    let path = folder.join(crate::screenshot::user_file_name("curve", series, "csv"));
    let written = std::fs::write(&path, csv)
        .map(|()| path.clone())
        .map_err(|error| format!("the curve was not saved to {}: {error}", path.display()));
    match &written {
        Ok(path) => tracing::info!(path = %path.display(), "the curve was saved"),
        Err(why) => tracing::warn!(%why, "no curve saved"),
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_read_in_seconds_or_volumes() {
        let measures = CurveInfo {
            time_unit: TimeUnit::Seconds,
            baseline: 100.0,
            peak: 180.0,
            time_to_peak: 6.0,
            wash_in_slope: 20.0,
            area_under_curve: 400.0,
        };
        assert_eq!(
            measures_text(&measures),
            "baseline 100.0, peak 180.0 at 6.0 s, wash-in 20.00 a second, area 400"
        );
        let by_volume = CurveInfo {
            time_unit: TimeUnit::Volumes,
            ..measures
        };
        assert!(measures_text(&by_volume).contains("at 6.0 volumes, wash-in 20.00 a volume"));
    }
}
