//! `bench render --transfer-edit`: what a drag in the transfer-function editor costs a
//! frame against a drag of the camera. Each step of the edit moves an opacity point (a new
//! function: baked, uploaded, and the bricks rays visit found again) and draws the
//! interactive frame the reader sees; the orbit's steps draw the same number of
//! interactive frames of one function. Alternated step by step, in one run.

use std::time::Instant;

use render_core::gpu::Renderer;
use render_core::transfer::Preset;
use render_core::view::change::Action;
use render_core::view::{Quality, ViewState};
use serde::Serialize;

use hounsfield_workstation::timing::median;

/// Interactive frames of an edit against those of an orbit.
#[derive(Debug, Serialize)]
pub struct TransferEditCost {
    /// Median ms from a camera step to its interactive frame.
    pub orbit_ms: f64,
    /// Median ms from an opacity point's move to its interactive frame.
    pub edit_ms: f64,
    /// `edit_ms` over `orbit_ms`.
    pub ratio: f64,
}

/// Times `frames` steps of each drag on `view` (its preset, `preset`, edited).
pub fn transfer_edit_cost(
    renderer: &mut Renderer,
    view: &ViewState,
    preset: &Preset,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<TransferEditCost> {
    let mut orbiting = view.clone();
    orbiting.quality = Quality::Interactive;
    let mut editing = orbiting.clone();
    let mut edited = preset.clone();
    edited.name = format!("{} (edited)", preset.name);
    // The point a reader drags: the most opaque one, moved up and down by a tenth.
    let point = (0..edited.opacity.len())
        .max_by(|&a, &b| {
            edited.opacity[a]
                .opacity
                .total_cmp(&edited.opacity[b].opacity)
        })
        .ok_or_else(|| anyhow::anyhow!("the preset has no opacity point"))?;
    let at_rest = edited.opacity[point].opacity;
    // Let the interactive budget settle on orbiting frames first.
    for _ in 0..5 {
        orbiting.camera.orbit(5.0, 0.0);
        renderer.render(&orbiting, size)?;
    }
    let (mut orbit, mut edit) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for step in 0..frames {
        orbiting.camera.orbit(5.0, 0.0);
        let started = Instant::now();
        renderer.render(&orbiting, size)?;
        orbit.push(started.elapsed().as_secs_f64() * 1000.0);

        let lift = if step % 2 == 0 { -0.1 } else { 0.1 };
        edited.opacity[point].opacity = (at_rest + lift).clamp(0.0, 1.0);
        let started = Instant::now();
        editing
            .apply(
                &Action::Transfer {
                    preset: Box::new(edited.clone()),
                },
                renderer.presets(),
            )
            .map_err(anyhow::Error::msg)?;
        renderer.render(&editing, size)?;
        edit.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (orbit_ms, edit_ms) = (median(&mut orbit), median(&mut edit));
    Ok(TransferEditCost {
        orbit_ms,
        edit_ms,
        ratio: edit_ms / orbit_ms.max(1e-9),
    })
}
