//! `hounsfield movie`: a series rendered frame by frame into an MP4 (H.264) that standard
//! players open: an orbit of the camera about the patient's vertical axis from the
//! anterior view (its first frame is what `render` draws with the same arguments), a
//! sweep of a standard slice from one end of the volume to the other, or a session
//! recording played ([`recorded`]).

mod recorded;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use glam::DVec3;
use hounsfield_video::MovieWriter;
use render_core::camera::NamedView;
use render_core::gpu::Renderer;
use render_core::view::{MprOrientation, MprPlane, ViewState};
use render_core::{Volume, Window};
use serde::Serialize;

use super::render::{new_renderer, preset_and_mode};
use crate::cli::MovieArgs;
use crate::source;
use recorded::RecordedViews;

/// Most frames one movie takes: a minute at 60 frames a second.
pub const MAX_MOVIE_FRAMES: u32 = 3600;
/// Most pixels a movie frame has (4096 × 4096, as a snapshot).
pub const MAX_MOVIE_PIXELS: u64 = 4096 * 4096;

/// What the camera or the slice does over the movie.
#[derive(Debug, Clone, PartialEq)]
pub enum Motion {
    /// The camera turns this many degrees about the patient's vertical axis, from the
    /// anterior view.
    Orbit {
        /// Degrees over the whole movie (360: a full turn, the last frame a step short).
        degrees: f64,
    },
    /// A standard slice steps from one end of the volume to the other along its normal.
    Sweep {
        /// The slice's plane.
        orientation: MprOrientation,
    },
    /// A session recording's views, from its start to its end.
    Recording(Box<hounsfield_server::recording::Recording>),
}

/// What `movie --json` prints.
#[derive(Debug, Serialize)]
struct Written {
    out: String,
    frames: u32,
    width: u32,
    height: u32,
    fps: u32,
    encoder: String,
    source: String,
    adapter: String,
    render_ms_per_frame: f64,
    encode_ms_per_frame: f64,
    seconds: f64,
}

/// Renders the movie `args` describe and writes it to `args.out`.
pub fn run(args: &MovieArgs) -> anyhow::Result<()> {
    let motion = motion_of(args)?;
    let [width, height] = args.size;
    if width % 2 == 1 || height % 2 == 1 {
        anyhow::bail!("--size {width}x{height}: H.264 takes even sides");
    }
    if u64::from(width) * u64::from(height) > MAX_MOVIE_PIXELS {
        anyhow::bail!("--size {width}x{height}: at most {MAX_MOVIE_PIXELS} pixels a frame");
    }
    if !(1..=MAX_MOVIE_FRAMES).contains(&args.frames) {
        anyhow::bail!("--frames {}: from 1 to {MAX_MOVIE_FRAMES}", args.frames);
    }
    let series = match &motion {
        Motion::Recording(recording) => args
            .series
            .clone()
            .or_else(|| Some(recording.header.series.clone())),
        _ => args.series.clone(),
    };
    let opened = source::open_volume(args.path.as_deref(), series.as_deref())?;
    for warning in &opened.warnings {
        eprintln!("warning: {warning}");
    }
    let volume = Arc::new(opened.volume);
    let mut renderer = new_renderer()?;
    let base = base_view(&renderer, &volume, args)?;
    for warning in renderer.load_volume(Arc::clone(&volume)) {
        eprintln!("warning: {warning}");
    }
    let started = Instant::now();
    let mut movie = MovieWriter::create(&args.out, width, height, args.fps)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let (mut rendering, mut encoding) = (Duration::ZERO, Duration::ZERO);
    let mut recorded = match &motion {
        Motion::Recording(recording) => Some(RecordedViews::new(
            recording.as_ref().clone(),
            &renderer,
            series.as_deref().unwrap_or_default(),
            Arc::clone(&volume),
            args.size,
        )),
        _ => None,
    };
    for n in 0..args.frames {
        let at = Instant::now();
        let frame = match &mut recorded {
            Some(recorded) => recorded.render(&mut renderer, n, args.frames)?,
            None => {
                let view = frame_view(&base, &volume, &motion, n, args.frames);
                renderer.render_image(&view, args.size)?
            }
        };
        rendering += at.elapsed();
        let at = Instant::now();
        movie
            .push(&frame.rgba, frame.width, frame.height)
            .with_context(|| format!("writing {}", args.out.display()))?;
        encoding += at.elapsed();
    }
    let encoder = movie.encoder_name().to_string();
    let at = Instant::now();
    movie
        .finish()
        .with_context(|| format!("writing {}", args.out.display()))?;
    encoding += at.elapsed();
    let adapter = renderer.context().capabilities.adapter.to_string();
    let per_frame = |total: Duration| total.as_secs_f64() * 1000.0 / f64::from(args.frames);
    if args.json {
        let written = Written {
            out: args.out.display().to_string(),
            frames: args.frames,
            width,
            height,
            fps: args.fps,
            encoder,
            source: opened.label.clone(),
            adapter,
            render_ms_per_frame: per_frame(rendering),
            encode_ms_per_frame: per_frame(encoding),
            seconds: started.elapsed().as_secs_f64(),
        };
        println!("{}", serde_json::to_string_pretty(&written)?);
        return Ok(());
    }
    println!(
        "{}: {} frames of {width}×{height} at {} a second ({encoder}) from {} on {adapter}",
        args.out.display(),
        args.frames,
        args.fps,
        opened.label,
    );
    Ok(())
}

