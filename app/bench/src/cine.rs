//! `bench quantify --over-time PATH`'s cine: a server in this process plays the series'
//! volumes (`cine` at the most volumes a second it takes) to a client over a loopback
//! WebSocket at 1024 × 768, JPEG frames, in the 3D view alone and in the 2×2 layout: the
//! frames a second that arrive, the volumes a second they show (each announced by a
//! `time_point` message), and the server's render and encode times a frame.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ServerMessage};
use hounsfield_server::session::MAX_CINE_FPS;
use hounsfield_tls::ServerTrust;
use hounsfield_workstation::timing::median;
use serde::Serialize;

use super::client::{greet_over, in_time};
use super::loopback;
use crate::cli::StreamCodec;

/// The picture a cine is measured at.
pub const CINE_SIZE: [u32; 2] = [1024, 768];

/// One layout's cine.
#[derive(Debug, Serialize)]
pub struct CineRun {
    /// `1x1` (the 3D view) or `2x2` (3D and the three slices).
    pub layout: &'static str,
    /// Frames that arrived a second.
    pub frames_a_second: f64,
    /// Volumes a second the frames showed (those announced).
    pub volumes_a_second: f64,
    /// The server's render time a frame (ms, median).
    pub render_ms: f64,
    /// Its encode time a frame (ms, median).
    pub encode_ms: f64,
}

/// What the cine measures.
#[derive(Debug, Serialize)]
pub struct CineFigures {
    /// Volumes a second asked for.
    pub asked_fps: f64,
    /// The picture's size.
    pub size: [u32; 2],
    /// Each layout's run.
    pub runs: Vec<CineRun>,
}

/// Plays the series over time at `path` for `seconds` in each layout.
pub fn measure(path: &Path, seconds: f64) -> anyhow::Result<CineFigures> {
    let server = loopback::start(Some(path), |config| {
        config.h264_encoders = Vec::new();
        config.default_viewport = hounsfield_protocol::Viewport {
            width: CINE_SIZE[0],
            height: CINE_SIZE[1],
        };
    })?;
    let url = format!("ws://{}/ws", server.server.address());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let trust = ServerTrust::system();
        let (mut client, _, chosen) =
            greet_over(&url, &trust, None, CINE_SIZE, StreamCodec::Jpeg, &[]).await?;
        let opened = in_time("open", client.open(&chosen.id)).await?;
        if opened.volumes.len() < 2 {
            anyhow::bail!(
                "series {} has one volume: the cine needs a series over time",
                chosen.id
            );
        }
        let mut runs = Vec::new();
        for layout in ["1x1", "2x2"] {
            client
                .input(Action::Layout {
                    name: layout.to_string(),
                })
                .await?;
            at_rest(&mut client).await?;
            runs.push(play(&mut client, layout, seconds).await?);
        }
        Ok(CineFigures {
            asked_fps: MAX_CINE_FPS,
            size: CINE_SIZE,
            runs,
        })
    })
}

/// Plays the cine for `seconds` and counts what arrives, then stops it.
async fn play(client: &mut Client, layout: &'static str, seconds: f64) -> anyhow::Result<CineRun> {
    client.input(Action::Cine { fps: MAX_CINE_FPS }).await?;
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let (mut frames, mut volumes) = (0usize, 0usize);
    let (mut render, mut encode) = (Vec::new(), Vec::new());
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(event) = tokio::time::timeout(left, client.next_event()).await else {
            break;
        };
        match event.context("the cine's session")? {
            Event::Frame(frame) => {
                frames += 1;
                render.push(f64::from(frame.header.render_us) / 1000.0);
                encode.push(f64::from(frame.header.encode_us) / 1000.0);
            }
            Event::Message(ServerMessage::TimePoint { .. }) => volumes += 1,
            Event::Message(ServerMessage::Error { message, .. }) => anyhow::bail!("{message}"),
            Event::Message(_) => {}
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    client.input(Action::Cine { fps: 0.0 }).await?;
    at_rest(client).await?;
    Ok(CineRun {
        layout,
        frames_a_second: frames as f64 / elapsed,
        volumes_a_second: volumes as f64 / elapsed,
        render_ms: median(&mut render),
        encode_ms: median(&mut encode),
    })
}

/// Waits for a final still: the view at rest.
async fn at_rest(client: &mut Client) -> anyhow::Result<()> {
    loop {
        let frame = in_time("a final still", client.next_frame()).await?;
        if frame.header.flags.final_still() {
            return Ok(());
        }
    }
}
