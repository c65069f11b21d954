//! A reader who only reads stills, beside the dragging sessions: about once a second she
//! turns to the next named view (anterior, left, posterior, right) and waits for its
//! final still. How long each still takes says whether the drags starve her.

use std::time::{Duration, Instant};

use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ServerMessage};
use serde::Serialize;

use super::Transport;
use crate::cli::StreamCodec;
use crate::client::{REPLY_TIMEOUT, greet_and_open, ms, percentile};

/// The views she turns through, in turn.
const VIEWS: [&str; 4] = ["anterior", "left", "posterior", "right"];
/// How often she turns to the next view (she waits for each still first).
const TURN_EVERY: Duration = Duration::from_secs(1);

/// What the still readers saw: each view's wait for its final still.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StillReading {
    /// Sessions that only read stills.
    pub(super) still_readers: usize,
    /// Final stills they received for the views they turned to.
    pub(super) still_reader_stills: usize,
    /// Views turned to whose still had not come when the drag ended.
    pub(super) still_reader_unanswered: usize,
    /// From turning to a view to its final still, median (ms).
    pub(super) still_reader_p50_ms: f64,
    /// The same, 95th percentile (ms).
    pub(super) still_reader_p95_ms: f64,
    /// The same, the longest (ms).
    pub(super) still_reader_max_ms: f64,
}

impl StillReading {
    /// The readers' waits together (milliseconds, one per still) and the views left
    /// unanswered.
    pub(super) fn of(readers: usize, waits: &[Vec<f64>], unanswered: usize) -> Self {
        let mut all: Vec<f64> = waits.iter().flatten().copied().collect();
        all.sort_by(f64::total_cmp);
        Self {
            still_readers: readers,
            still_reader_stills: all.len(),
            still_reader_unanswered: unanswered,
            still_reader_p50_ms: percentile(&all, 0.50),
            still_reader_p95_ms: percentile(&all, 0.95),
            still_reader_max_ms: all.last().copied().unwrap_or(0.0),
        }
    }
}

/// One still reader for `length`: opens the series, then turns to a named view every
/// [`TURN_EVERY`] and times its final still. Her waits (ms) and whether a view was still
/// unanswered when the time was up.
pub(super) async fn read_stills(
    transport: &Transport,
    series: Option<&str>,
    size: [u32; 2],
    length: Duration,
) -> anyhow::Result<(Vec<f64>, bool)> {
    let (mut client, _) = greet_and_open(
        &transport.url,
        &transport.trust,
        series,
        size,
        StreamCodec::Jpeg,
    )
    .await?;
    wait_for_still(&mut client, 0, Instant::now() + REPLY_TIMEOUT).await?;
    let ends = Instant::now() + length;
    let mut waits = Vec::new();
    for name in VIEWS.iter().cycle() {
        let turned = Instant::now();
        if turned >= ends {
            break;
        }
        let seq = client
            .input(Action::View {
                name: (*name).to_string(),
            })
            .await?;
        match wait_for_still(&mut client, seq, ends).await? {
            Some(received) => waits.push(ms(received - turned)),
            None => {
                let _ = client.close().await;
                return Ok((waits, true));
            }
        }
        tokio::time::sleep_until((turned + TURN_EVERY).max(Instant::now()).into()).await;
    }
    // Best effort: the figures are in.
    let _ = client.close().await;
    Ok((waits, false))
}

/// Reads frames until the final still answering input `seq` (when it arrived), or `None`
/// once `until` passed.
async fn wait_for_still(
    client: &mut Client,
    seq: u32,
    until: Instant,
) -> anyhow::Result<Option<Instant>> {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let event = match tokio::time::timeout(left, client.next_event()).await {
            Ok(event) => event?,
            Err(_) => return Ok(None),
        };
        match event {
            Event::Frame(frame)
                if frame.header.flags.final_still() && frame.header.input_seq >= seq =>
            {
                return Ok(Some(frame.received));
            }
            Event::Message(ServerMessage::Error { code, message }) => {
                anyhow::bail!("server error {code:?} while reading stills: {message}");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_waits_are_pooled_into_their_quantiles() {
        let reading = StillReading::of(2, &[vec![100.0, 300.0], vec![200.0]], 1);
        assert_eq!(reading.still_readers, 2);
        assert_eq!(reading.still_reader_stills, 3);
        assert_eq!(reading.still_reader_unanswered, 1);
        assert_eq!(reading.still_reader_max_ms, 300.0);
        assert!(reading.still_reader_p50_ms >= 100.0 && reading.still_reader_p50_ms <= 300.0);
        assert!(reading.still_reader_p95_ms >= reading.still_reader_p50_ms);
        let none = StillReading::of(1, &[], 0);
        assert_eq!(none.still_reader_stills, 0);
    }
}
