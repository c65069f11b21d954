//! `hounsfield bench stream`: the streaming server in this process on a loopback port and
//! N Rust clients that open a series and drag at once, as a user would, decoding every
//! frame as they go (FFmpeg for H.264). Measures the time from `open` to the first image,
//! frames per second and input → frame latency while dragging (on arrival and once
//! decoded), the bit rate, render, encode and decode times, and the final still after the
//! drag ends. With several codecs the same scripted drag runs once for each against the
//! same server, and the figures are printed side by side with their ratios to JPEG's.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::FrameDecoder;
use hounsfield_client::lossy_relay::LossyRelay;
use hounsfield_client::webrtc::{Arrival as RtpArrival, PeerTask, RtpFrames, next_arrival};
use hounsfield_client::{Client, Event, Frame};
use hounsfield_protocol::{Action, ClientStats, Codec, FrameHeader, ServerMessage, TransportKind};
use hounsfield_tls::ServerTrust;
use render_core::gpu::InteractiveBudget;
use serde::Serialize;

use super::client::{
    INPUTS_PER_S, ORBIT_DEG_PER_INPUT, codec_name, granted_name, greet_over, in_time, ms,
    percentile,
};
use super::quality::{LadderRung, QualityReport, interactive_quality};
use crate::cli::{StreamArgs, StreamCodec};

/// How often a client reports its decoding to the server (as the web client does).
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// A drag, not measured, before the measured ones: it compiles the interactive pipelines,
/// so the first codec measured does not pay for that.
const WARM_UP: Duration = Duration::from_secs(1);
/// Longest wait for the sessions of one run to close before the next run starts.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The figures of a drag: one session's, or all sessions' together ([`aggregate`]: the
/// slowest session's waits, rates and times averaged over the sessions, latencies pooled,
/// bytes and frames summed).
#[derive(Debug, Serialize)]
pub(super) struct Figures {
    /// From sending `open` to the first frame (any quality).
    first_frame_ms: f64,
    /// From sending `open` to the first final still.
    first_still_ms: f64,
    /// Frames received per second while dragging.
    pub(super) drag_fps: f64,
    /// Input → frame latency, median, over the inputs the drag's frames name.
    pub(super) latency_p50_ms: f64,
    /// Input → frame latency, 95th percentile.
    pub(super) latency_p95_ms: f64,
    /// Input → frame latency, 99th percentile.
    latency_p99_ms: f64,
    /// Input → frame decoded, median (the latency a user sees, but for drawing).
    decoded_latency_p50_ms: f64,
    /// Input → frame decoded, 95th percentile.
    pub(super) decoded_latency_p95_ms: f64,
    /// Input → frame decoded, 99th percentile.
    decoded_latency_p99_ms: f64,
    /// Kilobits received per second while dragging (headers and payloads).
    kbit_s: f64,
    /// Frames received while dragging.
    frames: usize,
    /// Keyframes among them.
    keyframes: usize,
    /// Mean size of those frames (bytes).
    mean_frame_bytes: f64,
    /// Mean server render time of those frames (ms, from their headers).
    render_ms: f64,
    /// Mean server encode time of those frames (ms, from their headers).
    encode_ms: f64,
    /// Mean time this client took to decode one (ms).
    decode_ms: f64,
    /// Mean width of those frames as sent over their width as shown (below 1 when the
    /// server sends interactive frames as drawn, for the client to scale up).
    picture_scale: f64,
    /// From the drag's last orbit input to the final still that answers it (the release
    /// follows that input within a tick).
    still_after_drag_ms: f64,
}

/// What one client measured.
#[derive(Debug, Serialize)]
struct SessionReport {
    #[serde(flatten)]
    figures: Figures,
    /// Orbit inputs sent.
    inputs: usize,
}

/// What `bench stream --json` prints for one codec: figures for all sessions together,
/// then each.
#[derive(Debug, Serialize)]
pub(super) struct StreamReport {
    /// `plain` or `tls`: how the clients reached the server (`websocket` or `webrtc`
    /// with `--transport`).
    pub(super) transport: String,
    /// Packets lost on the way to the client (percent), with `--transport`: WebRTC's media
    /// packets in a lossy relay, the WebSocket's TCP packets in a lossy link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) loss_percent: Option<f64>,
    /// The codec asked for (`h264` offers H.264 first).
    codec: String,
    /// The codec of interactive frames the server granted.
    pub(super) granted: String,
    /// The FFmpeg encoder behind H.264.
    encoder: Option<String>,
    /// Why JPEG although H.264 was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
    adapter: String,
    series: String,
    volume: [usize; 3],
    /// Frame size granted by the server.
    size: [u32; 2],
    sessions: usize,
    /// Length of each drag (s).
    seconds: f64,
    inputs_per_s: f64,
    orbit_deg_per_input: f64,
    /// The sessions' figures together.
    #[serde(flatten)]
    pub(super) figures: Figures,
    per_session: Vec<SessionReport>,
}

/// What `bench stream --json` prints for several codecs.
#[derive(Debug, Serialize)]
struct Comparison {
    /// One report per codec, in the order asked.
    runs: Vec<StreamReport>,
    /// Each other run's figures divided by the JPEG run's (by the first run's when no run
    /// is JPEG).
    ratios: Vec<Ratios>,
    /// The picture quality of each codec's interactive frames, when H.264 was granted.
    quality: Option<QualityReport>,
    /// What TLS costs, codec by codec (with `--tls`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls: Vec<TlsCost>,
}

