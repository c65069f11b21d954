//! QIDO-RS: studies searched by patient, date range, modality and accession number, paged;
//! the series of a study; a series found by its SeriesInstanceUID; the catalogue of a
//! whole PACS. Headers only: nothing here asks for pixel data. Each search is a call of
//! [`CallKind::Search`], over at its deadline; the catalogue is a [`CallKind::Listing`]
//! whose every page is also a search.

use hounsfield_protocol::StudyQuery as WireStudyQuery;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::call::{Call, call};
use super::deadlines::CallKind;
use super::request::get_json;
use super::{DicomWeb, PacsError, without_credentials};

/// Most studies one search page may ask for.
pub const MAX_LIMIT: usize = 1000;

/// A study search: every field given must match (DICOM wildcards `*` and `?` in names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyQuery {
    /// PatientName (0010,0010), e.g. `DOE^JOHN` or `DOE*`: the names that begin with it,
    /// each `^` a wildcard.
    pub patient_name: Option<String>,
    /// PatientID (0010,0020).
    pub patient_id: Option<String>,
    /// First StudyDate (0008,0020) included, `YYYYMMDD`.
    pub date_from: Option<String>,
    /// Last StudyDate included, `YYYYMMDD`.
    pub date_to: Option<String>,
    /// A modality in the study (ModalitiesInStudy, 0008,0061), e.g. `CT`.
    pub modality: Option<String>,
    /// AccessionNumber (0008,0050).
    pub accession_number: Option<String>,
    /// Studies in this page (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// Studies skipped before this page.
    pub offset: usize,
}

/// A study the PACS holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyMatch {
    /// StudyInstanceUID.
    pub uid: String,
    /// PatientName, with `^` between its parts.
    pub patient_name: String,
    /// PatientID.
    pub patient_id: String,
    /// StudyDate, `YYYYMMDD`.
    pub date: String,
    /// StudyDescription.
    pub description: String,
    /// AccessionNumber.
    pub accession_number: String,
    /// ModalitiesInStudy.
    pub modalities: Vec<String>,
    /// NumberOfStudyRelatedSeries, when the PACS says.
    pub series_count: Option<u64>,
    /// NumberOfStudyRelatedInstances, when the PACS says.
    pub instances: Option<u64>,
}

/// A series the PACS holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesMatch {
    /// StudyInstanceUID of its study.
    pub study_uid: String,
    /// SeriesInstanceUID.
    pub uid: String,
    /// SeriesNumber.
    pub number: Option<i64>,
    /// Modality.
    pub modality: String,
    /// SeriesDescription.
    pub description: String,
    /// BodyPartExamined, when the PACS says (else empty).
    pub body_part: String,
    /// NumberOfSeriesRelatedInstances, when the PACS says.
    pub instances: Option<u64>,
}

impl StudyQuery {
    /// The QIDO-RS query for the page of `limit` studies at `offset` among those matching
    /// `fields`: the study query every client sends on the wire (and the desktop's search
    /// form holds). Empty fields are left out; the free `text` is not asked, QIDO-RS having
    /// no such match. The fields are checked when the query is sent.
    pub fn page_of(fields: &WireStudyQuery, offset: usize, limit: usize) -> Self {
        let given = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
        Self {
            patient_name: given(&fields.patient_name),
            patient_id: given(&fields.patient_id),
            date_from: given(&fields.date_from),
            date_to: given(&fields.date_to),
            modality: given(&fields.modality),
            accession_number: given(&fields.accession),
            limit,
            offset,
        }
    }

