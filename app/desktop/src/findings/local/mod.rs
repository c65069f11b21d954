//! The findings of a series rendered here: measured on the loaded volume with the
//! findings crate (the code a server measures with), read from where the series keeps
//! them when it opens (its PACS, else the findings folder), and kept there with its key
//! images and snapshots ([`documents`]).

mod documents;

use glam::DVec3;
use hounsfield_findings::folder::is_uid;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_findings::report::{MeasuredFinding, ReportSubject, SavedCalcium};
use hounsfield_findings::{Finding, FindingKind};
use hounsfield_protocol::SlicePlane;
use render_core::Volume;

use super::model::{Entry, FindingList};
use super::panel::PanelState;
use super::pending::Pending;
use super::sketch::Sketch;
use super::store::{self, Keeping};

/// The findings of the series shown, and what drawing and keeping them needs.
#[derive(Debug)]
pub struct LocalFindings {
    /// The findings.
    pub list: FindingList,
    /// What is being drawn or moved.
    pub sketch: Sketch,
    /// The panel's state.
    pub panel: PanelState,
    /// The note the next arrow gets.
    pub note: String,
    /// The last drawing refused, and why.
    pub problem: Option<String>,
    /// What the last save did.
    pub last_save: Option<Result<String, String>>,
    /// What the last key image or snapshot did.
    pub last_document: Option<Result<String, String>>,
    /// The patient, study and series the findings are on (none for the built-in sample).
    subject: Option<ReportSubject>,
    /// Where the series keeps its findings, or why it has nowhere.
    keeping: Result<Keeping, String>,
    /// The report series of the last save or of the report read.
    report_series_uid: Option<String>,
    /// The calcium score the series' last report held: written again in every report
    /// saved until the series is scored here.
    saved_calcium: Option<SavedCalcium>,
    /// A save under way.
    saving: Option<Pending<documents::Saved>>,
    /// A key image or a snapshot under way; the panel's line when kept.
    storing: Option<Pending<String>>,
}

impl LocalFindings {
    /// The calcium score the series' last report held, until it is scored here.
    pub fn saved_calcium(&self) -> Option<&SavedCalcium> {
        self.saved_calcium.as_ref()
    }

    /// Whose series and study the findings are on, when the header says.
    pub fn subject(&self) -> Option<&ReportSubject> {
        self.subject.as_ref()
    }

    /// The series' FrameOfReferenceUID, when it has one (a series beside it is linked by
    /// it).
    pub fn frame_of_reference(&self) -> Option<&str> {
        self.subject
            .as_ref()
            .map(|subject| subject.frame_of_reference_uid.as_str())
            .filter(|uid| !uid.is_empty())
    }

    /// Findings on `subject`'s series, none yet, kept where `keeping` says.
    fn new(subject: Option<ReportSubject>, keeping: Result<Keeping, String>) -> Self {
        Self {
            list: FindingList::default(),
            sketch: Sketch::default(),
            panel: PanelState::default(),
            note: String::new(),
            problem: None,
            last_save: None,
            last_document: None,
            subject,
            keeping,
            report_series_uid: None,
            saved_calcium: None,
            saving: None,
            storing: None,
        }
    }

    /// The findings of `subject`'s series kept where `keeping` says, with their stored
    /// numbers; a warning when the report there cannot be read. Blocks on a PACS: called
    /// on the loading thread.
    pub fn open(
        subject: Option<ReportSubject>,
        keeping: Result<Keeping, String>,
    ) -> (Self, Option<String>) {
        let mut findings = Self::new(subject, keeping);
        let (Some(subject), Ok(keeping)) = (&findings.subject, &findings.keeping) else {
            return (findings, None);
        };
        if !is_uid(&subject.study_uid) || !is_uid(&subject.series_uid) {
            return (findings, None);
        }
        match store::load(keeping, subject) {
            Ok(Some(report)) => {
                let entries = report
                    .findings
                    .into_iter()
                    .map(|measured| Entry::new(measured, report.observer.clone()))
                    .collect();
                findings.list = FindingList::of(entries);
                findings.report_series_uid = Some(report.report_series_uid);
                findings.saved_calcium = report.calcium;
                (findings, None)
            }
            Ok(None) => (findings, None),
            Err(error) => (
                findings,
                Some(format!("the series' findings could not be read: {error}")),
            ),
        }
    }

    /// Draws a new finding of `kind` on `plane`'s cell showing `axes` (turned or not)
    /// through `points_lps`, measured on `volume`; its number, or `None` when it was
    /// refused (the panel says why).
    pub fn draw(
        &mut self,
        volume: &Volume,
        kind: FindingKind,
        (plane, axes): (SlicePlane, PlaneAxes),
        points_lps: Vec<DVec3>,
    ) -> Option<u32> {
        let note = if kind == FindingKind::Arrow {
            self.note.trim().to_string()
        } else {
            String::new()
        };
        let id = self.list.next_id();
        self.keep(volume, id, kind, (plane, axes), points_lps, note)
            .then_some(id)
    }