/// The motion the command line asks for (clap lets exactly one through).
fn motion_of(args: &MovieArgs) -> anyhow::Result<Motion> {
    if let Some(path) = &args.recording {
        let recording = hounsfield_server::recording::store::read_file(path)
            .map_err(|error| anyhow::anyhow!("--recording {}: {error}", path.display()))?;
        return Ok(Motion::Recording(Box::new(recording)));
    }
    match (&args.orbit, &args.sweep) {
        (Some(degrees), None) => {
            if !degrees.is_finite() || degrees.abs() > 3600.0 {
                anyhow::bail!("--orbit {degrees}: degrees within ±3600");
            }
            Ok(Motion::Orbit { degrees: *degrees })
        }
        (None, Some(name)) => {
            let orientation = MprOrientation::from_name(name)
                .filter(|o| !matches!(o, MprOrientation::Oblique { .. }))
                .ok_or_else(|| anyhow::anyhow!("--sweep {name}: axial, coronal or sagittal"))?;
            Ok(Motion::Sweep { orientation })
        }
        _ => anyhow::bail!("one of --orbit DEG, --sweep PLANE or --recording FILE"),
    }
}

/// The first frame's view: the anterior view with the preset, mode and window asked for,
/// as `render` builds it from the same arguments.
fn base_view(renderer: &Renderer, volume: &Volume, args: &MovieArgs) -> anyhow::Result<ViewState> {
    let (preset, mode) = preset_and_mode(
        renderer,
        volume,
        args.preset.as_deref(),
        args.mode.as_deref(),
    )?;
    let mut view = ViewState::initial(volume, &preset, mode);
    view.camera.set_view(NamedView::Anterior);
    view.window = args.window.map(|[width, center]| Window { width, center });
    Ok(view)
}

/// Frame `n` of `frames`: the camera turned by its share of the orbit, or the slice at its
/// share of the way through the volume.
fn frame_view(
    base: &ViewState,
    volume: &Volume,
    motion: &Motion,
    n: u32,
    frames: u32,
) -> ViewState {
    let mut view = base.clone();
    match *motion {
        Motion::Recording(_) => {}
        Motion::Orbit { degrees } => {
            view.camera
                .orbit(degrees * f64::from(n) / f64::from(frames), 0.0);
        }
        Motion::Sweep { orientation } => {
            let normal = orientation.normal();
            let depths = volume.corner_centres_lps().map(|corner| corner.dot(normal));
            let first = depths.iter().copied().fold(f64::INFINITY, f64::min);
            let last = depths.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let share = if frames > 1 {
                f64::from(n) / f64::from(frames - 1)
            } else {
                0.5
            };
            let centre = volume.centre_lps();
            let depth = first + (last - first) * share;
            let point: DVec3 = centre + normal * (depth - centre.dot(normal));
            view.mpr = Some(MprPlane::through(volume, orientation, point));
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::phantom::ct_phantom;
    use render_core::transfer::RenderMode;

    #[test]
    fn an_orbit_turns_by_its_share_and_a_sweep_crosses_the_volume() {
        let volume = ct_phantom();
        let base = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let orbit = Motion::Orbit { degrees: 360.0 };
        let first = frame_view(&base, &volume, &orbit, 0, 36);
        assert!(first.camera.direction.distance(base.camera.direction) < 1e-12);
        let quarter = frame_view(&base, &volume, &orbit, 9, 36);
        let turned = quarter
            .camera
            .direction
            .angle_between(base.camera.direction);
        assert!((turned.to_degrees() - 90.0).abs() < 1e-6, "{turned}");

        let sweep = Motion::Sweep {
            orientation: MprOrientation::Axial,
        };
        let depth = |n| {
            frame_view(&base, &volume, &sweep, n, 10)
                .mpr
                .expect("a slice")
                .centre_lps
                .z
        };
        let corners = volume.corner_centres_lps().map(|c| c.z);
        let lowest = corners.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = corners.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!((depth(0) - lowest).abs() < 1e-9 && (depth(9) - highest).abs() < 1e-9);
        assert!(depth(4) > depth(3));
    }
}
