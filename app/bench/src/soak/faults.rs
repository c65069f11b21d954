//! Render-thread panics made on purpose during the soak (the server runs with
//! `test_faults`): a session of its own arms `render_panic` every so often and orbits, so
//! that its next frame panics the render thread. Each time it waits for the server's
//! restart count to rise and rendering to come back up, then for every well-behaved
//! session to get a frame again, and notes resident memory before and after.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ServerMessage};
use hounsfield_server::Scheduler;
use serde::Serialize;

use super::Target;
use super::memory::resident_mib;
use crate::client::{ORBIT_DEG_PER_INPUT, in_time, ms};

/// The message that arms a render-thread panic for the session's next frame.
const RENDER_PANIC: &str = r#"{"type":"test_fault","fault":"render_panic"}"#;
/// Longest wait for the restart, and then for every session's next frame.
const RECOVERY_WITHIN: Duration = Duration::from_secs(60);
/// No panic is armed later than this before the soak ends (nor later than half the
/// interval), so that the recovery can be seen.
const RECOVERY_MARGIN: Duration = Duration::from_secs(5);
/// How often the server's counters are looked at while waiting.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// One panic and what followed it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct FaultReport {
    /// Seconds into the soak it was armed.
    pub(super) at_s: f64,
    /// Whether the render thread restarted.
    pub(super) restarted: bool,
    /// From arming to rendering up again (ms).
    pub(super) up_after_ms: Option<f64>,
    /// From arming to every well-behaved session having had a frame since rendering came
    /// back (ms).
    pub(super) sessions_framed_after_ms: Option<f64>,
    /// This process's resident memory when the panic was armed (MiB).
    pub(super) rss_before_mib: Option<f64>,
    /// The same once the sessions had frames again, or the wait ended (MiB).
    pub(super) rss_after_mib: Option<f64>,
}

impl FaultReport {
    /// Whether the server restarted and every well-behaved session got frames again.
    pub(super) fn survived(&self) -> bool {
        self.restarted && self.sessions_framed_after_ms.is_some()
    }
}

/// The panics of a soak.
#[derive(Debug, Default)]
pub(super) struct FaultTally {
    /// Each panic, in order.
    pub(super) faults: Vec<FaultReport>,
    /// The well-behaved sessions' frame counts when rendering came back after the last
    /// restart.
    pub(super) frames_at_last_restart: Option<Vec<u64>>,
    /// `error` replies to the panicking session (one a panic is expected).
    pub(super) errors: u64,
}

/// Where the panics go, and whom they must not stop.
pub(super) struct FaultPlan {
    /// The soak's start.
    pub(super) started: Instant,
    /// Time between panics.
    pub(super) every: Duration,
    /// The soak's end.
    pub(super) until: Instant,
    /// The render thread's health: its restart count.
    pub(super) scheduler: Arc<Scheduler>,
    /// Each well-behaved session's frame count.
    pub(super) sessions: Vec<Arc<AtomicU64>>,
}

/// Opens `target`'s series and arms a panic every `plan.every` until `plan.until`.
pub(super) async fn make_panics(target: &Target, plan: &FaultPlan) -> anyhow::Result<FaultTally> {
    let mut client = target.open_session().await?;
    let mut tally = FaultTally::default();
    let margin = RECOVERY_MARGIN.max(plan.every / 2);
    let last_armed_by = plan.until.checked_sub(margin).unwrap_or(plan.started);
    let mut next = plan.started + plan.every;
    while next <= last_armed_by {
        wait_until(&mut client, &mut tally, next, || false).await?;
        let fault = panic_once(&mut client, &mut tally, plan).await?;
        tally.faults.push(fault);
        while next <= Instant::now() {
            next += plan.every;
        }
    }
    // Best effort: the figures are in.
    let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    Ok(tally)
}

/// Arms one panic and waits for the restart and the sessions' frames.
async fn panic_once(
    client: &mut Client,
    tally: &mut FaultTally,
    plan: &FaultPlan,
) -> anyhow::Result<FaultReport> {
    let health = plan.scheduler.health();
    let restarts_before = health.renderer_restarts();
    let armed = Instant::now();
    in_time("arming a render panic", client.send_text(RENDER_PANIC)).await?;
    in_time(
        "the orbit that panics",
        client.input(Action::Orbit {
            dx: ORBIT_DEG_PER_INPUT,
            dy: 0.0,
        }),
    )
    .await?;
    let mut fault = FaultReport {
        at_s: armed.duration_since(plan.started).as_secs_f64(),
        restarted: false,
        up_after_ms: None,
        sessions_framed_after_ms: None,
        rss_before_mib: resident_mib(),
        rss_after_mib: None,
    };
    let restarted = || health.renderer_restarts() > restarts_before && health.is_up();
    if !wait_until(client, tally, armed + RECOVERY_WITHIN, restarted).await? {
        tracing::warn!("no render-thread restart after an armed panic");
        fault.rss_after_mib = resident_mib();
        return Ok(fault);
    }
    fault.restarted = true;
    fault.up_after_ms = Some(ms(armed.elapsed()));
    let counts = || -> Vec<u64> {
        plan.sessions
            .iter()
            .map(|frames| frames.load(Ordering::Relaxed))
            .collect()
    };
    let at_restart = counts();
    let framed = || {
        counts()
            .iter()
            .zip(&at_restart)
            .all(|(now, then)| now > then)
    };
    let framed_by = plan.until.min(armed + RECOVERY_WITHIN);
    if wait_until(client, tally, framed_by, framed).await? {
        fault.sessions_framed_after_ms = Some(ms(armed.elapsed()));
    }
    fault.rss_after_mib = resident_mib();
    tally.frames_at_last_restart = Some(at_restart);
    Ok(fault)
}

/// Reads the panicking session's frames and replies until `done` says so (true) or
/// `deadline` passes (false), looking every [`POLL_EVERY`].
async fn wait_until(
    client: &mut Client,
    tally: &mut FaultTally,
    deadline: Instant,
    done: impl Fn() -> bool,
) -> anyhow::Result<bool> {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if done() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::select! {
            _ = poll.tick() => {}
            event = client.next_event() => {
                if let Event::Message(ServerMessage::Error { code, message }) =
                    event.context("the panicking session")?
                {
                    tracing::info!(?code, %message, "the panicking session's error reply");
                    tally.errors += 1;
                }
            }
        }
    }
}
