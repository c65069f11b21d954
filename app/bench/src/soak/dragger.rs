//! A well-behaved session of the soak: it opens the series, then drags at
//! [`INPUTS_PER_S`] until told to stop, decoding every frame as it comes and reporting how
//! it keeps up, as `bench stream`'s clients do; but it keeps counts and a latency
//! histogram rather than its frames, so that its memory stays flat however long it drags.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, DecodedImage, Event, Frame, FrameReception};
use hounsfield_protocol::{Action, ClientStats, ServerMessage};

use super::Target;
use super::latency::LatencyHistogram;
use crate::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT, greet, in_time, ms, percentile};
use crate::stream::fidelity::Samples;

/// How often the session reports its decoding to the server (as the web client does).
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// Inputs remembered for latencies (8 s of dragging); older ones are not matched.
const SENT_KEPT: usize = 240;
/// Longest time without a frame while dragging before the session counts as failed.
const FRAME_STALL_LIMIT: Duration = Duration::from_secs(60);

/// What a drag measured.
#[derive(Debug, Clone)]
pub(super) struct DragTally {
    /// The series opened (its id).
    pub(super) series: String,
    /// Its voxels along i, j, k.
    pub(super) volume: [usize; 3],
    /// The frame size granted.
    pub(super) size: [u32; 2],
    /// The codec of interactive frames granted.
    pub(super) granted: hounsfield_protocol::Codec,
    /// From sending `open` to the first final still (ms).
    pub(super) first_still_ms: f64,
    /// Frames received while dragging.
    pub(super) frames: u64,
    /// How long it dragged (s).
    pub(super) seconds: f64,
    /// Input → frame latencies (on arrival).
    pub(super) latency: LatencyHistogram,
    /// `error` replies while dragging.
    pub(super) server_errors: u64,
    /// The last of them.
    pub(super) last_error: Option<String>,
    /// From the drag's last orbit input to the first sharp picture answering it (the
    /// refining picture, or the final still where none came first), when it came within
    /// [`RELEASE_WAIT`] of the release.
    pub(super) sharp_after_drag_ms: Option<f64>,
    /// From that input to the final still answering it, likewise.
    pub(super) still_after_drag_ms: Option<f64>,
    /// A few interactive frames as decoded, with the orbits they answer, when the drag
    /// kept them (the single session's), for the fidelity figures.
    pub(super) samples: Option<Samples>,
}

/// The longest the end of a drag waits for its final still: a render-thread panic armed
/// on purpose may take it, and the soak's figures must not wait on that.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

impl DragTally {
    /// Frames a second while dragging.
    pub(super) fn fps(&self) -> f64 {
        self.frames as f64 / self.seconds.max(1e-3)
    }
}

/// Inputs sent and not yet answered, oldest first, at most [`SENT_KEPT`].
struct Unanswered(VecDeque<(u32, Instant)>);

impl Unanswered {
    fn sent(&mut self, seq: u32, at: Instant) {
        if self.0.len() == SENT_KEPT {
            self.0.pop_front();
        }
        self.0.push_back((seq, at));
    }

    /// When input `seq` was sent, if a frame names it first; inputs before it were
    /// folded into this frame and are forgotten.
    fn answered(&mut self, seq: u32) -> Option<Instant> {
        while self.0.front().is_some_and(|(sent, _)| *sent < seq) {
            self.0.pop_front();
        }
        match self.0.front() {
            Some((sent, at)) if *sent == seq => {
                let at = *at;
                self.0.pop_front();
                Some(at)
            }
            _ => None,
        }
    }
}

