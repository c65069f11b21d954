//! The time budget of interactive frames: their internal resolution steps down when a
//! frame takes too long and up when it takes far less.

use std::time::Duration;

/// Holds interactive frames to a time budget by stepping their internal resolution
/// through a few fixed scales (each size's render target is kept, since a new one costs
/// far more than a frame on software rasterisers), and at the lowest scale their sample
/// distance: the rungs of [`Self::rungs`].
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
    /// The rung a frame was last too slow at, held out of reach for a while.
    held: Option<Held>,
    /// Whether the rung is held where it was set ([`Self::pinned`]), as a benchmark
    /// measuring one rung holds it.
    pinned: bool,
}

/// A rung that took longer than the budget, and how many more frames it stays out of
/// reach: each change of scale is a new picture size, which the H.264 stream starts
/// again with a keyframe, so a budget that stepped straight back up to a scale it just
/// left would flip between two sizes, a keyframe every other frame.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Held {
    /// The index in [`InteractiveBudget::rungs`] that was too slow.
    level: usize,
    /// Frames until it may be tried again.
    frames: u32,
}

impl Default for InteractiveBudget {
    fn default() -> Self {
        Self {
            target: Self::ALONE,
            scale: 0.5,
            step_factor: Self::STEP,
            lowest: Self::LOWEST_ALONE,
            held: None,
            pinned: false,
        }
    }
}

impl InteractiveBudget {
    /// The internal resolution scales interactive frames may use.
    pub const SCALES: [f32; 7] = [0.125, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0];
    /// The frame time aimed for by a drag that has the renderer to itself: one input
    /// interval at 30 inputs a second, so that an input seldom waits for a whole frame of
    /// the one before it. On ct-head-neck at 1024×768 without a GPU (`bench stream`, a
    /// quarter of each side) twice the step took 35–37 ms a frame, 26.4–27.5 frames/s,
    /// latency p50 59–64 ms, 22.1–22.2 dB; four times the step 30–31 ms, 28.2–28.5
    /// frames/s, p50 33–43 ms, 22.0 dB.
    pub const ALONE: Duration = Duration::from_millis(33);
    /// The smallest scale of a drag alone: below a quarter of each side the picture is
    /// too coarse to steer by.
    pub const LOWEST_ALONE: f32 = 0.25;
    /// One turn of every dragging session, when several share the renderer: each gets a
    /// frame about ten times a second.
    pub const SHARED_ROUND: Duration = Duration::from_millis(90);
    /// Frames a rung that was too slow stays out of reach: about two seconds of a drag.
    pub const HOLD_FRAMES: u32 = 48;
    /// The sample distance multiplier of interactive frames.
    pub const STEP: f32 = 2.0;
    /// The longer sample distances of the lowest scale, for frames still over budget
    /// there, longest first: stepping the rays out costs less of the picture than fewer
    /// pixels (at a quarter of each side on that CT, 22.0 dB at four times the step
    /// against 22.1–22.2 at twice; an eighth of the sides at twice the step, 20.5 dB).
    pub const FLOOR_STEPS: [f32; 2] = [4.0, 3.0];
    /// The fewest pixels a picture drawn smaller than its view may have: 128×96, an eighth
    /// of the sides of a 1024×768 view. Below it a frame's time is the renderer's own cost
    /// per frame, so fewer pixels buy no time and only coarsen the picture (a 160×120 view
    /// of the phantom drawn at a quarter of its sides and four times the step scored
    /// 12–15 dB against its sharp image, 21 dB whole). A view smaller than this is drawn
    /// whole.
    pub const FEWEST_PIXELS: f32 = 128.0 * 96.0;
    /// A frame well under budget steps up when its time, times the next rung's cost over
    /// its own, is still under the budget by this margin.
    const STEP_UP_MARGIN: f32 = 1.1;

    /// A budget held at `scale` and `step_factor` whatever its frames take and whatever
    /// the output's size: what a benchmark measuring one rung draws.
    pub fn pinned(scale: f32, step_factor: f32) -> Self {
        Self {
            scale,
            step_factor,
            pinned: true,
            ..Self::default()
        }
    }

    /// Shares the renderer among `dragging` sessions that drag at once: alone (0 or 1) a
    /// frame may take [`Self::ALONE`] and no less than a quarter of each side; shared,
    /// each frame gets its part of [`Self::SHARED_ROUND`] and may go down to the smallest
    /// scale, so that every session still sees about ten frames a second.
    pub fn share(&mut self, dragging: usize) {
        let target = self.target;
        self.share_target(dragging);
        if self.target != target {
            // What was too slow for the last budget says nothing of this one.
            self.held = None;
        }
    }

