//! The documents a reading here leaves in the study: the findings saved as the series'
//! Measurement Report, key images of the slices shown (a Key Object Selection of the stored
//! image a slice cell shows) and snapshots of the 3D view (a Secondary Capture of the
//! rendered pixels). Each is made and kept off the UI thread where the series keeps its
//! findings; the panel says where it went, or why not.

use std::sync::Arc;

use eframe::egui;
use glam::DVec3;
use hounsfield_findings::folder::is_uid;
use hounsfield_findings::report::{ReportSubject, ReportedCalcium, Snapshot, view_description};
use hounsfield_protocol::SlicePlane;
use render_core::Volume;
use render_core::gpu::FrameImage;
use render_core::view::ViewState;

use super::LocalFindings;
use crate::findings::asked::SaveOffer;
use crate::findings::pending::Pending;
use crate::findings::store::{self, Keeping, place_text};

/// What a save kept, for the next save and the panel.
#[derive(Debug)]
pub(super) struct Saved {
    /// The report's series: the next save of the series joins it.
    report_series_uid: String,
    /// The panel's line.
    said: String,
}

impl LocalFindings {
    /// The series and where its findings go, or why they cannot be kept.
    pub fn where_to_keep(&self) -> Result<(&ReportSubject, &Keeping), String> {
        let subject = self.subject.as_ref().ok_or_else(|| {
            "the built-in sample belongs to no DICOM study to save findings in".to_string()
        })?;
        if !is_uid(&subject.study_uid) || !is_uid(&subject.series_uid) {
            return Err(
                "the series has no valid Study and Series Instance UIDs to file findings under"
                    .to_string(),
            );
        }
        let keeping = self.keeping.as_ref().map_err(Clone::clone)?;
        Ok((subject, keeping))
    }

    /// Whether the findings can be saved, and what the last save did.
    pub fn save_offer(&self) -> SaveOffer {
        SaveOffer {
            ready: self.where_to_keep().map(|_| ()),
            waiting: self.saving.is_some(),
            last: self.last_save.clone(),
        }
    }

    /// Whether key images and snapshots can be kept, and what the last one did.
    pub fn document_offer(&self) -> SaveOffer {
        SaveOffer {
            ready: self.where_to_keep().map(|_| ()),
            waiting: self.storing.is_some(),
            last: self.last_document.clone(),
        }
    }

    /// Takes the answers of the saves, key images and snapshots kept off the UI thread.
    pub fn take_answers(&mut self) {
        if let Some(answer) = self.saving.as_ref().and_then(Pending::answer) {
            self.saving = None;
            self.last_save = Some(answer.map(|saved| {
                self.report_series_uid = Some(saved.report_series_uid);
                self.list.mark_saved();
                saved.said
            }));
        }
        if let Some(answer) = self.storing.as_ref().and_then(Pending::answer) {
            self.storing = None;
            self.last_document = Some(answer);
        }
    }

    /// Saves the findings (measured on `volume`), with the series' `calcium` score (none
    /// scored here: the one its last report held), as the series' Measurement Report
    /// where the series keeps them; [`Self::take_answers`] takes where it went.
    pub fn save(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        calcium: Option<hounsfield_protocol::CalciumReport>,
    ) {
        if self.saving.is_some() {
            return;
        }
        let (subject, keeping) = match self.where_to_keep() {
            Ok((subject, keeping)) => (subject.clone(), keeping.clone()),
            Err(why) => {
                self.last_save = Some(Err(why));
                return;
            }
        };
        let calcium = self.calcium_to_save(calcium);
        let findings = self.list.measured();
        let count = self.list.len();
        let report_series_uid = self.report_series_uid.clone();
        let volume = Arc::clone(volume);
        let started = Pending::start(ctx, "findings-save", move || {
            let measured = (findings.as_slice(), calcium.as_ref());
            let kept = store::save(&keeping, &subject, &volume, measured, report_series_uid)
                .map_err(|error| format!("findings not saved: {error}"))?;
            let place = place_text(&kept.kept.place);
            tracing::info!("findings saved: {count} to {place}");
            Ok(Saved {
                report_series_uid: kept.report_series_uid,
                said: format!(
                    "Saved {count} finding{} to {place}",
                    if count == 1 { "" } else { "s" },
                ),
            })
        });
        match started {
            Ok(pending) => {
                self.saving = Some(pending);
                self.last_save = None;
            }
            Err(why) => self.last_save = Some(Err(why)),
        }
    }

