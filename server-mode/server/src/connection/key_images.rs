//! Key images and 3D snapshots: `key_image` marks the stored image a slice cell shows as a
//! Key Object Selection, `snapshot` stores the 3D view (from the next lossless final still)
//! as a Secondary Capture image; both where the study lives, answered `saved`, audited.

use std::ops::ControlFlow;
use std::sync::Arc;

use hounsfield_access::audit::AuditEvent;
use hounsfield_findings::report::{
    Authorship, ReportSubject, Snapshot, key_object_selection, secondary_capture, view_description,
};
use hounsfield_protocol::{ErrorCode, MAX_NOTE_CHARS, Saved, ServerMessage, SlicePlane};
use render_core::view::PlaneGeometry;
use render_core::view::layout::quad_cells;

use super::Connection;
use crate::findings::{StoreError, Stored};

/// A snapshot asked for and not taken yet.
#[derive(Debug, Clone)]
pub(super) struct SnapshotWanted {
    /// The radiologist's words for it.
    note: String,
    /// Whether final stills were lossless before (restored once it is taken).
    lossless_before: bool,
}

impl Connection {
    /// `key_image`: the image `cell`'s slice shows, marked in a Key Object Selection.
    pub(super) async fn key_image(&mut self, cell: &str, note: Option<String>) -> ControlFlow<()> {
        let Some((series, subject, note)) = self.document_subject("key_image", note).await? else {
            return ControlFlow::Continue(());
        };
        let Some(plane) = SlicePlane::from_name(cell) else {
            let why = format!(
                "key_image cell \"{}\": must be axial, coronal or sagittal",
                hounsfield_protocol::cut_with_mark(cell, 40)
            );
            return self.error(ErrorCode::BadValue, why).await;
        };
        let (Some(volume), Some(crosshair)) = (self.session.volume(), self.session.crosshair_lps())
        else {
            return self.error(ErrorCode::NotOpen, "open a series first").await;
        };
        if self
            .session
            .slice_frame()
            .is_some_and(|frame| frame.orientation(plane) != plane.orientation())
        {
            let why = format!(
                "key_image cell {cell}: its plane is turned, so its slice is no stored image (reset_planes first)"
            );
            return self.error(ErrorCode::BadValue, why).await;
        }
        // A series over time: the stored image of the volume shown.
        let shown = self.session.view().map_or(0, |view| view.time_point);
        let Some(image) = subject
            .of_volume(shown)
            .image_at(&volume, plane, crosshair)
            .cloned()
        else {
            let why = format!(
                "key_image cell {cell}: its slice is a reformat, not one of the series' stored images; mark a key image on the plane the series was acquired in"
            );
            return self.error(ErrorCode::BadValue, why).await;
        };
        let authorship = self.authorship();
        let store = self.app.findings_store.clone();
        let pacs = self.app.library.pacs_of(&series);
        let stored = tokio::task::spawn_blocking(move || {
            let document = key_object_selection(&subject, &[image], &note, &authorship)?;
            store.store_document(&subject, &document, pacs.as_ref())
        })
        .await;
        self.tell_stored(&series, "key object selection", with_no_findings(stored))
            .await
    }

    /// `snapshot`: asks for a lossless final still, from which [`Self::take_snapshot`]
    /// makes the image.
    pub(super) async fn ask_snapshot(&mut self, note: Option<String>) -> ControlFlow<()> {
        let Some((_, _, note)) = self.document_subject("snapshot", note).await? else {
            return ControlFlow::Continue(());
        };
        let lossless_before = self.session.lossless();
        if let Err(refusal) = self.session.still(true) {
            return self.error(refusal.code, refusal.message).await;
        }
        // A second ask before the still keeps the first one's setting to restore.
        let lossless_before = self
            .snapshot
            .as_ref()
            .map_or(lossless_before, |wanted| wanted.lossless_before);
        self.snapshot = Some(SnapshotWanted {
            note,
            lossless_before,
        });
        ControlFlow::Continue(())
    }

    /// Makes the snapshot asked for from a lossless final still's PNG: the 3D cell of the
    /// 2×2 layout, or the whole frame.
    pub(super) async fn take_snapshot(&mut self, png: &[u8]) -> ControlFlow<()> {
        let Some(wanted) = self.snapshot.take() else {
            return ControlFlow::Continue(());
        };
        self.session.set_lossless(wanted.lossless_before);
        let (Some(series), Some(view)) = (
            self.session.series().map(str::to_string),
            self.session.view().cloned(),
        ) else {
            return ControlFlow::Continue(());
        };
        let Some(subject) = self.app.library.report_subject(&series) else {
            return ControlFlow::Continue(());
        };
        let two_by_two = self.session.layout() == hounsfield_protocol::Layout::Quad;
        let description = view_description(&subject.series_uid, &view, &wanted.note);
        let authorship = self.authorship();
        let store = self.app.findings_store.clone();
        let pacs = self.app.library.pacs_of(&series);
        let png = png.to_vec();
        let stored = tokio::task::spawn_blocking(move || {
            let (width, height, rgb) = view_pixels(&png, two_by_two)?;
            let snapshot = Snapshot {
                width,
                height,
                rgb: &rgb,
                description: &description,
            };
            let image = secondary_capture(&subject, snapshot, &authorship)?;
            store.store_document(&subject, &image, pacs.as_ref())
        })
        .await;
        self.tell_stored(&series, "secondary capture", with_no_findings(stored))
            .await
    }

