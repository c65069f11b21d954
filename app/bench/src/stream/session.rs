//! One benchmark client's session: it opens the series, drags (30 orbit inputs a second),
//! decodes every frame as it arrives, and measures first frame, frames/s and latencies.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use hounsfield_client::webrtc::{RtpFrames, next_arrival};
use hounsfield_client::{Client, Event, Frame};
use hounsfield_protocol::{Action, Codec, FrameHeader, ServerMessage, TransportKind};

use super::receiver::{Arrival, Receiver};
use super::webrtc::over_webrtc;
use super::{Figures, REPORT_EVERY, RtpArrival, SessionReport, SessionRun, Transport, fidelity};
use crate::cli::StreamCodec;
use crate::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT, greet_over, in_time, ms, percentile};
use crate::memory::{peak_resident_mib, resident_mib, resident_parts_mib};

/// One client: hello (offering `codec`), list, open (timing the first frame and the first
/// final still), a drag of orbit inputs at [`INPUTS_PER_S`] for `drag`, then the release
/// and its final still. Every frame is decoded on arrival; when `sampling`, a few of the
/// drag's are kept for [`super::fidelity`].
pub(super) async fn run_session(
    transport: &Transport,
    series: Option<&str>,
    size: [u32; 2],
    drag: Duration,
    codec: StreamCodec,
    sampling: bool,
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
    let mut receiver = Receiver::new(sampling);

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
    let last_orbit = loop {
        tokio::select! {
            _ = ticker.tick() => {
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
                // The drag's last move: the button is released with it, as a mouse-up
                // follows the last motion event.
                if at + ticker.period() >= drag_ends {
                    break seq;
                }
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
    };
    drop(peer);
    let released = Instant::now();
    // What the process holds while the series is open and being dragged.
    let (rss_mib, peak_rss_mib) = (resident_mib(), peak_resident_mib());
    let rss_parts = resident_parts_mib();
    client.input(Action::Interact { active: false }).await?;
    let still_received = final_still_after(&mut client, &mut receiver, &sent, last_orbit).await?;
    let last_input = sent.get(&last_orbit).copied().unwrap_or(released);
    let still_after_drag = still_received.saturating_duration_since(last_input);
    let sharp = Sharp::after(&receiver.arrivals[opening_frames..], last_orbit, last_input);
    // Best effort: the figures are in.
    let _ = client.close().await;

    let measured = Measured::of(
        &receiver.arrivals[opening_frames..],
        &sent,
        (drag_started, released),
    );
    let report = SessionReport {
        figures: measured.figures(first_frame_ms, first_still_ms, still_after_drag, sharp),
        inputs: sent.len(),
    };
    let Measured {
        latencies_ms,
        decoded_latencies_ms,
        frame_bytes,
        ..
    } = measured;
    Ok(SessionRun {
        #[cfg(feature = "test-bench")]
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
        rss_mib,
        peak_rss_mib,
        rss_parts,
        samples: receiver
            .samples
            .map(fidelity::Samples::into_kept)
            .unwrap_or_default(),
    })
}

/// When the final still that answers the drag's last orbit `last_orbit` arrived: the
/// release changes nothing by itself, so the still answers that orbit, and a pause in the
/// drag just before the release may already have brought it.
async fn final_still_after(
    client: &mut Client,
    receiver: &mut Receiver,
    sent: &HashMap<u32, Instant>,
    last_orbit: u32,
) -> anyhow::Result<Instant> {
    let answers_drag =
        |frame: &Frame| frame.header.flags.final_still() && frame.header.input_seq >= last_orbit;
    if let Some(arrival) = receiver
        .arrivals
        .last()
        .filter(|arrival| answers_drag(&arrival.frame))
    {
        return Ok(arrival.frame.received);
    }
    loop {
        let frame = in_time("the final still after the drag", client.next_frame()).await?;
        let (done, received) = (answers_drag(&frame), frame.received);
        receiver.take(client, frame, sent).await?;
        if done {
            return Ok(received);
        }
    }
}

/// The first sharp picture after a drag: the refining image of its last view, or the
/// final still when none came first.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sharp {
    /// From the drag's last orbit input to its arrival.
    after_drag: Duration,
    /// Its render and encode times on the server (ms, from its header).
    render_ms: f64,
    encode_ms: f64,
}

impl Sharp {
    /// The first refining or final frame among `arrivals` that answers input `last_orbit`
    /// (sent at `last_input`).
    fn after(arrivals: &[Arrival], last_orbit: u32, last_input: Instant) -> Self {
        arrivals
            .iter()
            .map(|arrival| &arrival.frame)
            .find(|frame| {
                let flags = frame.header.flags;
                (flags.refining() || flags.final_still()) && frame.header.input_seq >= last_orbit
            })
            .map(|frame| Self {
                after_drag: frame.received.saturating_duration_since(last_input),
                render_ms: f64::from(frame.header.render_us) / 1000.0,
                encode_ms: f64::from(frame.header.encode_us) / 1000.0,
            })
            .unwrap_or_default()
    }
}

/// What a drag's frames measured: the frames received while it lasted, and the latency
/// of each input they answer (on arrival and once decoded).
pub(super) struct Measured<'a> {
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

    /// The session's figures, with its opening times, the final still's wait and the first
    /// sharp picture's.
    fn figures(
        &self,
        first_frame_ms: f64,
        first_still_ms: f64,
        still_after_drag: Duration,
        sharp: Sharp,
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
            sharp_after_drag_ms: ms(sharp.after_drag),
            sharp_render_ms: sharp.render_ms,
            sharp_encode_ms: sharp.encode_ms,
            // Apportioned once the run's server figures are in (`Figures::apportion`).
            sharp_sending_ms: 0.0,
            sharp_waiting_ms: 0.0,
        }
    }
}

/// For each input a frame names (its `input_seq`; the first frame naming it), the time
/// from sending that input to the frame's moment `at` (arrival or decoded). Inputs folded
/// into a later frame are not named and not counted.
pub(super) fn input_latencies_ms(
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
pub(super) fn shown_latencies_ms(arrivals: &[Arrival], sent: &HashMap<u32, Instant>) -> Vec<f64> {
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
