//! `hounsfield bench stream`: the streaming server in this process on a loopback port and
//! N Rust clients that open a series and drag at once, as a user would. Measures the time
//! from `open` to the first image, frames per second and input → frame latency while
//! dragging, the bit rate, and the final still after the drag ends.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use server_mode::client::{Client, Event, Frame};
use server_mode::protocol::{Action, FrameHeader, SeriesInfo, ServerMessage, StudyInfo, Viewport};
use server_mode::{Library, Server, ServerConfig};

/// Inputs a second while dragging (a mouse reports about this often).
const INPUTS_PER_S: f64 = 30.0;
/// Azimuth per orbit input (degrees).
const ORBIT_DEG_PER_INPUT: f64 = 5.0;
/// Longest wait for any one reply or frame before the run counts as failed.
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);
/// Voxel memory the server's cache may keep (MiB), as `--serve` by default.
const CACHE_MB: usize = 4096;

/// What one client measured.
#[derive(Debug, Serialize)]
struct SessionReport {
    /// From sending `open` to the first frame (any quality).
    first_frame_ms: f64,
    /// From sending `open` to the first final still.
    first_still_ms: f64,
    /// Frames received per second while dragging.
    drag_fps: f64,
    /// Input → frame latency, median, over the inputs the drag's frames name.
    latency_p50_ms: f64,
    /// Input → frame latency, 95th percentile.
    latency_p95_ms: f64,
    /// Kilobits received per second while dragging (headers and payloads).
    kbit_s: f64,
    /// Frames received while dragging.
    frames: usize,
    /// Mean size of those frames (bytes).
    mean_frame_bytes: f64,
    /// Orbit inputs sent.
    inputs: usize,
    /// From sending `interact {active: false}` to the final still that reflects it.
    still_after_release_ms: f64,
}

/// What `bench stream --json` prints: figures for all sessions together, then each.
#[derive(Debug, Serialize)]
struct StreamReport {
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
    /// The slowest session's.
    first_frame_ms: f64,
    /// The slowest session's.
    first_still_ms: f64,
    /// Mean over the sessions (frames per second each).
    drag_fps: f64,
    /// Over the latencies of all sessions together.
    latency_p50_ms: f64,
    latency_p95_ms: f64,
    /// All sessions together.
    kbit_s: f64,
    /// All sessions together.
    frames: usize,
    mean_frame_bytes: f64,
    /// The slowest session's.
    still_after_release_ms: f64,
    per_session: Vec<SessionReport>,
}

/// What a session brings back besides its report.
struct SessionRun {
    report: SessionReport,
    latencies_ms: Vec<f64>,
    frame_bytes: usize,
    series: String,
    volume: [usize; 3],
    size: [u32; 2],
}

/// Starts the server on 127.0.0.1 (any free port) with the series at `path` (the built-in
/// phantom without one), runs `sessions` clients that each open the series and drag for
/// `seconds`, and prints the figures.
pub fn stream(
    path: Option<&Path>,
    series: Option<&str>,
    sessions: usize,
    size: [u32; 2],
    seconds: f64,
    json: bool,
) -> anyhow::Result<()> {
    if !(seconds.is_finite() && seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number of seconds, got {seconds}");
    }
    let sessions = sessions.max(1);
    let folders: Vec<PathBuf> = path.map(Path::to_path_buf).into_iter().collect();
    let library = Arc::new(Library::scan(&folders, CACHE_MB << 20));
    if library.series_count() == 0 {
        anyhow::bail!(
            "no DICOM series found in {} (see `hounsfield info`)",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        );
    }
    let scheduler = crate::commands::serve::start_renderer()?;
    let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    config.max_sessions = sessions;
    let runtime = crate::commands::serve::runtime()?;
    let adapter = scheduler.adapter().to_string();
    let series = series.map(str::to_string);
    let drag = Duration::from_secs_f64(seconds);
    let runs = runtime.block_on(async move {
        let server = Server::bind(config, library, scheduler).await?;
        let url = format!("ws://{}/ws", server.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        let mut clients = tokio::task::JoinSet::new();
        for n in 0..sessions {
            let (url, series) = (url.clone(), series.clone());
            clients.spawn(async move {
                let run = run_session(&url, series.as_deref(), size, drag).await;
                (n, run.with_context(|| format!("session {}", n + 1)))
            });
        }
        let mut runs = Vec::with_capacity(sessions);
        while let Some(joined) = clients.join_next().await {
            let (n, run) = joined.context("a client task failed")?;
            runs.push((n, run?));
        }
        runs.sort_by_key(|(n, _)| *n);
        let _ = stop.send(());
        match tokio::time::timeout(Duration::from_secs(10), serving).await {
            Ok(Ok(Ok(()))) | Err(_) => {}
            Ok(Ok(Err(error))) => return Err(error.into()),
            Ok(Err(error)) => return Err(anyhow::anyhow!("the server task failed: {error}")),
        }
        anyhow::Ok(runs.into_iter().map(|(_, run)| run).collect::<Vec<_>>())
    })?;
    let report = aggregate(adapter, seconds, runs)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "stream {}×{} of {:?} on {}, {} session{}, {:.0} s drag: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms, {:.0} kbit/s ({:.1} kB a frame), final still {:.0} ms after release",
            report.size[0],
            report.size[1],
            report.volume,
            report.adapter,
            report.sessions,
            if report.sessions == 1 { "" } else { "s" },
            report.seconds,
            report.first_frame_ms,
            report.first_still_ms,
            report.drag_fps,
            report.latency_p50_ms,
            report.latency_p95_ms,
            report.kbit_s,
            report.mean_frame_bytes / 1000.0,
            report.still_after_release_ms
        );
        if report.sessions > 1 {
            for (n, session) in report.per_session.iter().enumerate() {
                println!(
                    "  session {}: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms, {:.0} kbit/s, final still {:.0} ms after release",
                    n + 1,
                    session.first_frame_ms,
                    session.first_still_ms,
                    session.drag_fps,
                    session.latency_p50_ms,
                    session.latency_p95_ms,
                    session.kbit_s,
                    session.still_after_release_ms
                );
            }
        }
    }
    Ok(())
}

