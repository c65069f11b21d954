//! A second series drawn over the slices of the series rendered here: picked in the
//! studies panel's row menu ("Draw over") or by `open --over SERIES`, loaded off the UI
//! thread, checked to be the same patient's and another series, and handed to the
//! workspace, whose slices draw it and whose bar restyles it.

use std::sync::Arc;

use eframe::egui;
use render_core::view::SeriesLink;

use super::{DesktopApp, State};
use crate::browser::OpenChoice;
use crate::loading::{Loaded, Loading, Poll};
use crate::over::LocalOver;
use crate::workspace::LocalWorkspace;
use hounsfield_findings::report::one_patient;
use hounsfield_workstation::source::OpenedVolume;

impl DesktopApp {
    /// Starts loading `choice` to draw over the series rendered here (a streamed view asks
    /// its server instead); one at a time.
    pub(super) fn open_over(&mut self, choice: OpenChoice, ctx: &egui::Context) {
        if !matches!(self.state, State::Local(_)) {
            self.note = Some(
                "a series is drawn over another here only when the first is rendered here"
                    .to_string(),
            );
            return;
        }
        if self.over_loading.is_some() {
            self.note = Some(
                "a series is still loading to draw over; pick the next one after it".to_string(),
            );
            return;
        }
        let ctx = ctx.clone();
        self.over_loading = Some(Loading::start(
            Some(choice.path),
            choice.series,
            None,
            move || ctx.request_repaint(),
        ));
    }

    /// Hands a finished load to the series rendered here to draw over its slices, or says
    /// why not in the warnings.
    pub(super) fn poll_over(&mut self) {
        let Some(loading) = &self.over_loading else {
            return;
        };
        let Poll::Done(result) = loading.poll() else {
            return;
        };
        self.over_loading = None;
        let State::Local(first) = &mut self.state else {
            self.warnings.push(
                "the series to draw over was dropped: the first is no longer rendered here"
                    .to_string(),
            );
            return;
        };
        let opened = match result {
            Ok(loaded) => {
                let Loaded { opened, .. } = *loaded;
                opened
            }
            Err(error) => {
                self.warnings
                    .push(format!("the series to draw over did not open: {error}"));
                return;
            }
        };
        match over_of(first, opened) {
            Ok(over) => {
                tracing::info!(series = %over.label, link = ?over.drawn.link, "series drawn over");
                first.over = Some(over);
            }
            Err(why) => self.warnings.push(why),
        }
    }
}

/// `opened` as drawn over `first`'s slices: refused when it is `first`'s own series or
/// another patient's (neither in `first`'s study nor of its PatientID), as a server
/// refuses it. A series over time is drawn from its first volume.
fn over_of(first: &LocalWorkspace, opened: OpenedVolume) -> Result<LocalOver, String> {
    // The overlay's series line ("Se 1903 · MR · …"), else its id and modality.
    let label = opened
        .overlay
        .last()
        .filter(|line| line.starts_with("Se "))
        .cloned()
        .unwrap_or_else(|| format!("{} ({})", opened.label, opened.volume.modality.code()));
    if let (Some(shown), Some(over)) = (first.findings.subject(), opened.subject.as_ref()) {
        if !shown.series_uid.is_empty() && shown.series_uid == over.series_uid {
            return Err(format!(
                "series {} is the series shown: pick another to draw over it",
                opened.label
            ));
        }
        if !one_patient(
            (&shown.study_uid, &shown.patient_id),
            (&over.study_uid, &over.patient_id),
        ) {
            return Err(format!(
                "series {} is not drawn over: it is of another patient (PatientID {:?}, the series shown {:?})",
                opened.label, over.patient_id, shown.patient_id
            ));
        }
    }
    let first_volume = first
        .renderer()
        .volume()
        .cloned()
        .ok_or_else(|| "no series is rendered here to draw over".to_string())?;
    let volume = Arc::new(opened.volume);
    let link = SeriesLink::between(
        first.findings.frame_of_reference(),
        opened
            .subject
            .as_ref()
            .map(|subject| subject.frame_of_reference_uid.as_str()),
        &first_volume,
        &volume,
    );
    Ok(LocalOver::new(label, volume, link, opened.suv_factor))
}
