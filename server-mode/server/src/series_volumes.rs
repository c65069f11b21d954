//! The volumes of a series as the server keeps them: one, or every volume of a series
//! over time in order, each with its label and time. The library's cache holds them as
//! one entry (their bytes counted together), and a session shows one at a time.

use std::sync::Arc;

use hounsfield_findings::curve::{self, voxels_curve};
use hounsfield_protocol::{CurveInfo, TimePointInfo, TimeUnit};
use render_core::Volume;

/// The measures of the curve `values` over volumes at `times_s` (seconds, where each has
/// one), as the protocol tells them; `None` where none can be taken (fewer than two
/// volumes, a value not finite).
pub fn curve_info(times_s: &[Option<f64>], values: &[f64]) -> Option<CurveInfo> {
    let (times, basis) = curve::curve_times(times_s);
    let measures = curve::measure(&times, values)?;
    Some(CurveInfo {
        time_unit: match basis {
            curve::TimeBasis::Seconds => TimeUnit::Seconds,
            curve::TimeBasis::Volumes => TimeUnit::Volumes,
        },
        baseline: measures.baseline,
        peak: measures.peak,
        time_to_peak: measures.time_to_peak,
        wash_in_slope: measures.wash_in_slope,
        area_under_curve: measures.area_under_curve,
    })
}

/// The time-intensity curve of some voxels (a region's, a segment's) in a series over
/// time: their mean in every volume, and the curve's measures; empty in a series of one
/// volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeCurve {
    /// The mean in each volume, in order.
    pub values: Vec<f64>,
    /// The curve's measures (`None` where none can be taken).
    pub measures: Option<CurveInfo>,
}

/// One volume of a series over time.
#[derive(Debug)]
pub struct TimePointVolume {
    /// What tells it from the others (`time point 3`, `echo 2`…).
    pub label: String,
    /// Seconds from the first volume, or its cardiac phase; `None` without times.
    pub time_s: Option<f64>,
    /// Its voxels.
    pub volume: Arc<Volume>,
}

/// The volumes of a series, never none: cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct SeriesVolumes {
    /// In order; the first is the series' volume when it has one alone.
    time_points: Arc<[TimePointVolume]>,
    /// A PET's SUV (body weight) a Bq/ml, when its header gives what it is computed from.
    suv_factor: Option<f64>,
}

impl SeriesVolumes {
    /// A series of one volume.
    pub fn one(volume: Arc<Volume>) -> Self {
        Self {
            time_points: Arc::new([TimePointVolume {
                label: String::new(),
                time_s: None,
                volume,
            }]),
            suv_factor: None,
        }
    }

    /// A series over time; `None` when `time_points` is empty.
    pub fn over_time(time_points: Vec<TimePointVolume>) -> Option<Self> {
        (!time_points.is_empty()).then(|| Self {
            time_points: time_points.into(),
            suv_factor: None,
        })
    }

    /// These volumes of a PET whose values times `factor` are SUV (body weight).
    pub fn with_suv_factor(self, factor: Option<f64>) -> Self {
        Self {
            suv_factor: factor,
            ..self
        }
    }

    /// SUV a Bq/ml, for a PET whose header gives what it is computed from.
    pub fn suv_factor(&self) -> Option<f64> {
        self.suv_factor
    }

    /// The first volume (the only one of a series not over time).
    pub fn first(&self) -> &Arc<Volume> {
        &self.time_points[0].volume
    }

    /// The volume at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&TimePointVolume> {
        self.time_points.get(index)
    }

    /// How many volumes.
    pub fn count(&self) -> usize {
        self.time_points.len()
    }

    /// Whether there is more than one volume.
    pub fn is_over_time(&self) -> bool {
        self.time_points.len() > 1
    }

    /// The volumes in order.
    pub fn iter(&self) -> impl Iterator<Item = &TimePointVolume> {
        self.time_points.iter()
    }

    /// Their voxels' bytes together (what the cache counts).
    pub fn size_bytes(&self) -> usize {
        self.time_points
            .iter()
            .map(|time_point| time_point.volume.size_bytes())
            .sum()
    }

    /// Whether both hold the same volumes (the same copies).
    pub fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.time_points, &other.time_points)
    }

    /// The curve of the voxels at `indices` (flat, into the grid the volumes share)
    /// over the volumes; empty for a series of one volume or no voxels.
    pub fn curve_of(&self, indices: &[usize]) -> TimeCurve {
        if !self.is_over_time() || indices.is_empty() {
            return TimeCurve::default();
        }
        let values = voxels_curve(self.iter().map(|time_point| &*time_point.volume), indices);
        let times_s: Vec<Option<f64>> = self.iter().map(|time_point| time_point.time_s).collect();
        TimeCurve {
            measures: curve_info(&times_s, &values),
            values,
        }
    }

    /// What `opened.volumes` lists: each volume's label and time, or nothing for a
    /// series of one volume.
    pub fn infos(&self) -> Vec<TimePointInfo> {
        if !self.is_over_time() {
            return Vec::new();
        }
        self.time_points
            .iter()
            .map(|time_point| TimePointInfo {
                label: time_point.label.clone(),
                time_s: time_point.time_s,
            })
            .collect()
    }
}
