//! Where the server keeps reports: with the study on its PACS (STOW-RS) for a series the
//! library lists from a PACS, else in the findings folder of its state, one report per
//! series (the last saved); read back from there when the series opens again. Saves of
//! one series take turns ([`SaveTurns`]).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_dicomweb::{
    DicomWeb, DocumentHome, HomeError, KeptDocument, KeptSegmentation, PacsError, Place,
};
use hounsfield_findings::FindingError;
use hounsfield_findings::report::{
    Authorship, MeasuredFinding, ReportSubject, ReportedCalcium, SavedCalcium, measurement_report,
    segmentation_with_report,
};
use hounsfield_findings::segmentation::ReadSegmentation;
use hounsfield_segment::Segment;
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

/// How many turns saves are spread over: saves of series that share one wait for each
/// other, a bound on the locks however many series are saved.
const SAVE_TURNS: usize = 64;

/// The turns saves of a series take: a save reads the series' findings and writes its
/// report in its turn, so that a later save always writes what an earlier one did and
/// what was drawn since, and a report acknowledged is never replaced by an older one.
#[derive(Debug)]
pub struct SaveTurns {
    turns: [Mutex<()>; SAVE_TURNS],
}

impl Default for SaveTurns {
    fn default() -> Self {
        Self {
            turns: std::array::from_fn(|_| Mutex::new(())),
        }
    }
}

impl SaveTurns {
    /// Waits for `series_uid`'s turn; the turn lasts while the guard lives.
    pub fn wait(&self, series_uid: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        series_uid.hash(&mut hasher);
        let turn = &self.turns[(hasher.finish() % SAVE_TURNS as u64) as usize];
        // A save that panicked left nothing half-done to guard: the report is written
        // whole or not at all.
        turn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The server's findings folder, when it has one.
#[derive(Debug, Clone, Default)]
pub struct FindingsStore {
    folder: Option<PathBuf>,
    turns: Arc<SaveTurns>,
}

impl FindingsStore {
    /// Reports kept in `folder` (`None`: findings live only while the server runs).
    pub fn new(folder: Option<PathBuf>) -> Self {
        Self {
            folder,
            turns: Arc::default(),
        }
    }

    /// The findings and the calcium score of the series' last report, from its PACS
    /// when it has one, else from the findings folder; none when no report was saved.
    pub fn load(
        &self,
        subject: &ReportSubject,
        pacs: Option<&DicomWeb>,
    ) -> Result<(Vec<MeasuredFinding>, Option<SavedCalcium>), StoreError> {
        let Some(home) = self.home(pacs) else {
            return Ok((Vec::new(), None));
        };
        let report = home.newest_report(&subject.study_uid, &subject.series_uid)?;
        Ok(report
            .map(|report| (report.findings, report.calcium))
            .unwrap_or_default())
    }

    /// Writes the series' findings and its calcium score as its report, by
    /// `authorship`, in the series' turn: `findings` are read once the turn has come,
    /// then written to its PACS when it has one, else into the findings folder
    /// (replacing the series' report before). What was stored, and how many findings it
    /// holds.
    pub fn save(
        &self,
        subject: &ReportSubject,
        volume: &Volume,
        findings: impl FnOnce() -> (Vec<MeasuredFinding>, Option<ReportedCalcium>),
        authorship: &Authorship,
        pacs: Option<&DicomWeb>,
    ) -> Result<(Stored, usize), StoreError> {
        let home = self.home(pacs).ok_or(StoreError::NoFolder)?;
        let _turn = self.turns.wait(&subject.series_uid);
        let (findings, calcium) = findings();
        if findings.is_empty() && calcium.is_none() {
            return Err(StoreError::NoFindings);
        }
        let report = measurement_report(subject, volume, &findings, calcium.as_ref(), authorship)?;
        let kept = home.keep_report(&subject.study_uid, &subject.series_uid, &report)?;
        Ok((stored(subject, kept), findings.len()))
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

    /// Stores `segments` (drawn on `volume`, the grid of `subject`'s series) as a DICOM
    /// Segmentation where the study lives, then their numbers as a Measurement Report
    /// whose volumetric groups reference each segment in it; what was stored of the
    /// Segmentation.
    pub fn store_segmentation(
        &self,
        subject: &ReportSubject,
        volume: &Volume,
        segments: &[Segment],
        authorship: &Authorship,
        pacs: Option<&DicomWeb>,
    ) -> Result<Stored, StoreError> {
        let [document, report] = segmentation_with_report(subject, volume, segments, authorship)?;
        let stored = self.store_document(subject, &document, pacs)?;
        self.store_document(subject, &report, pacs)?;
        Ok(stored)
    }

    /// The Segmentations saved on `subject`'s series where its study lives (its PACS when
    /// it has one, else the findings folder), newest first; none without either.
    pub fn segmentations_of(
        &self,
        subject: &ReportSubject,
        pacs: Option<&DicomWeb>,
    ) -> Result<Vec<KeptSegmentation>, StoreError> {
        let Some(home) = self.home(pacs) else {
            return Ok(Vec::new());
        };
        Ok(home.segmentations_of(&subject.study_uid, &subject.series_uid)?)
    }

    /// Reads `kept` (one [`Self::segmentations_of`] listed) onto `volume`'s grid.
    pub fn read_segmentation(
        &self,
        kept: &KeptSegmentation,
        volume: &Volume,
        pacs: Option<&DicomWeb>,
    ) -> Result<ReadSegmentation, StoreError> {
        let home = self.home(pacs).ok_or(StoreError::NoFolder)?;
        Ok(home.read_segmentation(kept, volume)?)
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
    /// The series had no findings when its turn to be saved came (all deleted since).
    #[error("the series has no findings")]
    NoFindings,
    /// The report could not be made, written or read.
    #[error(transparent)]
    Report(#[from] FindingError),
    /// The PACS did not store or deliver it (the error names its URL: logged, not sent).
    #[error("the PACS did not store it (the server log says why)")]
    Pacs(#[from] PacsError),
}

impl StoreError {
    /// What a client is told: the reason, without the paths of the server's folders (a
    /// file system's error names the file it failed on).
    pub fn told(&self) -> String {
        match self {
            Self::Report(FindingError::Io { source, .. }) => {
                let why = match source.kind() {
                    std::io::ErrorKind::StorageFull => "no space left on the server's disk".into(),
                    kind => std::io::Error::from(kind).to_string(),
                };
                format!(
                    "the server's findings folder could not be written ({why}); what was saved before is unchanged"
                )
            }
            other => other.to_string(),
        }
    }
}

impl From<HomeError> for StoreError {
    fn from(error: HomeError) -> Self {
        match error {
            HomeError::Report(error) => Self::Report(error),
            HomeError::Pacs(error) => Self::Pacs(error),
        }
    }
}