/// One run's figures relative to the reference run's (JPEG's).
#[derive(Debug, Serialize)]
struct Ratios {
    /// `h264/jpeg`: this run's codec over the reference's.
    codecs: String,
    kbit_s: f64,
    latency_p50_ms: f64,
    latency_p95_ms: f64,
    decoded_latency_p50_ms: f64,
    drag_fps: f64,
    encode_ms: f64,
}

/// What a session brings back besides its report.
pub(super) struct SessionRun {
    /// The render node that served the session, when it named one.
    pub(super) node: Option<String>,
    report: SessionReport,
    latencies_ms: Vec<f64>,
    decoded_latencies_ms: Vec<f64>,
    frame_bytes: usize,
    series: String,
    volume: [usize; 3],
    size: [u32; 2],
    granted: Codec,
    encoder: Option<String>,
    fallback: Option<String>,
}

/// Starts the server on 127.0.0.1 (any free port) with the series at `path` (the built-in
/// phantom without one), runs `sessions` clients that each open the series and drag for
/// `seconds`, once for each codec (and each again over TLS with `--tls`), and prints the
/// figures.
pub fn stream(args: &StreamArgs) -> anyhow::Result<()> {
    let StreamArgs {
        ref path,
        ref series,
        sessions,
        size,
        seconds,
        ref codec,
        json,
        tls,
        proxy,
        ref transport,
        ..
    } = *args;
    if let Some(nodes) = proxy {
        return super::scale_out::stream_through_proxy(args, usize::from(nodes));
    }
    if !transport.is_empty() {
        return super::transports::stream_over_transports(args);
    }
    let (path, series) = (path.as_deref(), series.as_deref());
    if !(seconds.is_finite() && seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number of seconds, got {seconds}");
    }
    let codecs: Vec<StreamCodec> = if codec.is_empty() {
        vec![StreamCodec::H264]
    } else {
        codec.clone()
    };
    let sessions = usize::from(sessions).max(1);
    let runtime = crate::commands::serve::runtime()?;
    let loopback = super::loopback::start(path, |config| config.max_sessions = sessions)?;
    let twin = if tls {
        Some(super::loopback::start_tls_twin(&loopback)?)
    } else {
        None
    };
    let keyframe_interval = loopback.config.keyframe_interval;
    let adapter = loopback.scheduler.adapter().to_string();
    let wanted = series.map(str::to_string);
    let drag = Duration::from_secs_f64(seconds);
    let mut transports = vec![Transport {
        name: "plain",
        url: loopback.server.websocket_url(),
        trust: ServerTrust::system(),
        webrtc: None,
    }];
    if let Some(twin) = &twin {
        transports.push(Transport {
            name: "tls",
            url: twin.server.websocket_url(),
            trust: twin.trust.clone(),
            webrtc: None,
        });
    }
    let all_metrics: Vec<_> = std::iter::once(loopback.server.metrics())
        .chain(twin.as_ref().map(|twin| twin.server.metrics()))
        .collect();
    // Each codec over each transport in turn, so that what is compared runs side by side
    // (the machine's state drifts less between neighbours than across the whole run).
    let transport_count = transports.len();
    let plan: Vec<(usize, StreamCodec)> = codecs
        .iter()
        .flat_map(|codec| (0..transport_count).map(move |transport| (transport, *codec)))
        .collect();
    let runs = runtime.block_on(drag_runs(
        &transports,
        &plan,
        &all_metrics,
        wanted.as_deref(),
        size,
        drag,
        sessions,
    ))?;
    if let Some(twin) = twin {
        twin.server.stop()?;
    }
    loopback.server.stop()?;
    let mut reports = plan
        .iter()
        .zip(runs)
        .map(|(&(transport, codec), runs)| {
            let mut report = aggregate(codec, adapter.clone(), seconds, runs)?;
            report.transport = transports[transport].name.to_string();
            Ok((transport, report))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Reported plain first, then over TLS, each in the codecs' order.
    reports.sort_by_key(|(transport, _)| *transport);
    let reports: Vec<StreamReport> = reports.into_iter().map(|(_, report)| report).collect();
    // Codecs are compared over the plain runs; TLS against plain codec by codec.
    let (plain, over_tls) = reports.split_at(codecs.len());
    let ratios = compare(plain);
    let tls_costs: Vec<TlsCost> = over_tls
        .iter()
        .zip(plain)
        .map(|(tls, plain)| TlsCost::of(tls, plain))
        .collect();
    // Quality only matters side by side, and needs an H.264 encoder.
    let quality = match (
        plain.len() > 1,
        plain.iter().find_map(|r| r.encoder.as_deref()),
    ) {
        (true, Some(encoder)) => {
            let h264 = plain.iter().find(|r| r.encoder.is_some());
            let fps = h264.map_or(INPUTS_PER_S, |r| r.figures.drag_fps);
            // The internal resolution the stream's frames were drawn at, to the budget's
            // step (the sent sides are rounded to even).
            let scale = h264.map_or(1.0, |r| r.figures.picture_scale) as f32;
            let render_scale = InteractiveBudget::SCALES
                .into_iter()
                .min_by(|a, b| (a - scale).abs().total_cmp(&(b - scale).abs()))
                .unwrap_or(1.0);
            Some(
                interactive_quality(
                    path,
                    series,
                    size,
                    fps,
                    render_scale,
                    keyframe_interval,
                    encoder,
                )
                .context("measuring the quality of interactive frames")?,
            )
        }
        _ => None,
    };
    let pairs = against_reference(plain);
    if json {
        let text = match <[StreamReport; 1]>::try_from(reports) {
            Ok([report]) => serde_json::to_string_pretty(&report)?,
            Err(runs) => serde_json::to_string_pretty(&Comparison {
                runs,
                ratios,
                quality,
                tls: tls_costs,
            })?,
        };
        println!("{text}");
        return Ok(());
    }
    for report in &reports {
        print_report(report);
    }
    if let Some(quality) = &quality {
        print_quality(quality);
    }
    for (ratio, (run, base)) in ratios.iter().zip(pairs) {
        print_ratio(ratio, run, base, quality.as_ref());
    }
    for cost in &tls_costs {
        print_tls_cost(cost);
    }
    Ok(())
}

/// Runs `plan`: for each (transport, codec) in order, `sessions` clients drag at once for
/// `drag`, each run starting once the previous one's sessions closed (after a warm-up drag
/// on each transport). The sessions' runs of each step, in order.
pub(super) async fn drag_runs(
    transports: &[Transport],
    plan: &[(usize, StreamCodec)],
    all_metrics: &[std::sync::Arc<hounsfield_server::metrics::Metrics>],
    wanted: Option<&str>,
    size: [u32; 2],
    drag: Duration,
    sessions: usize,
) -> anyhow::Result<Vec<Vec<SessionRun>>> {
    for transport in transports {
        run_session(transport, wanted, size, WARM_UP, StreamCodec::Jpeg)
            .await
            .with_context(|| format!("the warm-up drag ({})", transport.name))?;
    }
    let mut by_run = Vec::with_capacity(plan.len());
    for &(transport, codec) in plan {
        // The previous run's sessions close in the background; each run starts alone.
        let closing = Instant::now();
        while all_metrics.iter().any(|metrics| {
            metrics
                .sessions_active
                .load(std::sync::atomic::Ordering::Acquire)
                > 0
        }) {
            if closing.elapsed() > CLOSE_TIMEOUT {
                anyhow::bail!("the previous run's sessions did not close");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut clients = tokio::task::JoinSet::new();
        for n in 0..sessions {
            let (transport, series) = (transports[transport].clone(), wanted.map(str::to_string));
            clients.spawn(async move {
                let run = run_session(&transport, series.as_deref(), size, drag, codec).await;
                (n, run.with_context(|| format!("session {}", n + 1)))
            });
        }
        let mut runs = Vec::with_capacity(sessions);
        while let Some(joined) = clients.join_next().await {
            let (n, run) = joined.context("a client task failed")?;
            runs.push((n, run?));
        }
        runs.sort_by_key(|(n, _)| *n);
        by_run.push(runs.into_iter().map(|(_, run)| run).collect::<Vec<_>>());
    }
    Ok(by_run)
}

/// Where a benchmark's clients connect: a server's WebSocket address and what they trust
/// of its certificate.
#[derive(Debug, Clone)]
pub(super) struct Transport {
    /// `plain` or `tls` (or `websocket`, `webrtc`), as the reports name it.
    pub(super) name: &'static str,
    /// Frames over WebRTC, this share of media packets lost on the way; `None`: over the
    /// WebSocket.
    pub(super) webrtc: Option<f64>,
    /// The WebSocket address (`ws` or `wss`).
    pub(super) url: String,
    /// What a `wss` server's certificate must satisfy.
    pub(super) trust: ServerTrust,
}

/// What TLS costs: one codec's drag over TLS against the same drag in plain.
#[derive(Debug, Serialize)]
struct TlsCost {
    /// The codec granted.
    codec: String,
    /// Frames/s over TLS over frames/s in plain (goal: above 0.95).
    drag_fps_ratio: f64,
    /// Frames/s over TLS and in plain.
    drag_fps: [f64; 2],
    /// Median input → frame latency over TLS minus in plain (ms; goal: under 2).
    latency_p50_added_ms: f64,
    /// Median latency over TLS and in plain (ms).
    latency_p50_ms: [f64; 2],
    /// 95th percentile latency over TLS and in plain (ms).
    latency_p95_ms: [f64; 2],
    /// From `open` to the first frame over TLS and in plain (ms; the handshake is before).
    first_frame_ms: [f64; 2],
}

impl TlsCost {
    /// The TLS run's figures against the plain run's.
    fn of(tls: &StreamReport, plain: &StreamReport) -> Self {
        let (a, b) = (&tls.figures, &plain.figures);
        Self {
            codec: tls.granted.clone(),
            drag_fps_ratio: if b.drag_fps > 0.0 {
                a.drag_fps / b.drag_fps
            } else {
                f64::NAN
            },
            drag_fps: [a.drag_fps, b.drag_fps],
            latency_p50_added_ms: a.latency_p50_ms - b.latency_p50_ms,
            latency_p50_ms: [a.latency_p50_ms, b.latency_p50_ms],
            latency_p95_ms: [a.latency_p95_ms, b.latency_p95_ms],
            first_frame_ms: [a.first_frame_ms, b.first_frame_ms],
        }
    }
}

/// What TLS costs, as text.
fn print_tls_cost(cost: &TlsCost) {
    println!(
        "tls/plain {}: frames/s {:.1} vs {:.1} ×{:.3} (goal above ×0.95), latency p50 {:.1} vs {:.1} ms ({:+.2} ms, goal under +2), p95 {:.1} vs {:.1} ms, first frame {:.0} vs {:.0} ms",
        cost.codec,
        cost.drag_fps[0],
        cost.drag_fps[1],
        cost.drag_fps_ratio,
        cost.latency_p50_ms[0],
        cost.latency_p50_ms[1],
        cost.latency_p50_added_ms,
        cost.latency_p95_ms[0],
        cost.latency_p95_ms[1],
        cost.first_frame_ms[0],
        cost.first_frame_ms[1]
    );
}

/// The quality of each codec's interactive frames, as text.
fn print_quality(quality: &QualityReport) {
    let equal = match (
        quality.h264_bytes_per_frame_at_jpeg_psnr,
        quality.equal_quality_ratio,
    ) {
        (Some(bytes), Some(ratio)) => {
            format!("{:.1} kB a frame, ×{ratio:.2} JPEG's bytes", bytes / 1000.0)
        }
        _ => {
            let by_bytes =
                |a: &&LadderRung, b: &&LadderRung| a.bytes_per_frame.total_cmp(&b.bytes_per_frame);
            let lowest = quality.h264_ladder.iter().min_by(by_bytes);
            let highest = quality.h264_ladder.iter().max_by(by_bytes);
            match (lowest, highest) {
                (Some(low), _) if low.psnr_db >= quality.jpeg_psnr_db => format!(
                    "above it at every bitrate tried, down to {} kbit/s ({:.1} dB, {:.1} kB a frame, ×{:.2} JPEG's bytes)",
                    low.kbps,
                    low.psnr_db,
                    low.bytes_per_frame / 1000.0,
                    low.bytes_per_frame / quality.jpeg_bytes_per_frame.max(1.0)
                ),
                (_, Some(high)) => format!(
                    "below it at every bitrate tried, up to {} kbit/s ({:.1} dB, {:.1} kB a frame)",
                    high.kbps,
                    high.psnr_db,
                    high.bytes_per_frame / 1000.0
                ),
                _ => "not measured".to_string(),
            }
        }
    };
    let same_size = quality
        .same_size_equal_quality_ratio
        .map_or("outside the ladder".to_string(), |ratio| {
            format!("×{ratio:.2}")
        });
    let at_h264 = match (
        quality.jpeg_bytes_per_frame_at_h264_psnr,
        quality.ratio_at_h264_psnr,
    ) {
        (Some(bytes), Some(ratio)) => format!(
            "JPEG at H.264's PSNR: {:.1} kB a frame, H.264 ×{ratio:.2} its bytes",
            bytes / 1000.0
        ),
        _ => "JPEG at H.264's PSNR: outside JPEG's ladder".to_string(),
    };
    println!(
        "quality of {} interactive frames of the drag ({:.1}° a frame, drawn at {:.2} of the view's sides, keyframes every {:.0} s), rendered here and encoded as the server does, shown at {}×{}: JPEG q{} {:.1} dB PSNR ({:.1} kB a frame), H.264 ({}, sent at {}×{}, {} kbit/s at {:.1} frames/s) {:.1} dB ({:.1} kB a frame); H.264 at JPEG's PSNR: {equal}; the same with H.264 sent at the view's size: {same_size}; {at_h264}",
        quality.frames,
        quality.orbit_deg_per_frame,
        quality.render_scale,
        quality.keyframe_interval_s,
        quality.size[0],
        quality.size[1],
        quality.jpeg_quality,
        quality.jpeg_psnr_db,
        quality.jpeg_bytes_per_frame / 1000.0,
        quality.h264_encoder,
        quality.h264_size[0],
        quality.h264_size[1],
        quality.h264_kbps,
        quality.fps,
        quality.h264_psnr_db,
        quality.h264_bytes_per_frame / 1000.0
    );
}

/// Run `a` against the reference `b`, as text: the ratios, and the figures they come from.
fn print_ratio(
    ratio: &Ratios,
    a: &StreamReport,
    b: &StreamReport,
    quality: Option<&QualityReport>,
) {
    let psnr = match (quality, a.granted.as_str(), b.granted.as_str()) {
        (Some(q), "h264", "jpeg") => {
            format!(", PSNR {:.1} vs {:.1} dB", q.h264_psnr_db, q.jpeg_psnr_db)
        }
        _ => String::new(),
    };
    println!(
        "{}: kbit/s {:.0} vs {:.0} ×{:.2}, latency p50 {:.0} vs {:.0} ms ×{:.2}, p95 {:.0} vs {:.0} ms ×{:.2} (decoded p50 ×{:.2}), frames/s ×{:.2}, encode {:.2} vs {:.2} ms a frame ×{:.2}{psnr}",
        ratio.codecs,
        a.figures.kbit_s,
        b.figures.kbit_s,
        ratio.kbit_s,
        a.figures.latency_p50_ms,
        b.figures.latency_p50_ms,
        ratio.latency_p50_ms,
        a.figures.latency_p95_ms,
        b.figures.latency_p95_ms,
        ratio.latency_p95_ms,
        ratio.decoded_latency_p50_ms,
        ratio.drag_fps,
        a.figures.encode_ms,
        b.figures.encode_ms,
        ratio.encode_ms
    );
}

/// One codec's figures, as text.
pub(super) fn print_report(report: &StreamReport) {
    let codec = match (&report.encoder, &report.fallback) {
        (Some(encoder), _) => format!("{} ({encoder})", report.granted),
        (None, Some(why)) => format!("{} ({} asked: {why})", report.granted, report.codec),
        (None, None) => report.granted.clone(),
    };
    println!(
        "stream {codec}{} {}×{} of {:?} on {}, {} session{}, {:.0} s drag: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms p99 {:.0} ms (decoded p50 {:.0} p95 {:.0} p99 {:.0}), {:.0} kbit/s ({:.1} kB a frame, {} keyframes), render {:.1} ms, encode {:.2} ms, decode {:.2} ms a frame, final still {:.0} ms after the last input",
        match (report.transport.as_str(), report.loss_percent) {
            ("plain", _) => String::new(),
            ("tls", _) => " over TLS".to_string(),
            ("webrtc", Some(loss)) if loss > 0.0 =>
                format!(" over WebRTC, {loss:.0} % of media packets lost"),
            ("webrtc", _) => " over WebRTC".to_string(),
            ("websocket", Some(loss)) if loss > 0.0 =>
                format!(" over the WebSocket, {loss:.0} % of TCP packets lost"),
            ("websocket", _) => " over the WebSocket".to_string(),
            (other, _) => format!(" ({other})"),
        },
        report.size[0],
        report.size[1],
        report.volume,
        report.adapter,
        report.sessions,
        if report.sessions == 1 { "" } else { "s" },
        report.seconds,
        report.figures.first_frame_ms,
        report.figures.first_still_ms,
        report.figures.drag_fps,
        report.figures.latency_p50_ms,
        report.figures.latency_p95_ms,
        report.figures.latency_p99_ms,
        report.figures.decoded_latency_p50_ms,
        report.figures.decoded_latency_p95_ms,
        report.figures.decoded_latency_p99_ms,
        report.figures.kbit_s,
        report.figures.mean_frame_bytes / 1000.0,
        report.figures.keyframes,
        report.figures.render_ms,
        report.figures.encode_ms,
        report.figures.decode_ms,
        report.figures.still_after_drag_ms
    );
    if report.sessions > 1 {
        for (n, session) in report.per_session.iter().enumerate() {
            println!(
                "  session {}: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms, {:.0} kbit/s, final still {:.0} ms after the last input",
                n + 1,
                session.figures.first_frame_ms,
                session.figures.first_still_ms,
                session.figures.drag_fps,
                session.figures.latency_p50_ms,
                session.figures.latency_p95_ms,
                session.figures.kbit_s,
                session.figures.still_after_drag_ms
            );
        }
    }
}

/// The run the others are compared with: the first that streamed JPEG, else the first.
fn reference(reports: &[StreamReport]) -> Option<usize> {
    reports
        .iter()
        .position(|report| report.granted == "jpeg")
        .or((!reports.is_empty()).then_some(0))
}

/// The runs other than the reference, in order, each with the reference.
fn against_reference(reports: &[StreamReport]) -> Vec<(&StreamReport, &StreamReport)> {
    let Some(reference) = reference(reports) else {
        return Vec::new();
    };
    reports
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != reference)
        .map(|(_, report)| (report, &reports[reference]))
        .collect()
}

/// Each run's figures over the reference's (see [`reference`]).
fn compare(reports: &[StreamReport]) -> Vec<Ratios> {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    against_reference(reports)
        .into_iter()
        .map(|(report, base)| Ratios {
            codecs: format!("{}/{}", report.granted, base.granted),
            kbit_s: ratio(report.figures.kbit_s, base.figures.kbit_s),
            latency_p50_ms: ratio(report.figures.latency_p50_ms, base.figures.latency_p50_ms),
            latency_p95_ms: ratio(report.figures.latency_p95_ms, base.figures.latency_p95_ms),
            decoded_latency_p50_ms: ratio(
                report.figures.decoded_latency_p50_ms,
                base.figures.decoded_latency_p50_ms,
            ),
            drag_fps: ratio(report.figures.drag_fps, base.figures.drag_fps),
            encode_ms: ratio(report.figures.encode_ms, base.figures.encode_ms),
        })
        .collect()
}

/// The sessions' figures together: the slowest for waits, means for rates, pooled latencies.
pub(super) fn aggregate(
    codec: StreamCodec,
    adapter: String,
    seconds: f64,
    runs: Vec<SessionRun>,
) -> anyhow::Result<StreamReport> {
    let Some(first) = runs.first() else {
        anyhow::bail!("no session completed");
    };
    let (series, volume, size) = (first.series.clone(), first.volume, first.size);
    let (granted, encoder, fallback) =
        (first.granted, first.encoder.clone(), first.fallback.clone());
    let slowest =
        |pick: fn(&SessionReport) -> f64| runs.iter().map(|r| pick(&r.report)).fold(0.0, f64::max);
    let mean = |pick: fn(&SessionReport) -> f64| {
        runs.iter().map(|r| pick(&r.report)).sum::<f64>() / runs.len() as f64
    };
    let pooled = |pick: fn(&SessionRun) -> &Vec<f64>| {
        let mut all: Vec<f64> = runs.iter().flat_map(|r| pick(r).clone()).collect();
        all.sort_by(f64::total_cmp);
        all
    };
    let latencies = pooled(|r| &r.latencies_ms);
    let decoded = pooled(|r| &r.decoded_latencies_ms);
    let frames: usize = runs.iter().map(|r| r.report.figures.frames).sum();
    let bytes: usize = runs.iter().map(|r| r.frame_bytes).sum();
    let report = StreamReport {
        transport: "plain".to_string(),
        loss_percent: None,
        codec: codec_name(codec).to_string(),
        granted: granted_name(granted).to_string(),
        encoder,
        fallback,
        adapter,
        series,
        volume,
        size,
        sessions: runs.len(),
        seconds,
        inputs_per_s: INPUTS_PER_S,
        orbit_deg_per_input: ORBIT_DEG_PER_INPUT,
        figures: Figures {
            first_frame_ms: slowest(|r| r.figures.first_frame_ms),
            first_still_ms: slowest(|r| r.figures.first_still_ms),
            drag_fps: mean(|r| r.figures.drag_fps),
            latency_p50_ms: percentile(&latencies, 0.50),
            latency_p95_ms: percentile(&latencies, 0.95),
            latency_p99_ms: percentile(&latencies, 0.99),
            decoded_latency_p50_ms: percentile(&decoded, 0.50),
            decoded_latency_p95_ms: percentile(&decoded, 0.95),
            decoded_latency_p99_ms: percentile(&decoded, 0.99),
            kbit_s: runs.iter().map(|r| r.report.figures.kbit_s).sum(),
            frames,
            keyframes: runs.iter().map(|r| r.report.figures.keyframes).sum(),
            mean_frame_bytes: bytes as f64 / frames.max(1) as f64,
            render_ms: mean(|r| r.figures.render_ms),
            encode_ms: mean(|r| r.figures.encode_ms),
            decode_ms: mean(|r| r.figures.decode_ms),
            picture_scale: mean(|r| r.figures.picture_scale),
            still_after_drag_ms: slowest(|r| r.figures.still_after_drag_ms),
        },
        per_session: Vec::new(),
    };
    Ok(StreamReport {
        per_session: runs.into_iter().map(|r| r.report).collect(),
        ..report
    })
}

/// A frame as this client got it: when it arrived and when it was decoded.
struct Arrival {
    frame: Frame,
    decoded: Instant,
    decode: Duration,
    /// Whether it decoded into a picture (after lost packets an H.264 frame may not, until
    /// the next keyframe).
    shown: bool,
}

/// Decodes frames as they arrive, asking for a keyframe when the H.264 stream needs one.
struct Receiver {
    decoder: FrameDecoder,
    arrivals: Vec<Arrival>,
    /// Inputs answered so far (the first frame naming each).
    answered: HashSet<u32>,
    /// Latencies since the last report to the server (ms).
    recent_ms: Vec<f64>,
    /// When a keyframe was last asked for.
    asked: Option<Instant>,
}

impl Receiver {
    fn new() -> Self {
        Self {
            decoder: FrameDecoder::new(),
            arrivals: Vec::new(),
            answered: HashSet::new(),
            recent_ms: Vec::new(),
            asked: None,
        }
    }

    /// Decodes `frame` and keeps it; asks `client` for a keyframe when decoding says so.
    async fn take(
        &mut self,
        client: &mut Client,
        frame: Frame,
        sent: &HashMap<u32, Instant>,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let shown = match self.decoder.decode(&frame) {
            Ok(_) => true,
            Err(error) if error.wants_keyframe() => {
                // Once in a while, as the web client does: the frames that follow a lost
                // one fail alike until the keyframe comes.
                if self
                    .asked
                    .is_none_or(|at| at.elapsed() >= KEYFRAME_ASK_EVERY)
                {
                    tracing::warn!(%error, "asking for a keyframe");
                    self.asked = Some(Instant::now());
                    client.keyframe().await?;
                }
                false
            }
            Err(error) => return Err(error).context("decoding a frame"),
        };
        let decoded = Instant::now();
        let seq = frame.header.input_seq;
        if let Some(at) = sent.get(&seq)
            && self.answered.insert(seq)
        {
            self.recent_ms
                .push(ms(frame.received.saturating_duration_since(*at)));
        }
        self.arrivals.push(Arrival {
            frame,
            decoded,
            decode: decoded - started,
            shown,
        });
        Ok(())
    }

    /// What to tell the server about the last second: nothing waits in this client (it
    /// decodes each frame as it comes), and the median latency.
    fn report(&mut self) -> ClientStats {
        self.recent_ms.sort_by(f64::total_cmp);
        let latency_ms = (!self.recent_ms.is_empty()).then(|| percentile(&self.recent_ms, 0.5));
        self.recent_ms.clear();
        ClientStats {
            decode_queue: 0,
            latency_ms,
        }
    }
}

/// One client: hello (offering `codec`), list, open (timing the first frame and the first
/// final still), a drag of orbit inputs at [`INPUTS_PER_S`] for `drag`, then the release
/// and its final still. Every frame is decoded on arrival.
async fn run_session(
    transport: &Transport,
    series: Option<&str>,
    size: [u32; 2],
    drag: Duration,
    codec: StreamCodec,
) -> anyhow::Result<SessionRun> {
    let webrtc = transport.webrtc.filter(|_| codec == StreamCodec::H264);
    let offered: &[TransportKind] = if webrtc.is_some() {
        &[TransportKind::Webrtc, TransportKind::Websocket]
    } else {
        &[]
    };
    let (mut client, welcome, chosen) = greet_over(
        &transport.url,
        &transport.trust,
        series,
        size,
        codec,
        offered,
    )
    .await?;
    if webrtc.is_some() && !welcome.transports.contains(&TransportKind::Webrtc) {
        anyhow::bail!(
            "the server offered no WebRTC (H.264: {:?})",
            welcome.encoder.as_deref().or(welcome.fallback.as_deref())
        );
    }
    let mut sent: HashMap<u32, Instant> = HashMap::new();
    let mut receiver = Receiver::new();

    let open_sent = Instant::now();
    let opened = in_time("open", client.open(&chosen.id)).await?;
    let first = in_time("the first frame", client.next_frame()).await?;
    let first_frame_ms = ms(first.received - open_sent);
    let mut still = first.clone();
    receiver.take(&mut client, first, &sent).await?;
    while !still.header.flags.final_still() {
        still = in_time("the first final still", client.next_frame()).await?;
        receiver.take(&mut client, still.clone(), &sent).await?;
    }
    let first_still_ms = ms(still.received - open_sent);
    let (mut peer, _relay, mut rtp) = match webrtc {
        Some(loss) => {
            let (peer, relay, rtp) = over_webrtc(&mut client, &mut receiver, loss).await?;
            (Some(peer), relay, rtp)
        }
        None => (None, None, RtpFrames::default()),
    };
    let opening_frames = receiver.arrivals.len();

    in_time("interact", client.input(Action::Interact { active: true })).await?;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut reports = tokio::time::interval(REPORT_EVERY);
    reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let drag_started = Instant::now();
    let drag_ends = drag_started + drag;
    let mut last_orbit = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if Instant::now() >= drag_ends {
                    break;
                }
                let at = Instant::now();
                let orbit = Action::Orbit { dx: ORBIT_DEG_PER_INPUT, dy: 0.0 };
                let seq = match &peer {
                    // Over the data channel, unordered and not retransmitted.
                    Some(peer) => {
                        let (seq, json) = client.input_json(orbit)?;
                        peer.send_input(json);
                        seq
                    }
                    None => client.input(orbit).await?,
                };
                sent.insert(seq, at);
                last_orbit = seq;
            }
            _ = reports.tick() => {
                let stats = receiver.report();
                client.report(stats).await?;
            }
            event = client.next_event() => match event? {
                Event::Frame(frame) => receiver.take(&mut client, frame, &sent).await?,
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("server error {code:?} while dragging: {message}");
                }
                Event::Message(ServerMessage::Codec { codec, reason }) => {
                    tracing::warn!(?codec, %reason, "the server changed the codec");
                }
                Event::Message(ServerMessage::Transport { transport, reason }) => {
                    tracing::warn!(?transport, ?reason, "the server moved the frames");
                    if transport == TransportKind::Websocket {
                        peer = None;
                    }
                }
                Event::Message(_) => {}
            },
            arrival = next_arrival(&mut peer) => {
                match arrival {
                    Some(RtpArrival::Closed(why)) => anyhow::bail!("the WebRTC peer failed: {why}"),
                    None => anyhow::bail!("the WebRTC peer stopped"),
                    Some(arrival) => {
                        for frame in rtp.take(arrival) {
                            receiver.take(&mut client, frame, &sent).await?;
                        }
                    }
                }
            }
        }
    }
    drop(peer);
    let released = Instant::now();
    client.input(Action::Interact { active: false }).await?;
    // The release changes nothing by itself: the still answers the last orbit. A pause
    // in the drag just before the release may already have brought it.
    let answers_drag =
        |frame: &Frame| frame.header.flags.final_still() && frame.header.input_seq >= last_orbit;
    let already = receiver
        .arrivals
        .last()
        .filter(|arrival| answers_drag(&arrival.frame))
        .map(|arrival| arrival.frame.received);
    let still_received = match already {
        Some(received) => received,
        None => loop {
            let frame = in_time("the final still after the drag", client.next_frame()).await?;
            let (done, received) = (answers_drag(&frame), frame.received);
            receiver.take(&mut client, frame, &sent).await?;
            if done {
                break received;
            }
        },
    };
    let last_input = sent.get(&last_orbit).copied().unwrap_or(released);
    let still_after_drag = still_received.saturating_duration_since(last_input);
    // Best effort: the figures are in.
    let _ = client.close().await;

    let measured = Measured::of(
        &receiver.arrivals[opening_frames..],
        &sent,
        (drag_started, released),
    );
    let report = SessionReport {
        figures: measured.figures(first_frame_ms, first_still_ms, still_after_drag),
        inputs: sent.len(),
    };
    let Measured {
        latencies_ms,
        decoded_latencies_ms,
        frame_bytes,
        ..
    } = measured;
    Ok(SessionRun {
        node: welcome.node.clone(),
        report,
        latencies_ms,
        decoded_latencies_ms,
        frame_bytes,
        series: opened.series,
        volume: opened.dims,
        size: [welcome.viewport.width, welcome.viewport.height],
        granted: welcome.codec,
        encoder: welcome.encoder,
        fallback: welcome.fallback,
    })
}

