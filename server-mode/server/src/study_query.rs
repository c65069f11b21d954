//! `list_studies` over the catalog: a request checked (each field's bounds, named when
//! refused), the studies matching its query found, newest first, and one page of them
//! cut out, with how many matched in all.

pub use hounsfield_protocol::StudyPage;
use hounsfield_protocol::{
    DEFAULT_STUDY_PAGE, MAX_QUERY_CHARS, MAX_STUDY_PAGE, StudyInfo, StudyQuery, StudyRequest,
};

/// A `list_studies` request whose values were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudySearch {
    /// Lowercased words of `query.text`, each to be found somewhere in the study.
    text: Vec<String>,
    patient_name: String,
    patient_id: String,
    modality: String,
    date_from: Option<String>,
    date_to: Option<String>,
    accession: String,
    /// The StudyInstanceUID, exactly; empty: any.
    study_uid: String,
    /// Matching studies skipped.
    pub offset: usize,
    /// Most studies in the page.
    pub limit: usize,
}

impl StudySearch {
    /// Checks `request`: strings of at most [`MAX_QUERY_CHARS`], dates as `YYYYMMDD`
    /// (real days, `date_from` not after `date_to`), `offset` not negative, `limit` in
    /// 1..=[`MAX_STUDY_PAGE`]. The error names the field at fault.
    pub fn new(request: &StudyRequest) -> Result<Self, String> {
        let query = &request.query;
        for (field, value) in fields(query) {
            let chars = value.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(format!(
                    "query.{field} has {chars} characters; at most {MAX_QUERY_CHARS}"
                ));
            }
        }
        let date_from = day(&query.date_from, "date_from")?;
        let date_to = day(&query.date_to, "date_to")?;
        if let (Some(from), Some(to)) = (&date_from, &date_to)
            && from > to
        {
            return Err(format!(
                "query.date_from {from} is after query.date_to {to}"
            ));
        }
        let offset = request.offset.unwrap_or(0);
        let offset = usize::try_from(offset).map_err(|_| format!("offset {offset}: at least 0"))?;
        let limit = request.limit.unwrap_or(DEFAULT_STUDY_PAGE);
        if !(1..=MAX_STUDY_PAGE).contains(&limit) {
            return Err(format!("limit {limit}: from 1 to {MAX_STUDY_PAGE}"));
        }
        Ok(Self {
            text: normalised(&query.text)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            patient_name: normalised(&query.patient_name),
            patient_id: normalised(&query.patient_id),
            modality: query.modality.trim().to_ascii_uppercase(),
            date_from,
            date_to,
            accession: normalised(&query.accession),
            study_uid: query.study_uid.trim().to_string(),
            offset,
            limit: limit as usize,
        })
    }

    /// Whether `study` matches every field of the query.
    pub fn matches(&self, study: &StudyInfo) -> bool {
        let has =
            |value: &str, wanted: &str| wanted.is_empty() || normalised(value).contains(wanted);
        let in_date = match (&self.date_from, &self.date_to) {
            (None, None) => true,
            (from, to) => {
                is_day(&study.date)
                    && from
                        .as_deref()
                        .is_none_or(|from| study.date.as_str() >= from)
                    && to.as_deref().is_none_or(|to| study.date.as_str() <= to)
            }
        };
        in_date
            && (self.study_uid.is_empty() || study.id == self.study_uid)
            && has(&study.patient_name, &self.patient_name)
            && has(&study.patient_id, &self.patient_id)
            && has(&study.accession, &self.accession)
            && (self.modality.is_empty()
                || study
                    .series
                    .iter()
                    .any(|series| series.modality.eq_ignore_ascii_case(&self.modality)))
            && (self.text.is_empty() || self.text_matches(study))
    }

    /// Whether every word of `text` is in one of the study's searched strings.
    fn text_matches(&self, study: &StudyInfo) -> bool {
        let mut haystack = [
            study.patient_name.as_str(),
            study.patient_id.as_str(),
            study.description.as_str(),
            study.accession.as_str(),
        ]
        .map(normalised)
        .join("\n");
        for series in &study.series {
            haystack.push('\n');
            haystack.push_str(&normalised(&series.description));
        }
        self.text
            .iter()
            .all(|word| haystack.contains(word.as_str()))
    }

    /// The page of `studies` (already newest first) this search asks for.
    pub fn page<'a>(&self, studies: impl IntoIterator<Item = &'a StudyInfo>) -> StudyPage {
        let mut total = 0;
        let mut page = Vec::new();
        for study in studies.into_iter().filter(|study| self.matches(study)) {
            if total >= self.offset && page.len() < self.limit {
                page.push(study.clone());
            }
            total += 1;
        }
        StudyPage {
            studies: page,
            total,
            offset: self.offset,
        }
    }
}

/// Orders studies newest first: by date (undated last), then description, then id.
pub fn sort_newest_first(studies: &mut [StudyInfo]) {
    studies.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.description.cmp(&b.description))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The query's string fields by name.
