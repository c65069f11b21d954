//! `hounsfield info dimse://AE@HOST:PORT`: the studies of a PACS that speaks DICOM
//! networking, found with C-FIND (Study Root), each with its series, as a table or as
//! JSON, calling as `--ae-title` (by default `HOUNSFIELD`, the server's default). Only the
//! matches' attributes travel: no image is asked for.

use hounsfield_dimse::{FoundSeries, FoundStudy};
use serde::Serialize;

use crate::cli::StudySearchArgs;

/// What `info dimse://… --json` prints.
#[derive(Debug, Serialize)]
struct DimseReport {
    /// The PACS searched, `dimse://AE@HOST:PORT`.
    source: String,
    offset: usize,
    limit: usize,
    studies: Vec<StudyReport>,
}

/// A study as C-FIND found it, with its series.
#[derive(Debug, Serialize)]
struct StudyReport {
    #[serde(flatten)]
    study: FoundStudy,
    series: Vec<FoundSeries>,
}

/// Lists the PACS at `address` (a page of its studies, newest first), calling as
/// `calling_ae`, and prints them.
pub fn run(
    address: &str,
    search: &StudySearchArgs,
    json: bool,
    calling_ae: &str,
) -> anyhow::Result<()> {
    let filters = [
        &search.patient,
        &search.patient_id,
        &search.date,
        &search.modality,
        &search.accession,
    ];
    anyhow::ensure!(
        filters.iter().all(|f| f.is_none()),
        "{address}: a PACS over DICOM networking is listed whole (--limit and --offset page it); the search fields are for DICOMweb"
    );
    let pacs = hounsfield_dimse::RemoteAe::parse(address)?;
    let scu = hounsfield_dimse::Scu::new(pacs, calling_ae);
    let mut studies = scu.studies()?;
    studies.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.uid.cmp(&b.uid)));
    let mut report = DimseReport {
        source: address.to_string(),
        offset: search.offset,
        limit: search.limit,
        studies: Vec::new(),
    };
    for study in studies.into_iter().skip(search.offset).take(search.limit) {
        let series = scu.series(&study.uid)?;
        report.studies.push(StudyReport { study, series });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    if report.studies.is_empty() {
        println!("No study on {}.", report.source);
    }
    for StudyReport { study, series } in &report.studies {
        println!(
            "{}  {}  {}  {}  {}",
            study.date, study.patient_id, study.patient_name, study.description, study.uid
        );
        for series in series {
            let images = series.images.map_or("?".to_string(), |n| n.to_string());
            println!(
                "    {:>4}  {:<4} {:>5} images  {}  {}",
                series.number.map_or(String::new(), |n| n.to_string()),
                series.modality,
                images,
                series.description,
                series.uid
            );
        }
    }
    Ok(())
}
