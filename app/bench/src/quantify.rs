//! `bench quantify`: how long a CT's coronary calcium score takes, over the whole series
//! and over a region, on the volume as loaded and as a server keeps it (packed slices,
//! each decoded as it is scored): the median of a few runs, beside the load itself; and
//! a reader's click naming a plaque on the score kept (the smallest lesion's, as a
//! coronary plaque is small beside bone), beside the whole series scored again with its
//! lesions painted (what a naming would cost without the kept score).

use std::path::Path;
use std::time::Instant;

use glam::DVec3;
use serde::Serialize;

use hounsfield_findings::arteries::Artery;
use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::naming::{NamedScore, NamingGesture};
use hounsfield_workstation::source;
use hounsfield_workstation::timing::median;
use hounsfield_workstation::values::LpsBox;

use super::cine::{self, CineFigures};
use super::over_time::{self, OverTimeFigures};

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

/// A click naming a small plaque on the whole series' kept score, beside scoring it again.
#[derive(Debug, Serialize)]
struct NamingFigures {
    /// The whole series scored with its lesions painted (ms, packed).
    scored_ms: f64,
    /// A click on its smallest lesion named on the kept score (ms, packed).
    named_ms: f64,
    /// The lesions the click named (its plaque).
    lesions_named: usize,
}

/// What `bench quantify --json` prints.
#[derive(Debug, Serialize)]
struct QuantifyFigures {
    series: String,
    dims: [usize; 3],
    load_ms: f64,
    runs: usize,
    calcium: Vec<Scored>,
    /// A click naming a plaque, beside scoring the series again.
    naming: NamingFigures,
    /// The series over time, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    over_time: Option<OverTimeFigures>,
    /// Its cine played by a server, with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    cine: Option<CineFigures>,
}

/// How long the cine plays in each layout (s).
const CINE_SECONDS: f64 = 4.0;

/// What `bench quantify` measures.
pub struct Quantified<'a> {
    /// The CT whose calcium is scored (the phantom when none).
    pub path: Option<&'a Path>,
    /// Its series.
    pub series: Option<&'a str>,
    /// A region of it to score too.
    pub roi: Option<LpsBox>,
    /// A series over time to load and take curves over.
    pub over_time: Option<&'a Path>,
    /// dcm2niix, to convert that series in the same run.
    pub dcm2niix: Option<&'a Path>,
}

/// Runs `bench quantify`.
pub fn quantify(what: Quantified<'_>, runs: usize, json: bool) -> anyhow::Result<()> {
    let Quantified {
        path,
        series,
        roi,
        over_time,
        dcm2niix,
    } = what;
    // First, so the kernel's high-water mark is this load's.
    let what_over_time = over_time;
    let over_time = match over_time {
        Some(four_d) => Some(over_time::measure(four_d, runs.max(1), dcm2niix)?),
        None => None,
    };
    let cine = match what_over_time {
        Some(four_d) => Some(cine::measure(four_d, CINE_SECONDS)?),
        None => None,
    };
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
    let naming = time_naming(&packed, runs)?;
    let figures = QuantifyFigures {
        series: opened.label,
        dims: volume.dims,
        load_ms,
        runs,
        calcium,
        naming,
        over_time,
        cine,
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
    let n = &figures.naming;
    println!(
        "  a click naming a small plaque ({} lesions) on the score kept: {:.1} ms, beside the whole series scored again with its lesions painted: {:.1} ms ({:.0}×)",
        n.lesions_named,
        n.named_ms,
        n.scored_ms,
        n.scored_ms / n.named_ms.max(1e-6)
    );
    if let Some(o) = &figures.over_time {
        println!(
            "series over time {}: {} volumes of {:?}, loaded in {:.0} ms ({:.1} ms a volume); {:.1} MiB of voxels, {:.1} MiB resident after, {:.1} MiB at the peak ({:.2}× the voxels)",
            o.series,
            o.volumes,
            o.dims,
            o.load_ms,
            o.ms_a_volume,
            o.voxel_mib,
            o.resident_mib,
            o.peak_mib,
            o.peak_over_voxels
        );
        println!(
            "  a point's curve over every volume with its measures {:.1} µs; a region's ({} voxels) {:.2} ms",
            o.point_curve_ms * 1000.0,
            o.region_voxels,
            o.region_curve_ms
        );
        if let Some(ms) = o.dcm2niix_ms {
            println!(
                "  dcm2niix, the same series to a 4D NIfTI: {ms:.0} ms ({:.2}× our load)",
                ms / o.load_ms
            );
        }
    }
    if let Some(cine) = &figures.cine {
        println!(
            "  cine on the server at {}×{}, {} volumes a second asked, JPEG over loopback:",
            cine.size[0], cine.size[1], cine.asked_fps
        );
        for run in &cine.runs {
            println!(
                "    {}: {:.1} frames/s showing {:.1} volumes/s; render {:.1} ms, encode {:.1} ms a frame",
                run.layout, run.frames_a_second, run.volumes_a_second, run.render_ms, run.encode_ms
            );
        }
    }
    Ok(())
}

/// Times a click on the whole series' smallest lesion named on the kept score (packed, as
/// a server keeps it), beside the series scored again with its lesions painted.
fn time_naming(volume: &render_core::Volume, runs: usize) -> anyhow::Result<NamingFigures> {
    let whole = VoxelBox::whole(volume);
    let factor = (DEFAULT_MG_PER_CM3_PER_HU, false);
    let mut smallest: Option<(usize, usize)> = None;
    calcium::score_each(volume, whole, factor.0, |lesion, voxels| {
        if smallest.is_none_or(|(pixels, _)| pixels > lesion.pixels) {
            smallest = voxels.first().map(|&voxel| (lesion.pixels, voxel));
        }
    })?;
    let (_, voxel) = smallest.ok_or_else(|| anyhow::anyhow!("the series has no calcium lesion"))?;
    let [width, height, _] = volume.dims;
    let ijk = DVec3::new(
        (voxel % width) as f64,
        ((voxel / width) % height) as f64,
        (voxel / (width * height)) as f64,
    );
    let click = NamingGesture::Click(volume.voxel_to_lps_point(ijk));
    let mut scored_times = Vec::with_capacity(runs);
    let mut named_times = Vec::with_capacity(runs);
    let mut lesions_named = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let mut score = NamedScore::score(volume, "bench", whole, factor, Vec::new(), true)?;
        scored_times.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        score.name(volume, Artery::LeftAnteriorDescending, click, usize::MAX)?;
        named_times.push(started.elapsed().as_secs_f64() * 1000.0);
        lesions_named = score.regions.len();
    }
    Ok(NamingFigures {
        scored_ms: median(&mut scored_times),
        named_ms: median(&mut named_times),
        lesions_named,
    })
}
