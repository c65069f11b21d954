//! A series over time rendered here: its volumes kept in memory, one shown at a time (the
//! renderer's volume swapped, the views drawn again), stepped by the reader or played in
//! turn at a chosen rate (cine) on the UI's clock; the time-intensity curve of the voxel
//! under the cursor read from every volume, kept when the pointer leaves the slices.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::DVec3;
use hounsfield_findings::curve;
use hounsfield_findings::unit_of;
use hounsfield_protocol::CurveInfo;
use hounsfield_server::session::{CineClock, curve_info};
use render_core::Volume;
use render_core::dicom::VolumeAtTime;

use super::LocalWorkspace;
use crate::time_curve::CurveOf;

/// The rate a cine starts at (volumes a second).
pub const DEFAULT_CINE_FPS: f64 = 8.0;
/// The rates a cine plays at (a server's bounds).
pub use hounsfield_server::session::CINE_FPS;

/// A volume's label with its time: `volume 4 · 15 s`.
pub fn volume_text(label: &str, time_s: Option<f64>) -> String {
    match time_s {
        Some(seconds) => format!("{label} · {} s", (seconds * 1000.0).round() / 1000.0),
        None => label.to_string(),
    }
}

/// One volume of a series over time.
pub struct LocalTimePoint {
    /// What tells it from the others (`volume 3`, `echo 2`…).
    pub label: String,
    /// Seconds from the first volume, or its cardiac phase.
    pub time_s: Option<f64>,
    volume: Arc<Volume>,
}

/// The volumes of a series over time and the one shown.
pub struct LocalTimePoints {
    /// In order.
    pub volumes: Vec<LocalTimePoint>,
    /// The one shown.
    pub shown: usize,
    /// The cine's rate (volumes a second), within [`CINE_FPS`].
    pub fps: f64,
    /// The cine's clock, while it plays.
    cine: Option<CineClock>,
    /// The curve of the voxel last read under the cursor.
    pub curve: Option<PointCurve>,
    /// What the bar plots: the cursor's voxel's curve, or a region's or a segment's.
    pub curve_of: CurveOf,
    /// The region's or segment's curve last worked out, with what it was of.
    chosen: Option<(ChosenKey, VoxelsCurve)>,
    /// Where a curve saved as CSV goes (the folder screenshots go to).
    pub curve_folder: PathBuf,
    /// The last curve saved: its file, or why not.
    pub curve_saved: Option<Result<PathBuf, String>>,
}

/// A region's or a segment's curve: their voxels' mean in each volume.
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelsCurve {
    /// The mean in each volume.
    pub values: Vec<f64>,
    /// Its measures, where they could be taken.
    pub measures: Option<CurveInfo>,
}

/// What a chosen curve was worked out from: the region or segment, and its voxels (a
/// region's, or the segments' generation).
#[derive(Debug, Clone, PartialEq)]
pub enum ChosenKey {
    /// A region's voxels on its slice.
    Region(u32, Vec<usize>),
    /// A segment, as the segments' generation had it.
    Segment(u32, u64),
}

/// A voxel's values over the volumes.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCurve {
    /// Where it was read (LPS mm).
    pub lps: DVec3,
    /// Its value in each volume.
    pub values: Vec<f64>,
    /// The values' unit (`HU` for a CT), or empty.
    pub unit: &'static str,
    /// Its measures, where they could be taken.
    pub measures: Option<CurveInfo>,
}

impl LocalTimePoints {
    /// Whether a cine plays.
    pub fn playing(&self) -> bool {
        self.cine.is_some()
    }

    /// The unit of the volumes' values (`HU` for a CT), or empty.
    pub fn unit(&self) -> &'static str {
        self.volumes
            .first()
            .map_or("", |first| unit_of(&first.volume.modality))
    }

    /// Each volume's label and time, in order.
    pub fn labels(&self) -> Vec<(String, Option<f64>)> {
        self.volumes
            .iter()
            .map(|volume| (volume.label.clone(), volume.time_s))
            .collect()
    }

    /// Reads the curve at `lps` from every volume, unless it is the one kept, with its
    /// measures; a point outside any volume keeps the last.
    pub fn follow(&mut self, lps: DVec3) {
        if self.curve.as_ref().is_some_and(|kept| kept.lps == lps) {
            return;
        }
        let values: Option<Vec<f64>> =
            curve::point_curve(self.volumes.iter().map(|v| v.volume.as_ref()), lps)
                .into_iter()
                .collect();
        if let Some(values) = values {
            let times_s: Vec<Option<f64>> = self.volumes.iter().map(|v| v.time_s).collect();
            let unit = self.unit();
            self.curve = Some(PointCurve {
                lps,
                measures: curve_info(&times_s, &values),
                values,
                unit,
            });
        }
    }
}

