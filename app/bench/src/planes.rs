//! `hounsfield bench planes`: the slice cells of the 2×2 layout while the planes turn
//! (oblique, then double oblique) beside the same cells while the standard planes scroll,
//! and a slab MIP's render time beside a thin slice's, on the standard and an oblique
//! plane: all in one run, on one renderer, so the figures compare as ratios.

use std::path::Path;
use std::time::Instant;

use render_core::Volume;
use render_core::gpu::Renderer;
use render_core::view::layout::{cell_render_size, cell_slice};
use render_core::view::{PlaneGeometry, SlabMode, SliceFrame, SlicePlane, ViewState};
use serde::Serialize;

use hounsfield_workstation::timing::median;

/// What `bench planes` prints.
#[derive(Debug, Serialize)]
struct PlanesReport {
    adapter: String,
    volume: [usize; 3],
    /// The 2×2 frame's size; the slice cells render at half of each side.
    size: [u32; 2],
    frames: usize,
    /// Median ms for the three slice cells (rendered and read back) while the standard
    /// planes scroll 1 mm a frame.
    standard_ms: f64,
    /// Frames/s of the same.
    standard_frames_per_s: f64,
    /// Median ms for the three slice cells while the planes turn 2° a frame, about the
    /// axial then the coronal normal (double oblique).
    turning_ms: f64,
    /// Frames/s of the same.
    turning_frames_per_s: f64,
    /// `turning_ms / standard_ms`.
    turning_ratio: f64,
    /// The slab's thickness (mm).
    slab_mm: f64,
    /// Median ms of a thin axial slice at the frame's size.
    thin_ms: f64,
    /// Median ms of the slab MIP on the axial plane at the frame's size.
    slab_mip_ms: f64,
    /// Median ms of the slab MIP on a double-oblique plane at the frame's size.
    oblique_slab_mip_ms: f64,
    /// `slab_mip_ms / thin_ms`.
    slab_ratio: f64,
}

/// Times the slice cells while the planes scroll and while they turn, and slabs beside a
/// thin slice, on the series at `path` (the built-in sample without one).
pub fn planes(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    frames: usize,
    slab_mm: f64,
    json: bool,
) -> anyhow::Result<()> {
    if !(slab_mm.is_finite() && slab_mm > 0.0 && slab_mm <= 500.0) {
        anyhow::bail!("--slab {slab_mm}: a thickness in mm, above 0 and at most 500");
    }
    let frames = frames.max(10);
    let (mut renderer, volume, view) = super::opened_scene(path, series)?;
    let cell = cell_render_size(size);
    // Warm the renderer's pipelines and the volume's upload.
    slice_cells(
        &mut renderer,
        &volume,
        &view,
        &SliceFrame::STANDARD,
        volume.centre_lps(),
        cell,
    )?;

    let mut crosshair = volume.centre_lps();
    let mut standard = Vec::with_capacity(frames);
    for n in 0..frames {
        let step = if n % 40 < 20 { 1.0 } else { -1.0 };
        crosshair += SlicePlane::Axial.normal() * step;
        let started = Instant::now();
        slice_cells(
            &mut renderer,
            &volume,
            &view,
            &SliceFrame::STANDARD,
            crosshair,
            cell,
        )?;
        standard.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut frame = SliceFrame::STANDARD;
    let mut turning = Vec::with_capacity(frames);
    for n in 0..frames {
        let about = if n < frames / 2 {
            SlicePlane::Axial
        } else {
            SlicePlane::Coronal
        };
        frame = frame.turned(about, 2.0).map_err(anyhow::Error::msg)?;
        let started = Instant::now();
        slice_cells(
            &mut renderer,
            &volume,
            &view,
            &frame,
            volume.centre_lps(),
            cell,
        )?;
        turning.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let slab = |renderer: &mut Renderer, frame: &SliceFrame, thickness: f64| {
        let mut slice = view.clone();
        let mut plane = cell_slice(&volume, frame, SlicePlane::Axial, volume.centre_lps());
        plane.slab_mm = thickness;
        plane.slab_mode = SlabMode::Mip;
        slice.mpr = Some(plane);
        let mut times = Vec::with_capacity(frames);
        for _ in 0..frames {
            let started = Instant::now();
            renderer.render_image(&slice, size)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        anyhow::Ok(median(&mut times))
    };
    let thin_ms = slab(&mut renderer, &SliceFrame::STANDARD, 0.0)?;
    let slab_mip_ms = slab(&mut renderer, &SliceFrame::STANDARD, slab_mm)?;
    let oblique_slab_mip_ms = slab(&mut renderer, &frame, slab_mm)?;
    let (standard_ms, turning_ms) = (median(&mut standard), median(&mut turning));
    let report = PlanesReport {
        adapter: renderer.context().capabilities.adapter.clone(),
        volume: volume.dims,
        size,
        frames,
        standard_ms,
        standard_frames_per_s: 1000.0 / standard_ms,
        turning_ms,
        turning_frames_per_s: 1000.0 / turning_ms,
        turning_ratio: turning_ms / standard_ms,
        slab_mm,
        thin_ms,
        slab_mip_ms,
        oblique_slab_mip_ms,
        slab_ratio: slab_mip_ms / thin_ms,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "planes {}×{} (cells {}×{}) of {:?} on {}: standard {:.1} ms ({:.1} frames/s), turning {:.1} ms ({:.1} frames/s, ×{:.2}); {} mm slab MIP {:.1} ms, oblique {:.1} ms, thin {:.1} ms (×{:.2})",
            size[0],
            size[1],
            cell[0],
            cell[1],
            report.volume,
            report.adapter,
            report.standard_ms,
            report.standard_frames_per_s,
            report.turning_ms,
            report.turning_frames_per_s,
            report.turning_ratio,
            report.slab_mm,
            report.slab_mip_ms,
            report.oblique_slab_mip_ms,
            report.thin_ms,
            report.slab_ratio
        );
    }
    Ok(())
}

/// Renders and reads back the three slice cells of `frame` through `crosshair`.
fn slice_cells(
    renderer: &mut Renderer,
    volume: &Volume,
    view: &ViewState,
    frame: &SliceFrame,
    crosshair: glam::DVec3,
    cell: [u32; 2],
) -> anyhow::Result<()> {
    for plane in SlicePlane::ALL {
        let mut slice = view.clone();
        slice.mpr = Some(cell_slice(volume, frame, plane, crosshair));
        renderer.render_image(&slice, cell)?;
    }
    Ok(())
}
