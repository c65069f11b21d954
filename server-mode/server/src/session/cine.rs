//! A series over time shown one volume at a time: the `time_point` input shows one, the
//! `cine` input plays them in turn at the rate the reader chooses ([`MIN_CINE_FPS`] to
//! [`MAX_CINE_FPS`], held here alone). The picture follows the volume
//! without reloading: every volume is in memory from the open on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use render_core::Volume;

use super::input::{bad_value, not_open};
use super::{OpenSeries, Pending, Refusal, Session};
use crate::series_volumes::{SeriesVolumes, TimePointVolume};

/// The most volumes a second a cine plays: past a video's rate, a reader sees no more,
/// and each step asks the renderer for a frame.
pub const MAX_CINE_FPS: f64 = 30.0;
/// The fewest volumes a second a cine plays (one every ten seconds); 0 stops it.
pub const MIN_CINE_FPS: f64 = 0.1;
/// The rates a cine plays at, volumes a second.
pub const CINE_FPS: std::ops::RangeInclusive<f64> = MIN_CINE_FPS..=MAX_CINE_FPS;

/// A cine's clock: its rate and when it next steps to the following volume. A server's
/// session and a window rendering here keep one each.
#[derive(Debug, Clone, Copy)]
pub struct CineClock {
    fps: f64,
    period: Duration,
    next_at: Instant,
}

impl CineClock {
    /// A clock stepping `fps` times a second (within [`CINE_FPS`], which callers hold it
    /// to), its first step a period after `now`.
    pub fn new(fps: f64, now: Instant) -> Self {
        let period = period_of(fps);
        Self {
            fps,
            period,
            next_at: now + period,
        }
    }

    /// Volumes a second.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// Steps `fps` times a second from its next step on (within [`CINE_FPS`]).
    pub fn set_fps(&mut self, fps: f64) {
        self.fps = fps;
        self.period = period_of(fps);
    }

    /// When it next steps.
    pub fn next_step(&self) -> Instant {
        self.next_at
    }

    /// Whether a step is due at `now`; when one is, the next is set a period on. A clock
    /// behind its rate (frames slower than it) steps once and goes on a period from
    /// `now`, never in a burst.
    pub fn step_due(&mut self, now: Instant) -> bool {
        if now < self.next_at {
            return false;
        }
        let due = self.next_at + self.period;
        self.next_at = if due <= now { now + self.period } else { due };
        true
    }
}

/// A step's length at `fps` volumes a second, held to [`CINE_FPS`] (a rate near 0 would
/// overflow it).
fn period_of(fps: f64) -> Duration {
    Duration::from_secs_f64(1.0 / fps.clamp(MIN_CINE_FPS, MAX_CINE_FPS))
}

impl OpenSeries {
    /// The volume shown: the view's time point's (checked when it was set).
    pub(super) fn volume(&self) -> &Arc<Volume> {
        self.volumes
            .get(self.view.time_point)
            .map_or_else(|| self.volumes.first(), |shown| &shown.volume)
    }

    /// Shows volume `index` of the series; why not when it has no such volume.
    pub(super) fn show_volume(&mut self, index: usize) -> Result<(), Refusal> {
        let count = self.volumes.count();
        self.volumes.get(index).ok_or_else(|| {
            bad_value(format!(
                "time_point index {index}: the series has {count} volume{} (0..={})",
                if count == 1 { "" } else { "s" },
                count - 1
            ))
        })?;
        self.view.time_point = index;
        Ok(())
    }
}

impl Session {
    /// Shows volume `index` of the open series (a `time_point` input).
    pub(super) fn show_time_point(&mut self, index: usize) -> Result<Pending, Refusal> {
        let interacting = self.interacting;
        let open = self.open.as_mut().ok_or_else(not_open)?;
        open.show_volume(index)?;
        Ok(if interacting {
            Pending::Interactive
        } else {
            Pending::Final
        })
    }

    /// Plays the open series' volumes in turn, `fps` a second from `now`, or stops the
    /// cine where it is (`fps` 0: a final still of the volume it stopped at).
    pub(super) fn play(&mut self, fps: f64, now: Instant) -> Result<Pending, Refusal> {
        if !(fps == 0.0 || CINE_FPS.contains(&fps)) {
            return Err(bad_value(format!(
                "cine fps {fps:?}: must be 0 (stop) or {MIN_CINE_FPS} to {MAX_CINE_FPS}"
            )));
        }
        let open = self.open.as_mut().ok_or_else(not_open)?;
        if fps == 0.0 {
            return Ok(match open.cine.take() {
                Some(_) => Pending::Final,
                None => Pending::Nothing,
            });
        }
        if !open.volumes.is_over_time() {
            return Err(bad_value(
                "cine: the series open has one volume, not a series over time".to_string(),
            ));
        }
        open.cine = Some(CineClock::new(fps, now));
        Ok(Pending::Nothing)
    }

    /// Steps a playing cine to the next volume (after the last, the first) when its time
    /// has come at `now` ([`CineClock::step_due`]); whether it stepped.
    pub(super) fn step_cine(&mut self, now: Instant) -> bool {
        let Some(open) = self.open.as_mut() else {
            return false;
        };
        if !open.cine.as_mut().is_some_and(|cine| cine.step_due(now)) {
            return false;
        }
        let next = (open.view.time_point + 1) % open.volumes.count();
        open.show_volume(next).is_ok()
    }

    /// Volumes a second while a cine plays.
    pub fn cine_fps(&self) -> Option<f64> {
        self.open.as_ref()?.cine.map(|cine| cine.fps())
    }

