//! Where the server keeps reports: with the study on its PACS (STOW-RS) for a series the
//! library lists from a PACS, else in the findings folder of its state, one report per
//! series (the last saved); read back from there when the series opens again.

use std::path::PathBuf;

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_dicomweb::{DicomWeb, PacsError};
use hounsfield_findings::FindingError;
use hounsfield_findings::folder::{keep_document, keep_report, kept_report};
use hounsfield_findings::report::{
    Authorship, MeasuredFinding, ReportSubject, measurement_report, sop_instance_uid_of,
};
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
        let report = match (pacs, &self.folder) {
            (Some(pacs), _) => {
                let work = tempfile::tempdir().map_err(|source| FindingError::Io {
                    file: std::env::temp_dir(),
                    source,
                })?;
                pacs.newest_series_report(&subject.study_uid, &subject.series_uid, work.path())?
            }
            (None, Some(folder)) => kept_report(folder, &subject.study_uid, &subject.series_uid)?,
            (None, None) => None,
        };
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
        self.store(subject, &report, pacs, |folder| {
            keep_report(folder, &subject.study_uid, &subject.series_uid, &report)
        })
    }

    /// Stores `document` (key images, a snapshot) where the study lives: its PACS when it
    /// has one, else the findings folder (beside the documents before).
    pub fn store_document(
        &self,
        subject: &ReportSubject,
        document: &FileDicomObject<InMemDicomObject>,
        pacs: Option<&DicomWeb>,
    ) -> Result<Stored, StoreError> {
        self.store(subject, document, pacs, |folder| {
            keep_document(folder, &subject.study_uid, document)
        })
    }

    /// Sends `document` to the PACS when there is one, else `keep`s it in the findings
    /// folder; where it went.
    fn store(
        &self,
        subject: &ReportSubject,
        document: &FileDicomObject<InMemDicomObject>,
        pacs: Option<&DicomWeb>,
        keep: impl FnOnce(&std::path::Path) -> Result<PathBuf, FindingError>,
    ) -> Result<Stored, StoreError> {
        let (stored_in, location) = match (pacs, &self.folder) {
            (Some(pacs), _) => {
                let stored = pacs.store_report(&subject.study_uid, document)?;
                tracing::info!(url = %stored.url, "stored on the PACS");
                // The study on the PACS, not its host: clients are not told the PACS's URLs.
                ("pacs", format!("studies/{}", subject.study_uid))
            }
            (None, Some(folder)) => ("findings folder", keep(folder)?.display().to_string()),
            (None, None) => return Err(StoreError::NoFolder),
        };
        Ok(Stored {
            sop_instance_uid: sop_instance_uid_of(document),
            stored_in,
            location,
        })
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