/// What a drag's frames measured: the frames received while it lasted, and the latency
/// of each input they answer (on arrival and once decoded).
struct Measured<'a> {
    during: Vec<&'a Arrival>,
    drag_s: f64,
    latencies_ms: Vec<f64>,
    decoded_latencies_ms: Vec<f64>,
    frame_bytes: usize,
}

impl<'a> Measured<'a> {
    /// The figures of `arrivals` (after the opening frames) for the drag from `started` to
    /// `released`, whose inputs were `sent`.
    fn of(
        arrivals: &'a [Arrival],
        sent: &HashMap<u32, Instant>,
        (started, released): (Instant, Instant),
    ) -> Self {
        let during: Vec<&Arrival> = arrivals
            .iter()
            .filter(|a| a.frame.received < released)
            .collect();
        let frame_bytes = during
            .iter()
            .map(|a| a.frame.payload.len() + FrameHeader::LEN)
            .sum();
        Self {
            during,
            drag_s: (released - started).as_secs_f64().max(1e-3),
            latencies_ms: input_latencies_ms(arrivals, sent, |a| a.frame.received),
            decoded_latencies_ms: shown_latencies_ms(arrivals, sent),
            frame_bytes,
        }
    }

    /// The session's figures, with its opening times and the final still's wait.
    fn figures(
        &self,
        first_frame_ms: f64,
        first_still_ms: f64,
        still_after_drag: Duration,
    ) -> Figures {
        let sorted = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted
        };
        let (by_arrival, by_decode) = (
            sorted(&self.latencies_ms),
            sorted(&self.decoded_latencies_ms),
        );
        let during = &self.during;
        let count = during.len().max(1) as f64;
        let mean_header_ms = |pick: fn(&FrameHeader) -> u32| {
            during
                .iter()
                .map(|a| f64::from(pick(&a.frame.header)) / 1000.0)
                .sum::<f64>()
                / count
        };
        Figures {
            first_frame_ms,
            first_still_ms,
            drag_fps: during.len() as f64 / self.drag_s,
            latency_p50_ms: percentile(&by_arrival, 0.50),
            latency_p95_ms: percentile(&by_arrival, 0.95),
            latency_p99_ms: percentile(&by_arrival, 0.99),
            decoded_latency_p50_ms: percentile(&by_decode, 0.50),
            decoded_latency_p95_ms: percentile(&by_decode, 0.95),
            decoded_latency_p99_ms: percentile(&by_decode, 0.99),
            kbit_s: self.frame_bytes as f64 * 8.0 / 1000.0 / self.drag_s,
            frames: during.len(),
            keyframes: during
                .iter()
                .filter(|a| a.frame.header.codec == Codec::H264 && a.frame.header.flags.keyframe())
                .count(),
            mean_frame_bytes: self.frame_bytes as f64 / count,
            render_ms: mean_header_ms(|h| h.render_us),
            encode_ms: mean_header_ms(|h| h.encode_us),
            decode_ms: during.iter().map(|a| ms(a.decode)).sum::<f64>() / count,
            picture_scale: during
                .iter()
                .map(|a| {
                    let header = &a.frame.header;
                    f64::from(header.width) / f64::from(header.display_width.max(1))
                })
                .sum::<f64>()
                / count,
            still_after_drag_ms: ms(still_after_drag),
        }
    }
}

