//! `bench load URL --series ID`: a series retrieved from a PACS over DICOMweb into an
//! empty cache, then loaded, `runs` times: when the first instance arrived, when the last
//! did, and the total to a volume in memory (to compare with `bench load` of the same
//! series from disk).

use std::time::Instant;

use anyhow::Context;
use hounsfield_dicomweb::SeriesCache;
use render_core::dicom::{VoxelBudget, load_series_predecoded};
use render_core::progress::no_progress;
use serde::Serialize;

use hounsfield_workstation::source;
use hounsfield_workstation::timing::median;

/// What `bench load URL --json` prints.
#[derive(Debug, Serialize)]
struct DicomWebLoadReport {
    series: String,
    source: String,
    instances: usize,
    /// Instance bytes retrieved per run.
    bytes: u64,
    dims: [usize; 3],
    runs: usize,
    /// Median time to the first instance on disk.
    first_instance_median_ms: f64,
    /// Median time to the last instance on disk and decoded (metadata included).
    retrieve_median_ms: f64,
    /// Median time to the volume in memory, retrieval included.
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    /// Instance megabytes retrieved per second at the median retrieval.
    network_mb_per_s: f64,
    /// Requests in flight at once for instances the whole-series answer did not bring.
    parallel: usize,
}

/// Runs the benchmark.
pub fn run(url: &str, series: Option<&str>, runs: usize, json: bool) -> anyhow::Result<()> {
    let runs = runs.max(1);
    let id = series.context("bench load of a DICOMweb URL needs --series")?;
    let (mut firsts, mut retrieves, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        let cache_dir = tempfile::tempdir().context("a temporary cache folder")?;
        let cache = SeriesCache::new(cache_dir.path(), u64::MAX);
        let start = Instant::now();
        let retrieved_series = source::retrieve_series_into(url, &cache, Some(id), &|_, _| {})?;
        if let Some(first) = retrieved_series.missing.first() {
            anyhow::bail!(
                "{} instance(s) not retrieved: the figures would not be the series'; {first}",
                retrieved_series.missing.len()
            );
        }
        let catalog = &retrieved_series.catalog;
        let retrieved = start.elapsed();
        let chosen = catalog.find(id)?;
        let loaded = load_series_predecoded(
            chosen,
            VoxelBudget::for_machine(),
            &no_progress,
            Some(&retrieved_series.decoded),
        )
        .with_context(|| format!("loading series {}", chosen.id))?;
        totals.push(start.elapsed().as_secs_f64() * 1000.0);
        retrieves.push(retrieved.as_secs_f64() * 1000.0);
        let first = retrieved_series
            .first_arrival
            .map_or(retrieved, |at| at.duration_since(start));
        firsts.push(first.as_secs_f64() * 1000.0);
        let bytes = chosen
            .images
            .iter()
            .map(|image| image.file.as_path())
            .collect::<std::collections::BTreeSet<_>>()
            .iter()
            .filter_map(|file| std::fs::metadata(file).ok())
            .map(|m| m.len())
            .sum::<u64>();
        last = Some((
            chosen.id.clone(),
            chosen.images.len(),
            bytes,
            loaded.volume.dims,
        ));
    }
    let Some((series, instances, bytes, dims)) = last else {
        anyhow::bail!("no run completed");
    };
    let retrieve_median_ms = median(&mut retrieves);
    let report = DicomWebLoadReport {
        series,
        source: url.to_string(),
        instances,
        bytes,
        dims,
        runs,
        first_instance_median_ms: median(&mut firsts),
        retrieve_median_ms,
        median_ms: median(&mut totals.clone()),
        min_ms: totals.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: totals.iter().copied().fold(0.0, f64::max),
        network_mb_per_s: bytes as f64 / 1e6 / (retrieve_median_ms / 1000.0),
        parallel: source::dicomweb(url)?.limits().parallel,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "load {} over DICOMweb: {} instances ({:.1} MB) {:?}, median {:.1} ms (min {:.1}, max {:.1}) over {} runs; first instance {:.1} ms, all retrieved and decoded {:.1} ms ({:.1} MB/s, one whole-series request then up to {} requests at once for what it lacks)",
            report.series,
            report.instances,
            report.bytes as f64 / 1e6,
            report.dims,
            report.median_ms,
            report.min_ms,
            report.max_ms,
            report.runs,
            report.first_instance_median_ms,
            report.retrieve_median_ms,
            report.network_mb_per_s,
            report.parallel
        );
    }
    Ok(())
}
