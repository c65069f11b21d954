//! What a benchmark client does with each frame as it arrives: decodes it and asks for a
//! keyframe when the H.264 stream needs one, as the thin client does (the client's
//! [`FrameReception`]), and keeps when it came and what it answered.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::{Client, Frame, FrameReception};
use hounsfield_protocol::ClientStats;

use super::fidelity::Samples;
use crate::client::{ms, percentile};

/// A frame as this client got it: when it arrived and when it was decoded.
pub(super) struct Arrival {
    pub(super) frame: Frame,
    pub(super) decoded: Instant,
    pub(super) decode: Duration,
    /// Whether it decoded into a picture (after lost packets an H.264 frame may not, until
    /// the next keyframe).
    pub(super) shown: bool,
}

/// Decodes frames as they arrive, asking for a keyframe when the H.264 stream needs one.
pub(super) struct Receiver {
    frames: FrameReception,
    pub(super) arrivals: Vec<Arrival>,
    /// Inputs answered so far (the first frame naming each).
    pub(super) answered: HashSet<u32>,
    /// Latencies since the last report to the server (ms).
    pub(super) recent_ms: Vec<f64>,
    /// Interactive frames kept for `fidelity_psnr_db_*`, when this client keeps them.
    pub(super) samples: Option<Samples>,
}

impl Receiver {
    /// A receiver that keeps a few interactive frames for comparison when `sampling`.
    pub(super) fn new(sampling: bool) -> Self {
        Self {
            frames: FrameReception::new(),
            arrivals: Vec::new(),
            answered: HashSet::new(),
            recent_ms: Vec::new(),
            samples: sampling.then(Samples::default),
        }
    }

    /// Decodes `frame` and keeps it; asks `client` for a keyframe when decoding says so.
    pub(super) async fn take(
        &mut self,
        client: &mut Client,
        frame: Frame,
        sent: &HashMap<u32, Instant>,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let decoded = self.frames.decode(&frame);
        if decoded.ask_for_keyframe {
            // The frames that follow a lost one fail alike until the keyframe comes.
            tracing::warn!("asking for a keyframe");
            client.keyframe().await?;
        }
        let flags = frame.header.flags;
        let interactive = !flags.final_still() && !flags.refining();
        if let (Some(samples), Ok(Some(picture)), true) =
            (&mut self.samples, &decoded.picture, interactive)
        {
            let seq = frame.header.input_seq;
            let orbits = sent.keys().filter(|&&sent| sent <= seq).count();
            samples.offer(orbits, picture, frame.received);
        }
        let shown = match decoded.picture {
            Ok(_) => true,
            Err(error) if error.wants_keyframe() => false,
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
    pub(super) fn report(&mut self) -> ClientStats {
        self.recent_ms.sort_by(f64::total_cmp);
        let latency_ms = (!self.recent_ms.is_empty()).then(|| percentile(&self.recent_ms, 0.5));
        self.recent_ms.clear();
        ClientStats {
            decode_queue: 0,
            latency_ms,
        }
    }
}
