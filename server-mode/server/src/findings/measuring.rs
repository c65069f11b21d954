//! Findings measured off the connections' threads. A region's statistics read every voxel
//! of its slice inside the outline (a 512-vertex polygon over a whole 512 × 512 slice is
//! tenths of a second of a core), so measuring is the one piece of a session's work whose
//! cost a client chooses. It runs in the server's one measuring lane
//! ([`MeasuringLane`]: one finding at a time, on a blocking thread, never on the threads
//! that carry every session's frames), and each session's measuring is held to its share
//! of that lane ([`MeasuringShare`]); the segment tools run in the same lane, charged
//! to the same share: a flood of edits from one client waits for, or is
//! refused by, its own share, and another client's frames do not wait for it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hounsfield_findings::{Finding, Measurement};
use render_core::Volume;
use tokio::sync::Semaphore;

use crate::series_volumes::{SeriesVolumes, TimeCurve};

/// The seconds of measuring a session may use each second, sustained, unless the
/// server's limits say otherwise (`SessionLimits::measuring_share_per_s`).
pub(crate) const SHARE_PER_S: f64 = 0.25;
/// The least and most a server's limits may set it to: a session is never shut out of
/// the lane, and never has more than the whole of it.
const SHARE_PER_S_RANGE: std::ops::RangeInclusive<f64> = 0.01..=1.0;
/// The seconds of measuring a session may use at once, above its share (a person drawing
/// a few large regions in a row).
pub(crate) const SHARE_BURST_S: f64 = 1.0;

/// Why a finding was not measured.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MeasuringError {
    /// The shape has nothing to measure on the volume.
    #[error("finding {0}")]
    Finding(#[from] hounsfield_findings::FindingError),
    /// The lane's thread failed (a panic) or the server is stopping.
    #[error("measuring the finding failed: {0}")]
    Lane(String),
}

/// The server's one lane for measuring findings: one at a time, on a blocking thread.
#[derive(Debug)]
pub(crate) struct MeasuringLane {
    turn: Arc<Semaphore>,
}

impl Default for MeasuringLane {
    fn default() -> Self {
        Self {
            turn: Arc::new(Semaphore::new(1)),
        }
    }
}

impl MeasuringLane {
    /// Measures `finding` on `volume` (the one its session shows of `series`) in its
    /// turn: a region's uptake in SUV too on a PET whose header gives the factor, and its
    /// curve over a series over time. What it measured, and how long the measuring itself
    /// took (the wait for the turn not counted).
    pub(crate) async fn measure(
        &self,
        volume: Arc<Volume>,
        finding: Finding,
        series: Option<SeriesVolumes>,
    ) -> Result<(Finding, Measured, Duration), MeasuringError> {
        let ((finding, measured), took) = self
            .run(move || {
                let measured = measured_on(&volume, &finding, series.as_ref());
                (finding, measured)
            })
            .await?;
        Ok((finding, measured?, took))
    }

    /// Runs `work` in its turn (a segment tool, a finding's measuring): what it made, and
    /// how long it took (the wait for the turn not counted).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<(T, Duration), MeasuringError> {
        let turn = self
            .turn
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| MeasuringError::Lane(error.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let started = Instant::now();
            let made = work();
            (made, started.elapsed())
        })
        .await
        .map_err(|error| MeasuringError::Lane(error.to_string()))
    }
}

/// What a finding measured: on its volume, and across its series over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// On the volume it was drawn on.
    pub measurement: Measurement,
    /// A region's mean in every volume of a series over time (empty otherwise).
    pub curve: TimeCurve,
}

impl From<Measurement> for Measured {
    fn from(measurement: Measurement) -> Self {
        Self {
            measurement,
            curve: TimeCurve::default(),
        }
    }
}

/// What `finding` measures on `volume`, one of `series`.
fn measured_on(
    volume: &Volume,
    finding: &Finding,
    series: Option<&SeriesVolumes>,
) -> Result<Measured, hounsfield_findings::FindingError> {
    let measurement = match series.and_then(SeriesVolumes::suv_factor) {
        Some(factor) => finding.measure_in_suv(volume, factor)?,
        None => finding.measure(volume)?,
    };
    // The region's voxels are gathered again only for a series over time.
    let curve = match series.filter(|series| series.is_over_time()) {
        Some(series) => match finding.region_voxels(volume) {
            Some(voxels) => series.curve_of(&voxels?),
            None => TimeCurve::default(),
        },
        None => TimeCurve::default(),
    };
    Ok(Measured { measurement, curve })
}

