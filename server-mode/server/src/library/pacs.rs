//! A PACS as a source of the server's library: its catalog listed over QIDO-RS (or C-FIND)
//! when the library is made (studies and series, paged through; `list_studies` then
//! filters that catalog as it filters folders', so searching costs the PACS nothing), and
//! a series retrieved over WADO-RS into the on-disk cache (or by C-MOVE into this server's
//! Storage SCP, or by C-GET into a store of its own) when opened, then read by the same
//! file loader as a folder's.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hounsfield_dimse::{Scu, StoreFolder};

use render_core::dicom::SeriesKind;

use super::{LibraryError, modalities_of};
pub(super) use hounsfield_dicomweb::ArrivedSeries;
use hounsfield_dicomweb::{
    DicomWeb, PacsCatalog, PacsError, RetrievalProgress, SeriesCache, retrieve_series,
};
use hounsfield_protocol::{SeriesInfo, StudyInfo};

/// Most studies listed from one PACS.
pub const MAX_PACS_STUDIES: usize = 20_000;

/// A PACS the library lists: over DICOMweb (with the cache its series are retrieved
/// into), or over DICOM networking (C-FIND, and C-MOVE to this server's Storage SCP).
pub struct PacsLibrary {
    archive: Archive,
}

enum Archive {
    // Boxed: the DICOMweb client and its cache are large beside an SCU.
    DicomWeb {
        source: Box<DicomWeb>,
        cache: Box<SeriesCache>,
    },
    Dimse {
        scu: Scu,
        /// How a series comes from it.
        retrieval: DimseRetrieval,
    },
}

/// How a series comes from a PACS asked over DICOM networking.
enum DimseRetrieval {
    /// C-MOVE to this server's AE title `destination`, whose Storage SCP stores into
    /// `store`.
    Move { destination: String, store: PathBuf },
    /// C-GET into `store`, over the association that asks (no Storage SCP of ours).
    Get { store: Arc<StoreFolder> },
}

impl PacsLibrary {
    /// The PACS at `source`, its series retrieved into `cache`.
    pub fn new(source: DicomWeb, cache: SeriesCache) -> Self {
        Self {
            archive: Archive::DicomWeb {
                source: Box::new(source),
                cache: Box::new(cache),
            },
        }
    }

    /// The PACS `scu` asks over DICOM networking, its series moved to this server's AE
    /// `destination`, whose Storage SCP stores into `store`.
    pub fn dimse(scu: Scu, destination: &str, store: PathBuf) -> Self {
        Self {
            archive: Archive::Dimse {
                scu,
                retrieval: DimseRetrieval::Move {
                    destination: destination.to_string(),
                    store,
                },
            },
        }
    }

    /// The PACS `scu` asks over DICOM networking, its series retrieved with C-GET into
    /// `store` (a server without a Storage SCP of its own).
    pub fn dimse_get(scu: Scu, store: Arc<StoreFolder>) -> Self {
        Self {
            archive: Archive::Dimse {
                scu,
                retrieval: DimseRetrieval::Get { store },
            },
        }
    }

    /// The DICOMweb service (its clone: the limits and credentials go with it), for a
    /// PACS asked over DICOMweb.
    pub fn dicomweb(&self) -> Option<DicomWeb> {
        match &self.archive {
            Archive::DicomWeb { source, .. } => Some(DicomWeb::clone(source)),
            Archive::Dimse { .. } => None,
        }
    }

    /// The PACS's name, for messages: its DICOMweb base URL, or `dimse://AE@HOST:PORT`.
    pub fn base(&self) -> String {
        match &self.archive {
            Archive::DicomWeb { source, .. } => source.base().to_string(),
            Archive::Dimse { scu, .. } => format!("dimse://{}", scu.pacs().name()),
        }
    }

