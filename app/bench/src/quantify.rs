//! `bench quantify`: how long a CT's coronary calcium score takes, over the whole series
//! and over a region, on the volume as loaded and as a server keeps it (packed slices,
//! each decoded as it is scored): the median of a few runs, beside the load itself.

use std::path::Path;
use std::time::Instant;

use glam::DVec3;
use serde::Serialize;

use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_workstation::source;
use hounsfield_workstation::timing::median;
use hounsfield_workstation::values::LpsBox;

/// One region's figures.
#[derive(Debug, Serialize)]
struct Scored {
    region: &'static str,
    voxels: usize,
    lesions: usize,
    agatston: f64,
    ms: f64,
    packed_ms: f64,
}

/// What `bench quantify --json` prints.
#[derive(Debug, Serialize)]
struct QuantifyFigures {
    series: String,
    dims: [usize; 3],
    load_ms: f64,
    runs: usize,
    calcium: Vec<Scored>,
}

/// Runs `bench quantify`.
pub fn quantify(
    path: Option<&Path>,
    series: Option<&str>,
    roi: Option<LpsBox>,
    runs: usize,
    json: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let opened = source::open_volume(path, series)?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let volume = opened.volume;
    let packed = volume.clone().packed();
    let mut regions = vec![("whole", VoxelBox::whole(&volume))];
    if let Some(roi) = roi {
        let region = VoxelBox::of_lps(&volume, DVec3::from(roi.a), DVec3::from(roi.b), "--roi")?;
        regions.push(("roi", region));
    }
    let runs = runs.max(1);
    let mut calcium = Vec::new();
    for (name, region) in regions {
        let timed = |volume: &render_core::Volume| -> anyhow::Result<(f64, calcium::CalciumScore)> {
            let mut times = Vec::with_capacity(runs);
            let mut last = None;
            for _ in 0..runs {
                let started = Instant::now();
                let scored = calcium::score(volume, region, DEFAULT_MG_PER_CM3_PER_HU)?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                last = Some(scored);
            }
            let scored = last.ok_or_else(|| anyhow::anyhow!("no run"))?;
            Ok((median(&mut times), scored))
        };
        let (ms, scored) = timed(&volume)?;
        let (packed_ms, _) = timed(&packed)?;
        let voxels = (0..3).map(|a| region.to[a] - region.from[a]).product();
        calcium.push(Scored {
            region: name,
            voxels,
            lesions: scored.total.lesions,
            agatston: scored.total.agatston,
            ms,
            packed_ms,
        });
    }
    let figures = QuantifyFigures {
        series: opened.label,
        dims: volume.dims,
        load_ms,
        runs,
        calcium,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    println!(
        "quantify {} {:?}: loaded in {:.0} ms; calcium score, median of {} runs:",
        figures.series, figures.dims, figures.load_ms, figures.runs
    );
    for scored in &figures.calcium {
        println!(
            "  {:>5}: {:>11} voxels, {:>6} lesions, Agatston {:>10.1}: {:>7.1} ms ({:.1} ms packed, as a server keeps it)",
            scored.region,
            scored.voxels,
            scored.lesions,
            scored.agatston,
            scored.ms,
            scored.packed_ms
        );
    }
    Ok(())
}
