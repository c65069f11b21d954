//! Where a study's findings documents are kept: with the study on the PACS it came from
//! (STOW-RS; the newest report naming a series found again with QIDO-RS and WADO-RS), or
//! in a findings folder (one report per series, key images and snapshots beside it). The
//! one choice the server and the desktop both make.

use std::path::{Path, PathBuf};

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_findings::FindingError;
use hounsfield_findings::folder::{keep_document, keep_report, kept_report, kept_segmentations};
use hounsfield_findings::report::{ReadReport, sop_instance_uid_of};
use hounsfield_findings::segmentation::{
    ReadSegmentation, SegmentationHeader, read_segmentation_file,
};
use hounsfield_volume::Volume;

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

/// A Segmentation kept with a study, drawn on one of its series.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptSegmentation {
    /// What it says of itself.
    pub header: SegmentationHeader,
    /// Where it is: the folder's file, or its WADO-RS URL on the PACS.
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
                let work = work_folder()?;
                Ok(pacs.newest_series_report(study_uid, series_uid, work.path())?)
            }
            Self::Folder(folder) => Ok(kept_report(folder, study_uid, series_uid)?),
        }
    }

    /// The Segmentations kept with study `study_uid` that were drawn on series
    /// `series_uid` (their Referenced Series names it), newest first: on the PACS, its SEG
    /// series of the study (at most 50, each header read from a retrieval); in the folder,
    /// the study's files.
    pub fn segmentations_of(
        &self,
        study_uid: &str,
        series_uid: &str,
    ) -> Result<Vec<KeptSegmentation>, HomeError> {
        let mut kept: Vec<KeptSegmentation> = match self {
            Self::Pacs(pacs) => {
                let work = work_folder()?;
                pacs.segmentations_in(Some(study_uid), work.path())?
                    .into_iter()
                    .filter(|found| {
                        found
                            .header
                            .referenced_series_uids
                            .iter()
                            .any(|uid| uid == series_uid)
                    })
                    .map(|found| KeptSegmentation {
                        header: found.header,
                        place: Place::Pacs { url: found.url },
                    })
                    .collect()
            }
            Self::Folder(folder) => kept_segmentations(folder, study_uid, series_uid)?
                .into_iter()
                .map(|(file, header)| KeptSegmentation {
                    header,
                    place: Place::Folder { file },
                })
                .collect(),
        };
        kept.sort_by(|a, b| b.header.written.cmp(&a.header.written));
        Ok(kept)
    }

    /// Reads `kept` (one [`Self::segmentations_of`] found here) onto `volume`'s grid:
    /// the folder's file, or retrieved from the PACS into a folder removed after.
    pub fn read_segmentation(
        &self,
        kept: &KeptSegmentation,
        volume: &Volume,
    ) -> Result<ReadSegmentation, HomeError> {
        match (&kept.place, self) {
            (Place::Folder { file }, _) => Ok(read_segmentation_file(file, volume)?),
            (Place::Pacs { .. }, Self::Pacs(pacs)) => {
                let work = work_folder()?;
                let file = work
                    .path()
                    .join(format!("{}.dcm", kept.header.sop_instance_uid));
                pacs.retrieve_segmentation(&kept.header, &file)?;
                Ok(read_segmentation_file(&file, volume)?)
            }
            (Place::Pacs { url }, Self::Folder(_)) => {
                Err(HomeError::Report(FindingError::Encode(format!(
                    "{url}: a PACS's Segmentation, and this series keeps its documents in a folder"
                ))))
            }
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

/// A temporary folder for what a PACS delivers, removed when dropped.
fn work_folder() -> Result<tempfile::TempDir, FindingError> {
    tempfile::tempdir().map_err(|source| FindingError::Io {
        file: std::env::temp_dir(),
        source,
    })
}
