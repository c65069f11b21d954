//! `hounsfield info`: what the catalog finds, as a table or as JSON (headers only).

use std::path::PathBuf;

use render_core::Volume;
use render_core::dicom::{Catalog, Series, VoxelBudget, plan_time_points};
use render_core::phantom::ct_phantom;
use render_core::volume::affine_rows;
use serde::Serialize;

use crate::cli::StudySearchArgs;
use hounsfield_workstation::source;

/// The JSON document `info --json` prints.
#[derive(Debug, Serialize)]
struct InfoReport {
    studies: Vec<StudyReport>,
    skipped: Vec<SkippedReport>,
}

#[derive(Debug, Serialize)]
struct StudyReport {
    uid: String,
    patient_name: String,
    patient_id: String,
    date: String,
    description: String,
    series: Vec<SeriesReport>,
}

#[derive(Debug, Serialize)]
struct SeriesReport {
    id: String,
    uid: String,
    number: Option<i32>,
    modality: String,
    description: String,
    images: usize,
    dims: Option<[usize; 3]>,
    spacing_mm: Option<[f64; 3]>,
    voxel_to_lps: Option<[[f64; 4]; 4]>,
    min: Option<f64>,
    max: Option<f64>,
    /// Where min and max come from: `header` (stored bit range × rescale) or `voxels`.
    value_range_from: &'static str,
    time_points: usize,
    /// The series' volumes in order (one for a series that is not over time), as the
    /// headers tell them apart.
    volumes: Vec<VolumeReport>,
    loadable: bool,
    warnings: Vec<String>,
}

/// One volume of a series, as `info --json` lists it.
#[derive(Debug, Serialize)]
struct VolumeReport {
    /// What tells it from the others (`time point 3`, `echo 2`…); empty alone.
    label: String,
    /// Seconds from the first volume (or its cardiac phase), when the headers say.
    time_s: Option<f64>,
    /// Its images.
    images: usize,
}

#[derive(Debug, Serialize)]
struct SkippedReport {
    file: PathBuf,
    reason: String,
}