/// A session's share of the measuring lane: seconds of measuring it may still use,
/// refilled at its rate (by default [`SHARE_PER_S`]) up to [`SHARE_BURST_S`]. A measurement
/// is begun while any is left and charged whole when it ends, so a session that overdraws
/// waits the longer.
#[derive(Debug, Clone)]
pub(crate) struct MeasuringShare {
    left_s: f64,
    at: Instant,
    per_s: f64,
}

impl MeasuringShare {
    /// A full share at `now`, refilled at `per_s` seconds a second (held between a
    /// hundredth and the whole lane; not a number: the default).
    pub(crate) fn new(now: Instant, per_s: f64) -> Self {
        let per_s = if per_s.is_nan() { SHARE_PER_S } else { per_s };
        Self {
            left_s: SHARE_BURST_S,
            at: now,
            per_s: per_s.clamp(*SHARE_PER_S_RANGE.start(), *SHARE_PER_S_RANGE.end()),
        }
    }

    /// The seconds of measuring it refills each second.
    pub(crate) fn per_s(&self) -> f64 {
        self.per_s
    }

    /// Whether the session may begin a measurement at `now`.
    pub(crate) fn may_measure(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.left_s > 0.0
    }

    /// Charges a measurement that took `took`, at `now`.
    pub(crate) fn charge(&mut self, took: Duration, now: Instant) {
        self.refill(now);
        self.left_s -= took.as_secs_f64();
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.left_s = (self.left_s + elapsed * self.per_s).min(SHARE_BURST_S);
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_overdrawn_refills_at_its_rate_and_never_past_its_burst() {
        let start = Instant::now();
        let mut share = MeasuringShare::new(start, SHARE_PER_S);
        assert!(share.may_measure(start));
        share.charge(Duration::from_millis(1500), start);
        assert!(!share.may_measure(start), "overdrawn by half a second");
        // Half a second owed, refilled at a quarter a second: two seconds on.
        assert!(!share.may_measure(start + Duration::from_millis(1900)));
        assert!(share.may_measure(start + Duration::from_millis(2100)));
        // A long rest fills it to its burst, no further.
        let rested = start + Duration::from_secs(3600);
        assert!(share.may_measure(rested));
        share.charge(Duration::from_millis(1001), rested);
        assert!(!share.may_measure(rested), "the burst is one second");
        // A server's limits may give a session the whole lane, never more.
        let mut whole = MeasuringShare::new(start, 5.0);
        assert_eq!(whole.per_s(), 1.0);
        whole.charge(Duration::from_millis(1500), start);
        assert!(!whole.may_measure(start + Duration::from_millis(400)));
        assert!(whole.may_measure(start + Duration::from_millis(600)));
        assert_eq!(MeasuringShare::new(start, f64::NAN).per_s(), SHARE_PER_S);
        assert_eq!(MeasuringShare::new(start, 0.0).per_s(), 0.01);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn findings_are_measured_one_at_a_time_off_the_async_threads() {
        use hounsfield_findings::FindingKind;
        use hounsfield_findings::outline::PlaneAxes;
        use hounsfield_protocol::SlicePlane;
        let volume = Arc::new(render_core::phantom::ct_phantom());
        let lane = Arc::new(MeasuringLane::default());
        let axes = PlaneAxes::of(SlicePlane::Axial);
        let centre = volume.centre_lps();
        let square = move |id: u32| {
            let corner = move |dx: f64, dy: f64| centre + glam::DVec3::new(dx, dy, 0.0);
            Finding::on_axes(
                id,
                FindingKind::Rectangle,
                SlicePlane::Axial,
                axes,
                vec![corner(-40.0, -40.0), corner(40.0, 40.0)],
                String::new(),
            )
            .expect("a square")
        };
        let measured: Vec<_> = futures_util::future::join_all((1..=4).map(|id| {
            let (lane, volume) = (lane.clone(), volume.clone());
            let finding = square(id);
            tokio::spawn(async move { lane.measure(volume, finding, None).await })
        }))
        .await;
        for result in measured {
            let (_, measured, _) = result.expect("joined").expect("measured");
            assert!(matches!(measured.measurement, Measurement::Region(_)));
        }
        // Nothing else measures while a finding is measured.
        let turn = lane
            .turn
            .clone()
            .try_acquire_owned()
            .expect("the lane is free");
        let waiting = tokio::spawn({
            let (lane, volume) = (lane.clone(), volume.clone());
            async move { lane.measure(volume, square(5), None).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "measured beside another");
        drop(turn);
        assert!(waiting.await.expect("joined").is_ok());
    }
}