    /// The query parameters, after checking each field (the error names the field).
    fn parameters(&self) -> Result<Vec<(&'static str, String)>, String> {
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(format!(
                "limit must be 1 to {MAX_LIMIT}, got {}",
                self.limit
            ));
        }
        let mut parameters = Vec::new();
        for (key, value, name) in [
            ("PatientName", &self.patient_name, "patient_name"),
            ("PatientID", &self.patient_id, "patient_id"),
            (
                "AccessionNumber",
                &self.accession_number,
                "accession_number",
            ),
        ] {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                if value.len() > 64 || value.chars().any(char::is_control) {
                    return Err(format!("{name} must be at most 64 printable characters"));
                }
                // A name matches the names that begin with it, its parts (`^`) and spaces as
                // wildcards: Orthanc's DICOMweb plugin (1.7) finds no name holding them.
                let value = if key == "PatientName" {
                    let parts = value.replace(['^', ' '], "*");
                    if parts.ends_with('*') {
                        parts
                    } else {
                        format!("{parts}*")
                    }
                } else {
                    value.to_string()
                };
                parameters.push((key, value));
            }
        }
        if let Some(modality) = self
            .modality
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            if modality.len() > 16 || !modality.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "modality must be letters and digits (e.g. CT), got {modality:?}"
                ));
            }
            parameters.push(("ModalitiesInStudy", modality.to_ascii_uppercase()));
        }
        let date = |value: &Option<String>, name: &str| -> Result<String, String> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(String::new()),
                Some(text) if text.len() == 8 && text.chars().all(|c| c.is_ascii_digit()) => {
                    Ok(text.to_string())
                }
                Some(text) => Err(format!("{name} must be a date YYYYMMDD, got {text:?}")),
            }
        };
        let (from, to) = (
            date(&self.date_from, "date_from")?,
            date(&self.date_to, "date_to")?,
        );
        if !from.is_empty() && !to.is_empty() && from > to {
            return Err(format!("date_from {from} is after date_to {to}"));
        }
        match (from.is_empty(), to.is_empty()) {
            (true, true) => {}
            (false, false) if from == to => parameters.push(("StudyDate", from)),
            _ => parameters.push(("StudyDate", format!("{from}-{to}"))),
        }
        parameters.push(("limit", self.limit.to_string()));
        parameters.push(("offset", self.offset.to_string()));
        Ok(parameters)
    }
}

/// Studies or series asked for per page while a whole catalog is listed.
const CATALOG_PAGE: usize = 200;
/// Most series a catalog listing reads.
const MAX_CATALOG_SERIES: usize = 200_000;

/// Every study and series a PACS holds (within bounds), as [`DicomWeb::catalog`] lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacsCatalog {
    /// The studies, in the PACS's order.
    pub studies: Vec<StudyMatch>,
    /// The series of those studies, in the PACS's order.
    pub series: Vec<SeriesMatch>,
    /// Whether the bounds cut the listing short.
    pub truncated: bool,
}

/// The attributes a study search asks the PACS to include.
const STUDY_FIELDS: &[&str] = &[
    "StudyDescription",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
];

/// The attributes a series search asks the PACS to include.
pub(crate) const SERIES_FIELDS: &[&str] = &[
    "SeriesNumber",
    "SeriesDescription",
    "BodyPartExamined",
    "Modality",
    "NumberOfSeriesRelatedInstances",
];

impl DicomWeb {
    /// One page of the studies matching `query`, in the PACS's order: a search.
    pub fn search_studies(&self, query: &StudyQuery) -> Result<Vec<StudyMatch>, PacsError> {
        let url = self.studies_url(query)?;
        let url = &url;
        call(self, CallKind::Search, url, |call| async move {
            studies_at(&call, url).await
        })
    }

    /// The URL of the study search `query`, after checking its fields.
    fn studies_url(&self, query: &StudyQuery) -> Result<Url, PacsError> {
        let parameters = query.parameters().map_err(|reason| PacsError::BadUrl {
            url: without_credentials(self.base()),
            reason: format!("bad study query: {reason}"),
        })?;
        self.search_url("studies", &parameters, STUDY_FIELDS)
    }

    /// The catalog of the PACS: at most `max_studies` studies, then every series of them,
    /// each listing paged through QIDO-RS ([`CATALOG_PAGE`] at a time, `/studies` then
    /// `/series`: two listings, not one request per study) until a page comes back empty
    /// (a PACS may cap its pages below the limit asked). Headers only. One listing, each
    /// page of it a search.
    pub fn catalog(&self, max_studies: usize) -> Result<PacsCatalog, PacsError> {
        call(self, CallKind::Listing, self.base(), |call| async move {
            self.list(&call, max_studies).await
        })
    }