/// Least time between two keyframe requests of a client.
const KEYFRAME_ASK_EVERY: Duration = Duration::from_millis(500);

/// Longest wait for the frames to move to WebRTC before the measured drag.
const SWITCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Moves the session's frames to WebRTC before the measured drag: the offer answered
/// (through a relay losing `loss` of the media packets, when above 0), then small orbits
/// over the WebSocket until the server says the frames go over RTP. The frames on the way
/// are decoded (not measured). The peer, the relay (kept while the peer needs it) and the
/// pairing of access units with their notes.
async fn over_webrtc(
    client: &mut Client,
    receiver: &mut Receiver,
    loss: f64,
) -> anyhow::Result<(PeerTask, Option<LossyRelay>, RtpFrames)> {
    let relay = if loss > 0.0 {
        Some(LossyRelay::bind(Ipv4Addr::LOCALHOST.into(), loss, RELAY_SEED).await?)
    } else {
        None
    };
    let mut peer = in_time(
        "the WebRTC answer",
        PeerTask::negotiate_through(client, relay.as_ref()),
    )
    .await?;
    let mut rtp = RtpFrames::default();
    let unmeasured = HashMap::new();
    let deadline = Instant::now() + SWITCH_TIMEOUT;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if Instant::now() > deadline {
                    anyhow::bail!("the frames did not move to WebRTC within {SWITCH_TIMEOUT:?}");
                }
                client.input(Action::Orbit { dx: 0.5, dy: 0.0 }).await?;
            }
            event = client.next_event() => match event? {
                Event::Frame(frame) => receiver.take(client, frame, &unmeasured).await?,
                Event::Message(ServerMessage::Transport { transport: TransportKind::Webrtc, .. }) => {
                    return Ok((peer, relay, rtp));
                }
                Event::Message(ServerMessage::Transport { reason, .. }) => {
                    anyhow::bail!("WebRTC did not take the frames: {}", reason.unwrap_or_default());
                }
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("server error {code:?} while moving to WebRTC: {message}");
                }
                Event::Message(_) => {}
            },
            arrival = peer.next() => match arrival {
                Some(RtpArrival::Closed(why)) => anyhow::bail!("the WebRTC peer failed: {why}"),
                Some(arrival) => {
                    for frame in rtp.take(arrival) {
                        receiver.take(client, frame, &unmeasured).await?;
                    }
                }
                None => anyhow::bail!("the WebRTC peer stopped"),
            },
        }
    }
}

