//! What a session may ask: the limits a server sets ([`SessionLimits`]) and the token
//! bucket that holds a client's inputs to their rate.

use std::time::Instant;

/// Limits on what a session may ask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLimits {
    /// Inputs accepted per second, sustained.
    pub inputs_per_s: f64,
    /// Inputs accepted in a burst above the sustained rate.
    pub input_burst: f64,
    /// Largest viewport side (pixels).
    pub max_viewport: u32,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            inputs_per_s: 240.0,
            input_burst: 120.0,
            max_viewport: 4096,
        }
    }
}

/// A token bucket: `capacity` tokens, refilled at `per_s`.
#[derive(Debug, Clone)]
pub(super) struct RateLimiter {
    capacity: f64,
    per_s: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub(super) fn new(per_s: f64, capacity: f64, now: Instant) -> Self {
        Self {
            capacity: capacity.max(1.0),
            per_s: per_s.max(0.0),
            tokens: capacity.max(1.0),
            last: now,
        }
    }

    /// Takes a token if there is one.
    pub(super) fn allow(&mut self, now: Instant) -> bool {
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