    /// The open series' volumes (one, or each of a series over time).
    pub fn volumes(&self) -> Option<&SeriesVolumes> {
        self.open.as_ref().map(|open| &open.volumes)
    }

    /// The volume at `index` of the open series, when it is a series over time and has
    /// one there.
    pub fn time_point(&self, index: usize) -> Option<&TimePointVolume> {
        let volumes = &self.open.as_ref()?.volumes;
        volumes.is_over_time().then(|| volumes.get(index)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use hounsfield_protocol::{Action, ErrorCode, Input, Viewport};
    use render_core::transfer::PresetLibrary;

    use super::super::{Session, SessionLimits};
    use crate::series_volumes::{SeriesVolumes, TimePointVolume};

    /// A session with a series of three phantoms over time open, its first frame taken.
    fn over_time() -> (Session, SeriesVolumes) {
        let volumes = SeriesVolumes::over_time(
            (0..3)
                .map(|n| TimePointVolume {
                    label: format!("time point {}", n + 1),
                    time_s: Some(f64::from(n) * 4.0),
                    volume: Arc::new(render_core::phantom::ct_phantom()),
                })
                .collect(),
        )
        .expect("three volumes");
        let viewport = Viewport {
            width: 64,
            height: 48,
        };
        let mut session =
            Session::new(SessionLimits::default(), PresetLibrary::builtin(), viewport);
        let opened = session.open("over-time", volumes.clone());
        assert_eq!(opened.volumes.len(), 3);
        assert_eq!(opened.volumes[2].label, "time point 3");
        assert_eq!(opened.volumes[2].time_s, Some(8.0));
        session
            .next_request(Instant::now())
            .expect("the first frame");
        (session, volumes)
    }

    fn input(seq: u32, action: Action) -> Input {
        Input {
            seq,
            t: 0.0,
            action,
        }
    }

    #[test]
    fn a_time_point_shows_its_volume_and_one_past_the_last_is_refused() {
        let (mut session, volumes) = over_time();
        let now = Instant::now();
        session
            .apply(&input(1, Action::TimePoint { index: 2 }), now)
            .expect("the third volume");
        let frame = session.next_request(now).expect("a still of it");
        assert!(frame.final_still);
        assert_eq!(frame.view.time_point, 2);
        let third = &volumes.get(2).expect("three").volume;
        assert!(Arc::ptr_eq(&frame.volume, third));
        let refused = session
            .apply(&input(2, Action::TimePoint { index: 3 }), now)
            .expect_err("there are three");
        assert_eq!(refused.code, ErrorCode::BadValue);
        assert!(refused.message.contains("3 volumes"), "{}", refused.message);
        assert_eq!(session.view().expect("open").time_point, 2);
        // A shared view carries it; a reset goes back to the first.
        assert_eq!(session.shared_view().expect("open").time_point, 2);
        session.apply(&input(3, Action::Reset), now).expect("reset");
        let reset = session.next_request(now).expect("a still");
        assert!(Arc::ptr_eq(&reset.volume, volumes.first()));
    }

    #[test]
    fn a_cine_steps_at_its_rate_round_the_volumes_and_a_stop_gives_a_still() {
        let (mut session, volumes) = over_time();
        let start = Instant::now();
        session
            .apply(&input(1, Action::Cine { fps: 10.0 }), start)
            .expect("plays");
        assert_eq!(session.cine_fps(), Some(10.0));
        assert!(
            session.next_request(start).is_none(),
            "nothing before the first step"
        );
        let mut now = start;
        let mut shown = Vec::new();
        for _ in 0..4 {
            let due = session.next_deadline().expect("the next step");
            assert_eq!(due - now, Duration::from_millis(100));
            now = due;
            let frame = session.next_request(now).expect("a step's frame");
            assert!(!frame.final_still, "cine frames are interactive");
            shown.push(frame.view.time_point);
            assert!(Arc::ptr_eq(
                &frame.volume,
                &volumes.get(frame.view.time_point).expect("a volume").volume
            ));
            assert!(
                session.next_request(now).is_none(),
                "no still between steps"
            );
        }
        assert_eq!(shown, [1, 2, 0, 1]);
        // Behind by a second, it steps once, then goes on a period later.
        now += Duration::from_secs(1);
        assert_eq!(
            session.next_request(now).expect("one step").view.time_point,
            2
        );
        assert_eq!(
            session.next_deadline(),
            Some(now + Duration::from_millis(100))
        );
        session
            .apply(&input(2, Action::Cine { fps: 0.0 }), now)
            .expect("stops");
        let still = session.next_request(now).expect("a still where it stopped");
        assert!(still.final_still && still.view.time_point == 2);
        assert_eq!(session.next_deadline(), None);
        for fps in [f64::NAN, 0.05, 31.0, -1.0] {
            let refused = session
                .apply(&input(3, Action::Cine { fps }), now)
                .expect_err("out of range");
            assert!(
                refused.message.starts_with("cine fps"),
                "{}",
                refused.message
            );
        }
    }

    #[test]
    fn a_series_of_one_volume_has_no_cine() {
        let mut session = Session::new(
            SessionLimits::default(),
            PresetLibrary::builtin(),
            Viewport {
                width: 32,
                height: 32,
            },
        );
        let opened = session.open(
            "one",
            SeriesVolumes::one(Arc::new(render_core::phantom::ct_phantom())),
        );
        assert!(opened.volumes.is_empty());
        let refused = session
            .apply(&input(1, Action::Cine { fps: 5.0 }), Instant::now())
            .expect_err("one volume");
        assert!(
            refused.message.contains("one volume"),
            "{}",
            refused.message
        );
    }
}