impl LocalTimePoints {
    /// The curve of `key`'s voxels (`voxels`, flat indices into the grid the volumes
    /// share) over the volumes: the one last worked out when the key is the same.
    pub fn voxels_curve(
        &mut self,
        key: ChosenKey,
        voxels: impl FnOnce() -> Vec<usize>,
    ) -> VoxelsCurve {
        if let Some((made, curve)) = &self.chosen
            && *made == key
        {
            return curve.clone();
        }
        let indices = voxels();
        let values = curve::voxels_curve(self.volumes.iter().map(|v| v.volume.as_ref()), &indices);
        let times_s: Vec<Option<f64>> = self.volumes.iter().map(|v| v.time_s).collect();
        let curve = VoxelsCurve {
            measures: curve_info(&times_s, &values),
            values,
        };
        self.chosen = Some((key, curve.clone()));
        curve
    }
}

impl LocalWorkspace {
    /// Keeps every volume of a series over time (`volumes`, the one loaded first); a
    /// series of one volume keeps none.
    pub fn keep_volumes_over_time(&mut self, volumes: Vec<VolumeAtTime>) {
        if volumes.len() < 2 {
            return;
        }
        let loaded = self.renderer.volume().cloned();
        let volumes = volumes
            .into_iter()
            .enumerate()
            .map(|(n, at_time)| LocalTimePoint {
                label: at_time.label,
                time_s: at_time.time_s,
                volume: match (n, &loaded) {
                    (0, Some(first)) => Arc::clone(first),
                    _ => Arc::new(at_time.volume),
                },
            })
            .collect();
        self.time = Some(LocalTimePoints {
            volumes,
            shown: 0,
            fps: DEFAULT_CINE_FPS,
            cine: None,
            curve: None,
            curve_of: CurveOf::Pointer,
            chosen: None,
            curve_folder: crate::screenshot::user_folder(),
            curve_saved: None,
        });
    }

    /// Shows volume `index` (wrapping round): uploaded, and the views drawn again.
    pub fn show_volume(&mut self, index: isize) {
        let Some(time) = &mut self.time else {
            return;
        };
        let count = time.volumes.len();
        let index =
            usize::try_from(index.rem_euclid(isize::try_from(count).unwrap_or(1))).unwrap_or(0);
        time.shown = index;
        let shown = &time.volumes[index];
        tracing::info!(
            "time point {} of {count}: {}{}",
            index + 1,
            shown.label,
            if time.playing() {
                format!(" (cine at {} a second)", time.fps)
            } else {
                String::new()
            }
        );
        for warning in self
            .renderer
            .load_volume_for(Arc::clone(&shown.volume), &self.view3d.view)
        {
            tracing::warn!(%warning, "volume {}", index + 1);
        }
        // The upload leaves the segments out of 3D: shown again from the next frame.
        self.segments_in_3d = u64::MAX;
        self.view3d.refresh();
        for slice in &mut self.slices {
            slice.refresh();
        }
    }

    /// Steps `by` volumes from the one shown.
    pub fn step_volume(&mut self, by: isize) {
        if let Some(shown) = self.time.as_ref().map(|time| time.shown) {
            self.show_volume(isize::try_from(shown).unwrap_or(0) + by);
        }
    }

    /// Plays the volumes in turn at the chosen rate from `now`, or pauses.
    pub fn play_or_pause(&mut self, now: Instant) {
        if let Some(time) = &mut self.time {
            time.cine = match time.cine {
                Some(_) => None,
                None => Some(CineClock::new(time.fps, now)),
            };
        }
    }

    /// Steps a playing cine when its time came at `now` (once, however late: never a
    /// burst); how long until it steps next, while it plays.
    pub fn tick_cine(&mut self, now: Instant) -> Option<Duration> {
        let time = self.time.as_mut()?;
        let cine = time.cine.as_mut()?;
        // The rate the reader set, from the next step on.
        cine.set_fps(time.fps);
        let due = cine.step_due(now);
        let next = cine.next_step();
        if due {
            self.step_volume(1);
        }
        Some(next.saturating_duration_since(now))
    }
}