fn fields(query: &StudyQuery) -> [(&'static str, &str); 8] {
    [
        ("text", &query.text),
        ("patient_name", &query.patient_name),
        ("patient_id", &query.patient_id),
        ("modality", &query.modality),
        ("date_from", &query.date_from),
        ("date_to", &query.date_to),
        ("accession", &query.accession),
        ("study_uid", &query.study_uid),
    ]
}

/// `value` as a checked day (`YYYYMMDD`), none when empty; the error names `field`.
fn day(value: &str, field: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if is_day(value) {
        Ok(Some(value.to_string()))
    } else {
        Err(format!(
            "query.{field} {value:?} is not a day as YYYYMMDD (e.g. 20190304)"
        ))
    }
}

/// Whether `value` is a real day written `YYYYMMDD`.
fn is_day(value: &str) -> bool {
    value.len() == 8
        && value.bytes().all(|b| b.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(value, "%Y%m%d").is_ok()
}

/// A string as searched: lowercase, DICOM's `^` between name parts as a space, trimmed.
fn normalised(value: &str) -> String {
    value.replace('^', " ").trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_protocol::SeriesInfo;

    fn study(id: &str, date: &str, patient: &str, description: &str, modality: &str) -> StudyInfo {
        StudyInfo {
            id: id.to_string(),
            date: date.to_string(),
            patient_name: patient.to_string(),
            description: description.to_string(),
            series: vec![SeriesInfo {
                id: format!("{id}.1"),
                modality: modality.to_string(),
                description: "Ax T2".to_string(),
                body_part: String::new(),
                ..SeriesInfo::default()
            }],
            ..StudyInfo::default()
        }
    }

    fn search(query: StudyQuery, offset: Option<i64>, limit: Option<i64>) -> StudySearch {
        StudySearch::new(&StudyRequest {
            query,
            offset,
            limit,
        })
        .expect("a good request")
    }

    fn study_uid_of_length_past_the_bound_is_refused() {
        let request = StudyRequest {
            query: StudyQuery {
                study_uid: "1".repeat(MAX_QUERY_CHARS + 1),
                ..StudyQuery::default()
            },
            offset: None,
            limit: None,
        };
        let refused = StudySearch::new(&request).expect_err("too long");
        assert!(refused.contains("query.study_uid"), "{refused}");
    }

    #[test]
    fn studies_match_by_words_names_dates_and_modality() {
        let mut studies = vec![
            study("a", "20190304", "DOE^JANE", "CT chest", "CT"),
            study("b", "20240101", "ROE^RICHARD", "MR lumbar", "MR"),
            study("c", "", "", "", "OT"),
        ];
        sort_newest_first(&mut studies);
        assert_eq!(
            studies.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["b", "a", "c"],
            "newest first, undated last"
        );
        let ids = |search: StudySearch| -> Vec<String> {
            search
                .page(&studies)
                .studies
                .into_iter()
                .map(|s| s.id)
                .collect()
        };
        let text = |text: &str| StudyQuery {
            text: text.to_string(),
            ..StudyQuery::default()
        };
        assert_eq!(ids(search(text("jane doe"), None, None)), ["a"]);
        assert_eq!(ids(search(text("LUMBAR"), None, None)), ["b"]);
        assert_eq!(ids(search(text("ax t2"), None, None)), ["b", "a", "c"]);
        let mr = StudyQuery {
            modality: "mr".to_string(),
            ..StudyQuery::default()
        };
        assert_eq!(ids(search(mr, None, None)), ["b"]);
        let before_2020 = StudyQuery {
            date_to: "20191231".to_string(),
            ..StudyQuery::default()
        };
        assert_eq!(ids(search(before_2020, None, None)), ["a"]);
        // A link's study: its UID exactly, not a part of it.
        let linked = |uid: &str| StudyQuery {
            study_uid: uid.to_string(),
            ..StudyQuery::default()
        };
        assert_eq!(ids(search(linked(" b "), None, None)), ["b"]);
        assert!(ids(search(linked("B"), None, None)).is_empty());
        study_uid_of_length_past_the_bound_is_refused();
        let page = search(StudyQuery::default(), Some(1), Some(1)).page(&studies);
        assert_eq!((page.total, page.offset, page.studies.len()), (3, 1, 1));
        assert_eq!(page.studies[0].id, "a");
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        let refused = |query: StudyQuery, offset: Option<i64>, limit: Option<i64>| {
            StudySearch::new(&StudyRequest {
                query,
                offset,
                limit,
            })
            .expect_err("refused")
        };
        assert!(refused(StudyQuery::default(), None, Some(0)).starts_with("limit 0"));
        assert!(refused(StudyQuery::default(), None, Some(201)).starts_with("limit 201"));
        assert!(refused(StudyQuery::default(), Some(-1), None).starts_with("offset -1"));
        let long = StudyQuery {
            text: "x".repeat(129),
            ..StudyQuery::default()
        };
        assert!(refused(long, None, None).starts_with("query.text"));
        for bad in ["2019-03-04", "20190230", "2019", "yesterday"] {
            let query = StudyQuery {
                date_from: bad.to_string(),
                ..StudyQuery::default()
            };
            assert!(
                refused(query, None, None).starts_with("query.date_from"),
                "{bad}"
            );
        }
        let backwards = StudyQuery {
            date_from: "20200101".to_string(),
            date_to: "20190101".to_string(),
            ..StudyQuery::default()
        };
        assert!(refused(backwards, None, None).contains("after"));
    }
}
