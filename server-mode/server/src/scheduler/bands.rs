//! Slow stills drawn in bands while other sessions drag. Where a full-quality frame of the
//! 3D view takes long (a software adapter on a real CT: 450 ms and more), a still drawn
//! whole would hold every dragging session for that long; instead it is drawn a band of
//! rows per turn ([`BandedImage`]), each band about [`BAND_TAKES`], and the sessions in
//! between get their frames. The still is sent once its last band is drawn; a newer
//! request of its session replaces it, bands and all.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use render_core::Volume;
use render_core::gpu::{BAND_TAKES, BandedImage, FrameImage, RenderError, Renderer, bands_for};
use render_core::view::{Quality, ViewState};

use super::RenderRequest;
use hounsfield_protocol::Layout;

/// A still is drawn in bands only where a whole one takes longer than this.
const BAND_WHEN_FULL_TAKES: Duration = Duration::from_millis(90);

/// The stills being drawn in bands, at most one a session.
#[derive(Default)]
pub(super) struct BandedStills {
    stills: HashMap<u64, BandedStill>,
}

/// One session's still in bands, and what it is a picture of.
struct BandedStill {
    volume: Arc<Volume>,
    view: ViewState,
    size: [u32; 2],
    input_seq: u32,
    image: BandedImage,
}

impl BandedStill {
    fn is_of(&self, request: &RenderRequest) -> bool {
        Arc::ptr_eq(&self.volume, &request.volume)
            && self.input_seq == request.input_seq
            && self.size == request.size
            && self.view == request.view
    }
}

impl BandedStills {
    /// Whether `session`'s `request` is drawn in bands: a final still of the 3D view
    /// alone whose whole frame is slow here (the last took `full`), while others drag
    /// (`shared`); or one whose bands have begun.
    pub(super) fn wants(
        &self,
        session: u64,
        request: &RenderRequest,
        shared: bool,
        full: Option<Duration>,
    ) -> bool {
        if self
            .stills
            .get(&session)
            .is_some_and(|still| still.is_of(request))
        {
            return true;
        }
        shared
            && request.final_still
            && request.layout == Layout::Single
            && request.view.mpr.is_none()
            && request.view.quality == Quality::Full
            && full.is_some_and(|full| full > BAND_WHEN_FULL_TAKES)
    }

    /// Draws the next band of `session`'s `request` (beginning its still, or beginning
    /// again when the request is another than the one begun), or every band left when no
    /// other session drags any more (`shared` false); the image once complete, with the
    /// time all its bands took.
    pub(super) fn draw(
        &mut self,
        session: u64,
        request: &RenderRequest,
        shared: bool,
        renderer: &mut Renderer,
    ) -> Result<Option<(FrameImage, Duration)>, RenderError> {
        let begun = self
            .stills
            .get(&session)
            .is_some_and(|still| still.is_of(request));
        if !begun {
            let full = renderer.last_full_time().unwrap_or(BAND_TAKES);
            let bands = bands_for(full);
            let image = renderer.begin_banded(request.size, bands)?;
            self.stills.insert(
                session,
                BandedStill {
                    volume: request.volume.clone(),
                    view: request.view.clone(),
                    size: request.size,
                    input_seq: request.input_seq,
                    image,
                },
            );
        }
        let Some(still) = self.stills.get_mut(&session) else {
            return Ok(None);
        };
        let mut drawn = renderer.draw_band(&request.view, &mut still.image);
        while !shared && drawn.is_ok() && !still.image.is_complete() {
            drawn = renderer.draw_band(&request.view, &mut still.image);
        }
        if drawn.is_err() || still.image.is_complete() {
            let still = self.stills.remove(&session);
            drawn?;
            if let Some(still) = still {
                let image = renderer.read_banded(&request.view, &still.image)?;
                return Ok(Some((image, still.image.drawing_time())));
            }
        }
        Ok(None)
    }

    /// Lets go of the stills of sessions that are gone, or whose newer request replaced
    /// them (`current` says whether a session's still is still wanted).
    pub(super) fn retain(&mut self, mut current: impl FnMut(u64) -> bool) {
        self.stills.retain(|&session, _| current(session));
    }

    /// Stills begun and not finished.
    pub(super) fn len(&self) -> usize {
        self.stills.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(volume: &Arc<Volume>, seq: u32) -> RenderRequest {
        super::super::test_still(volume, [64, 48], seq)
    }

    #[test]
    fn a_still_is_drawn_in_bands_only_while_others_drag_and_whole_ones_are_slow() {
        let volume = Arc::new(render_core::phantom::ct_phantom());
        let bands = BandedStills::default();
        let request = still(&volume, 1);
        let slow = Some(BAND_WHEN_FULL_TAKES * 3);
        assert!(bands.wants(1, &request, true, slow));
        assert!(!bands.wants(1, &request, false, slow), "no one else drags");
        assert!(
            !bands.wants(1, &request, true, Some(BAND_WHEN_FULL_TAKES / 2)),
            "whole stills are quick here"
        );
        assert!(!bands.wants(1, &request, true, None), "none timed yet");
        let mut layout = still(&volume, 1);
        layout.layout = Layout::Quad;
        assert!(!bands.wants(1, &layout, true, slow), "the 2×2 layout");
        let mut moving = still(&volume, 1);
        moving.final_still = false;
        moving.view.quality = Quality::Interactive;
        assert!(!bands.wants(1, &moving, true, slow), "an interactive frame");
    }

    #[test]
    fn a_still_in_bands_is_sent_after_its_last_band_and_a_newer_one_begins_again() {
        let (mut renderer, volume) = render_core::gpu::testing::phantom_renderer();
        let request = still(&volume, 1);
        let whole = renderer
            .render_image(&request.view, request.size)
            .expect("a whole still");
        let mut bands = BandedStills::default();
        // Timed at BAND_WHEN_FULL_TAKES or less: two bands.
        let first = bands
            .draw(1, &request, true, &mut renderer)
            .expect("a band");
        assert!(first.is_none(), "one band of two");
        assert!(
            bands.wants(1, &request, false, None),
            "begun: goes on in bands"
        );
        // A newer request of the session begins again.
        let mut newer = still(&volume, 2);
        newer.view.camera.orbit(40.0, 0.0);
        assert!(!bands.wants(1, &newer, false, None));
        let begun = bands.draw(1, &newer, true, &mut renderer).expect("a band");
        assert!(begun.is_none(), "the newer still's first band");
        assert_eq!(bands.len(), 1, "one still a session");
        // No one else drags: the rest at once.
        let (image, drawing) = bands
            .draw(1, &newer, false, &mut renderer)
            .expect("the last bands")
            .expect("complete");
        assert!(drawing > Duration::ZERO);
        let expected = renderer
            .render_image(&newer.view, newer.size)
            .expect("a whole still");
        assert_eq!(image, expected, "the bands make the whole still");
        assert_ne!(image, whole, "of the newer view");
        assert_eq!(bands.len(), 0, "sent, let go");
        // A session gone: its still is let go.
        bands
            .draw(2, &request, true, &mut renderer)
            .expect("a band");
        bands.retain(|session| session != 2);
        assert_eq!(bands.len(), 0);
    }
}
