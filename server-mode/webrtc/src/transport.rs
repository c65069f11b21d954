//! Which transport carries a session's video frames, and when that changes. Frames go over
//! the WebSocket until a WebRTC peer is connected and has been sent a keyframe (so the
//! switch never leaves a decoder without a picture), and back over the WebSocket when the
//! peer does not connect in time or fails. A failure holds off the next try for a while,
//! so a client behind a firewall that drops UDP does not loop through negotiations.
//! Time is given, never read: every decision is a function of its inputs.

use std::time::{Duration, Instant};

/// How long a peer may take to connect before frames stay on the WebSocket.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after a failure a new offer is refused.
pub const RETRY_HOLD: Duration = Duration::from_secs(60);

/// What carries the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// The session's WebSocket (H.264 or JPEG frames, as without WebRTC).
    WebSocket,
    /// RTP over the session's WebRTC peer.
    WebRtc,
}

/// A change of carrier, to be told to the client (`transport` message) with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// Frames now go over WebRTC.
    ToWebRtc,
    /// Frames are back on the WebSocket, for this reason.
    ToWebSocket(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No peer.
    WebSocket,
    /// A peer answered, not yet connected; given up at the deadline.
    Negotiating { deadline: Instant },
    /// Connected; the first keyframe for it is awaited before frames move.
    Connected,
    /// Frames go over the peer.
    WebRtc,
}

/// One session's choice of transport.
#[derive(Debug, Clone)]
pub struct TransportChoice {
    phase: Phase,
    /// No new offer before this, after a failure.
    hold_until: Option<Instant>,
}

impl Default for TransportChoice {
    fn default() -> Self {
        Self {
            phase: Phase::WebSocket,
            hold_until: None,
        }
    }
}

impl TransportChoice {
    /// What carries the frames now.
    pub fn carrier(&self) -> Carrier {
        match self.phase {
            Phase::WebRtc => Carrier::WebRtc,
            _ => Carrier::WebSocket,
        }
    }

    /// When [`Self::tick`] next has something to decide (a peer's time to connect).
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Negotiating { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Whether the encoder owes the peer a keyframe (it connected, no frame moved yet).
    pub fn wants_keyframe(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// A client's offer was answered at `now`; `Err` with the reason when offers are held
    /// off after a failure. A new offer replaces a peer in any phase (frames return to
    /// the WebSocket until the new one connects).
    pub fn offered(&mut self, now: Instant) -> Result<Option<Switch>, String> {
        if let Some(until) = self.hold_until.filter(|&until| now < until) {
            let wait = until.saturating_duration_since(now).as_secs().max(1);
            return Err(format!("WebRTC failed a moment ago; try again in {wait} s"));
        }
        let switch = (self.phase == Phase::WebRtc)
            .then(|| Switch::ToWebSocket("a new WebRTC offer replaces the peer".to_string()));
        self.phase = Phase::Negotiating {
            deadline: now + CONNECT_TIMEOUT,
        };
        Ok(switch)
    }

    /// The peer connected (ICE and DTLS up).
    pub fn connected(&mut self) {
        if matches!(self.phase, Phase::Negotiating { .. }) {
            self.phase = Phase::Connected;
        }
    }

    /// A keyframe was written to the connected peer: frames move to it.
    pub fn keyframe_sent(&mut self) -> Option<Switch> {
        (self.phase == Phase::Connected).then(|| {
            self.phase = Phase::WebRtc;
            Switch::ToWebRtc
        })
    }

    /// The peer failed or was closed at `now`: frames return to the WebSocket, and
    /// offers are held off for [`RETRY_HOLD`].
    pub fn failed(&mut self, now: Instant, reason: &str) -> Option<Switch> {
        if self.phase == Phase::WebSocket {
            return None;
        }
        self.phase = Phase::WebSocket;
        self.hold_until = Some(now + RETRY_HOLD);
        Some(Switch::ToWebSocket(reason.to_string()))
    }

    /// The clock at `now`: a peer not connected by its deadline fails.
    pub fn tick(&mut self, now: Instant) -> Option<Switch> {
        match self.phase {
            Phase::Negotiating { deadline } if now >= deadline => self.failed(
                now,
                &format!(
                    "WebRTC did not connect within {} s (UDP blocked?)",
                    CONNECT_TIMEOUT.as_secs()
                ),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_move_only_once_the_connected_peer_has_a_keyframe() {
        let start = Instant::now();
        let mut choice = TransportChoice::default();
        assert_eq!(choice.offered(start), Ok(None));
        assert_eq!(choice.carrier(), Carrier::WebSocket);
        assert_eq!(choice.keyframe_sent(), None, "not connected yet");
        choice.connected();
        assert!(choice.wants_keyframe());
        assert_eq!(choice.carrier(), Carrier::WebSocket);
        assert_eq!(choice.keyframe_sent(), Some(Switch::ToWebRtc));
        assert_eq!(choice.carrier(), Carrier::WebRtc);
        assert!(!choice.wants_keyframe());
        assert_eq!(choice.tick(start + CONNECT_TIMEOUT * 2), None);
    }

    #[test]
    fn a_peer_not_connected_in_time_falls_back_and_holds_off_the_next_offer() {
        let start = Instant::now();
        let mut choice = TransportChoice::default();
        choice.offered(start).expect("offered");
        assert_eq!(choice.tick(start + CONNECT_TIMEOUT / 2), None);
        let fell = choice.tick(start + CONNECT_TIMEOUT);
        assert!(
            matches!(&fell, Some(Switch::ToWebSocket(reason)) if reason.contains("did not connect")),
            "{fell:?}"
        );
        assert_eq!(choice.carrier(), Carrier::WebSocket);
        let later = start + CONNECT_TIMEOUT + Duration::from_secs(1);
        assert!(choice.offered(later).is_err(), "held off");
        assert!(choice.offered(start + CONNECT_TIMEOUT + RETRY_HOLD).is_ok());
    }

    #[test]
    fn a_failing_peer_sends_frames_back_to_the_websocket_once() {
        let start = Instant::now();
        let mut choice = TransportChoice::default();
        assert_eq!(choice.failed(start, "nothing to fail"), None);
        choice.offered(start).expect("offered");
        choice.connected();
        choice.keyframe_sent();
        assert_eq!(
            choice.failed(start, "ICE consent lost"),
            Some(Switch::ToWebSocket("ICE consent lost".to_string()))
        );
        assert_eq!(choice.carrier(), Carrier::WebSocket);
        assert_eq!(choice.failed(start, "again"), None);
    }

    #[test]
    fn a_new_offer_replaces_a_working_peer() {
        let start = Instant::now();
        let mut choice = TransportChoice::default();
        choice.offered(start).expect("offered");
        choice.connected();
        choice.keyframe_sent();
        let switch = choice.offered(start).expect("offered again");
        assert!(matches!(switch, Some(Switch::ToWebSocket(_))));
        assert_eq!(choice.carrier(), Carrier::WebSocket);
    }
}
