//! `hounsfield bench stream`: the streaming server in this process on a loopback port and
//! N Rust clients that open a series and drag at once, as a user would, decoding every
//! frame as they go (FFmpeg for H.264). Measures the time from `open` to the first image,
//! frames per second and input → frame latency while dragging (on arrival and once
//! decoded), the bit rate, render, encode and decode times, and the final still after the
//! drag ends. With several codecs the same scripted drag runs once for each against the
//! same server, and the figures are printed side by side with their ratios to JPEG's.

pub(super) mod fidelity;
mod receiver;
mod report;
mod session;
mod still_reader;
mod webrtc;

use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::webrtc::Arrival as RtpArrival;
use hounsfield_protocol::Codec;
use hounsfield_tls::ServerTrust;
use render_core::gpu::InteractiveBudget;
use serde::Serialize;

use super::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT, codec_name, granted_name, percentile};
use super::memory::{MemoryFigures, ResidentParts};
use super::quality::{QualityReport, interactive_quality};
use crate::cli::{StreamArgs, StreamCodec};

pub(super) use report::print_report;
use report::{TlsCost, against_reference, compare, print_quality, print_ratio, print_tls_cost};
use session::run_session;
use still_reader::{StillReading, read_stills};

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
    /// follows that input at once, as a mouse-up follows the last motion).
    still_after_drag_ms: f64,
    /// From the drag's last orbit input to the first sharp picture that answers it: the
    /// refining image drawn before the final still (the final still when none came).
    sharp_after_drag_ms: f64,
    /// Of that time: waiting (the input's way to the server, the frame in hand when it
    /// came, the render thread's turn), what is left of it after the three below.
    sharp_waiting_ms: f64,
    /// Of that time: rendering the sharp picture (from its header).
    sharp_render_ms: f64,
    /// Of that time: encoding it (from its header).
    sharp_encode_ms: f64,
    /// Of that time: sending, from the encoding's end to the socket written, the server's
    /// mean a frame over the run (`hounsfield_send_ms_sum`).
    sharp_sending_ms: f64,
}

impl Figures {
    /// Splits the sharp picture's wait, given the server's mean sending time a frame
    /// over the run.
    fn apportion(&mut self, sending_ms: f64) {
        self.sharp_sending_ms = sending_ms;
        self.sharp_waiting_ms =
            (self.sharp_after_drag_ms - self.sharp_render_ms - self.sharp_encode_ms - sending_ms)
                .max(0.0);
    }
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
    /// Resident memory against the voxels.
    #[serde(flatten)]
    memory: MemoryFigures,
    /// The drag's frames as the first session showed them against the sharp image of the
    /// same views (`bench stream` alone measures it).
    #[serde(flatten)]
    fidelity: Option<fidelity::Fidelity>,
    /// What the sessions that only read stills saw beside the drags (`--still-readers`).
    #[serde(flatten)]
    still_reading: Option<StillReading>,
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
    /// The render node that served the session, when it named one (the proxy bench's
    /// spread of sessions over nodes).
    #[cfg(feature = "test-bench")]
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
    /// Resident memory at the end of the drag, and its high-water mark then (MiB).
    rss_mib: Option<f64>,
    peak_rss_mib: Option<f64>,
    /// The resident set's parts at the same moment.
    rss_parts: Option<ResidentParts>,
    /// Interactive frames kept for [`fidelity`], when the session kept them.
    samples: Vec<fidelity::Sample>,
}