    /// The studies of the PACS, each with its series (headers only).
    pub(super) fn list(&self) -> Result<Vec<StudyInfo>, PacsError> {
        let (studies, truncated) = match &self.archive {
            Archive::DicomWeb { source, .. } => {
                let catalog = source.catalog(MAX_PACS_STUDIES)?;
                (studies(&catalog), catalog.truncated)
            }
            Archive::Dimse { scu, .. } => {
                dimse_studies(scu).map_err(|error| PacsError::Request {
                    url: self.base(),
                    detail: error.to_string(),
                })?
            }
        };
        if truncated {
            tracing::warn!(
                pacs = self.base(),
                studies = studies.len(),
                "the PACS holds more than the library lists"
            );
        }
        Ok(studies)
    }

    /// Retrieves series `series_uid` of study `study_uid` (listed as `id`) into the cache
    /// (or the Storage SCP's store), reporting images received, and catalogues it;
    /// instances the PACS would not deliver are left out and named. The details of a
    /// failure are logged (they name the PACS), the client is told the series is
    /// unavailable.
    pub(super) fn retrieve(
        &self,
        id: &str,
        (study_uid, series_uid): (&str, &str),
        progress: RetrievalProgress<'_>,
        max_bytes: u64,
    ) -> Result<ArrivedSeries, LibraryError> {
        let not_delivered = |error: &dyn std::fmt::Display| {
            tracing::warn!(series = id, %error, "the PACS did not deliver the series");
            LibraryError::Unavailable {
                id: id.to_string(),
                reason: "the PACS did not deliver it (the server log says why)".to_string(),
            }
        };
        match &self.archive {
            Archive::DicomWeb { source, cache } => {
                retrieve_series(cache, source, (study_uid, series_uid), progress, max_bytes)
                    .map_err(|error| not_delivered(&error))
            }
            Archive::Dimse { scu, retrieval } => {
                let (moved, store) = match retrieval {
                    DimseRetrieval::Move { destination, store } => (
                        scu.move_series(study_uid, series_uid, destination),
                        store.as_path(),
                    ),
                    DimseRetrieval::Get { store } => {
                        (scu.get_series(study_uid, series_uid, store), store.root())
                    }
                };
                let moved = moved.map_err(|error| not_delivered(&error))?;
                let expected = moved.completed + moved.failed;
                progress(moved.completed, expected);
                // Stored by this server's Storage SCP, or by the C-GET, under the study's
                // folder (the UIDs checked as UIDs there, so no path comes from the PACS).
                let folder = store.join(study_uid);
                if !hounsfield_dimse::is_uid(study_uid) || !folder.is_dir() {
                    return Err(not_delivered(&"no instance arrived"));
                }
                let catalog = render_core::dicom::Catalog::scan(&[folder], &|_| {});
                let missing = (0..moved.failed)
                    .map(|_| "an instance the PACS failed to send".to_string())
                    .collect();
                Ok(ArrivedSeries {
                    catalog,
                    missing,
                    expected,
                    decoded: render_core::dicom::PreDecoded::default(),
                    first_arrival: None,
                })
            }
        }
    }
}

/// A series as a PACS lists it, before it is opened.
struct Listed {
    uid: String,
    number: Option<i32>,
    modality: String,
    description: String,
    body_part: String,
    images: usize,
}

impl Listed {
    /// As `studies` lists it: its id its SeriesInstanceUID, no dimensions (the metadata
    /// is not read until opened), no thumbnail; one instance is a single image.
    fn info(self) -> SeriesInfo {
        SeriesInfo {
            id: self.uid,
            number: self.number,
            modality: self.modality,
            description: self.description,
            body_part: self.body_part,
            images: self.images,
            dims: None,
            unavailable: None,
            kind: if self.images == 1 {
                SeriesKind::Single
            } else {
                SeriesKind::Volume
            },
            thumbnail: None,
        }
    }
}