/// The sessions' figures together: the slowest for waits, means for rates, pooled latencies.
fn aggregate(adapter: String, seconds: f64, runs: Vec<SessionRun>) -> anyhow::Result<StreamReport> {
    let Some(first) = runs.first() else {
        anyhow::bail!("no session completed");
    };
    let (series, volume, size) = (first.series.clone(), first.volume, first.size);
    let slowest =
        |pick: fn(&SessionReport) -> f64| runs.iter().map(|r| pick(&r.report)).fold(0.0, f64::max);
    let mut latencies: Vec<f64> = runs.iter().flat_map(|r| r.latencies_ms.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let frames: usize = runs.iter().map(|r| r.report.frames).sum();
    let bytes: usize = runs.iter().map(|r| r.frame_bytes).sum();
    let report = StreamReport {
        adapter,
        series,
        volume,
        size,
        sessions: runs.len(),
        seconds,
        inputs_per_s: INPUTS_PER_S,
        orbit_deg_per_input: ORBIT_DEG_PER_INPUT,
        first_frame_ms: slowest(|r| r.first_frame_ms),
        first_still_ms: slowest(|r| r.first_still_ms),
        drag_fps: runs.iter().map(|r| r.report.drag_fps).sum::<f64>() / runs.len() as f64,
        latency_p50_ms: percentile(&latencies, 0.50),
        latency_p95_ms: percentile(&latencies, 0.95),
        kbit_s: runs.iter().map(|r| r.report.kbit_s).sum(),
        frames,
        mean_frame_bytes: bytes as f64 / frames.max(1) as f64,
        still_after_release_ms: slowest(|r| r.still_after_release_ms),
        per_session: Vec::new(),
    };
    Ok(StreamReport {
        per_session: runs.into_iter().map(|r| r.report).collect(),
        ..report
    })
}

/// One client: hello, list, open (timing the first frame and the first final still), a
/// drag of orbit inputs at [`INPUTS_PER_S`] for `drag`, then the release and its final still.
async fn run_session(
    url: &str,
    series: Option<&str>,
    size: [u32; 2],
    drag: Duration,
) -> anyhow::Result<SessionRun> {
    let mut client = in_time("connecting", Client::connect(url)).await?;
    let viewport = Viewport {
        width: size[0],
        height: size[1],
    };
    let (_, granted) = in_time("hello", client.hello(None, viewport)).await?;
    let studies = in_time("list_studies", client.list_studies()).await?;
    let chosen = choose_series(&studies, series)?;

    let open_sent = Instant::now();
    let opened = in_time("open", client.open(&chosen.id)).await?;
    let first = in_time("the first frame", client.next_frame()).await?;
    let mut still = first.clone();
    while !still.header.flags.final_still() {
        still = in_time("the first final still", client.next_frame()).await?;
    }
    let first_frame_ms = ms(first.received - open_sent);
    let first_still_ms = ms(still.received - open_sent);

    in_time("interact", client.input(Action::Interact { active: true })).await?;
    let mut sent: HashMap<u32, Instant> = HashMap::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let drag_started = Instant::now();
    let drag_ends = drag_started + drag;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if Instant::now() >= drag_ends {
                    break;
                }
                let at = Instant::now();
                let seq = client
                    .input(Action::Orbit { dx: ORBIT_DEG_PER_INPUT, dy: 0.0 })
                    .await?;
                sent.insert(seq, at);
            }
            event = client.next_event() => match event? {
                Event::Frame(frame) => frames.push(frame),
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("server error {code:?} while dragging: {message}");
                }
                Event::Message(_) => {}
            },
        }
    }
    let released = Instant::now();
    let release_seq = client.input(Action::Interact { active: false }).await?;
    let still_after_release = loop {
        let frame = in_time("the final still after the drag", client.next_frame()).await?;
        let done = frame.header.flags.final_still() && frame.header.input_seq >= release_seq;
        let received = frame.received;
        frames.push(frame);
        if done {
            break received - released;
        }
    };
    // Best effort: the figures are in.
    let _ = client.close().await;

    let during: Vec<&Frame> = frames.iter().filter(|f| f.received < released).collect();
    let frame_bytes: usize = during
        .iter()
        .map(|f| f.payload.len() + FrameHeader::LEN)
        .sum();
    let drag_s = (released - drag_started).as_secs_f64().max(1e-3);
    let latencies_ms = input_latencies_ms(&frames, &sent);
    let mut sorted = latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let report = SessionReport {
        first_frame_ms,
        first_still_ms,
        drag_fps: during.len() as f64 / drag_s,
        latency_p50_ms: percentile(&sorted, 0.50),
        latency_p95_ms: percentile(&sorted, 0.95),
        kbit_s: frame_bytes as f64 * 8.0 / 1000.0 / drag_s,
        frames: during.len(),
        mean_frame_bytes: frame_bytes as f64 / during.len().max(1) as f64,
        inputs: sent.len(),
        still_after_release_ms: ms(still_after_release),
    };
    Ok(SessionRun {
        report,
        latencies_ms,
        frame_bytes,
        series: opened.series,
        volume: opened.dims,
        size: [granted.width, granted.height],
    })
}