/// Opens `target`'s series and drags until `until`, adding one to `frames_seen` for each
/// frame received while dragging (so that others can see frames arrive); with
/// `sampling`, keeps a few of the drag's frames for the fidelity figures.
pub(super) async fn drag(
    target: &Target,
    until: Instant,
    frames_seen: Arc<AtomicU64>,
    sampling: bool,
) -> anyhow::Result<DragTally> {
    let (mut client, welcome, chosen) = greet(
        &target.url,
        &hounsfield_tls::ServerTrust::system(),
        target.series.as_deref(),
        target.size,
        target.codec,
    )
    .await?;
    let mut decoder = FrameReception::new();
    let open_sent = Instant::now();
    let opened = in_time("open", client.open(&chosen.id)).await?;
    loop {
        let frame = in_time("the first final still", client.next_frame()).await?;
        decode(&mut decoder, &mut client, &frame).await?;
        if frame.header.flags.final_still() {
            break;
        }
    }
    let mut tally = DragTally {
        series: opened.series,
        volume: opened.dims,
        size: [welcome.viewport.width, welcome.viewport.height],
        granted: welcome.codec,
        first_still_ms: ms(open_sent.elapsed()),
        frames: 0,
        seconds: 0.0,
        latency: LatencyHistogram::new(),
        server_errors: 0,
        last_error: None,
        sharp_after_drag_ms: None,
        still_after_drag_ms: None,
        samples: sampling.then(Samples::default),
    };
    in_time("interact", client.input(Action::Interact { active: true })).await?;
    let drag_started = Instant::now();
    let dragged = drag_until(&mut client, &mut decoder, &mut tally, until, &frames_seen).await;
    tally.seconds = drag_started.elapsed().as_secs_f64();
    let dragged = match dragged {
        Ok(Some(last)) => {
            // Best effort: a still lost to an armed panic leaves its figures out.
            let released = release(&mut client, &mut decoder, &mut tally, last);
            let _ = tokio::time::timeout(RELEASE_WAIT, released).await;
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    };
    // Best effort: the figures are in (or the error says why not).
    let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    dragged.map(|()| tally)
}

/// Ends a drag whose last orbit input was `last` (its seq, when it was sent): the release,
/// then the frames up to the final still that answers that input, timing the first sharp
/// picture and the still.
async fn release(
    client: &mut Client,
    decoder: &mut FrameReception,
    tally: &mut DragTally,
    (last_orbit, sent): (u32, Instant),
) -> anyhow::Result<()> {
    client.input(Action::Interact { active: false }).await?;
    loop {
        let frame = client.next_frame().await?;
        decode(decoder, client, &frame).await?;
        let flags = frame.header.flags;
        if frame.header.input_seq < last_orbit || !(flags.refining() || flags.final_still()) {
            continue;
        }
        let after_ms = ms(frame.received.saturating_duration_since(sent));
        tally.sharp_after_drag_ms.get_or_insert(after_ms);
        if flags.final_still() {
            tally.still_after_drag_ms = Some(after_ms);
            return Ok(());
        }
    }
}

/// The drag itself: orbit inputs at [`INPUTS_PER_S`], a report every [`REPORT_EVERY`],
/// frames decoded and counted as they come, until `until`. The last orbit input sent
/// (its seq, and when), if any.
async fn drag_until(
    client: &mut Client,
    decoder: &mut FrameReception,
    tally: &mut DragTally,
    until: Instant,
    frames_seen: &AtomicU64,
) -> anyhow::Result<Option<(u32, Instant)>> {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut reports = tokio::time::interval(REPORT_EVERY);
    reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unanswered = Unanswered(VecDeque::with_capacity(SENT_KEPT));
    let mut recent_ms: Vec<f64> = Vec::with_capacity(2 * INPUTS_PER_S as usize);
    let mut last_frame = Instant::now();
    let mut last_orbit = None;
    // The orbit inputs' seqs, kept only while sampling (a bounded single drag).
    let mut orbits: Vec<u32> = Vec::new();
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                if now >= until {
                    return Ok(last_orbit);
                }
                if now - last_frame > FRAME_STALL_LIMIT {
                    anyhow::bail!(
                        "no frame within {} s while dragging",
                        FRAME_STALL_LIMIT.as_secs()
                    );
                }
                let seq = client
                    .input(Action::Orbit { dx: ORBIT_DEG_PER_INPUT, dy: 0.0 })
                    .await?;
                unanswered.sent(seq, now);
                last_orbit = Some((seq, now));
                if tally.samples.is_some() {
                    orbits.push(seq);
                }
            }
            _ = reports.tick() => {
                recent_ms.sort_by(f64::total_cmp);
                let latency_ms = (!recent_ms.is_empty()).then(|| percentile(&recent_ms, 0.5));
                recent_ms.clear();
                client.report(ClientStats { decode_queue: 0, latency_ms }).await?;
            }
            event = client.next_event() => match event.context("while dragging")? {
                Event::Frame(frame) => {
                    last_frame = frame.received;
                    let picture = decode(decoder, client, &frame).await?;
                    let flags = frame.header.flags;
                    if let (Some(samples), Some(picture), false) =
                        (&mut tally.samples, &picture, flags.final_still() || flags.refining())
                    {
                        let answered = orbits.partition_point(|&seq| seq <= frame.header.input_seq);
                        samples.offer(answered, picture, frame.received);
                    }
                    tally.frames += 1;
                    frames_seen.fetch_add(1, Ordering::Relaxed);
                    if let Some(at) = unanswered.answered(frame.header.input_seq) {
                        let latency_ms = ms(frame.received.saturating_duration_since(at));
                        tally.latency.record(latency_ms);
                        if recent_ms.len() < recent_ms.capacity() {
                            recent_ms.push(latency_ms);
                        }
                    }
                }
                Event::Message(ServerMessage::Error { code, message }) => {
                    tracing::warn!(?code, %message, "error reply while dragging");
                    tally.server_errors += 1;
                    tally.last_error = Some(format!("{code:?}: {message}"));
                }
                Event::Message(ServerMessage::Codec { codec, reason }) => {
                    tracing::warn!(?codec, %reason, "the server changed the codec");
                }
                Event::Message(_) => {}
            },
        }
    }
}

/// Decodes `frame`, asking for a keyframe when the H.264 stream needs one (at most every
/// half second, as the thin client does); the picture to show, if any.
async fn decode(
    decoder: &mut FrameReception,
    client: &mut Client,
    frame: &Frame,
) -> anyhow::Result<Option<DecodedImage>> {
    let decoded = decoder.decode(frame);
    if decoded.ask_for_keyframe {
        tracing::warn!("asking for a keyframe");
        client.keyframe().await.context("asking for a keyframe")?;
    }
    match decoded.picture {
        Ok(picture) => Ok(picture),
        Err(error) if error.wants_keyframe() => Ok(None),
        Err(error) => Err(error).context("decoding a frame"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_answered_by_the_first_frame_naming_it_and_folded_ones_are_forgotten() {
        let start = Instant::now();
        let at = |n: u64| start + Duration::from_millis(n);
        let mut unanswered = Unanswered(VecDeque::new());
        for seq in 1..=5 {
            unanswered.sent(seq, at(u64::from(seq)));
        }
        assert_eq!(unanswered.answered(1), Some(at(1)));
        assert_eq!(unanswered.answered(1), None, "named once");
        assert_eq!(
            unanswered.answered(4),
            Some(at(4)),
            "2 and 3 folded into it"
        );
        assert_eq!(unanswered.answered(3), None);
        assert_eq!(unanswered.answered(5), Some(at(5)));
        for seq in 0..(SENT_KEPT as u32 + 10) {
            unanswered.sent(100 + seq, start);
        }
        assert_eq!(unanswered.0.len(), SENT_KEPT, "bounded");
        assert_eq!(unanswered.answered(100), None, "the oldest were dropped");
    }
}
