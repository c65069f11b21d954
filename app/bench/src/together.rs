//! `bench together`: a shared session over loopback. A host opens the series, shares it and
//! drags the view while her pointer moves; a follower joined. Timed in the same run: each
//! pointer from the host's send to the follower being told it, beside the input → frame
//! latency of the host's own frames, and the frames each of the two gets a second.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ClientMessage, ServerMessage, Viewport};
use hounsfield_tls::ServerTrust;
use serde::Serialize;

use super::client::{
    INPUTS_PER_S, ORBIT_DEG_PER_INPUT, REPLY_TIMEOUT, codec_name, greet_and_open, in_time, ms,
    offered, percentile,
};
use super::loopback::{self, LoopbackServer};
use crate::cli::StreamCodec;

/// Pointers the host sends a second: as often as the web page sends them.
const POINTERS_PER_S: f64 = 20.0;
/// Pointer positions told apart: each pointer's number is written into where it points.
const POSITIONS: u64 = 1000;

/// What `bench together --json` prints (milliseconds, frames a second).
#[derive(Debug, Serialize)]
struct TogetherReport {
    series: String,
    size: [u32; 2],
    codec: &'static str,
    seconds: f64,
    pointers_sent: usize,
    pointers_told: usize,
    pointer_latency_p50_ms: f64,
    pointer_latency_p95_ms: f64,
    /// The host's inputs to her frames that show them, in the same run.
    frame_latency_p50_ms: f64,
    frame_latency_p95_ms: f64,
    /// Pointer latency over frame latency, medians.
    pointer_over_frame: f64,
    host_fps: f64,
    follower_fps: f64,
}

/// Runs `bench together` on `path` (none: the built-in sample).
pub fn together(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    seconds: f64,
    codec: StreamCodec,
    json: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1.0..=600.0).contains(&seconds),
        "--seconds {seconds}: from 1 to 600"
    );
    let loopback = loopback::start(path, |_| {})?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("a runtime for the benchmark's clients")?;
    let report = runtime.block_on(drag_together(&loopback, series, size, seconds, codec))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "series {}: a host dragging and pointing, a follower joined, {:.0} s at {}×{} ({})",
        report.series, report.seconds, report.size[0], report.size[1], report.codec
    );
    println!(
        "pointer host → follower  p50 {:>7.2} ms  p95 {:>7.2} ms  ({} of {} told)",
        report.pointer_latency_p50_ms,
        report.pointer_latency_p95_ms,
        report.pointers_told,
        report.pointers_sent
    );
    println!(
        "host input → frame       p50 {:>7.2} ms  p95 {:>7.2} ms  (pointer/frame {:.3})",
        report.frame_latency_p50_ms, report.frame_latency_p95_ms, report.pointer_over_frame
    );
    println!(
        "frames a second          host {:.1}  follower {:.1}",
        report.host_fps, report.follower_fps
    );
    Ok(())
}

/// The host shares, the follower joins, then both run for `seconds`.
async fn drag_together(
    loopback: &LoopbackServer,
    series: Option<&str>,
    size: [u32; 2],
    seconds: f64,
    codec: StreamCodec,
) -> anyhow::Result<TogetherReport> {
    let url = loopback.server.websocket_url();
    let trust = ServerTrust::system();
    let (mut host, chosen) = greet_and_open(&url, &trust, series, size, codec).await?;
    host.send(&ClientMessage::Share).await?;
    let join = tokio::time::timeout(REPLY_TIMEOUT, shared(&mut host))
        .await
        .context("no `shared` in time")??;
    let mut follower = in_time("connecting", Client::connect(&url)).await?;
    let viewport = Viewport {
        width: size[0],
        height: size[1],
    };
    in_time(
        "hello",
        follower.hello_offering(None, viewport, offered(codec)),
    )
    .await?;
    follower.send(&ClientMessage::Join { id: join }).await?;
    in_time("the shared view", follower.next_frame()).await?;
    let length = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let (hosting, following) = tokio::join!(
        host_drags(&mut host, started + length),
        follower_watches(&mut follower, started + length + Duration::from_secs(1)),
    );
    let (sent, mut frame_latencies, host_frames) = hosting?;
    let (told, follower_frames) = following?;
    let mut pointer_latencies: Vec<f64> = told
        .iter()
        .filter_map(|(number, at)| {
            let sent_at = sent.get(usize::try_from(*number).ok()?)?;
            Some(ms(at.saturating_duration_since(*sent_at)))
        })
        .collect();
    anyhow::ensure!(
        !pointer_latencies.is_empty(),
        "the follower was told none of the host's {} pointers",
        sent.len()
    );
    pointer_latencies.sort_by(f64::total_cmp);
    frame_latencies.sort_by(f64::total_cmp);
    let (pointer_p50, frame_p50) = (
        percentile(&pointer_latencies, 0.5),
        percentile(&frame_latencies, 0.5),
    );
    Ok(TogetherReport {
        series: chosen.id,
        size,
        codec: codec_name(codec),
        seconds,
        pointers_sent: sent.len(),
        pointers_told: pointer_latencies.len(),
        pointer_latency_p50_ms: pointer_p50,
        pointer_latency_p95_ms: percentile(&pointer_latencies, 0.95),
        frame_latency_p50_ms: frame_p50,
        frame_latency_p95_ms: percentile(&frame_latencies, 0.95),
        pointer_over_frame: pointer_p50 / frame_p50.max(1e-9),
        host_fps: host_frames as f64 / seconds,
        follower_fps: follower_frames as f64 / seconds,
    })
}

