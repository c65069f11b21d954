//! A movie of a volume written to an MP4 file: frames drawn one by one in the layout and
//! motion asked for, encoded with FFmpeg's H.264 as they come (`hounsfield movie`, the
//! desktop's movie export, the movie benchmark).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_server::compose::render_layout;
use hounsfield_server::movie::MovieFrames;
use hounsfield_video::MovieWriter;
use render_core::gpu::{CinematicSettings, Renderer};
use render_core::view::Layout;

/// A movie's frames, size and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// How many frames.
    pub frames: u32,
    /// Their size in pixels (even sides).
    pub size: [u32; 2],
    /// Frames a second it plays at.
    pub fps: u32,
    /// Its 3D frames path traced so (`movie --cinematic`); ray cast when `None`. A frame
    /// of a slice or of the 2×2 layout (a recording's) is drawn as ever.
    pub cinematic: Option<CinematicSettings>,
}

/// Where a movie's time went.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieTimes {
    /// FFmpeg's H.264 encoder that wrote it.
    pub encoder: String,
    /// Drawing its frames.
    pub rendering: Duration,
    /// Encoding and writing them.
    pub encoding: Duration,
    /// Its frames.
    pub frames: u32,
}

impl MovieTimes {
    /// Milliseconds drawing a frame.
    pub fn render_ms_per_frame(&self) -> f64 {
        self.rendering.as_secs_f64() * 1000.0 / f64::from(self.frames.max(1))
    }

    /// Milliseconds encoding and writing a frame.
    pub fn encode_ms_per_frame(&self) -> f64 {
        self.encoding.as_secs_f64() * 1000.0 / f64::from(self.frames.max(1))
    }
}

/// Draws `shape.frames` of `frames` with `renderer` and writes them to `out` (an MP4);
/// `going_on` hears each frame done and stops the movie (an error) when it answers false.
pub fn write_movie(
    renderer: &mut Renderer,
    frames: &mut MovieFrames,
    shape: Shape,
    out: &Path,
    mut going_on: impl FnMut(u32) -> bool,
) -> anyhow::Result<MovieTimes> {
    let [width, height] = shape.size;
    let mut movie = MovieWriter::create(out, width, height, shape.fps)
        .with_context(|| format!("writing {}", out.display()))?;
    let (mut rendering, mut encoding) = (Duration::ZERO, Duration::ZERO);
    for n in 0..shape.frames {
        let at = Instant::now();
        let request = frames
            .request(n, shape.frames)
            .map_err(anyhow::Error::msg)?;
        let frame = match shape.cinematic {
            Some(settings) if request.layout == Layout::Single && request.view.mpr.is_none() => {
                renderer.render_cinematic(&request.view, request.size, settings)?
            }
            _ => render_layout(
                renderer,
                &request.volume,
                &request.view,
                request.layout,
                request.crosshair_lps,
                request.size,
                None,
                (request.over.as_ref(), &request.segments),
            )?,
        };
        rendering += at.elapsed();
        let at = Instant::now();
        movie
            .push(&frame.rgba, frame.width, frame.height)
            .with_context(|| format!("writing {}", out.display()))?;
        encoding += at.elapsed();
        if !going_on(n + 1) {
            anyhow::bail!("stopped after {} of {} frames", n + 1, shape.frames);
        }
    }
    let encoder = movie.encoder_name().to_string();
    let at = Instant::now();
    movie
        .finish()
        .with_context(|| format!("writing {}", out.display()))?;
    encoding += at.elapsed();
    Ok(MovieTimes {
        encoder,
        rendering,
        encoding,
        frames: shape.frames,
    })
}
