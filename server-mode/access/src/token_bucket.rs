//! The server's one rate limiter, a token bucket: it holds each kind of message a session
//! sends to its rate (the server's session limits) and the audit log's refusal lines to
//! theirs (the audit log's), letting bursts through up to the bucket's size.

use std::time::Instant;

/// A token bucket: `capacity` tokens, refilled at `per_s` a second; each event let through
/// takes one.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_s: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`: `capacity` tokens (at least 1), refilled at `per_s` (at
    /// least 0).
    pub fn new(per_s: f64, capacity: f64, now: Instant) -> Self {
        let capacity = capacity.max(1.0);
        Self {
            capacity,
            per_s: per_s.max(0.0),
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token at `now` if there is one (a `now` before the last one refills
    /// nothing).
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_s).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_empties_the_bucket_and_time_refills_it_up_to_its_size() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 5.0, now);
        let taken = (0..8).filter(|_| bucket.take(now)).count();
        assert_eq!(taken, 5, "the burst is the bucket's size");
        assert!(
            !bucket.take(now + Duration::from_millis(50)),
            "half a token"
        );
        assert!(bucket.take(now + Duration::from_millis(100)), "one token");
        // A long pause fills the bucket, and no more than that.
        let later = now + Duration::from_secs(60);
        let taken = (0..20).filter(|_| bucket.take(later)).count();
        assert_eq!(taken, 5);
    }

    #[test]
    fn a_clock_going_back_refills_nothing_and_sizes_are_bounded() {
        let now = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(-3.0, 0.0, now);
        assert!(bucket.take(now), "a bucket holds at least one token");
        assert!(!bucket.take(now - Duration::from_secs(1)));
        assert!(
            !bucket.take(now + Duration::from_secs(3600)),
            "a negative rate refills nothing"
        );
    }
}
