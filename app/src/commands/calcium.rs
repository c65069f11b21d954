//! `hounsfield calcium`: the coronary calcium score of a CT without contrast, per lesion
//! and in total, for scripts and reports.

use std::path::Path;

use anyhow::Context;
use glam::DVec3;
use hounsfield_findings::arteries::NamedRegion;
use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::scoring::calcium_report;
use hounsfield_protocol::CalciumReport;
use hounsfield_workstation::source;
use hounsfield_workstation::values::{KnownDensity, LpsBox};

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
    let report = calcium_report(
        volume,
        &opened.label,
        region,
        factor,
        calibration.is_some(),
        arteries,
    )
    .with_context(|| format!("series {}", opened.label))?;
    // The region that calibrated the mass, told back as a box.
    let report = CalciumReport {
        calibration: calibration.map(|known| hounsfield_protocol::KnownDensity {
            region: [
                known.region.a[0],
                known.region.a[1],
                known.region.a[2],
                known.region.b[0],
                known.region.b[1],
                known.region.b[2],
            ],
            mg_per_cm3: known.mg_per_cm3,
        }),
        ..report
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_table(&report);
    Ok(())
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
