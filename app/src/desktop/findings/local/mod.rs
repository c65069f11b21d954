//! The findings of a series rendered here: measured on the loaded volume with the
//! findings crate (the code a server measures with), read from the series' report in the
//! findings folder when it opens, and saved there.

use std::path::PathBuf;

use glam::DVec3;
use hounsfield_findings::folder::is_uid;
use hounsfield_findings::report::{MeasuredFinding, ReportSubject};
use hounsfield_findings::{Finding, FindingKind};
use hounsfield_protocol::SlicePlane;
use render_core::Volume;

use super::model::{Entry, FindingList};
use super::panel::{PanelState, SaveOffer};
use super::sketch::Sketch;
use super::store;

/// The findings of the series shown, and what drawing and saving them needs.
#[derive(Debug, Clone, Default)]
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
    /// The patient, study and series the findings are on (none for the built-in sample).
    subject: Option<ReportSubject>,
    /// The findings folder (none without a settings folder).
    folder: Option<PathBuf>,
    /// The report series of the last save or of the report read.
    report_series_uid: Option<String>,
}

impl LocalFindings {
    /// The findings of `subject`'s series kept in `folder`, with their stored numbers;
    /// a warning when the report there cannot be read.
    pub fn open(subject: Option<ReportSubject>, folder: Option<PathBuf>) -> (Self, Option<String>) {
        let mut findings = Self {
            subject,
            folder,
            ..Self::default()
        };
        let (Some(subject), Some(folder)) = (&findings.subject, &findings.folder) else {
            return (findings, None);
        };
        if !is_uid(&subject.study_uid) || !is_uid(&subject.series_uid) {
            return (findings, None);
        }
        match store::load(folder, subject) {
            Ok(Some(report)) => {
                let entries = report
                    .findings
                    .into_iter()
                    .map(|measured| Entry::new(measured, report.observer.clone()))
                    .collect();
                findings.list = FindingList::of(entries);
                findings.report_series_uid = Some(report.report_series_uid);
                (findings, None)
            }
            Ok(None) => (findings, None),
            Err(error) => (
                findings,
                Some(format!("the series' findings could not be read: {error}")),
            ),
        }
    }

    /// Draws a new finding of `kind` on `plane` through `points_lps`, measured on
    /// `volume`; its number, or `None` when it was refused (the panel says why).
    pub fn draw(
        &mut self,
        volume: &Volume,
        kind: FindingKind,
        plane: SlicePlane,
        points_lps: Vec<DVec3>,
    ) -> Option<u32> {
        let note = if kind == FindingKind::Arrow {
            self.note.trim().to_string()
        } else {
            String::new()
        };
        let id = self.list.next_id();
        self.keep(volume, id, kind, plane, points_lps, note)
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
            finding.plane,
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
            finding.plane,
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
        plane: SlicePlane,
        points_lps: Vec<DVec3>,
        note: String,
    ) -> bool {
        let measured = Finding::new(id, kind, plane, points_lps, note).and_then(|finding| {
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

    /// Whether the findings can be saved, and what the last save did.
    pub fn save_offer(&self) -> SaveOffer {
        SaveOffer {
            ready: self.where_to_save().map(|_| ()),
            waiting: false,
            last: self.last_save.clone(),
        }
    }

    /// The series and the folder a save writes to, or why there is none.
    fn where_to_save(&self) -> Result<(&ReportSubject, &PathBuf), String> {
        let subject = self.subject.as_ref().ok_or_else(|| {
            "the built-in sample belongs to no DICOM study to save findings in".to_string()
        })?;
        if !is_uid(&subject.study_uid) || !is_uid(&subject.series_uid) {
            return Err(
                "the series has no valid Study and Series Instance UIDs to file findings under"
                    .to_string(),
            );
        }
        let folder = self.folder.as_ref().ok_or_else(|| {
            "there is no settings folder to keep findings in (set HOUNSFIELD_SETTINGS)".to_string()
        })?;
        Ok((subject, folder))
    }

    /// Saves the findings (measured on `volume`) as the series' Measurement Report in the
    /// findings folder; the panel says where it went or why not.
    pub fn save(&mut self, volume: &Volume) {
        let saved = self.where_to_save().and_then(|(subject, folder)| {
            store::save(
                folder,
                subject,
                volume,
                &self.list.measured(),
                self.report_series_uid.clone(),
            )
            .map_err(|error| format!("findings not saved: {error}"))
        });
        self.last_save = Some(match saved {
            Ok(kept) => {
                tracing::info!(
                    "findings saved: {} to {}",
                    self.list.len(),
                    kept.path.display()
                );
                self.report_series_uid = Some(kept.report_series_uid);
                self.list.mark_saved();
                Ok(format!(
                    "Saved {} finding{} to {}",
                    self.list.len(),
                    if self.list.len() == 1 { "" } else { "s" },
                    kept.path.display()
                ))
            }
            Err(why) => Err(why),
        });
    }
}
