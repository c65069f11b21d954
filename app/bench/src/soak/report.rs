//! The soak's figures: what `bench soak --json` prints, built from what the clients
//! brought back, and the same as text.

use serde::Serialize;

use super::faults::FaultReport;
use super::latency::LatencyHistogram;
use super::memory::{self, GOAL_GROWTH_PCT, MemoryFigures, RssSample};
use super::reconnecter::ReconnectTally;
use super::slow_reader::{Ending, SlowReaderTally};
use super::{Plan, SoakRun};
use crate::cli::SoakArgs;
use crate::client::{codec_name, granted_name};
use crate::stream::fidelity::Fidelity;

/// What `bench soak --json` prints.
#[derive(Debug, Serialize)]
pub(super) struct SoakReport {
    /// The renderer's adapter.
    pub(super) adapter: String,
    /// The series dragged.
    pub(super) series: String,
    /// Its voxels along i, j, k.
    pub(super) volume: [usize; 3],
    /// The frame size granted.
    pub(super) size: [u32; 2],
    /// The codec of interactive frames asked for.
    pub(super) codec: String,
    /// The codec the server granted.
    pub(super) granted: String,
    /// Length of the soak (minutes).
    pub(super) minutes: f64,
    /// Well-behaved sessions dragging all along.
    pub(super) sessions: usize,
    /// Clients that never read.
    pub(super) slow_readers: usize,
    /// Clients that came and went.
    pub(super) reconnecters: usize,
    /// Seconds between armed render-thread panics (0: none).
    pub(super) fault_every_s: f64,
    /// How long the single session dragged alone (s).
    pub(super) single_session_s: f64,
    /// Its frames a second.
    pub(super) single_session_fps: f64,
    /// From its `open` to its first final still (ms).
    pub(super) single_first_still_ms: f64,
    /// Its input → frame latency, median (ms).
    pub(super) single_latency_p50_ms: f64,
    /// Its input → frame latency, 95th percentile (ms).
    pub(super) single_latency_p95_ms: f64,
    /// From its drag's last input to the first sharp picture (the refining one, or the
    /// final still where none came first) (ms).
    pub(super) single_sharp_after_drag_ms: Option<f64>,
    /// From its drag's last input to the final still (ms).
    pub(super) single_still_after_drag_ms: Option<f64>,
    /// Its interactive frames as shown against sharp images of the same views
    /// (`fidelity_psnr_db_p50`, `_p05`, `fidelity_frames`, as `bench stream` prints them).
    #[serde(flatten)]
    pub(super) single_fidelity: Option<Fidelity>,
    /// Frames a second of each well-behaved session of the soak (that did not fail).
    pub(super) session_fps: Vec<f64>,
    /// Their mean.
    pub(super) mean_session_fps: f64,
    /// That mean over the single session's.
    pub(super) fps_ratio: f64,
    /// Input → frame latency of the well-behaved sessions, pooled, median (ms).
    pub(super) latency_p50_ms: f64,
    /// The same, 95th percentile (ms).
    pub(super) latency_p95_ms: f64,
    /// The slowest first sharp picture after the end of the soak's drags (ms), over the
    /// sessions whose still came.
    pub(super) sharp_after_drag_ms: Option<f64>,
    /// The slowest final still after the end of the soak's drags (ms), likewise.
    pub(super) still_after_drag_ms: Option<f64>,
    /// `error` replies to the well-behaved sessions.
    pub(super) session_errors: u64,
    /// Well-behaved sessions that failed, and why.
    pub(super) failed_sessions: Vec<String>,
    /// How each slow reader ended.
    pub(super) slow_reader_endings: Vec<SlowReaderTally>,
    /// Visits of the reconnecting clients that went through, all together.
    pub(super) reconnect_cycles: u64,
    /// Visits that failed.
    pub(super) reconnect_failures: u64,
    /// Each reconnecting client.
    pub(super) reconnecting_clients: Vec<ReconnectTally>,
    /// Each armed render-thread panic.
    pub(super) faults: Vec<FaultReport>,
    /// Why the panicking session failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) fault_failure: Option<String>,
    /// Render-thread restarts during the soak (the server's counter).
    pub(super) renderer_restarts: u64,
    /// Whether `RUST_BACKTRACE` asks panics for a backtrace: the first armed panic's then
    /// reads the binary's line tables, which stay resident to the end (on the phantom,
    /// about 320 MiB of the memory figures).
    pub(super) backtraces_on_panic: bool,
    /// Panics after which the server restarted and every well-behaved session got frames.
    pub(super) restarts_survived: usize,
    /// Frames the well-behaved sessions received after rendering came back from the last
    /// restart, to the end of the soak.
    pub(super) frames_after_last_restart: Option<u64>,
    /// Resident memory after the warm-up.
    #[serde(flatten)]
    pub(super) memory: Option<MemoryFigures>,
    /// Resident memory over the soak.
    pub(super) rss_samples: Vec<RssSample>,
}

