//! Time-intensity curves: a point's or a region's value in each volume of a series over
//! time, and the measures a perfusion reading takes of it.
//!
//! The measures, as the docs state them:
//! - **wash-in slope**: the steepest rise between two consecutive volumes up to the peak,
//!   in value units a second (a volume a unit where the series gives no times);
//! - **baseline**: the mean of the values up to where that rise starts (the volumes
//!   before the contrast arrives; the first value alone when the curve rises at once);
//! - **peak**: the highest value; **time to peak**: its time after the first volume's
//!   (the first of equal peaks);
//! - **area under the curve**: the area between the curve and its baseline, by the
//!   trapezoid rule over the volumes' times (value × seconds), negative where the curve
//!   falls below its baseline.

use glam::DVec3;
use hounsfield_volume::Volume;

use crate::calcium::VoxelBox;

/// The measures of one time-intensity curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveMeasures {
    /// Mean of the values before the steepest rise.
    pub baseline: f64,
    /// The highest value.
    pub peak: f64,
    /// The peak's time after the first volume (s, or volumes without times).
    pub time_to_peak: f64,
    /// The steepest rise up to the peak (value a second, or a volume).
    pub wash_in_slope: f64,
    /// The area between the curve and its baseline (value × s, or × volumes).
    pub area_under_curve: f64,
}

/// The measures of the curve `values` at `times` (ascending, one a value); `None` with
/// fewer than two volumes or any value not finite.
pub fn measure(times: &[f64], values: &[f64]) -> Option<CurveMeasures> {
    if values.len() < 2
        || times.len() != values.len()
        || !values.iter().chain(times).all(|v| v.is_finite())
    {
        return None;
    }
    let peak_at = values
        .iter()
        .enumerate()
        .fold(0, |best, (n, v)| if *v > values[best] { n } else { best });
    // The steepest rise up to the peak: the interval (rise_from, rise_from + 1).
    let slope = |n: usize| {
        let dt = times[n + 1] - times[n];
        if dt > 0.0 {
            (values[n + 1] - values[n]) / dt
        } else {
            0.0
        }
    };
    let (rise_from, wash_in_slope) = (0..peak_at).map(|n| (n, slope(n))).fold(
        (0, 0.0),
        |best, (n, s)| if s > best.1 { (n, s) } else { best },
    );
    let before = &values[..=rise_from];
    let baseline = before.iter().sum::<f64>() / before.len() as f64;
    let area_under_curve = times
        .windows(2)
        .zip(values.windows(2))
        .map(|(t, v)| (t[1] - t[0]) * ((v[0] - baseline) + (v[1] - baseline)) / 2.0)
        .sum();
    Some(CurveMeasures {
        baseline,
        peak: values[peak_at],
        time_to_peak: times[peak_at] - times[0],
        wash_in_slope,
        area_under_curve,
    })
}

/// What a curve's times count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBasis {
    /// Seconds from the first volume.
    Seconds,
    /// Volumes from the first (the series gives no times).
    Volumes,
}

impl TimeBasis {
    /// Its unit as reports name it: `s` or `volume`.
    pub fn unit(self) -> &'static str {
        match self {
            TimeBasis::Seconds => "s",
            TimeBasis::Volumes => "volume",
        }
    }
}

/// The CSV of a curve as the clients export it: a header (`index,label,time_s,value`, the
/// value's unit after it in brackets when there is one), then a row a volume: its index
/// from 0, its label, its time in seconds (empty where it has none) and the value. Each
/// of `volumes` is a label and a time; a value without a volume is labelled by its place.
pub fn curve_csv(volumes: &[(String, Option<f64>)], values: &[f64], unit: &str) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let value_heading = if unit.is_empty() {
        "value".to_string()
    } else {
        format!("value ({unit})")
    };
    // Writing to memory cannot fail: the writer's errors are I/O errors.
    let _ = writer.write_record(["index", "label", "time_s", value_heading.as_str()]);
    for (n, value) in values.iter().enumerate() {
        let (label, time) = volumes
            .get(n)
            .map(|(label, time)| (label.clone(), *time))
            .unwrap_or_else(|| (format!("volume {}", n + 1), None));
        let time = time.map(|t| t.to_string()).unwrap_or_default();
        let _ = writer.write_record([n.to_string(), label, time, value.to_string()]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The times a curve is measured over: the volumes' times (s) when every one has one,
/// else their places (0, 1, 2…); with what they count.
pub fn curve_times(times_s: &[Option<f64>]) -> (Vec<f64>, TimeBasis) {
    match times_s.iter().copied().collect::<Option<Vec<f64>>>() {
        Some(times) => (times, TimeBasis::Seconds),
        None => (
            (0..times_s.len()).map(|n| n as f64).collect(),
            TimeBasis::Volumes,
        ),
    }
}

/// The value nearest `lps` in each volume; `None` where the point is outside one.
pub fn point_curve<'a>(
    volumes: impl IntoIterator<Item = &'a Volume>,
    lps: DVec3,
) -> Vec<Option<f64>> {
    volumes
        .into_iter()
        .map(|volume| volume.nearest_voxel(lps).map(|(_, value)| value))
        .collect()
}

/// The mean value of the voxels of `region` in each volume (the volumes of one series
/// over time share their grid).
pub fn region_curve<'a>(
    volumes: impl IntoIterator<Item = &'a Volume>,
    region: VoxelBox,
) -> Vec<f64> {
    volumes
        .into_iter()
        .map(|volume| {
            let mut sum = 0.0;
            let mut count = 0usize;
            for k in region.from[2]..region.to[2] {
                for j in region.from[1]..region.to[1] {
                    for i in region.from[0]..region.to[0] {
                        if let Some(value) = volume.value([i, j, k]) {
                            sum += value;
                            count += 1;
                        }
                    }
                }
            }
            if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            }
        })
        .collect()
}