    fn share_target(&mut self, dragging: usize) {
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
            held: None,
            pinned: false,
        }
    }

    /// The rungs the budget climbs for an output of `size`, cheapest first, as (scale,
    /// sample distance multiplier): the lowest scale at each of [`Self::FLOOR_STEPS`],
    /// then every scale from the lowest up at [`Self::STEP`]; of these, those whose
    /// picture has at least [`Self::FEWEST_PIXELS`], and full size at [`Self::STEP`]
    /// always.
    pub fn rungs(&self, size: [u32; 2]) -> Vec<(f32, f32)> {
        let floor = Self::SCALES
            .into_iter()
            .find(|&scale| scale >= self.lowest - 1e-3)
            .unwrap_or(1.0);
        let pixels = size[0] as f32 * size[1] as f32;
        let worth_drawing = |&(scale, step): &(f32, f32)| {
            (scale >= 1.0 && step <= Self::STEP) || pixels * scale * scale >= Self::FEWEST_PIXELS
        };
        Self::FLOOR_STEPS
            .into_iter()
            .map(|step| (floor, step))
            .chain(
                Self::SCALES
                    .into_iter()
                    .filter(|&scale| scale >= floor)
                    .map(|scale| (scale, Self::STEP)),
            )
            .filter(worth_drawing)
            .collect()
    }

    /// The rung the budget stands on: the one of its scale and step, else the first at
    /// [`Self::STEP`] of at least its scale (a scale or step set from outside).
    fn rung(&self, rungs: &[(f32, f32)]) -> usize {
        let close = |a: f32, b: f32| (a - b).abs() < 1e-3;
        rungs
            .iter()
            .position(|&(scale, step)| close(scale, self.scale) && close(step, self.step_factor))
            .or_else(|| {
                rungs.iter().position(|&(scale, step)| {
                    scale >= self.scale - 1e-3 && close(step, Self::STEP)
                })
            })
            .unwrap_or(rungs.len() - 1)
    }

    /// Stands the budget on its rung for an output of `size` before a frame is drawn:
    /// that of its scale and step, else the one [`Self::rung`] finds (a view smaller than
    /// the last, or a first frame, may have no rung at the budget's scale). A pinned
    /// budget stays where it was set.
    pub fn settle(&mut self, size: [u32; 2]) {
        if self.pinned {
            return;
        }
        let rungs = self.rungs(size);
        (self.scale, self.step_factor) = rungs[self.rung(&rungs)];
    }

    /// How many times a frame on `rung` a frame on `lower` costs: the pixels' share,
    /// times the samples' along each ray.
    fn cost_over(upper: (f32, f32), lower: (f32, f32)) -> f32 {
        (upper.0 / lower.0).powi(2) * (lower.1 / upper.1)
    }

    /// Adjusts the rung after an interactive frame of an output of `size` that took
    /// `elapsed`: one rung down when over budget, one up when the next would still be
    /// within it (by [`Self::cost_over`] with a margin); never below the lowest of
    /// [`Self::rungs`]. A rung left for being over budget is not stepped up to again for
    /// [`Self::HOLD_FRAMES`] frames.
    pub fn record(&mut self, elapsed: Duration, size: [u32; 2]) {
        if self.pinned {
            return;
        }
        let rungs = self.rungs(size);
        let rung = self.rung(&rungs);
        let held = self.held.take().filter(|held| held.frames > 0);
        self.held = held.map(|held| Held {
            frames: held.frames - 1,
            ..held
        });
        let higher = (rung + 1).min(rungs.len() - 1);
        let next_fits = elapsed.as_secs_f32()
            * Self::cost_over(rungs[higher], rungs[rung])
            * Self::STEP_UP_MARGIN
            < self.target.as_secs_f32();
        let rung = if elapsed > self.target {
            let lower = rung.saturating_sub(1);
            if lower < rung {
                self.held = Some(Held {
                    level: rung,
                    frames: Self::HOLD_FRAMES,
                });
            }
            lower
        } else if next_fits && held.is_none_or(|held| held.level != higher) {
            higher
        } else {
            rung
        };
        (self.scale, self.step_factor) = rungs[rung];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view of the benchmarks: 1024×768.
    const VIEW: [u32; 2] = [1024, 768];

    fn at(budget: &InteractiveBudget) -> (f32, f32) {
        (budget.scale, budget.step_factor)
    }

    #[test]
    fn the_interactive_budget_steps_down_when_slow_and_up_when_fast() {
        let mut budget = InteractiveBudget::default();
        assert_eq!(at(&budget), (0.5, 2.0));
        budget.record(Duration::from_millis(120), VIEW);
        assert_eq!(at(&budget), (0.35, 2.0));
        budget.record(Duration::from_millis(25), VIEW);
        assert_eq!(
            at(&budget),
            (0.35, 2.0),
            "within budget, the next rung not: stays"
        );
        for _ in 0..10 {
            budget.record(Duration::from_millis(120), VIEW);
        }
        assert_eq!(
            at(&budget),
            (0.25, 4.0),
            "never below a quarter of the sides at four times the step"
        );
        for _ in 0..InteractiveBudget::HOLD_FRAMES + 20 {
            budget.record(Duration::from_millis(5), VIEW);
        }
        assert_eq!(at(&budget), (1.0, 2.0), "never above full resolution");
    }

    #[test]
    fn at_the_lowest_scale_a_slow_frame_lengthens_the_step_instead() {
        let mut budget = InteractiveBudget {
            scale: 0.25,
            ..InteractiveBudget::default()
        };
        budget.record(Duration::from_millis(40), VIEW);
        assert_eq!(at(&budget), (0.25, 3.0));
        budget.record(Duration::from_millis(40), VIEW);
        assert_eq!(at(&budget), (0.25, 4.0));
        budget.record(Duration::from_millis(40), VIEW);
        assert_eq!(at(&budget), (0.25, 4.0), "no rung lower");
        // 30 ms at four times the step: three times would take about 40, over budget.
        for _ in 0..InteractiveBudget::HOLD_FRAMES + 5 {
            budget.record(Duration::from_millis(30), VIEW);
        }
        assert_eq!(at(&budget), (0.25, 4.0));
    }

    #[test]
    fn a_renderer_shared_by_dragging_sessions_gives_each_its_part_and_smaller_frames() {
        let mut budget = InteractiveBudget::default();
        budget.share(4);
        assert_eq!(budget.target, InteractiveBudget::SHARED_ROUND / 4);
        budget.scale = 0.25;
        budget.record(Duration::from_millis(40), VIEW);
        assert_eq!(budget.scale, 0.18, "40 ms is over a quarter of the round");
        budget.record(Duration::from_millis(40), VIEW);
        budget.record(Duration::from_millis(40), VIEW);
        assert_eq!(budget.scale, 0.125, "shared, down to the smallest scale");
        budget.share(1);
        assert_eq!(budget.target, InteractiveBudget::ALONE);
        assert_eq!(
            budget.scale, 0.25,
            "alone again: back to a quarter of each side"
        );
        budget.record(Duration::from_millis(120), VIEW);
        budget.record(Duration::from_millis(120), VIEW);
        assert_eq!(at(&budget), (0.25, 4.0), "alone, never below a quarter");
    }

    /// The scales of `frames` frames under `budget`, each frame taking what `cost` says
    /// of its scale.
    fn scales_drawn(
        budget: &mut InteractiveBudget,
        frames: usize,
        cost: impl Fn(f32) -> u64,
    ) -> Vec<f32> {
        (0..frames)
            .map(|_| {
                let scale = budget.scale;
                budget.record(Duration::from_millis(cost(scale)), VIEW);
                scale
            })
            .collect()
    }

    #[test]
    fn a_scale_that_was_too_slow_is_not_tried_again_at_once() {
        // Half of the sides is well under the 33 ms budget, 0.7 just over it: stepping
        // straight back up would change the picture size every other frame.
        let cost = |scale: f32| if scale > 0.6 { 40 } else { 14 };
        let mut budget = InteractiveBudget::default();
        let drawn = scales_drawn(&mut budget, 100, cost);
        let changes = drawn.windows(2).filter(|pair| pair[0] != pair[1]).count();
        assert!(
            changes <= 2 * (100 / InteractiveBudget::HOLD_FRAMES as usize + 1),
            "{changes} changes of size in 100 frames: {drawn:?}"
        );
        assert!(drawn.contains(&0.7), "the larger scale is tried: {drawn:?}");
        // Once the frames get faster, the larger scale is tried again after the hold and
        // kept.
        let drawn = scales_drawn(&mut budget, 100, |_| 10);
        assert_eq!(drawn.last(), Some(&1.0), "{drawn:?}");
    }

    #[test]
    fn a_small_view_is_not_drawn_coarser_than_its_work_is_worth() {
        let budget = InteractiveBudget::default();
        assert_eq!(
            budget.rungs([160, 120]),
            vec![(1.0, InteractiveBudget::STEP)],
            "a 160x120 view has no rung cheaper than its whole picture"
        );
        let mut budget = InteractiveBudget::default();
        for _ in 0..10 {
            budget.record(Duration::from_millis(120), [160, 120]);
        }
        assert_eq!(at(&budget), (1.0, 2.0), "slow frames stay whole");
        let settled = |size| {
            let mut budget = InteractiveBudget::default();
            budget.settle(size);
            at(&budget)
        };
        assert_eq!(
            settled([160, 120]),
            (1.0, 2.0),
            "not even the first frame, before any was timed, is drawn at half the sides"
        );
        assert_eq!(settled(VIEW), (0.5, 2.0));
        // A benchmark measuring one rung draws it as pinned, at any size.
        let mut pinned = InteractiveBudget::pinned(0.125, 3.0);
        pinned.record(Duration::from_millis(500), [160, 120]);
        pinned.settle([160, 120]);
        assert_eq!(at(&pinned), (0.125, 3.0));
        // At 1024x768 every rung is worth drawing: shared, down to an eighth of the sides
        // at four times the step; alone, a quarter at four times the step.
        let mut shared = InteractiveBudget::default();
        shared.share(4);
        let rungs = shared.rungs(VIEW);
        assert_eq!(rungs.first(), Some(&(0.125, 4.0)), "{rungs:?}");
        assert_eq!(
            rungs.len(),
            2 + InteractiveBudget::SCALES.len(),
            "{rungs:?}"
        );
        assert_eq!(
            InteractiveBudget::default().rungs(VIEW).first(),
            Some(&(0.25, 4.0))
        );
    }
}
