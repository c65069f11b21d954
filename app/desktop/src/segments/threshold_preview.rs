//! The threshold's preview on a series rendered here: while the panel's Preview is on, the
//! voxels within its range are laid over the slices in the selected segment's colour, made
//! again off the window's thread whenever the range changes (the server's threshold, as
//! `segment_preview` shows it to its clients). Nothing is edited.

use std::sync::Arc;

use eframe::egui;
use hounsfield_segment::{ValueInterval, threshold};
use hounsfield_server::compose::SegmentOverlay;
use render_core::Volume;

use crate::findings::pending::Pending;

/// The preview shown, and the one being made.
#[derive(Default)]
pub struct ThresholdPreview {
    /// The range shown and its voxels.
    shown: Option<([f64; 2], SegmentOverlay)>,
    /// The range being thresholded.
    making: Option<([f64; 2], Pending<hounsfield_segment::Mask>)>,
}

impl ThresholdPreview {
    /// Follows what the panel wants (`wanted`: the range while Preview is on) in `colour`;
    /// whether what the slices show changed.
    pub fn follow(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        wanted: Option<ValueInterval>,
        colour: [u8; 3],
    ) -> Result<bool, String> {
        let Some(interval) = wanted else {
            self.making = None;
            return Ok(self.shown.take().is_some());
        };
        let range = [interval.low, interval.high];
        let mut changed = false;
        if let Some((made_for, making)) = &self.making
            && let Some(answer) = making.answer()
        {
            let made_for = *made_for;
            self.making = None;
            let mask = answer?;
            self.shown = Some((made_for, SegmentOverlay::threshold_preview(mask, colour)));
            changed = true;
        }
        if let Some((shown_for, overlay)) = &mut self.shown
            && *shown_for == range
            && overlay.colour != colour
        {
            overlay.colour = colour;
            changed = true;
        }
        let current = self.shown.as_ref().is_some_and(|(r, _)| *r == range);
        if !current && self.making.is_none() {
            let volume = Arc::clone(volume);
            let making = Pending::start(ctx, "threshold-preview", move || {
                Ok(threshold(&volume, interval))
            })?;
            self.making = Some((range, making));
        }
        Ok(changed)
    }

    /// The preview to lay over the slices, if any.
    pub fn overlay(&self) -> Option<&SegmentOverlay> {
        self.shown.as_ref().map(|(_, overlay)| overlay)
    }
}
