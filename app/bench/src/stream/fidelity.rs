//! How close a drag's frames come, as a client shows them, to the sharp image of the same
//! view: `bench stream`'s `fidelity_psnr_db_p50` and `fidelity_psnr_db_p05`.
//!
//! The first session of a run keeps a few of the interactive frames it decoded while
//! dragging ([`Samples`]: one every [`SAMPLE_EVERY`], at most [`MOST_SAMPLES`], as decoded,
//! so that the pictures kept stay small beside the memory the benchmark measures). Once the
//! runs are over, each kept frame's view (the opening view turned by the orbits its frame
//! answers, as the server turns it) is drawn here at full quality, as the server draws its
//! final still, and the frame shown at the view's size (scaled up bilinearly as a client
//! does) is compared with it over the pixels that show the volume
//! ([`psnr_over_volume`]: a black background that matches exactly would inflate a
//! whole-frame figure).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{DecodedImage, psnr_over_volume};
use render_core::view::Quality;
use serde::Serialize;

use super::super::client::{ORBIT_DEG_PER_INPUT, percentile};
use super::super::opened_scene;

/// How often a drag's frame is kept for comparison.
pub(super) const SAMPLE_EVERY: Duration = Duration::from_millis(400);
/// The most frames one session keeps.
pub(super) const MOST_SAMPLES: usize = 16;

/// One interactive frame as the client decoded it, and the view it shows.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Orbit inputs the frame answers, each [`ORBIT_DEG_PER_INPUT`] of azimuth.
    orbits: usize,
    /// The picture as decoded (at the size it was sent).
    picture: DecodedImage,
}

/// The frames one session keeps while it drags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples {
    kept: Vec<Sample>,
    last: Option<Instant>,
}

impl Samples {
    /// Keeps `picture`, the answer to `orbits` orbit inputs, when the last frame kept is
    /// [`SAMPLE_EVERY`] old and fewer than [`MOST_SAMPLES`] are kept.
    pub(crate) fn offer(&mut self, orbits: usize, picture: &DecodedImage, now: Instant) {
        let due = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= SAMPLE_EVERY);
        if due && self.kept.len() < MOST_SAMPLES {
            self.last = Some(now);
            self.kept.push(Sample {
                orbits,
                picture: picture.clone(),
            });
        }
    }

    /// The frames kept.
    pub(crate) fn into_kept(self) -> Vec<Sample> {
        self.kept
    }
}

/// The PSNR over the volume of a drag's frames as shown against the sharp image of their
/// views.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Fidelity {
    /// Median (dB).
    pub(crate) fidelity_psnr_db_p50: f64,
    /// 5th percentile: the softest frames (dB).
    pub(crate) fidelity_psnr_db_p05: f64,
    /// Frames compared.
    pub(crate) fidelity_frames: usize,
}

/// Draws the view of each of `samples` at full quality at `size` from the series at
/// `path` (the phantom without one) and compares the frames with them; `None` when no
/// frame was kept.
pub(crate) fn measure(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    samples: &[Sample],
) -> anyhow::Result<Option<Fidelity>> {
    if samples.is_empty() {
        return Ok(None);
    }
    let (mut renderer, _, opening) = opened_scene(path, series)?;
    let mut scores = Vec::with_capacity(samples.len());
    for sample in samples {
        let mut view = opening.clone();
        // One orbit at a time, as the server applies the inputs (the same rounding).
        for _ in 0..sample.orbits {
            view.camera.orbit(ORBIT_DEG_PER_INPUT, 0.0);
        }
        view.quality = Quality::Full;
        let sharp = renderer.render_image(&view, size)?;
        let shown = sample
            .picture
            .clone()
            .shown_at([sharp.width, sharp.height])
            .context("a decoded frame fills its sides")?;
        scores.push(psnr_over_volume(&shown.rgba, &sharp.rgba));
    }
    scores.sort_by(f64::total_cmp);
    Ok(Some(Fidelity {
        fidelity_psnr_db_p50: percentile(&scores, 0.50),
        fidelity_psnr_db_p05: percentile(&scores, 0.05),
        fidelity_frames: scores.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> DecodedImage {
        DecodedImage {
            width: 2,
            height: 2,
            rgba: vec![0; 16],
        }
    }

    #[test]
    fn frames_are_kept_spaced_and_no_more_than_the_most() {
        let mut samples = Samples::default();
        let start = Instant::now();
        samples.offer(1, &picture(), start);
        samples.offer(2, &picture(), start + SAMPLE_EVERY / 2);
        samples.offer(3, &picture(), start + SAMPLE_EVERY);
        let kept: Vec<usize> = std::mem::take(&mut samples.kept)
            .iter()
            .map(|s| s.orbits)
            .collect();
        assert_eq!(kept, [1, 3], "the frame too soon after the first is left");
        let mut samples = Samples::default();
        for n in 0..MOST_SAMPLES * 2 {
            samples.offer(n, &picture(), start + SAMPLE_EVERY * n as u32);
        }
        assert_eq!(samples.into_kept().len(), MOST_SAMPLES);
    }

    #[test]
    fn a_frame_scores_highest_against_its_own_view_and_lower_against_another() {
        assert!(
            measure(None, None, [64, 48], &[])
                .expect("nothing to draw")
                .is_none()
        );
        // The phantom's sharp image three orbits on, as a client would have decoded it.
        let (mut renderer, _, mut view) = opened_scene(None, None).expect("the phantom");
        for _ in 0..3 {
            view.camera.orbit(ORBIT_DEG_PER_INPUT, 0.0);
        }
        let sharp = renderer.render_image(&view, [96, 64]).expect("drawn");
        let frame = |orbits| Sample {
            orbits,
            picture: DecodedImage {
                width: sharp.width,
                height: sharp.height,
                rgba: sharp.rgba.clone(),
            },
        };
        let own = measure(None, None, [96, 64], &[frame(3)])
            .expect("measured")
            .expect("a frame kept");
        assert_eq!((own.fidelity_psnr_db_p50, own.fidelity_frames), (99.0, 1));
        let other = measure(None, None, [96, 64], &[frame(3), frame(12)])
            .expect("measured")
            .expect("frames kept");
        assert!(
            other.fidelity_psnr_db_p05 < 30.0
                && other.fidelity_psnr_db_p05 < own.fidelity_psnr_db_p50,
            "45 degrees apart: {other:?}"
        );
    }
}
