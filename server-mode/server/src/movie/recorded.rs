//! A recording's frames for a movie: the recording's views replayed through a session as
//! the server plays them (its layout, crosshair, slabs and turned planes too), each frame
//! the final still of the view at its time.

use std::time::Instant;

use hounsfield_protocol::Viewport;
use render_core::transfer::PresetLibrary;

use crate::recording::Recording;
use crate::scheduler::RenderRequest;
use crate::series_volumes::SeriesVolumes;
use crate::session::{Session, SessionLimits};

/// A recording's views, shown by a session of its own at the movie's size.
pub(super) struct RecordedViews {
    recording: Recording,
    session: Session,
}

impl RecordedViews {
    /// `recording` over `volumes` (its series', opened as `series`) at `size`.
    pub(super) fn new(
        recording: Recording,
        presets: PresetLibrary,
        series: &str,
        volumes: SeriesVolumes,
        size: [u32; 2],
    ) -> Self {
        let viewport = Viewport {
            width: size[0],
            height: size[1],
        };
        let mut session = Session::new(SessionLimits::default(), presets, viewport);
        session.open(series, volumes);
        Self { recording, session }
    }

    /// The request for frame `n` of `frames`, spread evenly from the recording's start to
    /// its end: the view recorded at its time, as the session's final still draws it.
    pub(super) fn request(&mut self, n: u32, frames: u32) -> Result<RenderRequest, String> {
        let share = if frames > 1 {
            f64::from(n) / f64::from(frames - 1)
        } else {
            1.0
        };
        let at_ms = self.recording.duration_ms() as f64 * share;
        let now = Instant::now();
        self.session
            .follow(self.recording.view_at(at_ms), now)
            .map_err(|refusal| {
                format!("the recording's view at {at_ms:.0} ms: {}", refusal.message)
            })?;
        self.session
            .still(true)
            .map_err(|refusal| refusal.message)?;
        self.session
            .next_request(now)
            .ok_or_else(|| format!("no frame due at {at_ms:.0} ms"))
    }
}
