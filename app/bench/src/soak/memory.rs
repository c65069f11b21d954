//! Resident memory of this process over the soak (`VmRSS` in `/proc/self/status`, Linux
//! only): samples at a steady pace, and what they say once the warm-up is over — growth
//! from the end of the warm-up to the end, the peak, and the trend.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Growth after the warm-up that a soak should stay under (per cent).
pub(super) const GOAL_GROWTH_PCT: f64 = 10.0;
/// The share of the soak counted as warm-up (caches filling, pipelines compiled).
const WARM_UP_SHARE: f64 = 0.2;

/// One sample: seconds into the soak, resident MiB.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct RssSample {
    /// Seconds since the soak started.
    pub(super) t_s: f64,
    /// Resident memory then (MiB).
    pub(super) rss_mib: f64,
}

/// What the samples say.
#[derive(Debug, Serialize)]
pub(super) struct MemoryFigures {
    /// The warm-up: the first 20 % of the soak, at least one sample interval (s).
    pub(super) warm_up_s: f64,
    /// Resident memory at the end of the warm-up (the first sample at or after it; MiB).
    pub(super) rss_warm_up_mib: f64,
    /// Resident memory at the last sample (MiB).
    pub(super) rss_end_mib: f64,
    /// The highest sample (MiB).
    pub(super) rss_peak_mib: f64,
    /// From the end of the warm-up to the end (per cent).
    pub(super) rss_growth_pct: f64,
    /// The least-squares trend of the samples after the warm-up (MiB a minute).
    pub(super) rss_trend_mib_per_min: f64,
    /// Whether the growth stayed under [`GOAL_GROWTH_PCT`].
    pub(super) rss_goal_met: bool,
}

pub(super) use super::super::memory::resident_mib;

/// How often to sample a soak of `soak`: 60 samples or so, between 0.5 and 5 s apart.
pub(super) fn sample_every(soak: Duration) -> Duration {
    Duration::from_secs_f64((soak.as_secs_f64() / 60.0).clamp(0.5, 5.0))
}

/// Samples every `every` from `started` until `until` (the first at once, the last at
/// `until`); none where resident memory cannot be read.
pub(super) async fn sample(started: Instant, every: Duration, until: Instant) -> Vec<RssSample> {
    let capacity = (until.saturating_duration_since(started).as_secs_f64()
        / every.as_secs_f64().max(1e-3)) as usize
        + 2;
    let mut samples = Vec::with_capacity(capacity);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = tokio::select! {
            _ = ticker.tick() => Instant::now(),
            () = tokio::time::sleep_until(until.into()) => until,
        };
        let Some(rss_mib) = resident_mib() else {
            return Vec::new();
        };
        samples.push(RssSample {
            t_s: now.saturating_duration_since(started).as_secs_f64(),
            rss_mib,
        });
        if now >= until {
            return samples;
        }
    }
}

/// The figures of `samples` taken `every` apart over a soak of `soak`; `None` without
/// samples.
pub(super) fn figures(
    samples: &[RssSample],
    soak: Duration,
    every: Duration,
) -> Option<MemoryFigures> {
    let last = samples.last()?;
    let warm_up_s = (soak.as_secs_f64() * WARM_UP_SHARE).max(every.as_secs_f64());
    let after: Vec<RssSample> = samples
        .iter()
        .copied()
        .filter(|sample| sample.t_s >= warm_up_s)
        .collect();
    let warm = after.first().unwrap_or(last);
    let growth_pct = if warm.rss_mib > 0.0 {
        (last.rss_mib - warm.rss_mib) / warm.rss_mib * 100.0
    } else {
        0.0
    };
    Some(MemoryFigures {
        warm_up_s,
        rss_warm_up_mib: warm.rss_mib,
        rss_end_mib: last.rss_mib,
        rss_peak_mib: samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
        rss_growth_pct: growth_pct,
        rss_trend_mib_per_min: trend_per_s(&after) * 60.0,
        rss_goal_met: growth_pct < GOAL_GROWTH_PCT,
    })
}

/// The least-squares slope of resident memory over time (MiB a second); 0 with fewer
/// than two samples.
fn trend_per_s(samples: &[RssSample]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.t_s).sum::<f64>() / n;
    let mean_rss = samples.iter().map(|s| s.rss_mib).sum::<f64>() / n;
    let covariance: f64 = samples
        .iter()
        .map(|s| (s.t_s - mean_t) * (s.rss_mib - mean_rss))
        .sum();
    let variance: f64 = samples.iter().map(|s| (s.t_s - mean_t).powi(2)).sum();
    if variance > 0.0 {
        covariance / variance
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_counts_from_the_end_of_the_warm_up() {
        // 100 s sampled every 10 s: 200 MiB rising to 300 by the warm-up's end (20 s),
        // then 1 MiB every 10 s.
        let samples: Vec<RssSample> = (0..=10)
            .map(|n| {
                let t_s = f64::from(n) * 10.0;
                let rss_mib = if n < 2 {
                    200.0
                } else {
                    300.0 + f64::from(n - 2)
                };
                RssSample { t_s, rss_mib }
            })
            .collect();
        let figures =
            figures(&samples, Duration::from_secs(100), Duration::from_secs(10)).expect("samples");
        assert_eq!(figures.warm_up_s, 20.0);
        assert_eq!(figures.rss_warm_up_mib, 300.0);
        assert_eq!(figures.rss_end_mib, 308.0);
        assert_eq!(figures.rss_peak_mib, 308.0);
        assert!((figures.rss_growth_pct - 8.0 / 3.0).abs() < 1e-9);
        assert!((figures.rss_trend_mib_per_min - 6.0).abs() < 1e-9);
        assert!(figures.rss_goal_met);
        assert!(super::figures(&[], Duration::from_secs(1), Duration::from_secs(1)).is_none());
    }

    #[test]
    fn sixty_samples_between_half_a_second_and_five_seconds_apart() {
        assert_eq!(
            sample_every(Duration::from_secs(180)),
            Duration::from_secs(3)
        );
        assert_eq!(
            sample_every(Duration::from_secs(15)),
            Duration::from_millis(500)
        );
        assert_eq!(
            sample_every(Duration::from_secs(3600)),
            Duration::from_secs(5)
        );
    }
}
