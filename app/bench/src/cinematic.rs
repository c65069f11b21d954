//! `bench render --cinematic`: how fast the path tracer's picture converges. A reference
//! of many paths a pixel is drawn first; then a picture from another seed is refined a
//! pass at a time, and at 0.5, 1, 2 and 5 s of refining its PSNR against the reference
//! (over the pixels that show the volume) is taken.

use std::time::Instant;

use hounsfield_client::psnr_over_volume;
use render_core::gpu::{CinematicSettings, Renderer};
use render_core::view::ViewState;
use serde::Serialize;

/// The refining times (s) at which the picture is compared.
const CHECKPOINTS_S: [f64; 4] = [0.5, 1.0, 2.0, 5.0];
/// The reference's seed, and the refined picture's.
const REFERENCE_SEED: u32 = 4242;
const SEED: u32 = 1;

/// The picture at one refining time.
#[derive(Debug, Serialize)]
pub struct Checkpoint {
    /// Refining time asked for (s).
    pub seconds: f64,
    /// Paths a pixel drawn by then (the first pass that ended after it).
    pub samples: u32,
    /// When that pass ended (s).
    pub at_s: f64,
    /// PSNR against the reference (dB), over the pixels that show the volume.
    pub psnr_db: f64,
}

/// What `bench render --cinematic` measures.
#[derive(Debug, Serialize)]
pub struct CinematicConvergence {
    /// Paths a pixel of the reference.
    pub reference_samples: u32,
    /// How long the reference took (ms).
    pub reference_ms: f64,
    /// The median time of one pass (one path a pixel) while refining (ms).
    pub ms_a_pass: f64,
    /// The picture at each refining time.
    pub checkpoints: Vec<Checkpoint>,
}

/// Draws the reference of `view` at `size` with `reference_samples` paths a pixel, then
/// refines another seed's picture pass by pass for 5 s.
pub fn convergence(
    renderer: &mut Renderer,
    view: &ViewState,
    size: [u32; 2],
    reference_samples: u32,
) -> anyhow::Result<CinematicConvergence> {
    let started = Instant::now();
    let reference = renderer.render_cinematic(
        view,
        size,
        CinematicSettings {
            samples: reference_samples,
            seed: REFERENCE_SEED,
        },
    )?;
    let reference_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut picture = renderer.begin_cinematic(view, size, SEED)?;
    let mut checkpoints = Vec::new();
    let mut passes = Vec::new();
    let started = Instant::now();
    for seconds in CHECKPOINTS_S {
        loop {
            let pass_started = Instant::now();
            let image = renderer.refine_cinematic(&mut picture, 1)?;
            passes.push(pass_started.elapsed().as_secs_f64() * 1000.0);
            let at_s = started.elapsed().as_secs_f64();
            if at_s >= seconds {
                checkpoints.push(Checkpoint {
                    seconds,
                    samples: picture.passes(),
                    at_s,
                    psnr_db: psnr_over_volume(&image.rgba, &reference.rgba),
                });
                break;
            }
        }
    }
    Ok(CinematicConvergence {
        reference_samples,
        reference_ms,
        ms_a_pass: hounsfield_workstation::timing::median(&mut passes),
        checkpoints,
    })
}
