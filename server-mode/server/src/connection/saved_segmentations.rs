//! Saved Segmentations in a connection: `segmentations` lists the DICOM Segmentations
//! saved on the open series where its study lives (its PACS, or the findings folder),
//! newest first; `load_segmentation` adds the segments of one of them to the series' own,
//! read onto its grid and measured. A session may name only what it was listed last; a
//! viewer may list, not load. The other participants of a shared session are told each
//! segment added, as any edit.

use std::ops::ControlFlow;

use hounsfield_dicomweb::KeptSegmentation;
use hounsfield_protocol::{ErrorCode, SavedSegmentation, SegmentNumbers, ServerMessage};
use hounsfield_segment::Segment;

use super::Connection;
use super::segments::unit;
use crate::segments::series_numbers;

/// A Segmentation as `segmentations` lists it.
fn saved_of(kept: &KeptSegmentation) -> SavedSegmentation {
    let header = &kept.header;
    SavedSegmentation {
        sop_instance_uid: header.sop_instance_uid.clone(),
        written: header.written.clone(),
        content_label: header.content_label.clone(),
        segments: header.segment_labels.clone(),
        stored_in: match kept.place {
            hounsfield_dicomweb::Place::Pacs { .. } => "pacs",
            hounsfield_dicomweb::Place::Folder { .. } => "findings folder",
        }
        .to_string(),
    }
}

impl Connection {
    /// `segmentations`: the Segmentations saved on the open series.
    pub(super) async fn list_segmentations(&mut self) -> ControlFlow<()> {
        let Some(series) = self.session.series().map(str::to_string) else {
            return self
                .error(ErrorCode::NotOpen, "open a series first (see list_studies)")
                .await;
        };
        let kept = match self.app.library.report_subject(&series) {
            // The built-in phantom belongs to no study: nothing was saved on it.
            None => Vec::new(),
            Some(subject) => {
                let store = self.app.findings_store.clone();
                let pacs = self.app.library.pacs_of(&series);
                let listed = tokio::task::spawn_blocking(move || {
                    store.segmentations_of(&subject, pacs.as_ref())
                })
                .await;
                match listed {
                    Ok(Ok(kept)) => kept,
                    Ok(Err(error)) => {
                        tracing::warn!(series, ?error, "segmentations not listed");
                        let why = format!("segmentations: {}", error.told());
                        return self.error(ErrorCode::Unavailable, why).await;
                    }
                    Err(error) => {
                        tracing::error!(%error, "listing segmentations failed");
                        let why = "segmentations failed (the server log says why)";
                        return self.error(ErrorCode::Internal, why).await;
                    }
                }
            }
        };
        let saved = kept.iter().map(saved_of).collect();
        self.listed_segmentations = kept;
        self.send(&ServerMessage::Segmentations { series, saved })
            .await
    }

    /// `load_segmentation`: adds the segments of a Segmentation listed last to the open
    /// series' own (a `segment` for each, then `segments`).
    pub(super) async fn load_segmentation(&mut self, sop_instance_uid: &str) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("load_segmentation").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let Some(kept) = self
            .listed_segmentations
            .iter()
            .find(|kept| kept.header.sop_instance_uid == sop_instance_uid)
            .cloned()
        else {
            let named: String = sop_instance_uid.chars().take(64).collect();
            let why = format!(
                "load_segmentation sop_instance_uid: {named} is not among the segmentations listed last (send segmentations first)"
            );
            return self.error(ErrorCode::BadValue, why).await;
        };
        let store = self.app.findings_store.clone();
        let pacs = self.app.library.pacs_of(&series);
        let unit = unit(&volume).to_string();
        let shown_series = self.shown_series(&volume);
        let read = tokio::task::spawn_blocking(move || {
            let read = store
                .read_segmentation(&kept, &volume, pacs.as_ref())
                .map_err(|error| error.to_string())?;
            read.segments
                .into_iter()
                .map(|segment| {
                    let measures = hounsfield_segment::measure(&volume, &segment.mask)
                        .map_err(|error| error.to_string())?;
                    let numbers =
                        series_numbers(&measures, &segment.mask, &volume, &shown_series, &unit);
                    Ok((segment, numbers))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await;
        let loaded = match read {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(error)) => {
                tracing::warn!(%series, sop_instance_uid, %error, "segmentation not read");
                let why = format!(
                    "load_segmentation: the Segmentation {sop_instance_uid} could not be read onto the series (the server log says why)"
                );
                return self.error(ErrorCode::Unavailable, why).await;
            }
            Err(error) => {
                tracing::error!(%error, "reading a segmentation failed");
                let why = "load_segmentation failed (the server log says why)";
                return self.error(ErrorCode::Internal, why).await;
            }
        };
        self.add_segments(&series, loaded).await
    }

    /// Adds `segments` (read from a Segmentation, or made by the model) to `series` as
    /// they are, each told as `segment` (and to the other participants) as it lands, up to
    /// the series' room (then `too_large`); then `segments`.
    pub(super) async fn add_segments(
        &mut self,
        series: &str,
        segments: Vec<(Segment, SegmentNumbers)>,
    ) -> ControlFlow<()> {
        let author = self.identity.name.clone().unwrap_or_default();
        for (segment, numbers) in segments {
            let added = self
                .app
                .segments
                .add(series, segment, numbers, &author)
                .map(|info| ServerMessage::Segment(Box::new(info)));
            let full = added.is_err();
            if self.answer_segment(added).await.is_break() {
                return ControlFlow::Break(());
            }
            if full {
                break;
            }
        }
        self.tell_segments(series).await
    }
}
