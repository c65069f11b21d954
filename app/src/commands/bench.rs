//! `hounsfield bench`: figures, never pass/fail. `bench load` times scanning and decoding.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use render_core::dicom::load_series;
use render_core::progress::no_progress;
use serde::Serialize;

use crate::source;

/// What `bench load --json` prints.
#[derive(Debug, Serialize)]
struct LoadReport {
    series: String,
    slices: usize,
    dims: [usize; 3],
    runs: usize,
    /// Median of scan + decode, per run.
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    /// Median header scan alone.
    scan_median_ms: f64,
    /// Decoded voxel megabytes per second at the median.
    mb_per_s: f64,
    /// File megabytes read per second at the median.
    file_mb_per_s: f64,
    threads: usize,
}

/// Scans and loads the series `runs` times and prints the figures.
pub fn load(path: &Path, series: Option<&str>, runs: usize, json: bool) -> anyhow::Result<()> {
    let runs = runs.max(1);
    let mut totals = Vec::with_capacity(runs);
    let mut scans = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let catalog = source::scan(&[path.to_path_buf()])?;
        let scanned = start.elapsed();
        let chosen = source::choose(&catalog, series)?;
        let loaded = load_series(chosen, &no_progress)
            .with_context(|| format!("loading series {}", chosen.id))?;
        totals.push(start.elapsed().as_secs_f64() * 1000.0);
        scans.push(scanned.as_secs_f64() * 1000.0);
        let file_bytes: u64 = loaded_files_bytes(chosen);
        last = Some((chosen.id.clone(), loaded, file_bytes));
    }
    let Some((id, loaded, file_bytes)) = last else {
        anyhow::bail!("no run completed");
    };
    let median_ms = median(&mut totals.clone());
    let report = LoadReport {
        series: id,
        slices: loaded.slices,
        dims: loaded.volume.dims,
        runs,
        median_ms,
        min_ms: totals.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: totals.iter().copied().fold(0.0, f64::max),
        scan_median_ms: median(&mut scans),
        mb_per_s: loaded.volume.size_bytes() as f64 / 1e6 / (median_ms / 1000.0),
        file_mb_per_s: file_bytes as f64 / 1e6 / (median_ms / 1000.0),
        threads: rayon::current_num_threads(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "load {}: {} slices {:?}, median {:.1} ms (min {:.1}, max {:.1}; scan {:.1}) over {} runs, {:.1} MB/s voxels, {:.1} MB/s files, {} threads",
            report.series,
            report.slices,
            report.dims,
            report.median_ms,
            report.min_ms,
            report.max_ms,
            report.scan_median_ms,
            report.runs,
            report.mb_per_s,
            report.file_mb_per_s,
            report.threads
        );
    }
    Ok(())
}

fn loaded_files_bytes(series: &render_core::dicom::Series) -> u64 {
    let mut files: Vec<&Path> = series.images.iter().map(|i| i.file.as_path()).collect();
    files.sort();
    files.dedup();
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
