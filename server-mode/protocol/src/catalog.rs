//! The catalog on the wire: which studies `list_studies` asks for ([`StudyRequest`],
//! [`StudyQuery`]) and the studies and series a `studies` reply describes.

use serde::{Deserialize, Serialize};

use crate::SeriesKind;

/// Which studies `list_studies` asks for: those matching `query`, newest first, from
/// `offset`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StudyRequest {
    /// What the studies must match (everything when empty).
    #[serde(default, skip_serializing_if = "StudyQuery::is_empty")]
    pub query: StudyQuery,
    /// Matching studies to skip (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Most studies in the reply, 1 to [`MAX_STUDY_PAGE`] ([`DEFAULT_STUDY_PAGE`] when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Studies a `studies` reply holds when `list_studies` gives no `limit`.
pub const DEFAULT_STUDY_PAGE: i64 = 50;
/// The most studies one `studies` reply holds.
pub const MAX_STUDY_PAGE: i64 = 200;
/// The longest string a study query field may be (characters).
pub const MAX_QUERY_CHARS: usize = 128;

/// What studies must match; an empty field matches everything. Strings are compared
/// case-insensitively, `^` in names as a space.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StudyQuery {
    /// Found in the patient's name or ID, the study's or a series' description or the
    /// accession number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Found in PatientName.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub patient_name: String,
    /// Found in PatientID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub patient_id: String,
    /// A series of the study has this Modality (`CT`, `MR`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modality: String,
    /// StudyDate on or after this day (`YYYYMMDD`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date_from: String,
    /// StudyDate on or before this day (`YYYYMMDD`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date_to: String,
    /// Found in AccessionNumber.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub accession: String,
    /// The StudyInstanceUID, exactly (a worklist's link to one study).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub study_uid: String,
}

impl StudyQuery {
    /// Whether no field is set (the query matches every study).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The longest text of one catalog field in a `studies` reply (characters): a header's
/// text as a file holds it may run to megabytes, and every listing sends it to every
/// client. Names and descriptions are at most 64 characters in DICOM; 256 keeps every
/// real one whole. A longer one arrives cut, ending in `…`.
pub const MAX_LISTED_CHARS: usize = 256;

/// Serialises a catalog field cut to [`MAX_LISTED_CHARS`]: the one place a listed text's
/// bound is kept, whoever built the value.
pub(crate) fn listed<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hounsfield_vocabulary::text::cut_with_mark(
        text,
        MAX_LISTED_CHARS,
    ))
}

/// [`listed`] for each of a list's texts.
fn listed_all<S: serde::Serializer>(texts: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = serializer.serialize_seq(Some(texts.len()))?;
    for text in texts {
        seq.serialize_element(&hounsfield_vocabulary::text::cut_with_mark(
            text,
            MAX_LISTED_CHARS,
        ))?;
    }
    seq.end()
}

/// Reads a catalog field cut to [`MAX_LISTED_CHARS`]: a receiver (the thin client, a
/// bench) holds no longer text than a server sends, whatever server it is.
fn read_listed<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(hounsfield_vocabulary::text::cut_with_mark(&text, MAX_LISTED_CHARS).into_owned())
}

/// [`read_listed`] for each of a list's texts.
fn read_listed_all<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    Ok(texts
        .iter()
        .map(|text| hounsfield_vocabulary::text::cut_with_mark(text, MAX_LISTED_CHARS).into_owned())
        .collect())
}

/// A reason read cut to [`crate::MAX_ERROR_MESSAGE_CHARS`].
fn read_listed_reason<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let reason = Option::<String>::deserialize(deserializer)?;
    Ok(reason.map(|reason| {
        hounsfield_vocabulary::text::cut_with_mark(&reason, crate::MAX_ERROR_MESSAGE_CHARS)
            .into_owned()
    }))
}

/// Messages for the reader (an `opened`'s warnings), each bounded as an `error` reply's
/// message is ([`crate::MAX_ERROR_MESSAGE_CHARS`]).
pub(crate) fn listed_messages<S: serde::Serializer>(
    messages: &[String],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = serializer.serialize_seq(Some(messages.len()))?;
    for message in messages {
        seq.serialize_element(&hounsfield_vocabulary::text::cut_with_mark(
            message,
            crate::MAX_ERROR_MESSAGE_CHARS,
        ))?;
    }
    seq.end()
}