    /// Moves or reshapes finding `id` to `points_lps`, measured again.
    pub fn redraw(&mut self, volume: &Volume, id: u32, points_lps: Vec<DVec3>) {
        let Some(finding) = self.list.get(id).map(|e| e.finding().clone()) else {
            return;
        };
        self.keep(
            volume,
            id,
            finding.kind,
            (finding.plane, finding.axes),
            points_lps,
            finding.note,
        );
    }

    /// Gives finding `id` a new note.
    pub fn renote(&mut self, volume: &Volume, id: u32, note: String) {
        let Some(finding) = self.list.get(id).map(|e| e.finding().clone()) else {
            return;
        };
        self.keep(
            volume,
            id,
            finding.kind,
            (finding.plane, finding.axes),
            finding.points_lps,
            note,
        );
    }

    /// Deletes finding `id`.
    pub fn delete(&mut self, id: u32) {
        self.list.remove(id);
        self.problem = None;
    }

    /// Measures and keeps a finding; whether it was taken.
    fn keep(
        &mut self,
        volume: &Volume,
        id: u32,
        kind: FindingKind,
        (plane, axes): (SlicePlane, PlaneAxes),
        points_lps: Vec<DVec3>,
        note: String,
    ) -> bool {
        let measured =
            Finding::on_axes(id, kind, plane, axes, points_lps, note).and_then(|finding| {
                let measurement = finding.measure(volume)?;
                Ok(MeasuredFinding {
                    finding,
                    measurement,
                })
            });
        match measured {
            Ok(measured) => {
                self.list.put(Entry::new(measured, String::new()));
                self.list.selected = Some(id);
                self.problem = None;
                true
            }
            Err(error) => {
                self.problem = Some(format!("{} not kept: {error}", kind.name()));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use hounsfield_findings::arteries::{Artery, NamedRegion};
    use hounsfield_findings::calcium::{DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
    use hounsfield_findings::report::{ImageRef, ReportedCalcium};

    use super::*;

    /// The phantom CT as a study's series of one stored image per slice.
    fn subject(volume: &Volume) -> ReportSubject {
        let images: Vec<ImageRef> = (0..volume.dims[2])
            .map(|k| ImageRef {
                sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
                sop_instance_uid: format!("2.25.3000{k}"),
                frame: None,
            })
            .collect();
        ReportSubject {
            patient_id: "PHANTOM-8".into(),
            study_uid: "2.25.3001".into(),
            series_uid: "2.25.3002".into(),
            frame_of_reference_uid: "2.25.3003".into(),
            modality: "CT".into(),
            slice_images: images.clone(),
            instances: images,
            ..ReportSubject::default()
        }
    }

    #[test]
    fn a_score_saved_is_read_back_when_the_series_opens_and_saved_again_until_scored_here() {
        let volume = render_core::phantom::ct_phantom();
        let subject = subject(&volume);
        let folder = tempfile::tempdir().expect("a folder");
        let keeping = Keeping::Folder(folder.path().to_path_buf());
        let whole = VoxelBox {
            from: [0; 3],
            to: volume.dims,
        };
        let lad = NamedRegion {
            artery: Artery::LeftAnteriorDescending,
            a: volume.centre_lps() - glam::DVec3::splat(500.0),
            b: volume.centre_lps() + glam::DVec3::new(0.0, 500.0, 500.0),
        };
        let scored = hounsfield_findings::scoring::calcium_report(
            &volume,
            "phantom",
            whole,
            DEFAULT_MG_PER_CM3_PER_HU,
            false,
            &[lad],
        )
        .expect("scored");
        assert!(scored.total.lesions > 0, "the phantom's calcium");
        let first = ReportedCalcium::Scored(Box::new(scored.clone()));
        store::save(&keeping, &subject, &volume, (&[], Some(&first)), None).expect("saved");

        // Opened again: the score is read back, and a save with none scored here holds it.
        let (opened, warning) = LocalFindings::open(Some(subject.clone()), Ok(keeping.clone()));
        assert_eq!(warning, None);
        let saved = opened
            .saved_calcium()
            .cloned()
            .expect("the score read back");
        assert_eq!(saved.total(), Some(&scored.total));
        // Its names, given to the first score here (`LocalCalcium::named_as`), name the
        // lesions as the report did.
        let named = hounsfield_findings::naming::NamedScore::score(
            &volume,
            "phantom",
            whole,
            (DEFAULT_MG_PER_CM3_PER_HU, false),
            saved.named_regions(),
            false,
        )
        .expect("scored again");
        assert!(
            scored
                .arteries
                .iter()
                .any(|artery| artery.scores.lesions > 0)
        );
        assert_eq!(named.report.arteries, scored.arteries);
        assert_eq!(named.report.lesions, scored.lesions);
        let again = opened.calcium_to_save(None);
        assert_eq!(again, Some(ReportedCalcium::Saved(saved.clone())));
        let kept = store::save(&keeping, &subject, &volume, (&[], again.as_ref()), None)
            .expect("saved again");
        let read = store::load(&keeping, &subject)
            .expect("readable")
            .expect("a report");
        assert_eq!(read.sop_instance_uid, kept.kept.sop_instance_uid);
        assert_eq!(read.calcium, Some(saved));
        // A score made here replaces it.
        assert_eq!(
            opened.calcium_to_save(Some(scored.clone())),
            Some(ReportedCalcium::Scored(Box::new(scored)))
        );
    }
}
