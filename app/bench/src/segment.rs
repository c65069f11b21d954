//! `bench segment`: how long the segmentation tools take on a series (a threshold, the
//! region grown from a click, the largest island, a margin in millimetres, a median, a
//! fill between slices, grow from seeds, a Segmentation written and read back, a brush
//! stroke on a server to the frame that shows it, and to the one whose 3D cell does), the
//! 50th and 95th percentiles of a few runs, beside SimpleITK's time for the same operations on
//! the same series in the same run where it has them (its `BinaryMedian` takes a box of
//! voxels, not a ball in millimetres, so the median has no peer).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use glam::DVec3;
use hounsfield_findings::segmentation::{read_segmentation_file, segmentation};
use hounsfield_segment::{
    Algorithm, Grid, GridPlane, Mask, Segment, ValueInterval, fill_between, grow, islands, margin,
    paint, seeds, smooth,
};
use hounsfield_workstation::{authorship, source};

/// The peer's script, written out for its Python to run.
const SIMPLEITK_PEER: &str = include_str!("../peers/simpleitk_segment.py");

/// One operation's figures.
#[derive(Debug, Serialize)]
struct Timed {
    operation: &'static str,
    voxels: usize,
    p50_ms: f64,
    p95_ms: f64,
    simpleitk_p50_ms: Option<f64>,
    simpleitk_voxels: Option<u64>,
    /// Ours over SimpleITK's (below 1: ours is faster).
    ratio: Option<f64>,
}

/// What `bench segment --json` prints.
#[derive(Debug, Serialize)]
struct SegmentFigures {
    series: String,
    dims: [usize; 3],
    seed_voxel: [usize; 3],
    runs: usize,
    threads: usize,
    simpleitk_threads: Option<u64>,
    peer: String,
    operations: Vec<Timed>,
}

/// What `bench segment` is asked.
pub struct SegmentBench<'a> {
    /// The series' file, folder or DICOMDIR.
    pub path: &'a Path,
    /// Its id or number.
    pub series: Option<&'a str>,
    /// The value range of every tool.
    pub threshold: [f64; 2],
    /// The margin (mm).
    pub margin_mm: f64,
    /// The median's radius (mm).
    pub median_mm: f64,
    /// Runs of each operation.
    pub runs: usize,
    /// The Python with SimpleITK; none: no peer.
    pub peer_python: Option<&'a Path>,
    /// Print JSON.
    pub json: bool,
}

/// Runs `bench segment`.
pub fn segment(bench: &SegmentBench) -> anyhow::Result<()> {
    let opened = source::open_volume(Some(bench.path), bench.series)?;
    let volume = &opened.volume;
    let grid = Grid::of(volume);
    let runs = bench.runs.max(2);
    let interval = ValueInterval::new(bench.threshold[0], bench.threshold[1])?;
    let mut operations = Vec::new();
    let (threshold_times, thresholded) =
        times(runs, || Ok(hounsfield_segment::threshold(volume, interval)))?;
    operations.push(("threshold", thresholded.count(), threshold_times));
    let (islands_times, largest) = times(runs, || Ok(islands::keep_largest(&thresholded, grid)))?;
    operations.push(("islands", largest.count(), islands_times));
    // The click: the first voxel of the largest island, so that the region grown is it.
    let seed_index = largest
        .indices()
        .next()
        .context("no voxel of the series lies in the range: give another --threshold")?;
    let seed = grid.ijk(seed_index);
    let (grow_times, grown) = times(runs, || Ok(grow::grow_from_seed(volume, seed, interval)?))?;
    operations.push(("grow", grown.count(), grow_times));
    let (margin_times, widened) =
        times(runs, || Ok(margin::margin(&grown, grid, bench.margin_mm)?))?;
    operations.push(("margin", widened.count(), margin_times));
    let (median_times, smoothed) =
        times(runs, || Ok(smooth::median(&grown, grid, bench.median_mm)?))?;
    operations.push(("median", smoothed.count(), median_times));
    // Every fourth axial slice of the region, filled between.
    let drawn = Mask::from_indices(
        grid,
        grown
            .indices()
            .filter(|&n| grid.ijk(n)[2].is_multiple_of(4)),
    );
    let (fill_times, filled) = times(runs, || {
        Ok(fill_between::fill_between(&drawn, grid, GridPlane::Axial)?)
    })?;
    operations.push(("fill_between", filled.count(), fill_times));
    let seeded = two_seeds(volume, seed)?;
    let (seeds_times, shared) = times(runs, || Ok(seeds::grow_from_seeds(volume, &seeded)?))?;
    operations.push((
        "grow_from_seeds",
        shared.iter().map(Mask::count).sum(),
        seeds_times,
    ));
    let (write_ms, read_ms) = seg_round_trip(&opened, &grown, runs)?;
    operations.push(("seg_write", grown.count(), write_ms));
    operations.push(("seg_read", grown.count(), read_ms));
    let strokes = super::brush_stroke::to_frame(bench.path, bench.series, runs)?;
    operations.push(("brush_stroke_to_frame", strokes.voxels, strokes.with_3d));
    operations.push(("brush_stroke_to_3d_frame", strokes.voxels, strokes.in_3d));
    operations.push((
        "brush_stroke_to_frame_slices_only",
        strokes.voxels,
        strokes.slices_only,
    ));
    let peer = match bench.peer_python {
        Some(python) => Some(simpleitk(python, bench, seed, runs)?),
        None => None,
    };
    let peer_ms = |name: &str| -> Option<f64> {
        let times = peer.as_ref()?.get(name)?.get("ms")?.as_array()?;
        let mut times: Vec<f64> = times.iter().filter_map(serde_json::Value::as_f64).collect();
        (!times.is_empty()).then(|| percentile(&mut times, 0.5))
    };
    let figures = SegmentFigures {
        series: opened.label.clone(),
        dims: volume.dims,
        seed_voxel: seed,
        runs,
        threads: rayon::current_num_threads(),
        simpleitk_threads: peer
            .as_ref()
            .and_then(|p| p.get("threads"))
            .and_then(serde_json::Value::as_u64),
        peer: bench.peer_python.map_or("none".to_string(), |p| {
            format!("SimpleITK through {}", p.display())
        }),
        operations: operations
            .into_iter()
            .map(|(operation, voxels, mut ms)| {
                let p50 = percentile(&mut ms, 0.5);
                let theirs = peer_ms(operation);
                Timed {
                    operation,
                    voxels,
                    p50_ms: p50,
                    p95_ms: percentile(&mut ms, 0.95),
                    simpleitk_p50_ms: theirs,
                    simpleitk_voxels: peer
                        .as_ref()
                        .and_then(|p| p.get(operation)?.get("voxels")?.as_u64()),
                    ratio: theirs.map(|t| p50 / t),
                }
            })
            .collect(),
    };
    if bench.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    println!(
        "segment {} {:?}, seed voxel {:?}, {} runs, {} threads (SimpleITK {}):",
        figures.series,
        figures.dims,
        figures.seed_voxel,
        figures.runs,
        figures.threads,
        figures
            .simpleitk_threads
            .map_or("not run".to_string(), |t| t.to_string())
    );
    for timed in &figures.operations {
        let peer = match (timed.simpleitk_p50_ms, timed.ratio) {
            (Some(theirs), Some(ratio)) => format!("SimpleITK {theirs:>8.1} ms, ratio {ratio:.2}"),
            _ => "no peer".to_string(),
        };
        println!(
            "  {:>33}: {:>10} voxels  p50 {:>8.1} ms  p95 {:>8.1} ms  {peer}",
            timed.operation, timed.voxels, timed.p50_ms, timed.p95_ms
        );
    }
    Ok(())
}