/// A series' reason for being unavailable, bounded as an `error` reply's message is
/// ([`crate::MAX_ERROR_MESSAGE_CHARS`]); the thumbnail's path, as a listed text.
fn listed_reason<S: serde::Serializer>(
    reason: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match reason {
        Some(reason) => serializer.serialize_some(&hounsfield_vocabulary::text::cut_with_mark(
            reason,
            crate::MAX_ERROR_MESSAGE_CHARS,
        )),
        None => serializer.serialize_none(),
    }
}

/// What a `studies` reply holds: one page of the studies matching a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StudyPage {
    /// The page's studies, newest first.
    pub studies: Vec<StudyInfo>,
    /// Studies that matched, before paging.
    pub total: usize,
    /// Matching studies skipped before the page.
    pub offset: usize,
}

/// One study of the catalog.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StudyInfo {
    /// The StudyInstanceUID (or `phantom`).
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub id: String,
    /// StudyDescription.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub description: String,
    /// StudyDate (YYYYMMDD), may be empty.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub date: String,
    /// PatientName, may be empty.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub patient_name: String,
    /// PatientID, may be empty.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub patient_id: String,
    /// AccessionNumber, may be empty.
    #[serde(default, serialize_with = "listed", deserialize_with = "read_listed")]
    pub accession: String,
    /// The modalities of its series, each once, in series order.
    #[serde(
        default,
        serialize_with = "listed_all",
        deserialize_with = "read_listed_all"
    )]
    pub modalities: Vec<String>,
    /// The series of the study.
    pub series: Vec<SeriesInfo>,
}

