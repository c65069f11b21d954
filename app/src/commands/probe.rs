//! `hounsfield probe`: the continuous voxel index and nearest voxel value at LPS points.

use std::path::Path;

use glam::DVec3;
use serde::Serialize;

use hounsfield_workstation::source;

/// One probed point, as `probe --json` prints it.
#[derive(Debug, Serialize)]
struct ProbeReport {
    lps_mm: [f64; 3],
    voxel: [f64; 3],
    value: Option<f64>,
}

/// Runs `probe` on the series at `path` (or the phantom).
pub fn run(
    path: Option<&Path>,
    series: Option<&str>,
    points: &[[f64; 3]],
    json: bool,
) -> anyhow::Result<()> {
    let opened = source::open_volume(path, series)?;
    for warning in &opened.warnings {
        eprintln!("warning: series {}: {warning}", opened.label);
    }
    let reports: Vec<ProbeReport> = points
        .iter()
        .map(|&lps_mm| {
            let voxel = opened.volume.lps_to_voxel(DVec3::from_array(lps_mm));
            ProbeReport {
                lps_mm,
                voxel: voxel.to_array(),
                value: opened
                    .volume
                    .nearest_voxel(DVec3::from_array(lps_mm))
                    .map(|(_, v)| v),
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    println!("series {}", opened.label);
    println!("{:>28}  {:>30}  value", "LPS mm", "voxel (i, j, k)");
    for r in &reports {
        let value = r.value.map_or("outside".to_string(), |v| format!("{v}"));
        println!(
            "{:>8.2} {:>8.2} {:>8.2}    {:>9.3} {:>9.3} {:>9.3}  {value}",
            r.lps_mm[0], r.lps_mm[1], r.lps_mm[2], r.voxel[0], r.voxel[1], r.voxel[2]
        );
    }
    Ok(())
}