    /// The series open, its subject and the note checked, for a document of `what`; `None`
    /// when refused (the refusal sent).
    async fn document_subject(
        &mut self,
        what: &str,
        note: Option<String>,
    ) -> ControlFlow<(), Option<(String, Arc<ReportSubject>, String)>> {
        if !self.identity.role.opens_series() {
            self.forbidden(what, &format!("a viewer may not store a {what}"))
                .await?;
            return ControlFlow::Continue(None);
        }
        let Some(series) = self.session.series().map(str::to_string) else {
            self.error(ErrorCode::NotOpen, "open a series first (see list_studies)")
                .await?;
            return ControlFlow::Continue(None);
        };
        let note = note.unwrap_or_default();
        let chars = note.chars().count();
        if chars > MAX_NOTE_CHARS {
            let why = format!(
                "{what} note: {chars} characters is over the {MAX_NOTE_CHARS}-character limit"
            );
            self.error(ErrorCode::BadValue, why).await?;
            return ControlFlow::Continue(None);
        }
        let Some(subject) = self.app.library.report_subject(&series) else {
            let why =
                format!("{what}: series \"{series}\" belongs to no DICOM study to store it in");
            self.error(ErrorCode::Unavailable, why).await?;
            return ControlFlow::Continue(None);
        };
        ControlFlow::Continue(Some((series, subject, note)))
    }

    /// Who writes a document now, and when.
    pub(super) fn authorship(&self) -> Authorship {
        let now = chrono::Local::now();
        Authorship {
            observer: self
                .identity
                .name
                .clone()
                .unwrap_or_else(|| "Unknown".to_string()),
            date: now.format("%Y%m%d").to_string(),
            time: now.format("%H%M%S").to_string(),
            series_uid: None,
        }
    }

    /// Answers how storing a `document` of `series` went (what was stored and how many
    /// findings it holds): `saved`, audited, or the error.
    pub(super) async fn tell_stored(
        &mut self,
        series: &str,
        document: &str,
        stored: Result<Result<(Stored, usize), StoreError>, tokio::task::JoinError>,
    ) -> ControlFlow<()> {
        let (stored, findings) = match stored {
            Ok(Ok(stored)) => stored,
            Ok(Err(error)) => {
                tracing::warn!(series, ?error, document, "not stored");
                let why = format!("{document}: {}", error.told());
                return self.error(ErrorCode::Unavailable, why).await;
            }
            Err(error) => {
                tracing::error!(%error, document, "storing failed");
                let why = format!("{document} failed (the server log says why)");
                return self.error(ErrorCode::Internal, why).await;
            }
        };
        self.app.config.audit.record(&AuditEvent::FindingsSaved {
            session: self.slot.id(),
            client: self.client,
            user: self.identity.name.clone(),
            series: series.to_string(),
            patient_id: self.app.library.patient_id(series).unwrap_or_default(),
            sop_instance_uids: vec![stored.sop_instance_uid.clone()],
            stored_in: stored.stored_in.to_string(),
        });
        self.send(&ServerMessage::Saved(Saved {
            series: series.to_string(),
            document: document.to_string(),
            sop_instance_uid: stored.sop_instance_uid,
            findings,
            stored_in: stored.stored_in.to_string(),
            location: stored.location,
        }))
        .await
    }
}

/// The RGB pixels of the 3D view in a still's PNG: its top-left cell in the 2×2 layout.
fn view_pixels(
    png: &[u8],
    two_by_two: bool,
) -> Result<(u32, u32, Vec<u8>), hounsfield_findings::FindingError> {
    let frame = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|error| hounsfield_findings::FindingError::Encode(format!("the still: {error}")))?
        .to_rgb8();
    let (width, height) = frame.dimensions();
    let cell = if two_by_two {
        quad_cells([width, height])[0]
    } else {
        render_core::view::layout::Cell {
            x: 0,
            y: 0,
            width,
            height,
        }
    };
    let view =
        image::imageops::crop_imm(&frame, cell.x, cell.y, cell.width, cell.height).to_image();
    Ok((cell.width, cell.height, view.into_raw()))
}

/// A document that holds no findings (key images, a snapshot), as a report is answered.
fn with_no_findings(
    stored: Result<Result<Stored, StoreError>, tokio::task::JoinError>,
) -> Result<Result<(Stored, usize), StoreError>, tokio::task::JoinError> {
    stored.map(|stored| stored.map(|stored| (stored, 0)))
}
