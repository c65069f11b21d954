//! `hounsfield bench soak`: one streaming server in this process on a loopback port, and
//! for minutes the clients a public server meets: well-behaved sessions dragging
//! ([`dragger`]), clients that stop reading ([`slow_reader`]), clients that come and go
//! ([`reconnecter`]) and render-thread panics made on purpose ([`faults`]). First a single
//! session drags alone, for the frame rate to compare with. Resident memory is sampled
//! all along ([`memory`]); [`report`] prints the figures. Figures, never pass/fail: only
//! a well-behaved session that fails makes the command fail (after the figures).

mod dragger;
mod faults;
mod latency;
mod memory;
mod reconnecter;
mod report;
mod slow_reader;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_server::Scheduler;
use hounsfield_server::metrics::Metrics;
use hounsfield_tls::ServerTrust;
use tokio::task::JoinHandle;

use super::client::REPLY_TIMEOUT;
use crate::cli::{SoakArgs, StreamCodec};
use dragger::DragTally;
use faults::{FaultPlan, FaultTally};
use memory::RssSample;
use reconnecter::ReconnectTally;
use slow_reader::SlowReaderTally;

/// A drag, not measured, before the single session's: it compiles the interactive
/// pipelines, so the single session does not pay for that.
const WARM_UP: Duration = Duration::from_secs(1);
/// The single session drags a quarter of the soak, within these bounds.
const BASELINE_SHORTEST: Duration = Duration::from_secs(2);
/// See [`BASELINE_SHORTEST`].
const BASELINE_LONGEST: Duration = Duration::from_secs(15);
/// Longest wait for the sessions of one phase to close before the next starts.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the clients after the soak's end (each of their waits is bounded by
/// [`REPLY_TIMEOUT`]).
const JOIN_GRACE: Duration = Duration::from_secs(REPLY_TIMEOUT.as_secs() + 30);

/// Where the clients go and what they ask for.
#[derive(Debug, Clone)]
struct Target {
    /// The server's WebSocket address.
    url: String,
    /// The series asked for (default: the largest).
    series: Option<String>,
    /// The view each client asks for.
    size: [u32; 2],
    /// The codec of interactive frames asked for.
    codec: StreamCodec,
}

impl Target {
    /// A client that said hello, opened the series and got its first frame.
    async fn open_session(&self) -> anyhow::Result<hounsfield_client::Client> {
        let (mut client, _) = super::client::greet_and_open(
            &self.url,
            &ServerTrust::system(),
            self.series.as_deref(),
            self.size,
            self.codec,
        )
        .await?;
        super::client::in_time("the first frame", client.next_frame()).await?;
        Ok(client)
    }
}

/// The soak's phases and clients, from the command line.
#[derive(Debug, Clone)]
struct Plan {
    soak: Duration,
    baseline: Duration,
    fault_every: Option<Duration>,
    sessions: usize,
    slow_readers: usize,
    reconnecters: usize,
}

impl Plan {
    fn new(args: &SoakArgs) -> anyhow::Result<Self> {
        if !(args.minutes.is_finite() && args.minutes > 0.0) {
            anyhow::bail!("--minutes must be a positive number, got {}", args.minutes);
        }
        if !(args.fault_every.is_finite() && args.fault_every >= 0.0) {
            anyhow::bail!(
                "--fault-every must be 0 (no faults) or a number of seconds, got {}",
                args.fault_every
            );
        }
        let soak = Duration::from_secs_f64(args.minutes * 60.0);
        Ok(Self {
            soak,
            baseline: (soak / 4).clamp(BASELINE_SHORTEST, BASELINE_LONGEST),
            fault_every: (args.fault_every > 0.0)
                .then(|| Duration::from_secs_f64(args.fault_every)),
            sessions: usize::from(args.sessions).max(1),
            slow_readers: usize::from(args.slow_readers),
            reconnecters: usize::from(args.reconnecters),
        })
    }

    /// Sessions the server must take at once: every client, a reconnecting client's
    /// leaving session beside its next one, and the panicking session.
    fn max_sessions(&self) -> usize {
        self.sessions + self.slow_readers + 2 * self.reconnecters + 2
    }
}

/// What the soak brought back, before it is summed up.
struct SoakRun {
    /// The single session, alone.
    baseline: DragTally,
    /// Each well-behaved session of the soak, or why it failed.
    sessions: Vec<Result<DragTally, String>>,
    /// Each well-behaved session's frames at the end.
    frames_at_end: Vec<u64>,
    slow_readers: Vec<SlowReaderTally>,
    reconnecters: Vec<ReconnectTally>,
    /// The panics, or why the panicking session failed; `None` without faults.
    faults: Option<Result<FaultTally, String>>,
    /// Render-thread restarts during the soak, from the server's counter.
    renderer_restarts: u64,
    rss_samples: Vec<RssSample>,
    rss_every: Duration,
}