    /// [`Self::catalog`], within `call`.
    async fn list(&self, call: &Call<'_>, max_studies: usize) -> Result<PacsCatalog, PacsError> {
        let mut catalog = PacsCatalog::default();
        while catalog.studies.len() < max_studies {
            let url = self.studies_url(&StudyQuery {
                limit: CATALOG_PAGE,
                offset: catalog.studies.len(),
                ..StudyQuery::default()
            })?;
            let url = &url;
            let page = call
                .within(CallKind::Search, url, |call| async move {
                    studies_at(&call, url).await
                })
                .await?;
            if page.is_empty() {
                break;
            }
            catalog.studies.extend(page);
        }
        if catalog.studies.len() >= max_studies {
            catalog.truncated = true;
            catalog.studies.truncate(max_studies);
        }
        let listed: std::collections::HashSet<&str> = catalog
            .studies
            .iter()
            .map(|study| study.uid.as_str())
            .collect();
        let mut series = Vec::new();
        let mut offset = 0;
        loop {
            let url = self.search_url(
                "series",
                &[
                    ("limit", CATALOG_PAGE.to_string()),
                    ("offset", offset.to_string()),
                ],
                SERIES_FIELDS,
            )?;
            let url = &url;
            let page = call
                .within(CallKind::Search, url, |call| async move {
                    series_at(&call, url).await
                })
                .await?;
            if page.is_empty() {
                break;
            }
            offset += page.len();
            series.extend(
                page.into_iter()
                    .filter(|found| listed.contains(found.study_uid.as_str())),
            );
            if offset >= MAX_CATALOG_SERIES {
                catalog.truncated = true;
                break;
            }
        }
        catalog.series = series;
        Ok(catalog)
    }

    /// The series of the study `study_uid`: a search.
    pub fn study_series(&self, study_uid: &str) -> Result<Vec<SeriesMatch>, PacsError> {
        let url = self.study_series_url(study_uid)?;
        let url = &url;
        call(self, CallKind::Search, url, |call| async move {
            series_at(&call, url).await
        })
    }

    /// The URL of the search for the series of study `study_uid`.
    pub(crate) fn study_series_url(&self, study_uid: &str) -> Result<Url, PacsError> {
        let path = format!("studies/{}/series", uid_segment(self, study_uid)?);
        self.search_url(&path, &[], SERIES_FIELDS)
    }

    /// The series with this SeriesInstanceUID, wherever its study is: a search.
    pub fn find_series(&self, series_uid: &str) -> Result<SeriesMatch, PacsError> {
        uid_segment(self, series_uid)?;
        let url = self.search_url(
            "series",
            &[("SeriesInstanceUID", series_uid.to_string())],
            SERIES_FIELDS,
        )?;
        let url = &url;
        let found = call(self, CallKind::Search, url, |call| async move {
            series_at(&call, url).await
        })?;
        found
            .into_iter()
            .find(|series| series.uid == series_uid)
            .ok_or_else(|| PacsError::UnknownSeries {
                series: series_uid.to_string(),
                base: without_credentials(self.base()),
            })
    }

