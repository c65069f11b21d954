//! The brush on the server, as a reader feels it: from one client over loopback in the
//! 2×2 layout, the time from sending a stroke of the disc brush across the axial cell to
//! the first frame after the segment's answer (the frame that shows the stroke painted),
//! with the segments drawn in the 3D cell too (as a series opens; the slices show a stroke
//! first, the 3D cell once the segments rest, timed too) and hidden there (the slices
//! alone redrawn).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{
    Action, ClientMessage, SegmentAction, SegmentEdit, SegmentInfo, SegmentRequest, SegmentTool,
    ServerMessage,
};
use hounsfield_tls::ServerTrust;

use super::client::{REPLY_TIMEOUT, greet_and_open, in_time, ms};
use super::loopback;
use crate::cli::StreamCodec;

/// The frame the client asks for: the 2×2 layout's cells are half of it each way.
const SIZE: [u32; 2] = [1024, 768];
/// The brush's radius (mm).
const RADIUS_MM: f64 = 5.0;
/// Points in a stroke, across the middle half of the axial cell.
const STROKE_POINTS: usize = 8;
/// Quiet on the connection this long means no frame is on its way: longer than the
/// session's pause before the segments reach the 3D view and the slowest 3D frame after
/// it (the first, which uploads the segments).
const QUIET: Duration = Duration::from_millis(1500);

/// What the strokes took.
pub(super) struct Strokes {
    /// The voxels the segment holds after the last stroke.
    pub(super) voxels: usize,
    /// Each stroke's time to its frame (ms), the segments drawn in 3D too (the slices
    /// show the stroke first).
    pub(super) with_3d: Vec<f64>,
    /// The same strokes' time to the frame whose 3D cell shows them (ms): the segments
    /// at rest for the session's pause, then the 3D cell drawn.
    pub(super) in_3d: Vec<f64>,
    /// The same, the segments hidden in 3D.
    pub(super) slices_only: Vec<f64>,
}

/// Times `runs` strokes on the series at `path` with the segments drawn in 3D, then
/// `runs` with them hidden there.
pub(super) fn to_frame(path: &Path, series: Option<&str>, runs: usize) -> anyhow::Result<Strokes> {
    let loopback = loopback::start(Some(path), |config| {
        config.h264_encoders = Vec::new();
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("a runtime for the benchmark's client")?;
    let url = loopback.server.websocket_url();
    runtime.block_on(async {
        let (mut client, _chosen) = greet_and_open(
            &url,
            &ServerTrust::system(),
            series,
            SIZE,
            StreamCodec::Jpeg,
        )
        .await?;
        in_time(
            "layout",
            client.input(Action::Layout {
                name: "2x2".to_string(),
            }),
        )
        .await?;
        client
            .send(&ClientMessage::Segment(SegmentRequest {
                label: Some("Brush".to_string()),
                ..SegmentRequest::bare(SegmentAction::Create, None)
            }))
            .await?;
        let created = segment_answer(&mut client, "new segment").await?.id;
        let (mut voxels, mut with_3d, mut in_3d, mut slices_only) =
            (0, Vec::new(), Vec::new(), Vec::new());
        for run in 0..runs * 2 {
            if run == runs {
                in_time(
                    "segments_3d",
                    client.input(Action::Segments3d {
                        show: "hidden".to_string(),
                    }),
                )
                .await?;
            }
            settle(&mut client).await?;
            // Each stroke a little lower than the last: new voxels every time.
            let y = 0.3 + 0.4 * run as f64 / (runs * 2).max(1) as f64;
            let points = (0..STROKE_POINTS)
                .map(|n| [0.25 + 0.5 * n as f64 / (STROKE_POINTS - 1) as f64, y])
                .collect();
            let started = Instant::now();
            client
                .send(&ClientMessage::SegmentEdit(SegmentEdit {
                    id: created,
                    tool: SegmentTool::Paint {
                        cell: "axial".to_string(),
                        points,
                        radius_mm: RADIUS_MM,
                        within: None,
                        shape: Some(hounsfield_protocol::BrushShape::Disc),
                    },
                }))
                .await?;
            voxels = segment_answer(&mut client, "stroke").await?.numbers.voxels;
            next_frame(&mut client).await?;
            let took = ms(started.elapsed());
            if run < runs {
                with_3d.push(took);
                // The still that brings the stroke into the 3D cell.
                next_frame(&mut client).await?;
                in_3d.push(ms(started.elapsed()));
            } else {
                slices_only.push(took);
            }
        }
        Ok(Strokes {
            voxels,
            with_3d,
            in_3d,
            slices_only,
        })
    })
}

/// The segment the server answers `what` with (an error fails the run).
async fn segment_answer(client: &mut Client, what: &str) -> anyhow::Result<SegmentInfo> {
    let waiting = async {
        loop {
            match client.next_event().await? {
                Event::Message(ServerMessage::Segment(info)) => return Ok(*info),
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("the server refused the {what}: {code:?}: {message}")
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(REPLY_TIMEOUT, waiting)
        .await
        .with_context(|| format!("no answer to the {what}"))?
}

/// Waits for the next frame.
async fn next_frame(client: &mut Client) -> anyhow::Result<()> {
    let waiting = async {
        loop {
            if let Event::Frame(_) = client.next_event().await? {
                return Ok::<(), anyhow::Error>(());
            }
        }
    };
    tokio::time::timeout(REPLY_TIMEOUT, waiting)
        .await
        .context("no frame after the stroke")?
}

/// Lets the frames already on their way arrive: returns after [`QUIET`] without an event.
async fn settle(client: &mut Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while Instant::now() < deadline {
        match tokio::time::timeout(QUIET, client.next_event()).await {
            Err(_) => return Ok(()),
            Ok(event) => {
                event?;
            }
        }
    }
    anyhow::bail!("the connection never fell quiet")
}
