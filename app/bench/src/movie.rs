//! `bench movie`: what a movie costs a frame beside what `render` costs a frame, in one
//! run on one series: the orbit's views drawn alone (as `render` draws each), the same
//! orbit written as an MP4 by `movie` (drawing and encoding), and the same orbit made by a
//! server in this process for `export_movie` (the render thread's lossless stills, their
//! PNG read back, the encoding), timed from the order to `movie_ready`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::Event;
use hounsfield_protocol::{ClientMessage, MovieOrder, ServerMessage};
use hounsfield_server::movie::{MAX_MOVIE_PIXELS, Motion, MovieFrames, check_shape};
use hounsfield_tls::ServerTrust;
use render_core::camera::NamedView;
use render_core::view::ViewState;
use serde::Serialize;

use super::client::{greet_and_open, in_time, ms};
use super::loopback;
use crate::cli::StreamCodec;
use hounsfield_workstation::movie::{Shape, write_movie};
use hounsfield_workstation::renderer::{new_renderer, preset_and_mode};
use hounsfield_workstation::source;

/// Frames a second the movies play at (it changes the file, not the work).
const FPS: u32 = 24;

/// What `bench movie --json` prints (milliseconds a frame).
#[derive(Debug, Serialize)]
struct MovieReport {
    source: String,
    adapter: String,
    size: [u32; 2],
    frames: u32,
    /// Each view of the orbit drawn alone, as `render` draws it.
    render_ms_per_frame: f64,
    /// `movie`: drawing and encoding a frame.
    movie_ms_per_frame: f64,
    movie_render_ms_per_frame: f64,
    movie_encode_ms_per_frame: f64,
    /// `export_movie` on a server in this process, from the order to `movie_ready`.
    served_ms_per_frame: f64,
    encoder: String,
    /// `movie` over `render`, a frame each.
    movie_over_render: f64,
    /// `export_movie` over `render`, a frame each.
    served_over_render: f64,
}

/// Runs `bench movie` on `path` (none: the built-in sample).
pub fn movie(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    frames: u32,
    json: bool,
) -> anyhow::Result<()> {
    check_shape(frames, size, MAX_MOVIE_PIXELS).map_err(|why| anyhow::anyhow!("--{why}"))?;
    let opened = source::open_volume(path, series)?;
    let volume = Arc::new(opened.volume);
    let mut renderer = new_renderer()?;
    let (preset, mode) = preset_and_mode(&renderer, &volume, None, None)?;
    let mut first = ViewState::initial(&volume, &preset, mode);
    first.camera.set_view(NamedView::Anterior);
    for warning in renderer.load_volume(Arc::clone(&volume)) {
        eprintln!("warning: {warning}");
    }
    let presets = renderer.presets().clone();
    let orbit = || {
        MovieFrames::new(
            Motion::Orbit { degrees: 360.0 },
            &first,
            hounsfield_server::series_volumes::SeriesVolumes::one(Arc::clone(&volume)),
            &opened.label,
            size,
            presets.clone(),
        )
    };
    // Warm: the volume's first frame on the device.
    renderer.render_image(&first, size)?;

    let mut views = orbit();
    let mut rendering = Duration::ZERO;
    for n in 0..frames {
        let request = views.request(n, frames).map_err(anyhow::Error::msg)?;
        let at = Instant::now();
        renderer.render_image(&request.view, size)?;
        rendering += at.elapsed();
    }

    let folder = tempfile::tempdir().context("a folder for the movie")?;
    let shape = Shape {
        frames,
        size,
        fps: FPS,
        cinematic: None,
    };
    let at = Instant::now();
    let times = write_movie(
        &mut renderer,
        &mut orbit(),
        shape,
        &folder.path().join("movie.mp4"),
        |_| true,
    )?;
    let movie_total = at.elapsed();
    let adapter = renderer.context().capabilities.adapter.to_string();
    drop(renderer);

    let served = served_per_frame(path, series, size, frames)?;
    let per_frame = |total: Duration| ms(total) / f64::from(frames);
    let render_ms_per_frame = per_frame(rendering);
    let movie_ms_per_frame = per_frame(movie_total);
    let report = MovieReport {
        source: opened.label,
        adapter,
        size,
        frames,
        render_ms_per_frame,
        movie_ms_per_frame,
        movie_render_ms_per_frame: times.render_ms_per_frame(),
        movie_encode_ms_per_frame: times.encode_ms_per_frame(),
        served_ms_per_frame: served,
        encoder: times.encoder,
        movie_over_render: movie_ms_per_frame / render_ms_per_frame,
        served_over_render: served / render_ms_per_frame,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: an orbit of {} frames at {}×{} on {} ({})",
        report.source, frames, size[0], size[1], report.adapter, report.encoder
    );
    println!(
        "render          {:>8.1} ms a frame",
        report.render_ms_per_frame
    );
    println!(
        "movie           {:>8.1} ms a frame ({:.1} drawing, {:.1} encoding; {:.2}× render)",
        report.movie_ms_per_frame,
        report.movie_render_ms_per_frame,
        report.movie_encode_ms_per_frame,
        report.movie_over_render
    );
    println!(
        "export_movie    {:>8.1} ms a frame ({:.2}× render)",
        report.served_ms_per_frame, report.served_over_render
    );
    Ok(())
}

/// Milliseconds a frame of an orbit made for `export_movie` by a server in this process,
/// from the order to `movie_ready`.
fn served_per_frame(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    frames: u32,
) -> anyhow::Result<f64> {
    let loopback = loopback::start(path, |_| {})?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("a runtime for the benchmark's client")?;
    runtime.block_on(async {
        let url = loopback.server.websocket_url();
        let (mut client, _) = greet_and_open(
            &url,
            &ServerTrust::system(),
            series,
            size,
            StreamCodec::Jpeg,
        )
        .await?;
        // The first final still: the whole volume is on the device (a large one's first
        // frames come from a reduced copy while it uploads).
        loop {
            let frame = in_time("the first final still", client.next_frame()).await?;
            if frame.header.flags.final_still() {
                break;
            }
        }
        let at = Instant::now();
        client
            .send(&ClientMessage::ExportMovie(MovieOrder {
                orbit: Some(360.0),
                frames: Some(frames),
                width: Some(size[0]),
                height: Some(size[1]),
                fps: Some(FPS),
                ..MovieOrder::default()
            }))
            .await?;
        let limit = Duration::from_secs(600);
        tokio::time::timeout(limit, async {
            loop {
                match client.next_event().await? {
                    Event::Message(ServerMessage::MovieReady(_)) => return Ok(()),
                    Event::Message(
                        ServerMessage::MovieFailed { message, .. }
                        | ServerMessage::Error { message, .. },
                    ) => anyhow::bail!("export_movie: {message}"),
                    _ => {}
                }
            }
        })
        .await
        .context("no movie_ready in 10 minutes")??;
        Ok(ms(at.elapsed()) / f64::from(frames))
    })
}