/// Runs `info`: the catalog of `paths`, a PACS's studies when the one path is a DICOMweb
/// URL or `dimse://AE@HOST:PORT` (called as `ae_title`), or the built-in sample when there
/// are none.
pub fn run(
    paths: &[PathBuf],
    json: bool,
    search: &StudySearchArgs,
    ae_title: &str,
) -> anyhow::Result<()> {
    if let Some(address) = paths.iter().find_map(|path| source::dimse_address(path)) {
        anyhow::ensure!(
            paths.len() == 1,
            "a DICOM PACS is listed alone: give it without files or folders"
        );
        return super::dimse_search::run(address, search, json, ae_title);
    }
    if let Some(url) = paths.iter().find_map(|path| source::dicomweb_url(path)) {
        anyhow::ensure!(
            paths.len() == 1,
            "a DICOMweb URL is searched alone: give it without files or folders"
        );
        return super::pacs_search::run(url, search, json);
    }
    if paths.is_empty() && !json {
        return describe_sample();
    }
    let report = if paths.is_empty() {
        sample_report(&ct_phantom())
    } else {
        let catalog = Catalog::scan(paths, &render_core::progress::no_progress);
        let report = catalog_report(&catalog);
        if let Err(error) = source::ensure_images(&catalog, paths) {
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            return Err(error.into());
        }
        report
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// `hounsfield info` with no paths: describe the built-in sample volume.
pub fn describe_sample() -> anyhow::Result<()> {
    let volume = ct_phantom();
    print_table(&sample_report(&volume));
    println!();
    println!("Axial slice through the heart (window 400/40; patient's right on the left):");
    print!("{}", ascii_axial(&volume, 0.0));
    println!();
    println!("Try: hounsfield info PATH   (list DICOM studies and series)");
    println!("     hounsfield probe PATH --at X,Y,Z   (value at an LPS point in mm)");
    Ok(())
}

fn catalog_report(catalog: &Catalog) -> InfoReport {
    let budget = VoxelBudget::for_machine();
    InfoReport {
        studies: catalog
            .studies
            .iter()
            .map(|study| StudyReport {
                uid: study.uid.clone(),
                patient_name: study.patient_name.clone(),
                patient_id: study.patient_id.clone(),
                date: study.date.clone(),
                description: study.description.clone(),
                series: study
                    .series
                    .iter()
                    .map(|series| series_report(series, budget))
                    .collect(),
            })
            .collect(),
        skipped: catalog
            .skipped
            .iter()
            .map(|s| SkippedReport {
                file: s.file.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

fn series_report(series: &Series, budget: VoxelBudget) -> SeriesReport {
    let plan = series.plan.as_ref().ok();
    let range = series.header_value_range();
    let over_budget = plan.and_then(|p| budget.check(&series.id, p).err());
    let mut warnings = series.warnings();
    warnings.extend(over_budget.as_ref().map(ToString::to_string));
    SeriesReport {
        id: series.id.clone(),
        uid: series.uid.clone(),
        number: series.number,
        modality: series.modality.clone(),
        description: series.description.clone(),
        images: series.images.len(),
        dims: plan.map(|p| p.dims),
        spacing_mm: plan.map(|p| p.spacing_mm()),
        voxel_to_lps: plan.map(|p| affine_rows(&p.voxel_to_lps)),
        min: range.map(|r| r.min),
        max: range.map(|r| r.max),
        value_range_from: "header",
        time_points: plan.map_or(1, |p| p.time_points),
        volumes: plan_time_points(&series.images)
            .into_iter()
            .map(|volume| VolumeReport {
                images: volume.images.len(),
                label: volume.label,
                time_s: volume.time_s,
            })
            .collect(),
        loadable: plan.is_some() && series.unsupported.is_none() && over_budget.is_none(),
        warnings,
    }
}

fn sample_report(volume: &Volume) -> InfoReport {
    InfoReport {
        studies: vec![StudyReport {
            uid: "phantom".to_string(),
            patient_name: "Hounsfield^Phantom".to_string(),
            patient_id: "PHANTOM".to_string(),
            date: String::new(),
            description: "Built-in synthetic CT torso".to_string(),
            series: vec![SeriesReport {
                id: "phantom".to_string(),
                uid: "phantom".to_string(),
                number: Some(1),
                modality: volume.modality.code().to_string(),
                description:
                    "Synthetic CT torso (heart left, liver right, marker left-anterior-superior)"
                        .to_string(),
                images: volume.dims[2],
                dims: Some(volume.dims),
                spacing_mm: Some(volume.spacing_mm),
                voxel_to_lps: Some(volume.voxel_to_lps_rows()),
                min: Some(volume.value_range.min),
                max: Some(volume.value_range.max),
                value_range_from: "voxels",
                time_points: 1,
                volumes: vec![VolumeReport {
                    label: String::new(),
                    time_s: None,
                    images: volume.dims[2],
                }],
                loadable: true,
                warnings: Vec::new(),
            }],
        }],
        skipped: Vec::new(),
    }
}

fn print_table(report: &InfoReport) {
    for study in &report.studies {
        println!(
            "Study {}  patient {} ({})  date {}  {}",
            study.uid, study.patient_name, study.patient_id, study.date, study.description
        );
        println!(
            "  {:>6}  {:<4}  {:>6}  {:<15}  {:<22}  {:<30}  id",
            "number", "mod", "images", "dims", "spacing mm", "description"
        );
        for s in &study.series {
            let dims = s
                .dims
                .map_or("-".to_string(), |d| format!("{}×{}×{}", d[0], d[1], d[2]));
            let spacing = s.spacing_mm.map_or("-".to_string(), |d| {
                format!("{:.3}×{:.3}×{:.3}", d[0], d[1], d[2])
            });
            let number = s.number.map_or("-".to_string(), |n| n.to_string());
            println!(
                "  {:>6}  {:<4}  {:>6}  {:<15}  {:<22}  {:<30}  {}",
                number,
                s.modality,
                s.images,
                dims,
                spacing,
                truncate(&s.description, 30),
                s.id
            );
            for warning in &s.warnings {
                println!("          ⚠ {warning}");
            }
        }
    }
    if !report.skipped.is_empty() {
        println!("Skipped {} file(s):", report.skipped.len());
        for skipped in &report.skipped {
            println!("  {}: {}", skipped.file.display(), skipped.reason);
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// An axial slice at height `z_mm` as characters, in radiological orientation.
fn ascii_axial(volume: &Volume, z_mm: f64) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let (width, height) = (64usize, 26usize);
    let window = volume.default_window.unwrap_or(render_core::Window {
        width: 400.0,
        center: 40.0,
    });
    let corners = volume.corner_centres_lps();
    let (lo, hi) = corners
        .iter()
        .fold((corners[0], corners[0]), |(lo, hi), c| {
            (lo.min(*c), hi.max(*c))
        });
    let mut text = String::new();
    for row in 0..height {
        text.push_str(if row == height / 2 { "R " } else { "  " });
        for column in 0..width {
            let x = lo.x + (hi.x - lo.x) * column as f64 / (width - 1) as f64;
            let y = lo.y + (hi.y - lo.y) * row as f64 / (height - 1) as f64;
            let value = volume
                .nearest_voxel(glam::DVec3::new(x, y, z_mm))
                .map_or(volume.value_range.min, |(_, v)| v);
            let t = ((value - (window.center - window.width / 2.0)) / window.width).clamp(0.0, 1.0);
            text.push(RAMP[(t * (RAMP.len() - 1) as f64).round() as usize] as char);
        }
        text.push_str(if row == height / 2 { " L\n" } else { "\n" });
    }
    text
}