/// Two balls of 3 mm to grow from: at the click, and 55 voxels along i and j and 30
/// along k from it, towards the volume's middle.
fn two_seeds(volume: &render_core::Volume, seed: [usize; 3]) -> anyhow::Result<Vec<Mask>> {
    let away = [55, 55, 30];
    let other = [0, 1, 2].map(|a| {
        if seed[a] + away[a] < volume.dims[a] {
            seed[a] + away[a]
        } else {
            seed[a].saturating_sub(away[a])
        }
    });
    [seed, other]
        .into_iter()
        .map(|at| {
            let centre = volume.voxel_to_lps_point(DVec3::from(at.map(|n| n as f64)));
            Ok(paint::sphere(volume, centre, 3.0)?)
        })
        .collect()
}

/// Runs `operation` `runs` times: each run's milliseconds, and the last result.
fn times<T>(
    runs: usize,
    mut operation: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(Vec<f64>, T)> {
    let mut ms = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(operation()?);
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((ms, last.context("no run")?))
}

/// The `share` percentile of `values` (nearest rank).
fn percentile(values: &mut [f64], share: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64 * share).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// A Segmentation of `mask` written to a file and read back onto the series: each run's
/// milliseconds for each.
fn seg_round_trip(
    opened: &source::OpenedVolume,
    mask: &Mask,
    runs: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let subject = opened
        .subject
        .as_ref()
        .context("the series has no DICOM study to reference")?;
    let folder = tempfile::tempdir()?;
    let file = folder.path().join("segment.dcm");
    let segment = Segment::new(
        "Bench",
        [230, 80, 60],
        Algorithm::Semiautomatic("bench".to_string()),
        mask.clone(),
    );
    let (write_ms, _) = times(runs, || {
        let document = segmentation(
            subject,
            &opened.volume,
            std::slice::from_ref(&segment),
            &authorship::authorship_now(None),
        )?;
        let mut bytes = Vec::new();
        document
            .write_all(&mut bytes)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        std::fs::write(&file, &bytes)?;
        Ok(())
    })?;
    let (read_ms, read) = times(runs, || Ok(read_segmentation_file(&file, &opened.volume)?))?;
    anyhow::ensure!(
        read.segments.first().map(|s| s.mask.as_ref()) == Some(mask),
        "the Segmentation read back is not the segment written"
    );
    Ok((write_ms, read_ms))
}

/// SimpleITK's figures for the same operations: its script's JSON.
fn simpleitk(
    python: &Path,
    bench: &SegmentBench,
    [i, j, k]: [usize; 3],
    runs: usize,
) -> anyhow::Result<serde_json::Value> {
    let folder = tempfile::tempdir()?;
    let script = folder.path().join("simpleitk_segment.py");
    std::fs::write(&script, SIMPLEITK_PEER)?;
    let args: Vec<String> = [
        bench.threshold[0].to_string(),
        bench.threshold[1].to_string(),
        i.to_string(),
        j.to_string(),
        k.to_string(),
        bench.margin_mm.to_string(),
        runs.to_string(),
    ]
    .into();
    let output = Command::new(python)
        .arg(&script)
        .arg(bench.path)
        .args(&args)
        .output()
        .with_context(|| format!("{} does not run", python.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "SimpleITK's run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).context("SimpleITK's figures are not JSON")
}
