//! Frames timed as the benchmarks and `doctor` time them: the median of a run, and frames
//! drawn while the camera turns.

use std::time::Instant;

/// The median of `values` (sorted in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Renders `frames` frames of `view` while its camera turns 5° of azimuth a frame; returns
/// the median ms a frame (GPU finished) and the sample step used (mm).
pub fn turning_frames(
    renderer: &mut render_core::gpu::Renderer,
    view: &mut render_core::view::ViewState,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<(f64, f32)> {
    let mut times = Vec::with_capacity(frames);
    let mut step = 0.0;
    for _ in 0..frames {
        view.camera.orbit(5.0, 0.0);
        let start = Instant::now();
        let info = renderer.render(view, size)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        step = info.step_mm;
    }
    Ok((median(&mut times), step))
}
