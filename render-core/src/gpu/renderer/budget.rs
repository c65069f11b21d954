//! The time budget of interactive frames: their internal resolution steps down when a
//! frame takes too long and up when it takes far less.

use std::time::Duration;

/// Holds interactive frames to a time budget by stepping their internal resolution
/// through a few fixed scales (each size's render target is kept, since a new one costs
/// far more than a frame on software rasterisers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InteractiveBudget {
    /// The frame time aimed for while interacting.
    pub target: Duration,
    /// The current internal resolution scale (one of [`Self::SCALES`]).
    pub scale: f32,
    /// Sample distance multiplier while interacting.
    pub step_factor: f32,
    /// The smallest scale the budget may step down to.
    pub lowest: f32,
}

impl Default for InteractiveBudget {
    fn default() -> Self {
        Self {
            target: Self::ALONE,
            scale: 0.5,
            step_factor: 2.0,
            lowest: Self::LOWEST_ALONE,
        }
    }
}

impl InteractiveBudget {
    /// The internal resolution scales interactive frames may use.
    pub const SCALES: [f32; 7] = [0.125, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0];
    /// The frame time aimed for by a drag that has the renderer to itself.
    pub const ALONE: Duration = Duration::from_millis(50);
    /// The smallest scale of a drag alone: below a quarter of each side the picture is
    /// too coarse to steer by.
    pub const LOWEST_ALONE: f32 = 0.25;
    /// One turn of every dragging session, when several share the renderer: each gets a
    /// frame about ten times a second.
    pub const SHARED_ROUND: Duration = Duration::from_millis(90);

    /// Shares the renderer among `dragging` sessions that drag at once: alone (0 or 1) a
    /// frame may take [`Self::ALONE`] and no less than a quarter of each side; shared,
    /// each frame gets its part of [`Self::SHARED_ROUND`] and may go down to the smallest
    /// scale, so that every session still sees about ten frames a second.
    pub fn share(&mut self, dragging: usize) {
        if dragging <= 1 {
            self.target = Self::ALONE;
            self.lowest = Self::LOWEST_ALONE;
            self.scale = self.scale.max(self.lowest);
        } else {
            let parts = u32::try_from(dragging).unwrap_or(u32::MAX);
            self.target = Self::SHARED_ROUND / parts;
            self.lowest = Self::SCALES[0];
        }
    }

    /// The budget of the refining image drawn between a drag's last frame and the final
    /// image: 150 ms, from half of each side at twice the preset's sample distance. On
    /// ct-head-neck at 1024×768 without a GPU (`bench render`) that is 123 ms and 28 dB
    /// over the volume against the final image, where the final image's pixels at four
    /// times its step take 300 ms and reach 25 dB: the step matters more than the pixels.
    pub fn refining() -> Self {
        Self {
            target: Duration::from_millis(150),
            scale: 0.5,
            step_factor: 2.0,
            lowest: Self::LOWEST_ALONE,
        }
    }

    /// Adjusts the scale after an interactive frame that took `elapsed`: one step down
    /// when over budget, one step up when well under (time goes with the square of the
    /// scale, so a step up roughly doubles it); never below [`Self::lowest`].
    pub fn record(&mut self, elapsed: Duration) {
        let at_least = |scale: f32| {
            Self::SCALES
                .iter()
                .position(|&s| s >= scale - 1e-3)
                .unwrap_or(Self::SCALES.len() - 1)
        };
        let level = at_least(self.scale);
        let level = if elapsed > self.target {
            level.saturating_sub(1).max(at_least(self.lowest))
        } else if elapsed.as_secs_f32() * 2.2 < self.target.as_secs_f32() {
            (level + 1).min(Self::SCALES.len() - 1)
        } else {
            level
        };
        self.scale = Self::SCALES[level];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interactive_budget_steps_down_when_slow_and_up_when_fast() {
        let mut budget = InteractiveBudget::default();
        assert_eq!(budget.scale, 0.5);
        budget.record(Duration::from_millis(120));
        assert_eq!(budget.scale, 0.35);
        budget.record(Duration::from_millis(120));
        budget.record(Duration::from_millis(120));
        assert_eq!(budget.scale, 0.25, "never below the smallest scale");
        budget.record(Duration::from_millis(40));
        assert_eq!(budget.scale, 0.25, "within budget: stays");
        for _ in 0..10 {
            budget.record(Duration::from_millis(5));
        }
        assert_eq!(budget.scale, 1.0, "never above full resolution");
    }

    #[test]
    fn a_renderer_shared_by_dragging_sessions_gives_each_its_part_and_smaller_frames() {
        let mut budget = InteractiveBudget::default();
        budget.share(4);
        assert_eq!(budget.target, InteractiveBudget::SHARED_ROUND / 4);
        budget.scale = 0.25;
        budget.record(Duration::from_millis(40));
        assert_eq!(budget.scale, 0.18, "40 ms is over a quarter of the round");
        budget.record(Duration::from_millis(40));
        budget.record(Duration::from_millis(40));
        assert_eq!(budget.scale, 0.125, "shared, down to the smallest scale");
        budget.share(1);
        assert_eq!(budget.target, InteractiveBudget::ALONE);
        assert_eq!(
            budget.scale, 0.25,
            "alone again: back to a quarter of each side"
        );
        budget.record(Duration::from_millis(120));
        assert_eq!(budget.scale, 0.25, "alone, never below a quarter");
    }
}
