//! Whether local rendering keeps up: interactive frames counted over a sliding stretch of
//! interaction. Below 15 frames a second for 5 seconds of interaction, the desktop offers
//! to stream from a server instead.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Frames a second below which interaction counts as slow.
pub const SLOW_FPS: f64 = 15.0;
/// How long interaction must stay slow before the switch is offered.
pub const SLOW_FOR: Duration = Duration::from_secs(5);
/// A pause longer than this between interactive frames ends the stretch.
const PAUSE: Duration = Duration::from_millis(1500);

/// Interactive frame times over the current stretch of interaction.
#[derive(Debug, Default)]
pub struct Pace {
    frames: VecDeque<Instant>,
}

impl Pace {
    /// Records an interactive frame shown at `at`.
    pub fn frame(&mut self, at: Instant) {
        if self
            .frames
            .back()
            .is_some_and(|last| at.saturating_duration_since(*last) > PAUSE)
        {
            self.frames.clear();
        }
        self.frames.push_back(at);
        while self
            .frames
            .front()
            .is_some_and(|first| at.saturating_duration_since(*first) > SLOW_FOR)
        {
            self.frames.pop_front();
        }
    }

    /// Frames a second over the stretch, once it spans [`SLOW_FOR`] (else none).
    pub fn sustained_fps(&self) -> Option<f64> {
        let (first, last) = (self.frames.front()?, self.frames.back()?);
        let span = last.saturating_duration_since(*first);
        // The window keeps frames no older than SLOW_FOR; nearly all of it must be covered.
        if span < SLOW_FOR.mul_f64(0.9) {
            return None;
        }
        Some((self.frames.len() - 1) as f64 / span.as_secs_f64())
    }

    /// Whether interaction has been slow for [`SLOW_FOR`].
    pub fn is_slow(&self) -> bool {
        self.sustained_fps().is_some_and(|fps| fps < SLOW_FPS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pace: &mut Pace, start: Instant, fps: f64, seconds: f64) -> Instant {
        let step = Duration::from_secs_f64(1.0 / fps);
        let mut at = start;
        for _ in 0..(fps * seconds) as usize {
            pace.frame(at);
            at += step;
        }
        at
    }

    #[test]
    fn slow_only_after_five_seconds_below_fifteen_fps() {
        let start = Instant::now();
        let mut pace = Pace::default();
        let at = run(&mut pace, start, 8.0, 3.0);
        assert!(!pace.is_slow(), "three seconds are not enough");
        run(&mut pace, at, 8.0, 3.0);
        assert!(pace.is_slow(), "{:?}", pace.sustained_fps());

        let mut fast = Pace::default();
        run(&mut fast, start, 30.0, 8.0);
        assert!(!fast.is_slow(), "{:?}", fast.sustained_fps());
    }

    #[test]
    fn a_pause_starts_a_new_stretch() {
        let start = Instant::now();
        let mut pace = Pace::default();
        let at = run(&mut pace, start, 8.0, 3.0);
        run(&mut pace, at + Duration::from_secs(10), 8.0, 3.0);
        assert!(!pace.is_slow(), "two short drags are not five seconds");
    }
}
