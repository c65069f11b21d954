//! `segment_preview`: the voxels a threshold would take, laid over this session's slice
//! cells in the colour of the segment it would edit, while the reader moves the range;
//! nothing is edited and no one else sees it. The threshold runs in the measuring lane,
//! held to the session's share as the tools are.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_protocol::{ErrorCode, SegmentPreview};
use hounsfield_segment::segment::SEGMENT_COLOURS;
use hounsfield_segment::{ValueInterval, threshold};

use super::Connection;
use crate::compose::SegmentOverlay;

impl Connection {
    /// `segment_preview`: shows (with a range) or takes away the threshold's preview.
    pub(super) async fn segment_preview(&mut self, preview: SegmentPreview) -> ControlFlow<()> {
        let (series, volume) = match self.open_series().await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let interval = match (preview.low, preview.high) {
            (None, None) => {
                self.session.show_threshold_preview(None);
                return ControlFlow::Continue(());
            }
            (Some(low), Some(high)) => match ValueInterval::new(low, high) {
                Ok(interval) => interval,
                Err(error) => {
                    let why = format!("segment_preview: {error}");
                    return self.error(ErrorCode::BadValue, why).await;
                }
            },
            _ => {
                let why = "segment_preview: give low and high (the range), or neither (no preview)";
                return self.error(ErrorCode::BadValue, why).await;
            }
        };
        let colour = preview
            .id
            .and_then(|id| {
                self.app
                    .segments
                    .told(&series)
                    .into_iter()
                    .find(|info| info.id == id)
            })
            .map_or(SEGMENT_COLOURS[0], |info| info.colour);
        if let Some(refused) = self.refuse_while_share_spent("segment_preview").await {
            return refused;
        }
        let previewed = self
            .app
            .measuring
            .run(move || threshold(&volume, interval))
            .await;
        match previewed {
            Ok((mask, took)) => {
                self.measuring.charge(took, Instant::now());
                self.session
                    .show_threshold_preview(Some(SegmentOverlay::threshold_preview(mask, colour)));
                ControlFlow::Continue(())
            }
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }
}
