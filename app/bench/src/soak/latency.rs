//! Input → frame latencies of a long drag in constant memory: a histogram of 1 ms buckets
//! up to [`LatencyHistogram::LIMIT_MS`] (longer ones counted above it), read as quantiles.

/// Counts of latencies by whole millisecond.
#[derive(Debug, Clone)]
pub(super) struct LatencyHistogram {
    /// `buckets[n]`: latencies from n to n + 1 ms.
    buckets: Vec<u32>,
    /// Latencies of [`Self::LIMIT_MS`] or more.
    above: u32,
    count: u64,
}

impl LatencyHistogram {
    /// The longest latency told apart (ms); longer ones read as this.
    pub(super) const LIMIT_MS: usize = 10_000;

    /// An empty histogram.
    pub(super) fn new() -> Self {
        Self {
            buckets: vec![0; Self::LIMIT_MS],
            above: 0,
            count: 0,
        }
    }

    /// Counts one latency (ms).
    pub(super) fn record(&mut self, latency_ms: f64) {
        let bucket = latency_ms.max(0.0).floor() as usize;
        match self.buckets.get_mut(bucket) {
            Some(count) => *count = count.saturating_add(1),
            None => self.above = self.above.saturating_add(1),
        }
        self.count += 1;
    }

    /// Adds `other`'s counts to these.
    pub(super) fn merge(&mut self, other: &Self) {
        for (count, more) in self.buckets.iter_mut().zip(&other.buckets) {
            *count = count.saturating_add(*more);
        }
        self.above = self.above.saturating_add(other.above);
        self.count += other.count;
    }

    /// The `q` quantile (nearest rank), as the middle of its 1 ms bucket; 0 when empty.
    pub(super) fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0_u64;
        for (ms, count) in self.buckets.iter().enumerate() {
            seen += u64::from(*count);
            if seen >= rank {
                return ms as f64 + 0.5;
            }
        }
        Self::LIMIT_MS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_to_the_millisecond() {
        let mut latencies = LatencyHistogram::new();
        assert_eq!(latencies.quantile_ms(0.5), 0.0);
        for ms in 1..=20 {
            latencies.record(f64::from(ms) + 0.2);
        }
        assert_eq!(latencies.quantile_ms(0.50), 10.5);
        assert_eq!(latencies.quantile_ms(0.95), 19.5);
        let mut more = LatencyHistogram::new();
        more.record(1e9);
        more.record(-3.0);
        latencies.merge(&more);
        assert_eq!(latencies.count, 22);
        assert_eq!(latencies.quantile_ms(0.0), 0.5, "negative reads as 0");
        assert_eq!(
            latencies.quantile_ms(1.0),
            LatencyHistogram::LIMIT_MS as f64
        );
    }
}