    /// The URL of a QIDO-RS search of `path` with `parameters`, asking for `fields`.
    pub(crate) fn search_url(
        &self,
        path: &str,
        parameters: &[(&'static str, String)],
        fields: &[&str],
    ) -> Result<Url, PacsError> {
        let mut url = self.url(path)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in parameters {
                pairs.append_pair(key, value);
            }
            for field in fields {
                pairs.append_pair("includefield", field);
            }
        }
        Ok(url)
    }
}

/// The studies a study search at `url` finds, within `call`.
async fn studies_at(call: &Call<'_>, url: &Url) -> Result<Vec<StudyMatch>, PacsError> {
    let answer = get_json(call, url).await?;
    objects(url, &answer)?
        .iter()
        .map(|study| {
            Ok(StudyMatch {
                uid: required(url, study, "0020000D")?,
                patient_name: string(study, "00100010").unwrap_or_default(),
                patient_id: string(study, "00100020").unwrap_or_default(),
                date: string(study, "00080020").unwrap_or_default(),
                description: string(study, "00081030").unwrap_or_default(),
                accession_number: string(study, "00080050").unwrap_or_default(),
                modalities: strings(study, "00080061"),
                series_count: number(study, "00201206").and_then(|n| u64::try_from(n).ok()),
                instances: number(study, "00201208").and_then(|n| u64::try_from(n).ok()),
            })
        })
        .collect()
}

/// The series a series search at `url` finds, within `call`.
pub(crate) async fn series_at(call: &Call<'_>, url: &Url) -> Result<Vec<SeriesMatch>, PacsError> {
    let answer = get_json(call, url).await?;
    objects(url, &answer)?
        .iter()
        .map(|series| {
            Ok(SeriesMatch {
                study_uid: required(url, series, "0020000D")?,
                uid: required(url, series, "0020000E")?,
                number: number(series, "00200011"),
                modality: string(series, "00080060").unwrap_or_default(),
                description: string(series, "0008103E").unwrap_or_default(),
                body_part: string(series, "00180015").unwrap_or_default(),
                instances: number(series, "00201209").and_then(|n| u64::try_from(n).ok()),
            })
        })
        .collect()
}

/// A UID checked before it goes into a URL path: digits and dots, at most 64 characters.
pub(crate) fn uid_segment<'a>(source: &DicomWeb, uid: &'a str) -> Result<&'a str, PacsError> {
    if !uid.is_empty() && uid.len() <= 64 && uid.chars().all(|c| c.is_ascii_digit() || c == '.') {
        Ok(uid)
    } else {
        Err(PacsError::BadUrl {
            url: without_credentials(source.base()),
            reason: format!("{uid:?} is not a DICOM UID (digits and dots, at most 64)"),
        })
    }
}

/// The objects of the array a QIDO or metadata answer is.
pub(crate) fn objects<'a>(
    url: &Url,
    answer: &'a Value,
) -> Result<Vec<&'a serde_json::Map<String, Value>>, PacsError> {
    let bad = |what: &str| PacsError::BadAnswer {
        url: without_credentials(url),
        what: what.to_string(),
    };
    answer
        .as_array()
        .ok_or_else(|| bad("expected a JSON array"))?
        .iter()
        .map(|item| {
            item.as_object()
                .ok_or_else(|| bad("expected an array of DICOM JSON objects"))
        })
        .collect()
}

/// An attribute the answer must carry.
pub(crate) fn required(
    url: &Url,
    object: &serde_json::Map<String, Value>,
    tag: &str,
) -> Result<String, PacsError> {
    string(object, tag).ok_or_else(|| PacsError::BadAnswer {
        url: without_credentials(url),
        what: format!("({},{}) missing", &tag[..4], &tag[4..]),
    })
}

/// The first value of attribute `tag` as text (a person name's alphabetic form).
pub(crate) fn string(object: &serde_json::Map<String, Value>, tag: &str) -> Option<String> {
    strings(object, tag).into_iter().next()
}

/// Every value of attribute `tag` as text.
pub(crate) fn strings(object: &serde_json::Map<String, Value>, tag: &str) -> Vec<String> {
    let Some(values) = object
        .get(tag)
        .and_then(|attribute| attribute.get("Value"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    values
        .iter()
        .filter_map(|value| match value {
            Value::String(text) => Some(text.trim().to_string()),
            Value::Number(number) => Some(number.to_string()),
            Value::Object(name) => name
                .get("Alphabetic")
                .and_then(Value::as_str)
                .map(|text| text.trim().to_string()),
            _ => None,
        })
        .collect()
}

/// The first value of attribute `tag` as an integer.
pub(crate) fn number(object: &serde_json::Map<String, Value>, tag: &str) -> Option<i64> {
    string(object, tag).and_then(|text| text.parse().ok())
}