    /// The calcium score a report saved now holds: the one `scored` here, else the one
    /// the series' last report held.
    pub(super) fn calcium_to_save(
        &self,
        scored: Option<hounsfield_protocol::CalciumReport>,
    ) -> Option<ReportedCalcium> {
        match scored {
            Some(scored) => Some(ReportedCalcium::Scored(Box::new(scored))),
            None => self.saved_calcium().cloned().map(ReportedCalcium::Saved),
        }
    }

    /// Keeps the stored image that `plane`'s slice through `crosshair_lps` shows as a key
    /// image described by `note`; a reformat (a plane across the acquired one) is refused.
    pub fn key_image(
        &mut self,
        ctx: &egui::Context,
        volume: &Volume,
        plane: SlicePlane,
        crosshair_lps: DVec3,
        note: String,
    ) {
        let kept = self.where_to_keep().and_then(|(subject, keeping)| {
            let image = subject
                .image_at(volume, plane, crosshair_lps)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the {} slice is a reformat, not one of the series' stored images: mark a key image on the plane the series was acquired in",
                        plane.name()
                    )
                })?;
            Ok((subject.clone(), keeping.clone(), image))
        });
        let (subject, keeping, image) = match kept {
            Ok(kept) => kept,
            Err(why) => {
                self.last_document = Some(Err(format!("key image not kept: {why}")));
                return;
            }
        };
        self.store(ctx, "key-image", move || {
            let kept = store::key_image(&keeping, &subject, image, &note)
                .map_err(|error| format!("key image not kept: {error}"))?;
            Ok(format!(
                "Key image of the {} slice saved to {}",
                plane.name(),
                place_text(&kept.place)
            ))
        });
    }

    /// Keeps `frame`, the 3D view as `view` drew it, as a snapshot described by `note`.
    pub fn snapshot(
        &mut self,
        ctx: &egui::Context,
        frame: FrameImage,
        view: &ViewState,
        note: &str,
    ) {
        let (subject, keeping) = match self.where_to_keep() {
            Ok((subject, keeping)) => (subject.clone(), keeping.clone()),
            Err(why) => {
                self.last_document = Some(Err(format!("snapshot not kept: {why}")));
                return;
            }
        };
        let description = view_description(&subject.series_uid, view, note);
        self.store(ctx, "snapshot", move || {
            let rgb: Vec<u8> = frame
                .rgba
                .chunks_exact(4)
                .flat_map(|pixel| [pixel[0], pixel[1], pixel[2]])
                .collect();
            let snapshot = Snapshot {
                width: frame.width,
                height: frame.height,
                rgb: &rgb,
                description: &description,
            };
            let kept = store::snapshot(&keeping, &subject, snapshot)
                .map_err(|error| format!("snapshot not kept: {error}"))?;
            Ok(format!(
                "Snapshot of the 3D view ({}×{}) saved to {}",
                frame.width,
                frame.height,
                place_text(&kept.place)
            ))
        });
    }

    /// Keeps a document with `work` on a thread called `name`, unless one is under way.
    fn store(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce() -> Result<String, String> + Send + 'static,
    ) {
        if self.storing.is_some() {
            return;
        }
        match Pending::start(ctx, name, work) {
            Ok(pending) => {
                self.storing = Some(pending);
                self.last_document = None;
            }
            Err(why) => self.last_document = Some(Err(why)),
        }
    }
}
