//! `hounsfield calcium`: the coronary calcium score of a CT without contrast, per lesion
//! and in total, for scripts and reports.

use std::path::Path;

use anyhow::Context;
use glam::DVec3;
use serde::Serialize;

use hounsfield_findings::arteries::{Artery, NamedRegion, name_lesions, scores_by_artery};
use hounsfield_findings::calcium::{
    self, CalciumScore, DEFAULT_MG_PER_CM3_PER_HU, Lesion, Scores, VoxelBox,
};
use hounsfield_workstation::source;
use hounsfield_workstation::values::{KnownDensity, LpsBox};

/// The scores of a set of lesions, as `calcium --json` prints them.
#[derive(Debug, Serialize)]
struct Totals {
    agatston: f64,
    volume_mm3: f64,
    mass_mg: f64,
    lesions: usize,
    category: &'static str,
    range: &'static str,
}

impl From<Scores> for Totals {
    fn from(scores: Scores) -> Self {
        Self {
            agatston: scores.agatston,
            volume_mm3: scores.volume_mm3,
            mass_mg: scores.mass_mg,
            lesions: scores.lesions,
            category: scores.category().name(),
            range: scores.category().range(),
        }
    }
}

/// One lesion, as `calcium --json` prints it.
#[derive(Debug, Serialize)]
struct LesionReport {
    slice: usize,
    centre_lps: [f64; 3],
    area_mm2: f64,
    peak_hu: f64,
    mean_hu: f64,
    weight: u8,
    agatston: f64,
    volume_mm3: f64,
    mass_mg: f64,
    /// The artery a region named it (`--artery`); none when no region holds it.
    artery: Option<&'static str>,
}

impl LesionReport {
    fn of(lesion: &Lesion, artery: Option<Artery>) -> Self {
        Self {
            artery: artery.map(Artery::code),
            slice: lesion.slice,
            centre_lps: lesion.centre_lps.to_array(),
            area_mm2: lesion.area_mm2,
            peak_hu: lesion.peak_hu,
            mean_hu: lesion.mean_hu,
            weight: lesion.weight,
            agatston: lesion.agatston,
            volume_mm3: lesion.volume_mm3,
            mass_mg: lesion.mass_mg,
        }
    }
}

/// What `calcium --json` prints.
#[derive(Debug, Serialize)]
struct CalciumReport {
    series: String,
    slice_mm: f64,
    pixel_area_mm2: f64,
    mg_per_cm3_per_hu: f64,
    calibrated: bool,
    lesions: Vec<LesionReport>,
    /// With `--artery`: the scores of each artery's lesions, every artery listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    arteries: Vec<ArteryTotals>,
    total: Totals,
}

/// One artery's scores, as `calcium --json` prints them.
#[derive(Debug, Serialize)]
struct ArteryTotals {
    artery: &'static str,
    #[serde(flatten)]
    scores: Totals,
}

/// What `calcium` scores.
pub struct Scored<'a> {
    /// The CT (the phantom when none).
    pub path: Option<&'a Path>,
    /// Its series.
    pub series: Option<&'a str>,
    /// The region scored (the whole series when none).
    pub roi: Option<LpsBox>,
    /// A region of known calcium density for the mass score.
    pub calibration: Option<KnownDensity>,
    /// Regions drawn round arteries' calcium.
    pub arteries: &'a [NamedRegion],
}

/// Runs `calcium` on the series at `path` (or the phantom), inside `roi` when given.
pub fn run(what: Scored<'_>, json: bool) -> anyhow::Result<()> {
    let Scored {
        path,
        series,
        roi,
        calibration,
        arteries,
    } = what;
    let opened = source::open_volume(path, series)?;
    for warning in &opened.warnings {
        eprintln!("warning: series {}: {warning}", opened.label);
    }
    let volume = &opened.volume;
    let voxels =
        |lps: LpsBox, what| VoxelBox::of_lps(volume, DVec3::from(lps.a), DVec3::from(lps.b), what);
    let region = match roi {
        Some(roi) => voxels(roi, "--roi").context("--roi")?,
        None => VoxelBox::whole(volume),
    };
    let factor = match calibration {
        Some(known) => {
            let insert = voxels(known.region, "--calibration").context("--calibration")?;
            calcium::calibration_factor(volume, insert, known.mg_per_cm3)
                .context("--calibration")?
        }
        None => DEFAULT_MG_PER_CM3_PER_HU,
    };
    let scored = calcium::score(volume, region, factor)
        .with_context(|| format!("series {}", opened.label))?;
    let named = if arteries.is_empty() {
        vec![None; scored.lesions.len()]
    } else {
        name_lesions(&scored.lesions, arteries)
    };
    let mut report = report(&opened.label, &scored, &named, calibration.is_some());
    if !arteries.is_empty() {
        report.arteries = scores_by_artery(&scored.lesions, &named)
            .into_iter()
            .map(|(artery, scores)| ArteryTotals {
                artery: artery.code(),
                scores: scores.into(),
            })
            .collect();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_table(&report);
    Ok(())
}

fn report(
    series: &str,
    scored: &CalciumScore,
    named: &[Option<Artery>],
    calibrated: bool,
) -> CalciumReport {
    CalciumReport {
        series: series.to_string(),
        slice_mm: scored.slice_mm,
        pixel_area_mm2: scored.pixel_area_mm2,
        mg_per_cm3_per_hu: scored.mg_per_cm3_per_hu,
        calibrated,
        lesions: scored
            .lesions
            .iter()
            .zip(named)
            .map(|(lesion, artery)| LesionReport::of(lesion, *artery))
            .collect(),
        arteries: Vec::new(),
        total: scored.total.into(),
    }
}

fn print_table(report: &CalciumReport) {
    println!(
        "series {} ({} mm slices, mass at {:.3} mg/cm³ per HU{})",
        report.series,
        report.slice_mm,
        report.mg_per_cm3_per_hu,
        if report.calibrated {
            ", calibrated"
        } else {
            ""
        }
    );
    println!(
        "{:>6}  {:>26}  {:>9}  {:>7}  {:>6}  {:>9}  {:>10}  {:>8}",
        "slice",
        "centre LPS mm",
        "area mm²",
        "peak HU",
        "weight",
        "Agatston",
        "volume mm³",
        "mass mg"
    );
    for lesion in &report.lesions {
        let [x, y, z] = lesion.centre_lps;
        println!(
            "{:>6}  {x:>8.1} {y:>8.1} {z:>8.1}  {:>9.2}  {:>7.0}  {:>6}  {:>9.1}  {:>10.1}  {:>8.2}",
            lesion.slice,
            lesion.area_mm2,
            lesion.peak_hu,
            lesion.weight,
            lesion.agatston,
            lesion.volume_mm3,
            lesion.mass_mg
        );
    }
    for by_artery in &report.arteries {
        let s = &by_artery.scores;
        println!(
            "{:>5}: Agatston {:.1}, volume {:.1} mm³, mass {:.2} mg, {} lesions",
            by_artery.artery, s.agatston, s.volume_mm3, s.mass_mg, s.lesions
        );
    }
    let total = &report.total;
    println!(
        "total: Agatston {:.1} ({}: {}), volume {:.1} mm³, mass {:.2} mg, {} lesions",
        total.agatston, total.category, total.range, total.volume_mm3, total.mass_mg, total.lesions
    );
}
