//! `hounsfield findings`: the findings kept for a series (its last Measurement Report in
//! a server's findings folder, or its newest on a PACS), listed with their numbers, or
//! exported as the DICOM SR.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hounsfield_findings::folder::{FOLDER_NAME, kept_report, report_path};
use hounsfield_findings::report::{ReadReport, ReportSubject};
use hounsfield_protocol::FindingInfo;
use hounsfield_server::findings::finding_info;
use serde::Serialize;

use crate::commands::serve::default_state_folder;
use hounsfield_workstation::source;

/// What `findings list --json` prints.
#[derive(Debug, Serialize)]
struct Listed {
    /// The series, as `info` names it.
    series: String,
    /// The report the findings come from; absent when none was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportInfo>,
    /// The findings, as the protocol tells them.
    findings: Vec<FindingInfo>,
}

/// The report a listing read.
#[derive(Debug, Serialize)]
struct ReportInfo {
    sop_instance_uid: String,
    observer: String,
    written: String,
    /// The file it was read from, or the study on the PACS.
    place: String,
}

/// `findings list`: prints the findings kept for the series at `path`.
pub fn list(
    path: &Path,
    series: Option<&str>,
    state_dir: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let (label, report, place) = match source::dicomweb_url(path) {
        Some(url) => pacs_report(url, series)?,
        None => {
            let (label, folder, subject) = series_and_folder(path, series, state_dir)?;
            let file = report_path(&folder, &subject.study_uid, &subject.series_uid)?;
            let report = kept_report(&folder, &subject.study_uid, &subject.series_uid)?;
            (label, report, file.display().to_string())
        }
    };
    let listed = Listed {
        series: label,
        findings: report.as_ref().map(told).unwrap_or_default(),
        report: report.map(|report| ReportInfo {
            sop_instance_uid: report.sop_instance_uid,
            observer: report.observer,
            written: report.written,
            place: place.clone(),
        }),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(());
    }
    let Some(report) = &listed.report else {
        println!(
            "series {}: no findings kept (looked in {place})",
            listed.series
        );
        return Ok(());
    };
    println!(
        "series {}: {} findings by {} ({}), {}",
        listed.series,
        listed.findings.len(),
        report.observer,
        report.written,
        report.place
    );
    for finding in &listed.findings {
        println!("{}", line_of(finding));
    }
    Ok(())
}

/// `findings export`: writes the series' kept report to `out`, as it was stored.
pub fn export(
    path: &Path,
    series: Option<&str>,
    state_dir: Option<&Path>,
    out: &Path,
) -> anyhow::Result<()> {
    let (label, folder, subject) = series_and_folder(path, series, state_dir)?;
    let file = report_path(&folder, &subject.study_uid, &subject.series_uid)?;
    // Read (and so checked) before it is copied.
    let report =
        kept_report(&folder, &subject.study_uid, &subject.series_uid)?.with_context(|| {
            format!(
                "series {label}: no findings kept (looked for {})",
                file.display()
            )
        })?;
    std::fs::copy(&file, out)
        .with_context(|| format!("copying {} to {}", file.display(), out.display()))?;
    println!(
        "wrote {} ({} findings, SOP Instance UID {})",
        out.display(),
        report.findings.len(),
        report.sop_instance_uid
    );
    Ok(())
}

/// The newest report on the PACS at `url` about series `series` (its SeriesInstanceUID),
/// and where it was looked for.
fn pacs_report(
    url: &str,
    series: Option<&str>,
) -> anyhow::Result<(String, Option<ReadReport>, String)> {
    let series = series.context("a PACS's findings are listed by series: give --series UID")?;
    let pacs = source::dicomweb(url)?;
    let found = pacs.find_series(series)?;
    let work = tempfile::tempdir().context("a scratch folder for the PACS's reports")?;
    let report = pacs.newest_series_report(&found.study_uid, series, work.path())?;
    let place = format!("{}studies/{}", pacs.base(), found.study_uid);
    Ok((series.to_string(), report, place))
}

/// The series at `path` (chosen as `info` lists it), and the findings folder to look in.
fn series_and_folder(
    path: &Path,
    series: Option<&str>,
    state_dir: Option<&Path>,
) -> anyhow::Result<(String, PathBuf, ReportSubject)> {
    if source::dicomweb_url(path).is_some() {
        anyhow::bail!(
            "{}: a PACS's report is on the PACS itself: `findings list URL --series UID` lists it, and any DICOMweb tool retrieves it",
            path.display()
        );
    }
    let paths = [path.to_path_buf()];
    let catalog = source::scan(&paths)?;
    source::ensure_images(&catalog, &paths)?;
    let chosen = source::choose(&catalog, series)?;
    let folder = match state_dir {
        Some(folder) => folder.to_path_buf(),
        None => default_state_folder()
            .context("no state folder to find the findings in: give --state-dir")?,
    }
    .join(FOLDER_NAME);
    Ok((chosen.id.clone(), folder, ReportSubject::of_series(chosen)))
}

/// A report's findings as the protocol tells them.
fn told(report: &ReadReport) -> Vec<FindingInfo> {
    report
        .findings
        .iter()
        .map(|measured| finding_info(measured, &report.observer))
        .collect()
}

/// One finding on a line: number, kind, plane and what it measures.
fn line_of(finding: &FindingInfo) -> String {
    let what = if let Some(stats) = &finding.stats {
        format!(
            "mean {} sd {} min {} max {} {unit}, {} mm², {} voxels",
            stats.mean,
            stats.sd,
            stats.min,
            stats.max,
            stats.area_mm2,
            stats.voxels,
            unit = stats.unit
        )
    } else if let Some(mm) = finding.length_mm {
        format!("{mm} mm")
    } else if let Some(degrees) = finding.angle_deg {
        format!("{degrees}°")
    } else {
        String::new()
    };
    let note = if finding.note.is_empty() {
        String::new()
    } else {
        format!(" \"{}\"", finding.note)
    };
    format!(
        "{:>4}  {:<9} {:<8} {what}{note}",
        finding.id,
        finding.kind.name(),
        finding.cell.name()
    )
}
