//! Where the server keeps reports: with the study on its PACS (STOW-RS) for a series the
//! library lists from a PACS, else in the findings folder of its state, one report per
//! series (the last saved); read back from there when the series opens again.

use std::path::PathBuf;

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_dicomweb::{DicomWeb, DocumentHome, HomeError, KeptDocument, PacsError, Place};
use hounsfield_findings::FindingError;
use hounsfield_findings::report::{Authorship, MeasuredFinding, ReportSubject, measurement_report};
use render_core::Volume;

/// A report stored: its SOP Instance UID and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The report's SOP Instance UID.
    pub sop_instance_uid: String,
    /// `findings folder` or `pacs`.
    pub stored_in: &'static str,
    /// The file written, or the URL the report was sent to.
    pub location: String,
}

/// The server's findings folder, when it has one.
#[derive(Debug, Clone, Default)]
pub struct FindingsStore {
    folder: Option<PathBuf>,
}

impl FindingsStore {
    /// Reports kept in `folder` (`None`: findings live only while the server runs).
    pub fn new(folder: Option<PathBuf>) -> Self {
        Self { folder }
    }

    /// The findings of the series' last report, from its PACS when it has one, else from
    /// the findings folder; none when no report was saved.
    pub fn load(
        &self,
        subject: &ReportSubject,
        pacs: Option<&DicomWeb>,
    ) -> Result<Vec<MeasuredFinding>, StoreError> {
        let Some(home) = self.home(pacs) else {
            return Ok(Vec::new());
        };
        let report = home.newest_report(&subject.study_uid, &subject.series_uid)?;
        Ok(report.map(|report| report.findings).unwrap_or_default())
    }

    /// Writes `findings` as the series' report, by `authorship`: to its PACS when it has
    /// one, else into the findings folder (replacing the series' report before).
    pub fn save(
        &self,
        subject: &ReportSubject,
        volume: &Volume,
        findings: &[MeasuredFinding],
        authorship: &Authorship,
        pacs: Option<&DicomWeb>,
    ) -> Result<Stored, StoreError> {
        let report = measurement_report(subject, volume, findings, authorship)?;
        let home = self.home(pacs).ok_or(StoreError::NoFolder)?;
        let kept = home.keep_report(&subject.study_uid, &subject.series_uid, &report)?;
        Ok(stored(subject, kept))
    }

    /// Stores `document` (key images, a snapshot) where the study lives: its PACS when it
    /// has one, else the findings folder (beside the documents before).
    pub fn store_document(
        &self,
        subject: &ReportSubject,
        document: &FileDicomObject<InMemDicomObject>,
        pacs: Option<&DicomWeb>,
    ) -> Result<Stored, StoreError> {
        let home = self.home(pacs).ok_or(StoreError::NoFolder)?;
        let kept = home.keep_document(&subject.study_uid, document)?;
        Ok(stored(subject, kept))
    }

    /// Where the series' documents live: its PACS when it has one, else the findings
    /// folder; none without either.
    fn home<'a>(&'a self, pacs: Option<&'a DicomWeb>) -> Option<DocumentHome<'a>> {
        match (pacs, &self.folder) {
            (Some(pacs), _) => Some(DocumentHome::Pacs(pacs)),
            (None, Some(folder)) => Some(DocumentHome::Folder(folder)),
            (None, None) => None,
        }
    }
}

/// What clients are told of a document kept for `subject`: the study on the PACS, not
/// its host (clients are not told the PACS's URLs), or the file written.
fn stored(subject: &ReportSubject, kept: KeptDocument) -> Stored {
    let (stored_in, location) = match kept.place {
        Place::Pacs { .. } => ("pacs", format!("studies/{}", subject.study_uid)),
        Place::Folder { file } => ("findings folder", file.display().to_string()),
    };
    Stored {
        sop_instance_uid: kept.sop_instance_uid,
        stored_in,
        location,
    }
}

/// Why findings could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server was given no state folder to keep them in.
    #[error("this server keeps no findings folder: start it with --state-dir")]
    NoFolder,
    /// The report could not be made, written or read.
    #[error(transparent)]
    Report(#[from] FindingError),
    /// The PACS did not store or deliver it (the error names its URL: logged, not sent).
    #[error("the PACS did not store it (the server log says why)")]
    Pacs(#[from] PacsError),
}

impl From<HomeError> for StoreError {
    fn from(error: HomeError) -> Self {
        match error {
            HomeError::Report(error) => Self::Report(error),
            HomeError::Pacs(error) => Self::Pacs(error),
        }
    }
}