/// The mean value of the voxels at `indices` (flat indices into the grid the volumes of
/// one series over time share: a region's voxels on its slice, a segment's) in each
/// volume; `NaN` in a volume that holds none of them.
pub fn voxels_curve<'a>(
    volumes: impl IntoIterator<Item = &'a Volume>,
    indices: &[usize],
) -> Vec<f64> {
    volumes
        .into_iter()
        .map(|volume| {
            let (sum, count) = indices
                .iter()
                .filter_map(|&index| volume.voxels.get(index))
                .fold((0.0, 0usize), |(sum, count), value| {
                    (sum + value, count + 1)
                });
            if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bolus worked out by hand: flat at 100 for three volumes 2 s apart, a rise to
    /// 400 in one step, a peak of 500, then a wash-out.
    #[test]
    fn a_bolus_curve_measures_as_worked_out_by_hand() {
        let times = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
        let values = [100.0, 104.0, 96.0, 400.0, 500.0, 450.0, 300.0];
        let measures = measure(&times, &values).expect("seven volumes");
        // Steepest rise: 96 → 400 over 2 s, from the third volume.
        assert_eq!(measures.wash_in_slope, 152.0);
        assert_eq!(measures.baseline, 100.0, "mean of 100, 104, 96");
        assert_eq!(measures.peak, 500.0);
        assert_eq!(measures.time_to_peak, 8.0);
        // Above the baseline: 0, 4, −4, 300, 400, 350, 200; trapezoids 2 s wide:
        // (0+4) + (4−4) + (−4+300) + (300+400) + (400+350) + (350+200) = 2300.
        assert_eq!(measures.area_under_curve, 2300.0);
    }

    #[test]
    fn a_voxels_curve_is_their_mean_in_each_volume() {
        let phantom = hounsfield_volume::phantom::ct_phantom();
        let mut brighter = phantom.clone();
        let [ni, nj, nk] = phantom.dims;
        let values: Vec<f32> = (0..ni * nj * nk)
            .map(|n| phantom.voxels.get(n).unwrap_or_default() as f32 + 100.0)
            .collect();
        brighter.voxels = hounsfield_volume::Voxels::F32(values);
        let indices = [0, 7, ni * nj + 3];
        let mean = |volume: &Volume| {
            indices
                .iter()
                .map(|&n| volume.voxels.get(n).unwrap_or_default())
                .sum::<f64>()
                / 3.0
        };
        let curve = voxels_curve([&phantom, &brighter], &indices);
        assert_eq!(curve.len(), 2);
        assert!((curve[0] - mean(&phantom)).abs() < 1e-9, "{curve:?}");
        assert!((curve[1] - curve[0] - 100.0).abs() < 1e-6, "{curve:?}");
        assert!(voxels_curve([&phantom], &[ni * nj * nk])[0].is_nan());
    }

    #[test]
    fn a_curve_that_falls_from_the_first_volume_peaks_at_once_with_no_wash_in() {
        let measures = measure(&[0.0, 1.0, 2.0], &[9.0, 5.0, 1.0]).expect("three volumes");
        assert_eq!(measures.peak, 9.0);
        assert_eq!(measures.time_to_peak, 0.0);
        assert_eq!(measures.wash_in_slope, 0.0);
        assert_eq!(measures.baseline, 9.0);
        // Below the baseline: 0, −4, −8; trapezoids 1 s wide: −2 − 6.
        assert_eq!(measures.area_under_curve, -8.0);
    }

    #[test]
    fn one_volume_or_a_value_outside_gives_no_measures() {
        assert_eq!(measure(&[0.0], &[1.0]), None);
        assert_eq!(measure(&[0.0, 1.0], &[1.0, f64::NAN]), None);
    }

    #[test]
    fn a_curve_is_written_as_csv_a_row_a_volume_with_its_label_and_time() {
        let volumes = vec![
            ("phase 1, arterial".to_string(), Some(0.0)),
            ("say \"two\"".to_string(), Some(2.5)),
            ("no time".to_string(), None),
        ];
        let csv = curve_csv(&volumes, &[10.0, 42.5, -3.0, 7.0], "HU");
        assert_eq!(
            csv,
            "index,label,time_s,value (HU)\n\
             0,\"phase 1, arterial\",0,10\n\
             1,\"say \"\"two\"\"\",2.5,42.5\n\
             2,no time,,-3\n\
             3,volume 4,,7\n"
        );
        assert_eq!(curve_csv(&[], &[], ""), "index,label,time_s,value\n");
    }
}
