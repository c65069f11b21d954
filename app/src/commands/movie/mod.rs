//! `hounsfield movie`: a series rendered frame by frame into an MP4 (H.264) that standard
//! players open: an orbit of the camera about the patient's vertical axis from the
//! anterior view (its first frame is what `render` draws with the same arguments), a
//! sweep of a standard slice from one end of the volume to the other, or a session
//! recording played (the frames are [`MovieFrames`], as the server draws them for
//! `export_movie`), written through [`write_movie`] as the desktop's "Export movie…" writes.

use std::sync::Arc;
use std::time::Instant;

use hounsfield_server::movie::{MAX_MOVIE_PIXELS, Motion, MovieFrames, check_shape};
use render_core::camera::NamedView;
use render_core::gpu::CinematicSettings;
use render_core::gpu::Renderer;
use render_core::view::ViewState;
use render_core::{Volume, Window};
use serde::Serialize;

use crate::cli::MovieArgs;
use hounsfield_workstation::movie::{Shape, write_movie};
use hounsfield_workstation::renderer::{preset_and_mode, renderer_for};
use hounsfield_workstation::source;

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
    check_shape(args.frames, args.size, MAX_MOVIE_PIXELS)
        .map_err(|why| anyhow::anyhow!("--{why}"))?;
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
    let (mut renderer, preset) = renderer_for(args.transfer.as_deref(), args.preset.as_deref())?;
    let base = base_view(&renderer, &volume, args, preset.as_deref())?;
    for warning in renderer.load_volume(Arc::clone(&volume)) {
        eprintln!("warning: {warning}");
    }
    let started = Instant::now();
    let mut frames = MovieFrames::new(
        motion,
        &base,
        hounsfield_server::series_volumes::SeriesVolumes::one(Arc::clone(&volume)),
        series.as_deref().unwrap_or_default(),
        args.size,
        renderer.presets().clone(),
    );
    let shape = Shape {
        frames: args.frames,
        size: args.size,
        fps: args.fps,
        cinematic: args.cinematic.then_some(CinematicSettings {
            samples: args.samples,
            seed: args.seed,
        }),
    };
    let times = write_movie(&mut renderer, &mut frames, shape, &args.out, |_| true)?;
    let adapter = renderer.context().capabilities.adapter.to_string();
    if args.json {
        let written = Written {
            out: args.out.display().to_string(),
            frames: args.frames,
            width,
            height,
            fps: args.fps,
            encoder: times.encoder.clone(),
            source: opened.label.clone(),
            adapter,
            render_ms_per_frame: times.render_ms_per_frame(),
            encode_ms_per_frame: times.encode_ms_per_frame(),
            seconds: started.elapsed().as_secs_f64(),
        };
        println!("{}", serde_json::to_string_pretty(&written)?);
        return Ok(());
    }
    println!(
        "{}: {} frames of {width}×{height} at {} a second ({}) from {} on {adapter}",
        args.out.display(),
        args.frames,
        args.fps,
        times.encoder,
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
        (Some(degrees), None) => Motion::orbit(*degrees).map_err(|why| anyhow::anyhow!("--{why}")),
        (None, Some(name)) => Motion::sweep(name).map_err(|why| anyhow::anyhow!("--{why}")),
        _ => anyhow::bail!("one of --orbit DEG, --sweep PLANE or --recording FILE"),
    }
}

/// The first frame's view: the anterior view with the preset, mode and window asked for,
/// as `render` builds it from the same arguments.
fn base_view(
    renderer: &Renderer,
    volume: &Volume,
    args: &MovieArgs,
    preset: Option<&str>,
) -> anyhow::Result<ViewState> {
    let (preset, mode) = preset_and_mode(renderer, volume, preset, args.mode.as_deref())?;
    let mut view = ViewState::initial(volume, &preset, mode);
    view.camera.set_view(NamedView::Anterior);
    view.window = args.window.map(|[width, center]| Window { width, center });
    view.lighting = args.light.lighting();
    Ok(view)
}