impl SoakReport {
    /// Sums up `run`, a soak of `plan` as `args` asked for it on `adapter`.
    pub(super) fn new(args: &SoakArgs, plan: &Plan, adapter: String, run: SoakRun) -> Self {
        let baseline = &run.baseline;
        let mut latency = LatencyHistogram::new();
        let mut session_fps = Vec::with_capacity(run.sessions.len());
        let mut failed_sessions = Vec::new();
        let mut session_errors = 0;
        let (mut sharp_after_drag_ms, mut still_after_drag_ms) = (None, None);
        let slowest = |most: Option<f64>, ms: Option<f64>| match (most, ms) {
            (Some(most), Some(ms)) => Some(f64::max(most, ms)),
            (most, ms) => most.or(ms),
        };
        for session in &run.sessions {
            match session {
                Ok(tally) => {
                    latency.merge(&tally.latency);
                    session_fps.push(tally.fps());
                    session_errors += tally.server_errors;
                    sharp_after_drag_ms = slowest(sharp_after_drag_ms, tally.sharp_after_drag_ms);
                    still_after_drag_ms = slowest(still_after_drag_ms, tally.still_after_drag_ms);
                }
                Err(why) => failed_sessions.push(why.clone()),
            }
        }
        let mean_session_fps = if session_fps.is_empty() {
            0.0
        } else {
            session_fps.iter().sum::<f64>() / session_fps.len() as f64
        };
        let single_session_fps = baseline.fps();
        let (faults, fault_failure, frames_at_last_restart) = match run.faults {
            Some(Ok(tally)) => (tally.faults, None, tally.frames_at_last_restart),
            Some(Err(why)) => (Vec::new(), Some(why), None),
            None => (Vec::new(), None, None),
        };
        let frames_after_last_restart = frames_at_last_restart.map(|then| {
            run.frames_at_end
                .iter()
                .zip(&then)
                .map(|(end, then)| end.saturating_sub(*then))
                .sum()
        });
        Self {
            adapter,
            series: baseline.series.clone(),
            volume: baseline.volume,
            size: baseline.size,
            codec: codec_name(args.codec).to_string(),
            granted: granted_name(baseline.granted).to_string(),
            minutes: args.minutes,
            sessions: plan.sessions,
            slow_readers: plan.slow_readers,
            reconnecters: plan.reconnecters,
            fault_every_s: plan.fault_every.map_or(0.0, |every| every.as_secs_f64()),
            single_session_s: baseline.seconds,
            single_session_fps,
            single_first_still_ms: baseline.first_still_ms,
            single_latency_p50_ms: baseline.latency.quantile_ms(0.50),
            single_latency_p95_ms: baseline.latency.quantile_ms(0.95),
            single_sharp_after_drag_ms: baseline.sharp_after_drag_ms,
            single_still_after_drag_ms: baseline.still_after_drag_ms,
            single_fidelity: None,
            session_fps,
            mean_session_fps,
            fps_ratio: if single_session_fps > 0.0 {
                mean_session_fps / single_session_fps
            } else {
                0.0
            },
            latency_p50_ms: latency.quantile_ms(0.50),
            latency_p95_ms: latency.quantile_ms(0.95),
            sharp_after_drag_ms,
            still_after_drag_ms,
            session_errors,
            failed_sessions,
            slow_reader_endings: run.slow_readers,
            reconnect_cycles: run.reconnecters.iter().map(|r| r.cycles).sum(),
            reconnect_failures: run.reconnecters.iter().map(|r| r.failures).sum(),
            reconnecting_clients: run.reconnecters,
            restarts_survived: faults.iter().filter(|f| f.survived()).count(),
            faults,
            fault_failure,
            renderer_restarts: run.renderer_restarts,
            backtraces_on_panic: std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0"),
            frames_after_last_restart,
            memory: memory::figures(&run.rss_samples, plan.soak, run.rss_every),
            rss_samples: run.rss_samples,
        }
    }

