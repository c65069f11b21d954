//! `bench render --lighting`: what a placed light, its shadows and ambient occlusion cost
//! against the headlight every frame had before, full frames of the same views drawn one
//! lighting after the other (so that each view's cost falls on each lighting alike).

use std::time::Instant;

use render_core::gpu::Renderer;
use render_core::view::{LightDirection, Lighting, ViewState};
use serde::Serialize;

use hounsfield_workstation::timing::median;

/// The light of the lit variants: from the front, above and the patient's left.
const LIGHT_TOWARDS: [f64; 3] = [0.45, -1.0, 0.55];

/// One lighting's full frames.
#[derive(Debug, Serialize)]
pub struct LightingCost {
    /// `headlight`, `light`, `light+shadows`, `light+occlusion` or
    /// `light+shadows+occlusion`.
    pub lighting: &'static str,
    /// Median ms per full frame.
    pub full_ms: f64,
    /// Over the headlight's, from the same views.
    pub ratio: f64,
}

/// Times full frames of `view` turning 5° a frame, `frames` views, each drawn with every
/// lighting in turn.
pub fn lighting_costs(
    renderer: &mut Renderer,
    view: &ViewState,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<Vec<LightingCost>> {
    let light = LightDirection::toward(LIGHT_TOWARDS).map_err(anyhow::Error::msg)?;
    let lit = |shadows, occlusion| Lighting {
        direction: light,
        shadows,
        occlusion,
        cinematic: false,
    };
    let variants = [
        ("headlight", Lighting::default()),
        ("light", lit(false, false)),
        ("light+shadows", lit(true, false)),
        ("light+occlusion", lit(false, true)),
        ("light+shadows+occlusion", lit(true, true)),
    ];
    let mut view = view.clone();
    // Each variant's first frame compiles its ray caster: left out.
    for (_, lighting) in &variants {
        view.lighting = *lighting;
        renderer.render(&view, size)?;
    }
    let mut times = vec![Vec::with_capacity(frames); variants.len()];
    for _ in 0..frames {
        view.camera.orbit(5.0, 0.0);
        for ((_, lighting), times) in variants.iter().zip(&mut times) {
            view.lighting = *lighting;
            let started = Instant::now();
            renderer.render(&view, size)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let medians: Vec<f64> = times.iter_mut().map(|times| median(times)).collect();
    let headlight = medians[0].max(1e-9);
    Ok(variants
        .iter()
        .zip(medians)
        .map(|((name, _), full_ms)| LightingCost {
            lighting: name,
            full_ms,
            ratio: full_ms / headlight,
        })
        .collect())
}
