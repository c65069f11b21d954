//! `hounsfield probe`: the continuous voxel index and nearest voxel value at LPS points,
//! and in a series over time each point's time-intensity curve: its value in every
//! volume and the curve's measures (`hounsfield_findings::curve`), as JSON or CSV.

use std::path::Path;

use glam::DVec3;
use serde::Serialize;

use hounsfield_findings::curve::{self, CurveMeasures};
use hounsfield_workstation::source::{self, OpenedSeriesOverTime};

/// How `probe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A table for a reader.
    Table,
    /// JSON, a record a point.
    Json,
    /// The curves as CSV, a row a volume.
    Csv,
}

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
    /// The curve's measures, where the point lies in every volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    curve: Option<CurveReport>,
    /// With `--over`: the value of the series drawn over the first (its first volume).
    #[serde(skip_serializing_if = "Option::is_none")]
    over_value: Option<Option<f64>>,
    /// A PET's value in SUV (body weight), when its header gives the factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    suv: Option<f64>,
    /// The `--over` PET's value in SUV, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    over_suv: Option<f64>,
}

/// The series `probe` reads.
#[derive(Debug, Clone, Copy)]
pub struct Probed<'a> {
    /// Its file, folder or PACS (the phantom when none).
    pub path: Option<&'a Path>,
    /// The series.
    pub series: Option<&'a str>,
    /// A second series of the same path and frame of reference, drawn over the first.
    pub over: Option<&'a str>,
}

/// A curve's measures as `probe --json` prints them.
#[derive(Debug, Serialize)]
struct CurveReport {
    /// `s` when every volume has a time, else `volume` (the curve's time is its place).
    time_unit: &'static str,
    baseline: f64,
    peak: f64,
    time_to_peak: f64,
    wash_in_slope: f64,
    area_under_curve: f64,
}

impl CurveReport {
    fn of(measures: CurveMeasures, time_unit: &'static str) -> Self {
        Self {
            time_unit,
            baseline: measures.baseline,
            peak: measures.peak,
            time_to_peak: measures.time_to_peak,
            wash_in_slope: measures.wash_in_slope,
            area_under_curve: measures.area_under_curve,
        }
    }
}

/// Runs `probe` on the series at `path` (or the phantom).
pub fn run(probed: Probed<'_>, points: &[[f64; 3]], output: Output) -> anyhow::Result<()> {
    let opened = source::open_series_over_time(probed.path, probed.series)?;
    for warning in &opened.warnings {
        eprintln!("warning: series {}: {warning}", opened.label);
    }
    let over = match probed.over {
        Some(over) => Some(open_over(&opened, probed.path, over)?),
        None => None,
    };
    let over_time = opened.volumes.len() > 1;
    let first = &opened.volumes[0].volume;
    let (times, basis) =
        curve::curve_times(&opened.volumes.iter().map(|v| v.time_s).collect::<Vec<_>>());
    let time_unit = basis.unit();
    // Told beside every point's values in a series over time.
    let (labels, times_s): (Vec<String>, Vec<Option<f64>>) = if over_time {
        opened
            .volumes
            .iter()
            .map(|v| (v.label.clone(), v.time_s))
            .unzip()
    } else {
        Default::default()
    };
    let reports: Vec<ProbeReport> = points
        .iter()
        .map(|&lps_mm| {
            let at = DVec3::from_array(lps_mm);
            let values = curve::point_curve(opened.volumes.iter().map(|v| &v.volume), at);
            let inside: Option<Vec<f64>> = values.iter().copied().collect();
            let measures = inside
                .filter(|_| over_time)
                .and_then(|inside| curve::measure(&times, &inside));
            let first_value = values[0];
            let over_value = over.as_ref().map(|over| {
                over.volumes[0]
                    .volume
                    .nearest_voxel(at)
                    .map(|(_, value)| value)
            });
            ProbeReport {
                lps_mm,
                voxel: first.lps_to_voxel(at).to_array(),
                value: first_value,
                labels: labels.clone(),
                times_s: times_s.clone(),
                values: if over_time { values } else { Vec::new() },
                curve: measures.map(|m| CurveReport::of(m, time_unit)),
                over_value,
                suv: opened.suv.zip(first_value).map(|(suv, v)| v * suv.factor),
                over_suv: over
                    .as_ref()
                    .and_then(|over| over.suv)
                    .zip(over_value.flatten())
                    .map(|(suv, v)| v * suv.factor),
            }
        })
        .collect();
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        Output::Csv => print_csv(&opened, &reports),
        Output::Table => print_table(&opened.label, &reports),
    }
    Ok(())
}

/// The series `over` of the same path, refused unless it shares `first`'s frame of
/// reference (its positions would mean other places in the patient).
fn open_over(
    first: &OpenedSeriesOverTime,
    path: Option<&Path>,
    over: &str,
) -> anyhow::Result<OpenedSeriesOverTime> {
    let opened = source::open_series_over_time(path, Some(over))?;
    source::ensure_one_frame_of_reference(
        (&first.label, &first.frame_of_reference),
        (&opened.label, &opened.frame_of_reference),
    )?;
    Ok(opened)
}

/// A row a volume: its label, its time and each point's value (empty outside).
fn print_csv(opened: &OpenedSeriesOverTime, reports: &[ProbeReport]) {
    let mut header = vec![
        "volume".to_string(),
        "label".to_string(),
        "time_s".to_string(),
    ];
    header.extend(
        reports
            .iter()
            .map(|r| format!("value at {} {} {}", r.lps_mm[0], r.lps_mm[1], r.lps_mm[2])),
    );
    println!("{}", header.join(","));
    let shown = |value: Option<f64>| value.map_or(String::new(), |v| v.to_string());
    for (n, volume) in opened.volumes.iter().enumerate() {
        let mut row = vec![
            (n + 1).to_string(),
            csv_text(&volume.label),
            shown(volume.time_s),
        ];
        row.extend(reports.iter().map(|r| {
            shown(if r.values.is_empty() {
                r.value
            } else {
                r.values[n]
            })
        }));
        println!("{}", row.join(","));
    }
}

/// A CSV field: quoted, its quotes doubled, when it holds a comma or a quote.
fn csv_text(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn print_table(label: &str, reports: &[ProbeReport]) {
    println!("series {label}");
    println!("{:>28}  {:>30}  value", "LPS mm", "voxel (i, j, k)");
    let shown = |value: Option<f64>| value.map_or("outside".to_string(), |v| format!("{v}"));
    for r in reports {
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
        if let Some(over) = r.over_value {
            println!("{:>70}  over: {}", "", shown(over));
        }
        if let Some(suv) = r.suv {
            println!("{:>70}  SUV {suv:.3}", "");
        }
        if let Some(suv) = r.over_suv {
            println!("{:>70}  over: SUV {suv:.3}", "");
        }
        if let Some(c) = &r.curve {
            println!(
                "{:>70}  baseline {:.1}, peak {:.1} at {:.2} {}, wash-in {:.2} a {}, area {:.1}",
                "",
                c.baseline,
                c.peak,
                c.time_to_peak,
                c.time_unit,
                c.wash_in_slope,
                c.time_unit,
                c.area_under_curve
            );
        }
    }
}
