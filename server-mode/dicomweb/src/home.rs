//! Where a study's findings documents are kept: with the study on the PACS it came from
//! (STOW-RS; the newest report naming a series found again with QIDO-RS and WADO-RS), or
//! in a findings folder (one report per series, key images and snapshots beside it). The
//! one choice the server and the desktop both make.

use std::path::{Path, PathBuf};

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_findings::FindingError;
use hounsfield_findings::folder::{keep_document, keep_report, kept_report};
use hounsfield_findings::report::{ReadReport, sop_instance_uid_of};

use super::{DicomWeb, PacsError};

/// Where a study's reports, key images and snapshots go.
#[derive(Debug, Clone, Copy)]
pub enum DocumentHome<'a> {
    /// The PACS the series came from.
    Pacs(&'a DicomWeb),
    /// A findings folder (see [`hounsfield_findings::folder`]).
    Folder(&'a Path),
}

/// Where a document went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Sent to the PACS, to this study URL.
    Pacs {
        /// The STOW-RS URL it was sent to.
        url: String,
    },
    /// Written into the findings folder.
    Folder {
        /// The file written.
        file: PathBuf,
    },
}

/// A document kept: its SOP Instance UID and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptDocument {
    /// The document's SOP Instance UID.
    pub sop_instance_uid: String,
    /// Where it went.
    pub place: Place,
}

/// Why a document was not kept or a report not read.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The document could not be encoded, written or read.
    #[error(transparent)]
    Report(#[from] FindingError),
    /// The PACS did not store or deliver it (the error names the URL).
    #[error(transparent)]
    Pacs(#[from] PacsError),
}

impl DocumentHome<'_> {
    /// The newest report of series `series_uid` in study `study_uid`, if one was kept.
    pub fn newest_report(
        &self,
        study_uid: &str,
        series_uid: &str,
    ) -> Result<Option<ReadReport>, HomeError> {
        match self {
            Self::Pacs(pacs) => {
                let work = tempfile::tempdir().map_err(|source| FindingError::Io {
                    file: std::env::temp_dir(),
                    source,
                })?;
                Ok(pacs.newest_series_report(study_uid, series_uid, work.path())?)
            }
            Self::Folder(folder) => Ok(kept_report(folder, study_uid, series_uid)?),
        }
    }

    /// Keeps `report` as the series' report: sent into the study on the PACS, or written
    /// in the folder in place of the series' report before.
    pub fn keep_report(
        &self,
        study_uid: &str,
        series_uid: &str,
        report: &FileDicomObject<InMemDicomObject>,
    ) -> Result<KeptDocument, HomeError> {
        self.keep(study_uid, report, |folder| {
            keep_report(folder, study_uid, series_uid, report)
        })
    }

    /// Keeps `document` (key images, a snapshot) with the study: sent to the PACS, or
    /// written in the folder beside the documents before.
    pub fn keep_document(
        &self,
        study_uid: &str,
        document: &FileDicomObject<InMemDicomObject>,
    ) -> Result<KeptDocument, HomeError> {
        self.keep(study_uid, document, |folder| {
            keep_document(folder, study_uid, document)
        })
    }

    /// Sends `document` to the PACS, or `write`s it into the folder; where it went.
    fn keep(
        &self,
        study_uid: &str,
        document: &FileDicomObject<InMemDicomObject>,
        write: impl FnOnce(&Path) -> Result<PathBuf, FindingError>,
    ) -> Result<KeptDocument, HomeError> {
        let place = match self {
            Self::Pacs(pacs) => {
                let stored = pacs.store_report(study_uid, document)?;
                tracing::info!(url = %stored.url, "stored on the PACS");
                Place::Pacs { url: stored.url }
            }
            Self::Folder(folder) => Place::Folder {
                file: write(folder)?,
            },
        };
        Ok(KeptDocument {
            sop_instance_uid: sop_instance_uid_of(document),
            place,
        })
    }
}