/// One series of the catalog.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// The id `open` takes.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub id: String,
    /// SeriesNumber.
    pub number: Option<i32>,
    /// Modality code (CT, MR…).
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub modality: String,
    /// SeriesDescription.
    #[serde(serialize_with = "listed", deserialize_with = "read_listed")]
    pub description: String,
    /// BodyPartExamined of its first image (`LSPINE`, `NECK`…); absent when it has none.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        serialize_with = "listed",
        deserialize_with = "read_listed"
    )]
    pub body_part: String,
    /// Images (frames) in the series.
    pub images: usize,
    /// Voxels along i, j, k when the images stack into a volume.
    pub dims: Option<[usize; 3]>,
    /// Why the series cannot be opened, when it cannot.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "listed_reason",
        deserialize_with = "read_listed_reason"
    )]
    pub unavailable: Option<String>,
    /// What the series is for: `volume`, `localizer` or `single`.
    #[serde(default)]
    pub kind: SeriesKind,
    /// The path of its thumbnail (`/thumbnail/ID`, relative to the server's root), when
    /// it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, ServerMessage, parse_client_message};

    #[test]
    fn list_studies_takes_a_query_offset_and_limit_all_optional() {
        assert_eq!(
            parse_client_message(r#"{"type":"list_studies"}"#),
            Ok(ClientMessage::ListStudies(StudyRequest::default()))
        );
        let message = parse_client_message(
            r#"{"type":"list_studies","query":{"text":"lumbar","modality":"MR","date_from":"20070101"},"offset":20,"limit":10}"#,
        )
        .expect("parses");
        let ClientMessage::ListStudies(request) = &message else {
            panic!("{message:?}");
        };
        assert_eq!(request.query.text, "lumbar");
        assert_eq!(request.query.modality, "MR");
        assert_eq!(request.query.date_from, "20070101");
        assert!(request.query.patient_name.is_empty());
        assert_eq!((request.offset, request.limit), (Some(20), Some(10)));
        let back = serde_json::to_value(&message).expect("serialises");
        assert_eq!(back["query"]["text"], "lumbar");
        assert!(back["query"].get("accession").is_none(), "{back}");
        let bare = serde_json::to_value(ClientMessage::ListStudies(StudyRequest::default()))
            .expect("serialises");
        assert_eq!(bare, serde_json::json!({"type": "list_studies"}));
        // An older server's reply (no total, accession, kind) still reads.
        let older: ServerMessage = serde_json::from_str(
            r#"{"type":"studies","studies":[{"id":"s","description":"","date":"","patient_name":"","patient_id":"","series":[{"id":"a","number":1,"modality":"CT","description":"","images":3,"dims":[2,2,3]}]}]}"#,
        )
        .expect("parses");
        let ServerMessage::Studies { studies, total, .. } = older else {
            panic!("{older:?}");
        };
        assert_eq!(total, 0);
        assert_eq!(studies[0].series[0].kind, SeriesKind::Volume);
    }

    #[test]
    fn listed_texts_are_cut_to_their_bound_with_a_mark_whoever_built_them() {
        let long = "A".repeat(25_000_000);
        let study = StudyInfo {
            id: "2.25.1".to_string(),
            description: long.clone(),
            patient_name: long.clone(),
            modalities: vec![long.clone()],
            series: vec![SeriesInfo {
                id: "2.25.2".to_string(),
                description: long.clone(),
                body_part: String::new(),
                unavailable: Some(long),
                ..SeriesInfo::default()
            }],
            ..StudyInfo::default()
        };
        let text = serde_json::to_string(&study).expect("serialises");
        assert!(text.len() < 8 * 1024, "{} bytes", text.len());
        let back: StudyInfo = serde_json::from_str(&text).expect("reads back");
        for cut in [
            &back.description,
            &back.patient_name,
            &back.modalities[0],
            &back.series[0].description,
        ] {
            assert_eq!(cut.chars().count(), MAX_LISTED_CHARS);
            assert!(cut.ends_with('…'), "{cut}");
        }
        let reason = back.series[0].unavailable.as_deref().unwrap_or_default();
        assert_eq!(reason.chars().count(), crate::MAX_ERROR_MESSAGE_CHARS);
        assert_eq!(back.id, "2.25.1", "a text within the bound is sent whole");
    }

    #[test]
    fn an_opened_series_sends_its_modality_and_warnings_bounded() {
        let long = "W".repeat(100_000);
        let opened = crate::Opened {
            series: "2.25.1".to_string(),
            dims: [2, 2, 2],
            spacing_mm: [1.0; 3],
            modality: long.clone(),
            window: None,
            presets: Vec::new(),
            preset: "ct-bone".to_string(),
            modes: Vec::new(),
            mode: "composite".to_string(),
            view: None,
            warnings: vec![long.clone()],
            volumes: vec![crate::TimePointInfo {
                label: long,
                time_s: Some(5.0),
            }],
        };
        let text = serde_json::to_string(&opened).expect("serialises");
        assert!(text.len() < 2048, "{} bytes", text.len());
        let back: crate::Opened = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back.modality.chars().count(), MAX_LISTED_CHARS);
        assert_eq!(back.volumes[0].label.chars().count(), MAX_LISTED_CHARS);
        assert_eq!(
            back.warnings[0].chars().count(),
            crate::MAX_ERROR_MESSAGE_CHARS
        );
    }

    #[test]
    fn a_receiver_reads_listed_texts_cut_to_their_bound_whatever_a_server_sends() {
        let long = "L".repeat(100_000);
        let sent = serde_json::json!({
            "id": "s", "description": long, "date": "", "patient_name": long,
            "patient_id": "", "modalities": [long],
            "series": [{"id": "a", "number": 1, "modality": "CT", "description": long,
                        "images": 1, "dims": null, "unavailable": long}]
        });
        let study: StudyInfo = serde_json::from_value(sent).expect("reads");
        assert_eq!(study.description.chars().count(), MAX_LISTED_CHARS);
        assert_eq!(study.patient_name.chars().count(), MAX_LISTED_CHARS);
        assert_eq!(study.modalities[0].chars().count(), MAX_LISTED_CHARS);
        assert_eq!(
            study.series[0].description.chars().count(),
            MAX_LISTED_CHARS
        );
        let reason = study.series[0].unavailable.as_deref().unwrap_or_default();
        assert_eq!(reason.chars().count(), crate::MAX_ERROR_MESSAGE_CHARS);
        assert_eq!(study.id, "s");
    }
}