/// The studies a PACS asked over DICOM networking holds, each with its series (one C-FIND
/// for the studies, one a study for its series), at most [`MAX_PACS_STUDIES`]; and whether
/// it held more.
fn dimse_studies(scu: &Scu) -> Result<(Vec<StudyInfo>, bool), hounsfield_dimse::ScuError> {
    let mut found = scu.studies()?;
    let truncated = found.len() > MAX_PACS_STUDIES;
    found.truncate(MAX_PACS_STUDIES);
    let mut studies = Vec::with_capacity(found.len());
    for study in found {
        let mut series: Vec<SeriesInfo> = scu
            .series(&study.uid)?
            .into_iter()
            .map(|series| {
                Listed {
                    uid: series.uid,
                    number: series.number,
                    modality: series.modality,
                    description: series.description,
                    body_part: series.body_part,
                    images: series.images.unwrap_or(0),
                }
                .info()
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        series.sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.id.cmp(&b.id)));
        studies.push(StudyInfo {
            id: study.uid,
            description: study.description,
            date: study.date,
            patient_name: study.patient_name,
            patient_id: study.patient_id,
            accession: study.accession,
            modalities: modalities_of(&series),
            series,
        });
    }
    Ok((studies, truncated))
}

/// The studies of a PACS catalog as `studies` lists them: series in their number's order,
/// ids their SeriesInstanceUIDs, no dimensions (the metadata is not read until opened) and
/// no thumbnail; a series of one instance is a single image. Studies without a series are
/// left out.
fn studies(catalog: &PacsCatalog) -> Vec<StudyInfo> {
    let mut by_study: HashMap<&str, Vec<SeriesInfo>> = HashMap::new();
    for series in &catalog.series {
        let images = series
            .instances
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        by_study.entry(series.study_uid.as_str()).or_default().push(
            Listed {
                uid: series.uid.clone(),
                number: series.number.and_then(|n| i32::try_from(n).ok()),
                modality: series.modality.clone(),
                description: series.description.clone(),
                body_part: series.body_part.clone(),
                images,
            }
            .info(),
        );
    }
    catalog
        .studies
        .iter()
        .filter_map(|study| {
            let mut series = by_study.remove(study.uid.as_str())?;
            series.sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.id.cmp(&b.id)));
            Some(StudyInfo {
                id: study.uid.clone(),
                description: study.description.clone(),
                date: study.date.clone(),
                patient_name: study.patient_name.clone(),
                patient_id: study.patient_id.clone(),
                accession: study.accession_number.clone(),
                modalities: modalities_of(&series),
                series,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_dicomweb::{SeriesMatch, StudyMatch};

    #[test]
    fn series_join_their_studies_in_number_order_and_empty_studies_go() {
        let study = |uid: &str| StudyMatch {
            uid: uid.to_string(),
            patient_name: "DOE^JANE".to_string(),
            patient_id: "P1".to_string(),
            date: "20130308".to_string(),
            description: String::new(),
            accession_number: "A7".to_string(),
            modalities: Vec::new(),
            series_count: None,
            instances: None,
        };
        let series = |study: &str, uid: &str, number: i64, instances: u64| SeriesMatch {
            study_uid: study.to_string(),
            uid: uid.to_string(),
            number: Some(number),
            modality: "MR".to_string(),
            description: String::new(),
            body_part: "LSPINE".to_string(),
            instances: Some(instances),
        };
        let catalog = PacsCatalog {
            studies: vec![study("1.1"), study("1.2")],
            series: vec![
                series("1.1", "1.1.2", 2, 40),
                series("1.1", "1.1.1", 1, 1),
                series("9.9", "9.9.1", 1, 10),
            ],
            truncated: false,
        };
        let listed = studies(&catalog);
        assert_eq!(listed.len(), 1, "the study without series is left out");
        assert_eq!(listed[0].accession, "A7");
        assert_eq!(listed[0].modalities, ["MR"]);
        let ids: Vec<&str> = listed[0].series.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["1.1.1", "1.1.2"]);
        assert_eq!(listed[0].series[0].kind, SeriesKind::Single);
        assert_eq!(listed[0].series[1].images, 40);
        assert_eq!(
            listed[0].series[1].body_part, "LSPINE",
            "the PACS's body part is kept"
        );
    }
}
