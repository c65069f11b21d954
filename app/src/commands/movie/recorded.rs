//! A recording's frames for a movie: the recording's views replayed through a session as
//! the server plays them (its layout, crosshair, slabs and turned planes too), each frame
//! the final still of the view at its time.

use std::sync::Arc;
use std::time::Instant;

use hounsfield_protocol::Viewport;
use hounsfield_server::compose::render_layout;
use hounsfield_server::recording::Recording;
use hounsfield_server::session::{Session, SessionLimits};
use render_core::Volume;
use render_core::gpu::{FrameImage, Renderer};

/// A recording's views, shown by a session of its own at the movie's size.
pub struct RecordedViews {
    recording: Recording,
    session: Session,
}

impl RecordedViews {
    /// `recording` over `volume` (its series, opened as `series`) at `size`.
    pub fn new(
        recording: Recording,
        renderer: &Renderer,
        series: &str,
        volume: Arc<Volume>,
        size: [u32; 2],
    ) -> Self {
        let viewport = Viewport {
            width: size[0],
            height: size[1],
        };
        let mut session = Session::new(
            SessionLimits::default(),
            renderer.presets().clone(),
            viewport,
        );
        session.open(series, volume);
        Self { recording, session }
    }

    /// Frame `n` of `frames`, spread evenly from the recording's start to its end: the
    /// view recorded at its time, as the session's final still draws it.
    pub fn render(
        &mut self,
        renderer: &mut Renderer,
        n: u32,
        frames: u32,
    ) -> anyhow::Result<FrameImage> {
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
                anyhow::anyhow!("the recording's view at {at_ms:.0} ms: {}", refusal.message)
            })?;
        self.session
            .still(false)
            .map_err(|refusal| anyhow::anyhow!("{}", refusal.message))?;
        let request = self
            .session
            .next_request(now)
            .ok_or_else(|| anyhow::anyhow!("no frame due at {at_ms:.0} ms"))?;
        Ok(render_layout(
            renderer,
            &request.volume,
            &request.view,
            request.layout,
            request.crosshair_lps,
            request.size,
            None,
        )?)
    }
}