/// For each input a frame names (its `input_seq`; the first frame naming it), the time
/// from sending that input to receiving the frame. Inputs folded into a later frame are
/// not named and not counted.
fn input_latencies_ms(frames: &[Frame], sent: &HashMap<u32, Instant>) -> Vec<f64> {
    let mut named = HashSet::new();
    frames
        .iter()
        .filter(|frame| named.insert(frame.header.input_seq))
        .filter_map(|frame| {
            let at = sent.get(&frame.header.input_seq)?;
            Some(ms(frame.received.saturating_duration_since(*at)))
        })
        .collect()
}

/// The series asked for (by id or number), or the one with the most slices.
fn choose_series(studies: &[StudyInfo], wanted: Option<&str>) -> anyhow::Result<SeriesInfo> {
    let all = || studies.iter().flat_map(|study| &study.series);
    let chosen = match wanted {
        Some(wanted) => all().find(|s| {
            s.id == wanted || s.number.is_some_and(|number| number.to_string() == wanted)
        }),
        None => all()
            .filter(|s| s.unavailable.is_none() && s.dims.is_some())
            .max_by_key(|s| (s.dims.map_or(0, |d| d[2]), s.images)),
    };
    chosen.cloned().ok_or_else(|| {
        let known: Vec<&str> = all().map(|s| s.id.as_str()).take(8).collect();
        anyhow::anyhow!(
            "no series {} in the server's list (known: {})",
            wanted.map_or_else(|| "forms a volume".to_string(), |w| format!("\"{w}\"")),
            known.join(", ")
        )
    })
}

/// Waits for `future`, at most [`REPLY_TIMEOUT`]; the error says what was awaited.
async fn in_time<T, E>(what: &str, future: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(REPLY_TIMEOUT, future).await {
        Ok(result) => result.with_context(|| format!("waiting for {what}")),
        Err(_) => anyhow::bail!(
            "no reply within {} s while waiting for {what}",
            REPLY_TIMEOUT.as_secs()
        ),
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 when there are none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 10.0);
        assert_eq!(percentile(&values, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    fn series(id: &str, number: i32, slices: usize, unavailable: bool) -> SeriesInfo {
        SeriesInfo {
            id: id.to_string(),
            number: Some(number),
            modality: "CT".to_string(),
            description: String::new(),
            images: slices,
            dims: Some([8, 8, slices]),
            unavailable: unavailable.then(|| "mosaic".to_string()),
        }
    }

    #[test]
    fn the_series_is_chosen_by_id_number_or_size() {
        let studies = vec![StudyInfo {
            id: "s".to_string(),
            description: String::new(),
            date: String::new(),
            patient_name: String::new(),
            patient_id: String::new(),
            series: vec![
                series("1.2.3", 2, 40, false),
                series("1.2.4", 3, 90, false),
                series("1.2.5", 4, 500, true),
            ],
        }];
        let pick = |wanted| choose_series(&studies, wanted).map(|s| s.id);
        assert_eq!(pick(None).ok().as_deref(), Some("1.2.4"));
        assert_eq!(pick(Some("2")).ok().as_deref(), Some("1.2.3"));
        assert_eq!(pick(Some("1.2.5")).ok().as_deref(), Some("1.2.5"));
        let error = pick(Some("9")).expect_err("unknown");
        assert!(error.to_string().contains("1.2.3"), "{error}");
    }
}