/// The join id `shared` gives.
async fn shared(host: &mut Client) -> anyhow::Result<String> {
    loop {
        match host.next_event().await? {
            Event::Message(ServerMessage::Shared { id, .. }) => return Ok(id),
            Event::Message(ServerMessage::Error { code, message }) => {
                anyhow::bail!("share refused: {code:?}: {message}")
            }
            _ => {}
        }
    }
}

/// The pointer numbered `number`, written into where it points in the 3D cell.
fn numbered_pointer(number: u64) -> ClientMessage {
    let fraction = |n: u64| (n % POSITIONS) as f64 / POSITIONS as f64;
    ClientMessage::Pointer {
        cell: Some("3d".to_string()),
        x: Some(fraction(number)),
        y: Some(fraction(number / POSITIONS)),
    }
}

/// The number a told pointer carries in where it points.
fn pointer_number(x: f64, y: f64) -> Option<u64> {
    let position = |v: f64| {
        let n = (v * POSITIONS as f64).round();
        (0.0..POSITIONS as f64).contains(&n).then_some(n as u64)
    };
    Some(position(x)? + position(y)? * POSITIONS)
}

/// The host drags (orbit inputs) and points until `until`: when each pointer was sent, the
/// input → frame latencies of her frames, and how many frames she got.
async fn host_drags(
    host: &mut Client,
    until: Instant,
) -> anyhow::Result<(Vec<Instant>, Vec<f64>, usize)> {
    let mut inputs = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    let mut pointing = tokio::time::interval(Duration::from_secs_f64(1.0 / POINTERS_PER_S));
    let (mut pointers_sent, mut input_sent) = (Vec::new(), Vec::new());
    let (mut latencies, mut frames, mut shown) = (Vec::new(), 0, 0u32);
    host.input(Action::Interact { active: true }).await?;
    let deadline = tokio::time::Instant::from_std(until);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            _ = inputs.tick() => {
                let seq = host.input(Action::Orbit { dx: ORBIT_DEG_PER_INPUT, dy: 0.0 }).await?;
                input_sent.push((seq, Instant::now()));
            }
            _ = pointing.tick() => {
                let number = pointers_sent.len() as u64;
                host.send(&numbered_pointer(number)).await?;
                pointers_sent.push(Instant::now());
            }
            event = host.next_event() => {
                let Event::Frame(frame) = event? else { continue };
                frames += 1;
                let seq = frame.header.input_seq;
                if seq > shown {
                    shown = seq;
                    if let Some((_, at)) = input_sent.iter().find(|(sent, _)| *sent == seq) {
                        latencies.push(ms(frame.received.saturating_duration_since(*at)));
                    }
                }
            }
        }
    }
    host.input(Action::Interact { active: false }).await?;
    Ok((pointers_sent, latencies, frames))
}

/// The follower watches until `until`: when it was told each of the host's pointers (by
/// number), and how many frames it got.
async fn follower_watches(
    follower: &mut Client,
    until: Instant,
) -> anyhow::Result<(Vec<(u64, Instant)>, usize)> {
    let (mut told, mut frames) = (Vec::new(), 0);
    let deadline = tokio::time::Instant::from_std(until);
    loop {
        let event = tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            event = tokio::time::timeout(REPLY_TIMEOUT, follower.next_event()) => event,
        };
        match event.context("the follower heard nothing")?? {
            Event::Frame(_) => frames += 1,
            Event::Message(ServerMessage::Pointer {
                x: Some(x),
                y: Some(y),
                ..
            }) => {
                if let Some(number) = pointer_number(x, y) {
                    told.push((number, Instant::now()));
                }
            }
            Event::Message(_) => {}
        }
    }
    Ok((told, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointers_number_is_read_back_from_where_it_points() {
        for number in [0, 1, 999, 1000, 123_456, 999_999] {
            let ClientMessage::Pointer {
                x: Some(x),
                y: Some(y),
                ..
            } = numbered_pointer(number)
            else {
                panic!("a pointer");
            };
            assert!((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y));
            assert_eq!(pointer_number(x, y), Some(number));
        }
    }
}
