//! `hounsfield probe`: the continuous voxel index and nearest voxel value at LPS points,
//! and in a series over time the value in every volume.

use std::path::Path;

use glam::DVec3;
use serde::Serialize;

use hounsfield_workstation::source;

/// One probed point, as `probe --json` prints it.
#[derive(Debug, Serialize)]
struct ProbeReport {
    lps_mm: [f64; 3],
    voxel: [f64; 3],
    /// The value in the (first) volume.
    value: Option<f64>,
    /// In a series over time: the value in every volume, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<Option<f64>>,
    /// … beside each volume's label.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<String>,
    /// … and its time (s from the first volume, or its cardiac phase), where known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    times_s: Vec<Option<f64>>,
}

/// Runs `probe` on the series at `path` (or the phantom).
pub fn run(
    path: Option<&Path>,
    series: Option<&str>,
    points: &[[f64; 3]],
    json: bool,
) -> anyhow::Result<()> {
    let opened = source::open_series_over_time(path, series)?;
    for warning in &opened.warnings {
        eprintln!("warning: series {}: {warning}", opened.label);
    }
    let over_time = opened.volumes.len() > 1;
    let first = &opened.volumes[0].volume;
    let reports: Vec<ProbeReport> = points
        .iter()
        .map(|&lps_mm| {
            let at = DVec3::from_array(lps_mm);
            let values: Vec<Option<f64>> = opened
                .volumes
                .iter()
                .map(|v| v.volume.nearest_voxel(at).map(|(_, value)| value))
                .collect();
            ProbeReport {
                lps_mm,
                voxel: first.lps_to_voxel(at).to_array(),
                value: values[0],
                labels: if over_time {
                    opened.volumes.iter().map(|v| v.label.clone()).collect()
                } else {
                    Vec::new()
                },
                times_s: if over_time {
                    opened.volumes.iter().map(|v| v.time_s).collect()
                } else {
                    Vec::new()
                },
                values: if over_time { values } else { Vec::new() },
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    println!("series {}", opened.label);
    println!("{:>28}  {:>30}  value", "LPS mm", "voxel (i, j, k)");
    let shown = |value: Option<f64>| value.map_or("outside".to_string(), |v| format!("{v}"));
    for r in &reports {
        println!(
            "{:>8.2} {:>8.2} {:>8.2}    {:>9.3} {:>9.3} {:>9.3}  {}",
            r.lps_mm[0],
            r.lps_mm[1],
            r.lps_mm[2],
            r.voxel[0],
            r.voxel[1],
            r.voxel[2],
            shown(r.value)
        );
        for (label, value) in r.labels.iter().zip(&r.values) {
            println!("{:>70}  {label}: {}", "", shown(*value));
        }
    }
    Ok(())
}
