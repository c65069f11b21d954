//! `hounsfield info URL`: a PACS's studies found by QIDO-RS (patient, date range,
//! modality, accession number; paged), each with its series, as a table or as JSON. Only
//! headers travel: no pixel data is asked for.

use hounsfield_dicomweb::{SeriesMatch, StudyMatch, StudyQuery};
use hounsfield_protocol::StudyQuery as WireQuery;
use serde::Serialize;

use crate::cli::StudySearchArgs;
use hounsfield_workstation::source;

/// What `info URL --json` prints.
#[derive(Debug, Serialize)]
struct SearchReport {
    /// The DICOMweb base URL searched.
    source: String,
    /// Studies skipped before this page.
    offset: usize,
    /// Studies asked for.
    limit: usize,
    /// The page of studies, each with its series.
    studies: Vec<StudyReport>,
}

#[derive(Debug, Serialize)]
struct StudyReport {
    #[serde(flatten)]
    study: StudyMatch,
    series: Vec<SeriesMatch>,
}

/// The study query of the search arguments, as every client sends it (`--date FROM-TO`
/// split into its ends; the checks are the query's).
fn fields(search: &StudySearchArgs) -> WireQuery {
    let given = |value: &Option<String>| value.clone().unwrap_or_default();
    let (date_from, date_to) = match search.date.as_deref().map(str::trim) {
        None | Some("") => (String::new(), String::new()),
        Some(range) => match range.split_once('-') {
            Some((from, to)) => (from.to_string(), to.to_string()),
            None => (range.to_string(), range.to_string()),
        },
    };
    WireQuery {
        patient_name: given(&search.patient),
        patient_id: given(&search.patient_id),
        modality: given(&search.modality),
        accession: given(&search.accession),
        date_from,
        date_to,
        ..WireQuery::default()
    }
}

/// The QIDO-RS query of the search arguments' page.
pub fn query(search: &StudySearchArgs) -> StudyQuery {
    StudyQuery::page_of(&fields(search), search.offset, search.limit)
}

/// Searches the PACS at `url` and prints the page of studies with their series.
pub fn run(url: &str, search: &StudySearchArgs, json: bool) -> anyhow::Result<()> {
    let source = source::dicomweb(url)?;
    let studies = source.search_studies(&query(search))?;
    let mut report = SearchReport {
        source: source.base().to_string(),
        offset: search.offset,
        limit: search.limit,
        studies: Vec::with_capacity(studies.len()),
    };
    for study in studies {
        let series = source.study_series(&study.uid)?;
        report.studies.push(StudyReport { study, series });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    if report.studies.is_empty() {
        println!("No study matches on {}.", report.source);
    }
    for StudyReport { study, series } in &report.studies {
        println!(
            "Study {}  patient {} ({})  date {}  accession {}  {}",
            study.uid,
            study.patient_name,
            study.patient_id,
            study.date,
            study.accession_number,
            study.description
        );
        println!(
            "  {:>6}  {:<4}  {:>9}  {:<30}  id",
            "number", "mod", "instances", "description"
        );
        for s in series {
            println!(
                "  {:>6}  {:<4}  {:>9}  {:<30}  {}",
                s.number.map_or("-".to_string(), |n| n.to_string()),
                s.modality,
                s.instances.map_or("-".to_string(), |n| n.to_string()),
                s.description.chars().take(30).collect::<String>(),
                s.uid
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_ranges_split_into_their_ends() {
        let with = |date: &str| {
            query(&StudySearchArgs {
                date: Some(date.to_string()),
                limit: 10,
                ..StudySearchArgs::default()
            })
        };
        let range = with("20130101-20131231");
        assert_eq!(range.date_from.as_deref(), Some("20130101"));
        assert_eq!(range.date_to.as_deref(), Some("20131231"));
        let open_end = with("20130101-");
        assert_eq!(open_end.date_from.as_deref(), Some("20130101"));
        assert_eq!(
            open_end.date_to, None,
            "an open end is left out of the query"
        );
        let one = with("20130308");
        assert_eq!(one.date_from, one.date_to);
    }
}
