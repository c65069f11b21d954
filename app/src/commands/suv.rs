//! `hounsfield suv`: a PET's uptake in SUV normalised by body weight, for scripts and
//! reports: the factor from its activity concentration and what the header gives it
//! from, SUVmax, SUVmean and SUVpeak of a region, and the SUV at points.

use std::path::Path;

use anyhow::Context;
use glam::DVec3;
use serde::Serialize;

use hounsfield_findings::calcium::VoxelBox;
use hounsfield_findings::uptake;
use hounsfield_workstation::source;
use hounsfield_workstation::values::LpsBox;
use render_core::dicom::header::{SuvFactor, read_suv_factor};
use render_core::dicom::load_series;
use render_core::progress::no_progress;

/// What `suv --json` prints.
#[derive(Debug, Serialize)]
struct SuvReport {
    series: String,
    /// The factor (SUV a Bq/ml) and what it comes from.
    #[serde(flatten)]
    suv: SuvFactor,
    region: RegionReport,
    points: Vec<PointReport>,
}

#[derive(Debug, Serialize)]
struct RegionReport {
    voxels: usize,
    suv_max: f64,
    suv_mean: f64,
    suv_peak: f64,
    peak_centre_lps_mm: [f64; 3],
}

#[derive(Debug, Serialize)]
struct PointReport {
    lps_mm: [f64; 3],
    /// The nearest voxel's activity concentration (Bq/ml); none outside.
    bq_ml: Option<f64>,
    suv: Option<f64>,
}

/// Runs `suv` on the PET series at `path`.
pub fn run(
    path: &Path,
    series: Option<&str>,
    roi: Option<LpsBox>,
    points: &[[f64; 3]],
    json: bool,
) -> anyhow::Result<()> {
    let catalog = source::scan(&[path.to_path_buf()])?;
    let chosen = source::choose(&catalog, series)?;
    let first = &chosen.images[0].file;
    let suv = read_suv_factor(first).with_context(|| format!("series {}: no SUV", chosen.id))?;
    let factor = suv.factor;
    let volume = load_series(chosen, &no_progress)
        .with_context(|| format!("loading series {}", chosen.id))?
        .volume;
    let region = match roi {
        Some(roi) => VoxelBox::of_lps(&volume, DVec3::from(roi.a), DVec3::from(roi.b), "--roi")?,
        None => VoxelBox::whole(&volume),
    };
    let uptake = uptake::uptake(&volume, region, factor)
        .ok_or_else(|| anyhow::anyhow!("the region holds no voxel of series {}", chosen.id))?;
    let report = SuvReport {
        series: chosen.id.clone(),
        suv,
        region: RegionReport {
            voxels: uptake.voxels,
            suv_max: uptake.max,
            suv_mean: uptake.mean,
            suv_peak: uptake.peak,
            peak_centre_lps_mm: uptake.peak_centre_lps.to_array(),
        },
        points: points
            .iter()
            .map(|&lps_mm| {
                let bq_ml = volume
                    .nearest_voxel(DVec3::from_array(lps_mm))
                    .map(|(_, value)| value);
                PointReport {
                    lps_mm,
                    bq_ml,
                    suv: bq_ml.map(|v| v * factor),
                }
            })
            .collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("series {}", report.series);
    println!(
        "SUV (body weight) = Bq/ml × {:.6e}: {:.1} kg, {:.4e} Bq injected, half-life {:.1} s, {:.0} s to the scan ({:.4e} Bq left)",
        suv.factor, suv.weight_kg, suv.injected_bq, suv.half_life_s, suv.decay_s, suv.decayed_bq
    );
    let r = &report.region;
    println!(
        "region of {} voxels: SUVmax {:.2}, SUVmean {:.2}, SUVpeak {:.2} (1 cm³ at {:.1}, {:.1}, {:.1})",
        r.voxels,
        r.suv_max,
        r.suv_mean,
        r.suv_peak,
        r.peak_centre_lps_mm[0],
        r.peak_centre_lps_mm[1],
        r.peak_centre_lps_mm[2]
    );
    for p in &report.points {
        match p.suv {
            Some(suv) => println!(
                "{:>8.2} {:>8.2} {:>8.2}  SUV {suv:.3}",
                p.lps_mm[0], p.lps_mm[1], p.lps_mm[2]
            ),
            None => println!(
                "{:>8.2} {:>8.2} {:>8.2}  outside",
                p.lps_mm[0], p.lps_mm[1], p.lps_mm[2]
            ),
        }
    }
    Ok(())
}
