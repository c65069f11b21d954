//! A client that keeps coming back: connect, `hello`, open the series, drag for
//! [`CYCLE_DRAG`] reading every frame, close; again until the soak ends. It counts the
//! cycles that went through, those that failed (and why the last one did), and how long
//! each took from connecting to its first frame.

use std::time::{Duration, Instant};

use hounsfield_client::Event;
use hounsfield_protocol::Action;
use serde::Serialize;

use super::Target;
use crate::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT, in_time, ms};

/// How long each visit drags.
const CYCLE_DRAG: Duration = Duration::from_secs(2);
/// The pause after a failed cycle, so that a server refusing connections is not hammered.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a reconnecting client saw.
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct ReconnectTally {
    /// Visits that connected, opened, dragged and closed.
    pub(super) cycles: u64,
    /// Visits that failed on the way.
    pub(super) failures: u64,
    /// Frames received over all visits.
    pub(super) frames: u64,
    /// Mean time from connecting to the first frame, over the visits that went through (ms).
    pub(super) first_frame_ms_mean: f64,
    /// The longest such time (ms).
    pub(super) first_frame_ms_max: f64,
    /// Why the last failed visit failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) last_failure: Option<String>,
}

/// Visits `target` over and over until `until`.
pub(super) async fn keep_reconnecting(target: &Target, until: Instant) -> ReconnectTally {
    let mut tally = ReconnectTally::default();
    let mut first_frame_ms_sum = 0.0;
    while Instant::now() < until {
        match visit(target, until).await {
            Ok((first_frame_ms, frames)) => {
                tally.cycles += 1;
                tally.frames += frames;
                first_frame_ms_sum += first_frame_ms;
                tally.first_frame_ms_max = tally.first_frame_ms_max.max(first_frame_ms);
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "a reconnecting client's visit failed");
                tally.failures += 1;
                tally.last_failure = Some(format!("{error:#}"));
                tokio::time::sleep_until(until.min(Instant::now() + RETRY_AFTER).into()).await;
            }
        }
    }
    tally.first_frame_ms_mean = first_frame_ms_sum / tally.cycles.max(1) as f64;
    tally
}

/// One visit: the time from connecting to the first frame (ms) and the frames received.
async fn visit(target: &Target, until: Instant) -> anyhow::Result<(f64, u64)> {
    let connecting = Instant::now();
    let mut client = target.open_session().await?;
    let first_frame_ms = ms(connecting.elapsed());
    let mut frames = 1;
    in_time("interact", client.input(Action::Interact { active: true })).await?;
    let drag_ends = until.min(Instant::now() + CYCLE_DRAG);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if Instant::now() >= drag_ends {
                    break;
                }
                client
                    .input(Action::Orbit { dx: ORBIT_DEG_PER_INPUT, dy: 0.0 })
                    .await?;
            }
            event = client.next_event() => {
                if let Event::Frame(_) = event? {
                    frames += 1;
                }
            }
        }
    }
    in_time("closing", client.close()).await?;
    Ok((first_frame_ms, frames))
}
