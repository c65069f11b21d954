//! The rate at which a call's data arrives: every byte of its answers counted
//! ([`Meter`]), and a sliding window over those counts ([`Window`]) that says when less
//! than a minimum arrived in one window ([`watch`], which a retrieval runs beside it).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::deadlines::MinimumRate;

/// The bytes a call has received so far, all its answers together.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    bytes: AtomicU64,
    armed: AtomicBool,
}

impl Meter {
    /// Starts the clock: the head of an answer has come (before it, the first-byte limit
    /// is what bounds the wait).
    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::Relaxed);
    }

    /// Counts `bytes` more received.
    pub(crate) fn add(&self, bytes: usize) {
        self.bytes
            .fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Whether an answer has begun.
    fn armed(&self) -> bool {
        self.armed.load(Ordering::Relaxed)
    }

    /// The bytes received so far.
    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Too little received: `received` bytes over `over`, a span at least one window long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shortfall {
    /// Bytes received over the span.
    pub received: u64,
    /// The span, from the sample it was counted from to the latest.
    pub over: Duration,
}

/// Samples of the bytes received so far, going back one window.
#[derive(Debug)]
pub(crate) struct Window {
    rate: MinimumRate,
    samples: VecDeque<(Instant, u64)>,
}

impl Window {
    /// An empty window for `rate`.
    pub(crate) fn new(rate: MinimumRate) -> Self {
        Self {
            rate,
            samples: VecDeque::new(),
        }
    }

    /// Records that `total` bytes had been received at `now`: a shortfall when, since the
    /// newest sample at least a window old, fewer than the rate's bytes arrived. Nothing
    /// is said until the first sample is a window old.
    pub(crate) fn observe(&mut self, now: Instant, total: u64) -> Option<Shortfall> {
        self.samples.push_back((now, total));
        // Keep the newest sample at least a window old, and every later one.
        while self
            .samples
            .get(1)
            .is_some_and(|&(at, _)| now.saturating_duration_since(at) >= self.rate.window)
        {
            self.samples.pop_front();
        }
        let &(since, then) = self.samples.front()?;
        let over = now.saturating_duration_since(since);
        let received = total.saturating_sub(then);
        (over >= self.rate.window && received < self.rate.bytes)
            .then_some(Shortfall { received, over })
    }
}

/// Waits until the bytes `meter` counts fall below `rate` over one window, counted from
/// the head of the call's first answer on; looked at ten times a window. Never ends while
/// the rate is met.
pub(crate) async fn watch(meter: &Meter, rate: MinimumRate) -> Shortfall {
    let tick = (rate.window / 10).max(Duration::from_millis(10));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut window = Window::new(rate);
    loop {
        interval.tick().await;
        if !meter.armed() {
            continue;
        }
        if let Some(shortfall) = window.observe(Instant::now(), meter.bytes()) {
            return shortfall;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: MinimumRate = MinimumRate {
        bytes: 1000,
        window: Duration::from_secs(10),
    };

    /// Feeds `window` a sample a second, `bytes_at(second)` the total received by then:
    /// the second of the first shortfall, if any in `seconds`.
    fn first_shortfall(seconds: u64, bytes_at: impl Fn(u64) -> u64) -> Option<(u64, Shortfall)> {
        let start = Instant::now();
        let mut window = Window::new(RATE);
        (0..=seconds).find_map(|second| {
            window
                .observe(start + Duration::from_secs(second), bytes_at(second))
                .map(|shortfall| (second, shortfall))
        })
    }

    #[test]
    fn a_steady_transfer_is_never_short_however_long_it_runs() {
        assert_eq!(first_shortfall(3600, |second| second * 200), None);
    }

    #[test]
    fn a_dribble_is_short_once_a_whole_window_has_passed() {
        let (second, shortfall) = first_shortfall(3600, |second| second / 20).expect("a shortfall");
        assert_eq!(second, 10, "not before a window has passed");
        assert_eq!(
            shortfall,
            Shortfall {
                received: 0,
                over: Duration::from_secs(10)
            }
        );
    }

    #[test]
    fn a_pause_shorter_than_a_window_is_not_short_and_a_longer_one_is() {
        // Fast until 20 s, silent from 20 s to 29 s, fast again: never short.
        let pause = |from: u64, to: u64| {
            move |second: u64| second.min(from) * 5000 + second.saturating_sub(to) * 5000
        };
        assert_eq!(first_shortfall(60, pause(20, 29)), None);
        // Silent from 20 s to 40 s: short once the last bytes are a window old.
        let (second, shortfall) = first_shortfall(60, pause(20, 40)).expect("a shortfall");
        assert_eq!(second, 30);
        assert_eq!(shortfall.received, 0);
    }

    #[test]
    fn a_transfer_slowing_below_the_rate_is_short_a_window_later() {
        // 200 bytes a second for a minute, then 50 a second (500 a window, under 1000).
        let bytes_at = |second: u64| second.min(60) * 200 + second.saturating_sub(60) * 50;
        let (second, shortfall) = first_shortfall(600, bytes_at).expect("a shortfall");
        // At 66 s the last window holds 6 s at 50 and 4 s at 200: 1100; at 67 s, 950.
        assert_eq!(second, 67);
        assert_eq!(shortfall.received, 950);
    }
}
