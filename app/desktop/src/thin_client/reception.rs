//! What a connection makes of the frames it receives, whichever transport brought them:
//! the rates, the latency of the inputs they answer, and the decoded picture with whether
//! to ask the server for a keyframe (the client's [`FrameReception`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hounsfield_client::{DecodeError, DecodedImage, Frame, FrameReception};

/// Inputs remembered for latency: older ones are forgotten.
const LATENCY_WINDOW: usize = 128;

/// What one frame brought.
pub(super) struct Received {
    /// Frames a second and kilobits a second over the last second.
    pub rates: (f64, f64),
    /// Input → frame latency of the newest input it answers (ms).
    pub latency_ms: Option<f64>,
    /// The picture to show; `None` when a newer frame was shown already (an RTP frame
    /// overtaken by a still over the WebSocket).
    pub picture: Result<Option<DecodedImage>, DecodeError>,
    /// The decoder lacks its reference picture and no keyframe was asked for lately.
    pub ask_for_keyframe: bool,
}

/// What one connection keeps about the frames it receives: the inputs awaiting their
/// frame, the rates, and the frames decoded so far.
pub(super) struct Reception {
    /// Inputs sent and when, oldest first (at most [`LATENCY_WINDOW`]).
    sent: VecDeque<(u32, Instant)>,
    meter: Meter,
    frames: FrameReception,
}

impl Reception {
    /// Nothing received yet.
    pub(super) fn new() -> Self {
        Self {
            sent: VecDeque::with_capacity(LATENCY_WINDOW),
            meter: Meter::new(),
            frames: FrameReception::new(),
        }
    }

    /// Remembers that input `seq` went now, for its latency.
    pub(super) fn sent(&mut self, seq: u32) {
        if self.sent.len() == LATENCY_WINDOW {
            self.sent.pop_front();
        }
        self.sent.push_back((seq, Instant::now()));
    }

    /// Takes a frame: counted, its latency measured, decoded.
    pub(super) fn take(&mut self, frame: &Frame) -> Received {
        self.meter.count(frame.payload.len());
        let latency_ms = answered(&mut self.sent, frame.header.input_seq);
        let decoded = self.frames.decode(frame);
        Received {
            rates: self.meter.rates(),
            latency_ms,
            picture: decoded.picture,
            ask_for_keyframe: decoded.ask_for_keyframe,
        }
    }
}

/// The latency of the newest input a frame reflects, forgetting the inputs it covers.
fn answered(sent: &mut VecDeque<(u32, Instant)>, input_seq: u32) -> Option<f64> {
    let mut newest = None;
    while let Some(&(seq, at)) = sent.front() {
        if seq > input_seq {
            break;
        }
        newest = Some(at);
        sent.pop_front();
    }
    newest.map(|at| at.elapsed().as_secs_f64() * 1e3)
}

/// Frames and bytes over a sliding second.
struct Meter {
    arrivals: VecDeque<(Instant, usize)>,
}

impl Meter {
    fn new() -> Self {
        Self {
            arrivals: VecDeque::with_capacity(128),
        }
    }

    fn count(&mut self, bytes: usize) {
        let now = Instant::now();
        self.arrivals.push_back((now, bytes));
        while self
            .arrivals
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > Duration::from_secs(1))
            || self.arrivals.len() > 1024
        {
            self.arrivals.pop_front();
        }
    }

    /// Frames a second and kilobits a second.
    fn rates(&self) -> (f64, f64) {
        let frames = self.arrivals.len() as f64;
        let bits: usize = self.arrivals.iter().map(|(_, bytes)| bytes * 8).sum();
        (frames, bits as f64 / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_measured_from_the_newest_input_a_frame_reflects() {
        let now = Instant::now();
        let long_ago = now.checked_sub(Duration::from_millis(500)).unwrap_or(now);
        let mut sent = VecDeque::from([(1, long_ago), (2, long_ago), (3, now)]);
        let latency = answered(&mut sent, 2).expect("inputs 1 and 2 answered");
        assert!(latency >= 500.0, "{latency}");
        assert_eq!(sent.len(), 1, "input 3 waits for its frame");
        assert!(answered(&mut sent, 2).is_none());
    }
}
