//! `bench quantify --over-time PATH`: a series over time loaded whole (ms a volume, the
//! memory the kernel counts against its voxels) and a time-intensity curve taken over all
//! its volumes (a point's, and a region's mean), beside dcm2niix converting the same
//! series to a 4D NIfTI in the same run (`--dcm2niix PROGRAM`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde::Serialize;

use hounsfield_findings::calcium::VoxelBox;
use hounsfield_findings::curve;
use hounsfield_workstation::source;
use hounsfield_workstation::timing::median;

use super::memory::{peak_resident_mib, resident_mib};

/// What `bench quantify --over-time` measures.
#[derive(Debug, Serialize)]
pub struct OverTimeFigures {
    /// The series id.
    pub series: String,
    /// Its volumes.
    pub volumes: usize,
    /// One volume's dimensions.
    pub dims: [usize; 3],
    /// Loading every volume (ms), catalogue included.
    pub load_ms: f64,
    /// … a volume.
    pub ms_a_volume: f64,
    /// The volumes' voxels as kept (MiB).
    pub voxel_mib: f64,
    /// Resident memory the load added and kept (MiB, the kernel's VmRSS after less before).
    pub resident_mib: f64,
    /// The most resident memory above the start while loading (MiB, VmHWM less VmRSS
    /// before).
    pub peak_mib: f64,
    /// `peak_mib` over `voxel_mib`.
    pub peak_over_voxels: f64,
    /// A point's curve over every volume with its measures (ms, median of the runs).
    pub point_curve_ms: f64,
    /// A region's mean over every volume (the middle half of each axis) with its measures
    /// (ms, median of the runs).
    pub region_curve_ms: f64,
    /// The region's voxels.
    pub region_voxels: usize,
    /// dcm2niix converting the same series to a 4D NIfTI (ms, median of the runs), when
    /// asked for.
    pub dcm2niix_ms: Option<f64>,
}

/// Measures a series over time: call before anything else is loaded, so the kernel's
/// high-water mark is this load's.
pub fn measure(
    path: &Path,
    runs: usize,
    dcm2niix: Option<&Path>,
) -> anyhow::Result<OverTimeFigures> {
    let before = resident_mib().unwrap_or(0.0);
    let started = Instant::now();
    let opened = source::open_series_over_time(Some(path), None)?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let peak = peak_resident_mib().unwrap_or(0.0);
    let resident = resident_mib().unwrap_or(0.0);
    let volumes: Vec<&render_core::Volume> = opened.volumes.iter().map(|v| &v.volume).collect();
    let first = volumes[0];
    let voxel_mib = volumes.iter().map(|v| v.size_bytes()).sum::<usize>() as f64 / (1 << 20) as f64;
    let times: Vec<f64> = (0..volumes.len()).map(|n| n as f64).collect();
    let centre = first.centre_lps();
    let point_curve_ms = median_ms(runs, || {
        let values: Option<Vec<f64>> = curve::point_curve(volumes.iter().copied(), centre)
            .into_iter()
            .collect();
        values.and_then(|values| curve::measure(&times, &values))
    });
    let region = middle_half(first.dims);
    let region_curve_ms = median_ms(runs, || {
        let values = curve::region_curve(volumes.iter().copied(), region);
        curve::measure(&times, &values)
    });
    let dcm2niix_ms = match dcm2niix {
        Some(program) => Some(time_dcm2niix(program, path, runs)?),
        None => None,
    };
    Ok(OverTimeFigures {
        series: opened.label.clone(),
        volumes: volumes.len(),
        dims: first.dims,
        load_ms,
        ms_a_volume: load_ms / volumes.len() as f64,
        voxel_mib,
        resident_mib: resident - before,
        peak_mib: peak - before,
        peak_over_voxels: (peak - before) / voxel_mib,
        point_curve_ms,
        region_curve_ms,
        region_voxels: (0..3).map(|a| region.to[a] - region.from[a]).product(),
        dcm2niix_ms,
    })
}

/// The middle half of each axis.
fn middle_half(dims: [usize; 3]) -> VoxelBox {
    VoxelBox {
        from: dims.map(|d| d / 4),
        to: dims.map(|d| (d - d / 4).max(d / 4 + 1)),
    }
}

/// The median ms of `runs` calls of `work` (its result kept from the optimiser).
fn median_ms<R>(runs: usize, mut work: impl FnMut() -> R) -> f64 {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(&mut times)
}

/// dcm2niix converting the series at `path` into a 4D NIfTI (uncompressed, no sidecar
/// kept), the median of `runs`.
fn time_dcm2niix(program: &Path, path: &Path, runs: usize) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let out = tempfile::tempdir()?;
        let started = Instant::now();
        let status = Command::new(program)
            .args(["-z", "n", "-b", "n", "-f", "volumes", "-o"])
            .arg(out.path())
            .arg(path)
            .stdout(std::process::Stdio::null())
            .status()?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.success(), "{} failed ({status})", program.display());
    }
    Ok(median(&mut times))
}