/// Runs the soak `args` asks for and prints its figures.
pub fn soak(args: &SoakArgs) -> anyhow::Result<()> {
    let plan = Plan::new(args)?;
    let runtime = hounsfield_workstation::renderer::runtime()?;
    let loopback = super::loopback::start(args.path.as_deref(), |config| {
        config.max_sessions = plan.max_sessions();
        config.test_faults = plan.fault_every.is_some();
    })?;
    let adapter = loopback.scheduler.adapter().to_string();
    let target = Target {
        url: loopback.server.websocket_url(),
        series: args.series.clone(),
        size: args.size,
        codec: args.codec,
    };
    let mut run = runtime.block_on(run(
        &plan,
        &target,
        loopback.server.address(),
        loopback.server.metrics(),
        loopback.scheduler.clone(),
    ))?;
    loopback.server.stop()?;
    // The single session's frames as shown against sharp images of their views.
    let samples = run
        .baseline
        .samples
        .take()
        .map(|samples| samples.into_kept())
        .unwrap_or_default();
    let fidelity = super::stream::fidelity::measure(
        args.path.as_deref(),
        Some(run.baseline.series.as_str()),
        run.baseline.size,
        &samples,
    )
    .context("comparing the single session's frames with sharp images")?;
    let mut report = report::SoakReport::new(args, &plan, adapter, run);
    report.single_fidelity = fidelity;
    report.print(args.json)?;
    if !report.failed_sessions.is_empty() {
        anyhow::bail!(
            "{} of {} well-behaved sessions failed: {}",
            report.failed_sessions.len(),
            plan.sessions,
            report.failed_sessions.join("; ")
        );
    }
    Ok(())
}

/// The phases: a warm-up drag, the single session alone, then the soak.
async fn run(
    plan: &Plan,
    target: &Target,
    address: SocketAddr,
    metrics: Arc<Metrics>,
    scheduler: Arc<Scheduler>,
) -> anyhow::Result<SoakRun> {
    let alone = |length: Duration, sampling: bool| {
        dragger::drag(target, Instant::now() + length, Arc::default(), sampling)
    };
    alone(WARM_UP, false).await.context("the warm-up drag")?;
    sessions_closed(&metrics).await?;
    let baseline = alone(plan.baseline, true)
        .await
        .context("the single session's drag")?;
    sessions_closed(&metrics).await?;

    let started = Instant::now();
    let until = started + plan.soak;
    let restarts_before = scheduler.health().renderer_restarts();
    let rss_every = memory::sample_every(plan.soak);
    let rss = tokio::spawn(memory::sample(started, rss_every, until));
    let counters: Vec<Arc<AtomicU64>> = (0..plan.sessions).map(|_| Arc::default()).collect();
    let draggers: Vec<JoinHandle<_>> = counters
        .iter()
        .map(|frames| {
            let (target, frames) = (target.clone(), frames.clone());
            tokio::spawn(async move { dragger::drag(&target, until, frames, false).await })
        })
        .collect();
    let slow_readers: Vec<JoinHandle<_>> = (0..plan.slow_readers)
        .map(|_| {
            let (series, size, codec) = (baseline.series.clone(), target.size, target.codec);
            tokio::spawn(async move {
                slow_reader::send_without_reading(address, &series, size, codec, until).await
            })
        })
        .collect();
    let reconnecters: Vec<JoinHandle<_>> = (0..plan.reconnecters)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move { reconnecter::keep_reconnecting(&target, until).await })
        })
        .collect();
    let faults = plan.fault_every.map(|every| {
        let fault_plan = FaultPlan {
            started,
            every,
            until,
            scheduler: scheduler.clone(),
            sessions: counters.clone(),
        };
        let target = target.clone();
        tokio::spawn(async move { faults::make_panics(&target, &fault_plan).await })
    });

    let by = until + JOIN_GRACE;
    let mut sessions = Vec::with_capacity(draggers.len());
    for (n, dragger) in draggers.into_iter().enumerate() {
        let what = format!("well-behaved session {}", n + 1);
        let dragged = joined(dragger, by, &what).await?;
        sessions.push(dragged.map_err(|error| format!("{what}: {error:#}")));
    }
    let mut slow = Vec::with_capacity(slow_readers.len());
    for reader in slow_readers {
        slow.push(joined(reader, by, "a slow reader").await?);
    }
    let mut reconnected = Vec::with_capacity(reconnecters.len());
    for client in reconnecters {
        reconnected.push(joined(client, by, "a reconnecting client").await?);
    }
    let faults = match faults {
        Some(task) => Some(
            joined(task, by, "the panicking session")
                .await?
                .map_err(|error| format!("{error:#}")),
        ),
        None => None,
    };
    Ok(SoakRun {
        baseline,
        sessions,
        frames_at_end: counters.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        slow_readers: slow,
        reconnecters: reconnected,
        faults,
        renderer_restarts: scheduler.health().renderer_restarts() - restarts_before,
        rss_samples: joined(rss, by, "the memory sampler").await?,
        rss_every,
    })
}

/// Waits for `task` until `by`; the error says which task did not finish, or failed.
async fn joined<T>(mut task: JoinHandle<T>, by: Instant, what: &str) -> anyhow::Result<T> {
    match tokio::time::timeout_at(by.into(), &mut task).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(anyhow::anyhow!("{what} stopped: {error}")),
        Err(_) => {
            task.abort();
            anyhow::bail!(
                "{what} did not finish within {} s of the soak's end",
                JOIN_GRACE.as_secs()
            )
        }
    }
}

/// Waits until the server has no session open, at most [`CLOSE_TIMEOUT`].
async fn sessions_closed(metrics: &Metrics) -> anyhow::Result<()> {
    let closing = Instant::now();
    while metrics.sessions_active.load(Ordering::Acquire) > 0 {
        if closing.elapsed() > CLOSE_TIMEOUT {
            anyhow::bail!(
                "the previous phase's sessions did not close within {} s",
                CLOSE_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
