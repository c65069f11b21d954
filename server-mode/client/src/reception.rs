//! The frames of one connection as a client takes them, whichever transport brought them:
//! decoded in order, an older frame than the one shown not shown (an RTP frame overtaken by
//! a still over the WebSocket), and a keyframe asked for while H.264 frames fail for want
//! of their reference picture, at most every [`KEYFRAME_ASK_EVERY`] (the server holds
//! keyframe requests to 4 a second). The desktop's thin client and `bench stream` both
//! take their frames through it.

use std::time::{Duration, Instant};

use crate::{DecodeError, DecodedImage, Frame, FrameDecoder};

/// Shortest time between two keyframe requests while H.264 frames fail to decode.
pub const KEYFRAME_ASK_EVERY: Duration = Duration::from_millis(500);

/// What one frame gave.
#[derive(Debug)]
pub struct Decoded {
    /// The picture to show; `None` when a newer frame was shown already.
    pub picture: Result<Option<DecodedImage>, DecodeError>,
    /// The decoder lacks its reference picture and no keyframe was asked for lately: ask
    /// the server for one now.
    pub ask_for_keyframe: bool,
}

/// One connection's decoder, the newest frame shown and when a keyframe was last asked for.
#[derive(Default)]
pub struct FrameReception {
    /// H.264 frames depend on those before them: one decoder for the connection.
    decoder: FrameDecoder,
    /// The `frame_seq` of the newest frame shown.
    shown: Option<u32>,
    /// When a keyframe was last asked for.
    keyframe_asked: Option<Instant>,
}

impl FrameReception {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `frame`.
    pub fn decode(&mut self, frame: &Frame) -> Decoded {
        let decoded = self.decoder.decode(frame);
        let ask_for_keyframe =
            decoded.as_ref().is_err_and(DecodeError::wants_keyframe) && self.may_ask_for_keyframe();
        let picture = decoded.map(|image| self.newest(frame.header.frame_seq).then_some(image));
        Decoded {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_older_than_the_one_shown_is_not_shown_across_the_wrap() {
        let mut reception = FrameReception::new();
        assert!(reception.newest(u32::MAX - 1));
        assert!(reception.newest(u32::MAX));
        assert!(reception.newest(0), "numbers wrap");
        assert!(!reception.newest(u32::MAX), "overtaken");
        assert!(!reception.newest(0), "shown already");
        assert!(reception.newest(1));
    }

    #[test]
    fn a_keyframe_is_asked_for_at_most_every_half_second() {
        let mut reception = FrameReception::new();
        assert!(reception.may_ask_for_keyframe());
        assert!(!reception.may_ask_for_keyframe(), "asked just now");
        reception.keyframe_asked = Instant::now().checked_sub(KEYFRAME_ASK_EVERY);
        assert!(reception.may_ask_for_keyframe(), "half a second later");
    }
}
