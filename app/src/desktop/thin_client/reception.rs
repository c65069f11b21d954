//! What a connection makes of the frames it receives, whichever transport brought them:
//! the rates, the latency of the inputs they answer, the decoded picture (an older frame
//! than the one shown is not shown), and whether to ask the server for a keyframe.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hounsfield_client::{DecodeError, DecodedImage, Frame, FrameDecoder};

/// Inputs remembered for latency: older ones are forgotten.
const LATENCY_WINDOW: usize = 128;
/// Shortest time between two keyframe requests while H.264 frames fail to decode (the
/// server holds keyframe requests to 4 a second).
const KEYFRAME_ASK_EVERY: Duration = Duration::from_millis(500);

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
/// frame, the rates, the decoder, the newest frame shown and when a keyframe was last
/// asked for.
pub(super) struct Reception {
    /// Inputs sent and when, oldest first (at most [`LATENCY_WINDOW`]).
    sent: VecDeque<(u32, Instant)>,
    meter: Meter,
    /// H.264 frames depend on those before them: one decoder for the connection.
    decoder: FrameDecoder,
    /// The `frame_seq` of the newest frame shown.
    shown: Option<u32>,
    /// Every frame fails until the keyframe comes: asked at most every
    /// [`KEYFRAME_ASK_EVERY`].
    keyframe_asked: Option<Instant>,
}

impl Reception {
    /// Nothing received yet.
    pub(super) fn new() -> Self {
        Self {
            sent: VecDeque::with_capacity(LATENCY_WINDOW),
            meter: Meter::new(),
            decoder: FrameDecoder::new(),
            shown: None,
            keyframe_asked: None,
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
        let decoded = self.decoder.decode(frame);
        let ask_for_keyframe =
            decoded.as_ref().is_err_and(DecodeError::wants_keyframe) && self.may_ask_for_keyframe();
        let picture = match decoded {
            Ok(image) => Ok(self.newest(frame.header.frame_seq).then_some(image)),
            Err(error) => Err(error),
        };
        Received {
            rates: self.meter.rates(),
            latency_ms,
            picture,
            ask_for_keyframe,
        }
    }

    /// Whether frame `frame_seq` is newer than the one shown (then it is the one shown).
    /// Frame numbers wrap.
    fn newest(&mut self, frame_seq: u32) -> bool {
        let newer = self
            .shown
            .is_none_or(|shown| (frame_seq.wrapping_sub(shown) as i32) > 0);
        if newer {
            self.shown = Some(frame_seq);
        }
        newer
    }

    /// Whether a keyframe may be asked for now (then it is taken as asked).
    fn may_ask_for_keyframe(&mut self) -> bool {
        let may = self
            .keyframe_asked
            .is_none_or(|at| at.elapsed() >= KEYFRAME_ASK_EVERY);
        if may {
            self.keyframe_asked = Some(Instant::now());
        }
        may
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

    #[test]
    fn a_frame_older_than_the_one_shown_is_not_shown_across_the_wrap() {
        let mut reception = Reception::new();
        assert!(reception.newest(u32::MAX - 1));
        assert!(reception.newest(u32::MAX));
        assert!(reception.newest(0), "numbers wrap");
        assert!(!reception.newest(u32::MAX), "overtaken");
        assert!(!reception.newest(0), "shown already");
        assert!(reception.newest(1));
    }
}