    /// Prints the report: one JSON object with `json`, else text.
    pub(super) fn print(&self, json: bool) -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
        } else {
            for line in self.lines() {
                println!("{line}");
            }
        }
        Ok(())
    }

    /// The report as lines of text: a heading, then one line a subject.
    fn lines(&self) -> Vec<String> {
        let fps_list: Vec<String> = self.session_fps.iter().map(|f| format!("{f:.1}")).collect();
        let mut lines = vec![
            format!(
                "soak {} min of {} {:?} at {}×{} ({}) on {}: {} dragging session{}, {} slow reader{}, {} reconnecting client{}, {}",
                self.minutes,
                self.series,
                self.volume,
                self.size[0],
                self.size[1],
                self.granted,
                self.adapter,
                self.sessions,
                plural(self.sessions),
                self.slow_readers,
                plural(self.slow_readers),
                self.reconnecters,
                plural(self.reconnecters),
                if self.fault_every_s > 0.0 {
                    format!("a render-thread panic every {:.0} s", self.fault_every_s)
                } else {
                    "no faults".to_string()
                }
            ),
            format!(
                "  single session    {:.1} frames/s alone ({:.0} s), latency p50 {:.0} ms p95 {:.0} ms, first final still {:.0} ms after open",
                self.single_session_fps,
                self.single_session_s,
                self.single_latency_p50_ms,
                self.single_latency_p95_ms,
                self.single_first_still_ms
            ),
            format!(
                "  dragging          {:.1} frames/s mean (×{:.2} the single session's; each {}), latency p50 {:.0} ms p95 {:.0} ms, {} error repl{}",
                self.mean_session_fps,
                self.fps_ratio,
                fps_list.join(", "),
                self.latency_p50_ms,
                self.latency_p95_ms,
                self.session_errors,
                if self.session_errors == 1 { "y" } else { "ies" }
            ),
        ];
        let after = |ms: Option<f64>| ms.map_or("–".to_string(), |ms| format!("{ms:.0} ms"));
        lines.push(format!(
            "  after the drag    sharp picture {} (alone: {}), final still {} (alone: {}) after the last input, the slowest session's",
            after(self.sharp_after_drag_ms),
            after(self.single_sharp_after_drag_ms),
            after(self.still_after_drag_ms),
            after(self.single_still_after_drag_ms)
        ));
        if let Some(fidelity) = &self.single_fidelity {
            lines.push(format!(
                "  fidelity          the single session's frames as shown: {:.1} dB median, {:.1} dB at the 5th percentile over the volume ({} frames)",
                fidelity.fidelity_psnr_db_p50,
                fidelity.fidelity_psnr_db_p05,
                fidelity.fidelity_frames
            ));
        }
        lines.extend(
            self.failed_sessions
                .iter()
                .map(|why| format!("  FAILED            {why}")),
        );
        lines.push(format!("  slow readers      {}", self.slow_reader_text()));
        lines.push(format!("  reconnecting      {}", self.reconnect_text()));
        lines.push(format!("  render panics     {}", self.fault_text()));
        lines.push(format!("  resident memory   {}", self.memory_text()));
        if self.backtraces_on_panic && self.fault_every_s > 0.0 {
            lines.push(
                "  note              RUST_BACKTRACE is set: the first panic's backtrace keeps the binary's line tables resident, in the figures above"
                    .to_string(),
            );
        }
        lines
    }

    fn reconnect_text(&self) -> String {
        if self.reconnecting_clients.is_empty() {
            return "none".to_string();
        }
        format!(
            "{} visits, {} failed, first frame {:.0} ms mean ({:.0} ms at most){}",
            self.reconnect_cycles,
            self.reconnect_failures,
            mean_first_frame_ms(&self.reconnecting_clients),
            self.reconnecting_clients
                .iter()
                .map(|r| r.first_frame_ms_max)
                .fold(0.0, f64::max),
            self.reconnecting_clients
                .iter()
                .find_map(|r| r.last_failure.as_deref())
                .map(|why| format!("; last failure: {why}"))
                .unwrap_or_default()
        )
    }

    fn slow_reader_text(&self) -> String {
        if self.slow_reader_endings.is_empty() {
            return "none".to_string();
        }
        let endings: Vec<String> = self
            .slow_reader_endings
            .iter()
            .map(|reader| {
                let after = reader
                    .after_s
                    .map_or(String::new(), |s| format!(" {s:.0} s in"));
                let ending = match reader.ending {
                    Ending::Dropped => format!("dropped by the server{after}"),
                    Ending::Stalled => format!("stalled (not read by the server) since{after}"),
                    Ending::Open => "still sending at the end".to_string(),
                    Ending::Failed => "could not connect".to_string(),
                };
                let detail = reader
                    .detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                format!("{ending} after {} inputs{detail}", reader.inputs_sent)
            })
            .collect();
        endings.join("; ")
    }

    fn fault_text(&self) -> String {
        if let Some(why) = &self.fault_failure {
            return format!("the panicking session failed: {why}");
        }
        if self.fault_every_s <= 0.0 {
            return "none armed".to_string();
        }
        let timings: Vec<String> = self
            .faults
            .iter()
            .map(|fault| {
                let up = fault
                    .up_after_ms
                    .map_or("no restart".to_string(), |ms| format!("up {ms:.0} ms"));
                let framed = fault
                    .sessions_framed_after_ms
                    .map_or("not every session framed again".to_string(), |ms| {
                        format!("all sessions framed {ms:.0} ms")
                    });
                let memory = match (fault.rss_before_mib, fault.rss_after_mib) {
                    (Some(before), Some(after)) => format!(", memory {:+.0} MiB", after - before),
                    _ => String::new(),
                };
                format!("at {:.0} s: {up}, {framed}{memory}", fault.at_s)
            })
            .collect();
        format!(
            "{} armed, {} restart{}, {} survived; {} frames after the last restart{}",
            self.faults.len(),
            self.renderer_restarts,
            plural(self.renderer_restarts as usize),
            self.restarts_survived,
            self.frames_after_last_restart
                .map_or("—".to_string(), |n| n.to_string()),
            if timings.is_empty() {
                String::new()
            } else {
                format!(" ({})", timings.join("; "))
            }
        )
    }

    fn memory_text(&self) -> String {
        let Some(memory) = &self.memory else {
            return "not measured (no /proc/self/status)".to_string();
        };
        format!(
            "{:.0} MiB after the warm-up ({:.0} s), {:.0} MiB at the end, peak {:.0} MiB: {:+.1} % ({} the < {GOAL_GROWTH_PCT:.0} % goal), trend {:+.2} MiB/min over {} samples",
            memory.rss_warm_up_mib,
            memory.warm_up_s,
            memory.rss_end_mib,
            memory.rss_peak_mib,
            memory.rss_growth_pct,
            if memory.rss_goal_met {
                "meets"
            } else {
                "misses"
            },
            memory.rss_trend_mib_per_min,
            self.rss_samples.len()
        )
    }
}

/// The mean time to the first frame over every reconnecting client's visits.
fn mean_first_frame_ms(clients: &[ReconnectTally]) -> f64 {
    let visits: u64 = clients.iter().map(|c| c.cycles).sum();
    if visits == 0 {
        return 0.0;
    }
    let total: f64 = clients
        .iter()
        .map(|c| c.first_frame_ms_mean * c.cycles as f64)
        .sum();
    total / visits as f64
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