/// Starts the server on 127.0.0.1 (any free port) with the series at `path` (the built-in
/// phantom without one), runs `sessions` clients that each open the series and drag for
/// `seconds`, once for each codec (and each again over TLS with `--tls`), and prints the
/// figures.
pub(super) fn run(args: &StreamArgs) -> anyhow::Result<()> {
    let StreamArgs {
        ref path,
        ref series,
        sessions,
        size,
        seconds,
        ref codec,
        json,
        tls,
        still_readers,
        ..
    } = *args;
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
    let still_readers = usize::from(still_readers);
    let runtime = hounsfield_workstation::renderer::runtime()?;
    let loopback = super::loopback::start(path, |config| {
        config.max_sessions = sessions + still_readers;
    })?;
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
        Crowd {
            sessions,
            still_readers,
        },
        true,
    ))?;
    if let Some(twin) = twin {
        twin.server.stop()?;
    }
    loopback.server.stop()?;
    let mut reports = plan
        .iter()
        .zip(runs)
        .map(|(&(transport, codec), run)| {
            let DragRun {
                sessions: mut runs,
                still_reading,
            } = run;
            let samples = runs
                .first_mut()
                .map(|run| std::mem::take(&mut run.samples))
                .unwrap_or_default();
            let mut report = aggregate(codec, adapter.clone(), seconds, runs)?;
            report.transport = transports[transport].name.to_string();
            report.still_reading = still_reading;
            // The series the sessions opened, whichever the server chose.
            let opened = series.or(Some(report.series.as_str()));
            report.fidelity = fidelity::measure(path, opened, report.size, &samples)
                .context("comparing the drag's frames with sharp images")?;
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

/// Who takes part in each run of a drag.
#[derive(Debug, Clone, Copy)]
pub(super) struct Crowd {
    /// Clients dragging at once.
    pub(super) sessions: usize,
    /// Clients beside them that only read stills ([`still_reader`]).
    pub(super) still_readers: usize,
}

/// One step of a plan: the dragging sessions' runs in order, and what the still readers
/// saw meanwhile (when there were any).
pub(super) struct DragRun {
    /// The dragging sessions' runs.
    pub(super) sessions: Vec<SessionRun>,
    /// The still readers' waits together.
    pub(super) still_reading: Option<StillReading>,
}

/// Runs `plan`: for each (transport, codec) in order, `crowd`'s clients drag (or read
/// stills) at once for `drag`, each run starting once the previous one's sessions closed
/// (after a warm-up drag on each transport). With `sampling`, the first session of each
/// keeps a few of its frames for [`fidelity`].
#[allow(clippy::too_many_arguments)] // The plan, where it runs, and how each drag goes.
pub(super) async fn drag_runs(
    transports: &[Transport],
    plan: &[(usize, StreamCodec)],
    all_metrics: &[std::sync::Arc<hounsfield_server::metrics::Metrics>],
    wanted: Option<&str>,
    size: [u32; 2],
    drag: Duration,
    crowd: Crowd,
    sampling: bool,
) -> anyhow::Result<Vec<DragRun>> {
    let Crowd {
        sessions,
        still_readers,
    } = crowd;
    // Frames sent and their sending time so far, over every server.
    let sent_so_far = || {
        let load = |counter: &std::sync::atomic::AtomicU64| {
            counter.load(std::sync::atomic::Ordering::Acquire)
        };
        all_metrics.iter().fold((0, 0), |(frames, us), metrics| {
            (
                frames + load(&metrics.frames_total),
                us + load(&metrics.send_us_total),
            )
        })
    };
    for transport in transports {
        run_session(transport, wanted, size, WARM_UP, StreamCodec::Jpeg, false)
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
        let before = sent_so_far();
        let mut clients = tokio::task::JoinSet::new();
        for n in 0..sessions {
            let (transport, series) = (transports[transport].clone(), wanted.map(str::to_string));
            let sampling = sampling && n == 0;
            clients.spawn(async move {
                let run =
                    run_session(&transport, series.as_deref(), size, drag, codec, sampling).await;
                (n, run.with_context(|| format!("session {}", n + 1)))
            });
        }
        let mut readers = tokio::task::JoinSet::new();
        for n in 0..still_readers {
            let (transport, series) = (transports[transport].clone(), wanted.map(str::to_string));
            readers.spawn(async move {
                read_stills(&transport, series.as_deref(), size, drag)
                    .await
                    .with_context(|| format!("still reader {}", n + 1))
            });
        }
        let mut runs = Vec::with_capacity(sessions);
        while let Some(joined) = clients.join_next().await {
            let (n, run) = joined.context("a client task failed")?;
            runs.push((n, run?));
        }
        runs.sort_by_key(|(n, _)| *n);
        let after = sent_so_far();
        let sending_ms =
            (after.1 - before.1) as f64 / 1000.0 / (after.0.saturating_sub(before.0)).max(1) as f64;
        for (_, run) in &mut runs {
            run.report.figures.apportion(sending_ms);
        }
        let mut waits = Vec::with_capacity(still_readers);
        let mut unanswered = 0;
        while let Some(joined) = readers.join_next().await {
            let (reader_waits, left) = joined.context("a still reader's task failed")??;
            waits.push(reader_waits);
            unanswered += usize::from(left);
        }
        by_run.push(DragRun {
            sessions: runs.into_iter().map(|(_, run)| run).collect(),
            still_reading: (still_readers > 0)
                .then(|| StillReading::of(still_readers, &waits, unanswered)),
        });
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
    let most = |pick: fn(&SessionRun) -> Option<f64>| runs.iter().filter_map(pick).reduce(f64::max);
    // The parts as the session that saw the most resident saw them.
    let parts = runs
        .iter()
        .filter(|r| r.rss_mib.is_some())
        .max_by(|a, b| {
            a.rss_mib
                .unwrap_or(0.0)
                .total_cmp(&b.rss_mib.unwrap_or(0.0))
        })
        .and_then(|r| r.rss_parts);
    let memory =
        MemoryFigures::of(volume, most(|r| r.rss_mib), most(|r| r.peak_rss_mib)).with_parts(parts);
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
            sharp_after_drag_ms: slowest(|r| r.figures.sharp_after_drag_ms),
            sharp_waiting_ms: mean(|r| r.figures.sharp_waiting_ms),
            sharp_render_ms: mean(|r| r.figures.sharp_render_ms),
            sharp_encode_ms: mean(|r| r.figures.sharp_encode_ms),
            sharp_sending_ms: mean(|r| r.figures.sharp_sending_ms),
        },
        memory,
        fidelity: None,
        still_reading: None,
        per_session: Vec::new(),
    };
    Ok(StreamReport {
        per_session: runs.into_iter().map(|r| r.report).collect(),
        ..report
    })
}