/// Which media packets the lossy relay drops: the same in every run.
const RELAY_SEED: u64 = 0x4846_5244;

/// For each input a frame names (its `input_seq`; the first frame naming it), the time
/// from sending that input to the frame's moment `at` (arrival or decoded). Inputs folded
/// into a later frame are not named and not counted.
fn input_latencies_ms(
    arrivals: &[Arrival],
    sent: &HashMap<u32, Instant>,
    at: fn(&Arrival) -> Instant,
) -> Vec<f64> {
    let mut named = HashSet::new();
    arrivals
        .iter()
        .filter(|arrival| named.insert(arrival.frame.header.input_seq))
        .filter_map(|arrival| {
            let sent_at = sent.get(&arrival.frame.header.input_seq)?;
            Some(ms(at(arrival).saturating_duration_since(*sent_at)))
        })
        .collect()
}

/// For each input a frame names, the time from sending it to the first frame decoded into
/// a picture that reflects it (names it or a later input): what the user waits, a frame
/// that failed to decode (after lost packets, until the keyframe) showing nothing.
fn shown_latencies_ms(arrivals: &[Arrival], sent: &HashMap<u32, Instant>) -> Vec<f64> {
    let named: std::collections::BTreeSet<u32> = arrivals
        .iter()
        .map(|arrival| arrival.frame.header.input_seq)
        .filter(|seq| sent.contains_key(seq))
        .collect();
    let mut waiting = named.into_iter().peekable();
    let mut latencies = Vec::new();
    for arrival in arrivals.iter().filter(|arrival| arrival.shown) {
        while let Some(seq) = waiting.next_if(|seq| *seq <= arrival.frame.header.input_seq) {
            if let Some(sent_at) = sent.get(&seq) {
                latencies.push(ms(arrival.decoded.saturating_duration_since(*sent_at)));
            }
        }
    }
    latencies
}
