//! Where the server keeps reports: the findings folder of its state, one report per
//! series (the last saved), read back when the series opens again.

use std::path::PathBuf;

use hounsfield_findings::FindingError;
use hounsfield_findings::folder::{keep_report, kept_report};
use hounsfield_findings::report::{Authorship, MeasuredFinding, ReportSubject, measurement_report};
use render_core::Volume;

/// A report stored: its SOP Instance UID and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The report's SOP Instance UID.
    pub sop_instance_uid: String,
    /// `findings folder`.
    pub stored_in: &'static str,
    /// The file written.
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

    /// The findings of the series' last report, if one was saved.
    pub fn load(&self, subject: &ReportSubject) -> Result<Vec<MeasuredFinding>, FindingError> {
        let Some(folder) = &self.folder else {
            return Ok(Vec::new());
        };
        let report = kept_report(folder, &subject.study_uid, &subject.series_uid)?;
        Ok(report.map(|report| report.findings).unwrap_or_default())
    }

    /// Writes `findings` as the series' report, by `authorship`.
    pub fn save(
        &self,
        subject: &ReportSubject,
        volume: &Volume,
        findings: &[MeasuredFinding],
        authorship: &Authorship,
    ) -> Result<Stored, SaveError> {
        let folder = self.folder.as_ref().ok_or(SaveError::NoFolder)?;
        let report = measurement_report(subject, volume, findings, authorship)?;
        let sop_instance_uid = report.meta().media_storage_sop_instance_uid().to_string();
        let path = keep_report(folder, &subject.study_uid, &subject.series_uid, &report)?;
        Ok(Stored {
            sop_instance_uid: sop_instance_uid.trim_end_matches('\0').to_string(),
            stored_in: "findings folder",
            location: path.display().to_string(),
        })
    }
}

/// Why findings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The server was given no state folder to keep them in.
    #[error("this server keeps no findings folder: start it with --state-dir")]
    NoFolder,
    /// The report could not be made or written (the log says where).
    #[error(transparent)]
    Report(#[from] FindingError),
}
