//! The thin client's WebRTC path beside its WebSocket: a peer negotiated when the server
//! offers one, the frames it brings once the server moves them there (RTP access units
//! paired with their notes), and the drag steps sent on its unordered input channel once it
//! carries them. Without a peer everything goes over the WebSocket.

use std::time::Duration;

use hounsfield_client::webrtc::{Arrival, PeerTask, RtpFrames, next_arrival};
use hounsfield_client::{Client, Frame};

/// The longest wait for the server's answer to an offer; past it the frames stay on the
/// WebSocket.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// A session's WebRTC peer, while it has one.
#[derive(Default)]
pub(super) struct WebRtcPath {
    peer: Option<PeerTask>,
    frames: RtpFrames,
    /// A frame came over the peer: the server sends them there, and its note came on the
    /// input channel, which is open both ways.
    carrying: bool,
}

impl WebRtcPath {
    /// No peer: frames and inputs over the WebSocket.
    pub(super) fn websocket_only() -> Self {
        Self::default()
    }

    /// Offers WebRTC over `client`'s WebSocket (its `welcome` offered it) and starts the
    /// peer; why not, when the offer is refused, unanswered within [`ANSWER_TIMEOUT`], or
    /// no UDP socket opens. Frames keep coming over the WebSocket until the server moves
    /// them (a `transport` message).
    pub(super) async fn negotiate(client: &mut Client) -> Result<Self, String> {
        match tokio::time::timeout(ANSWER_TIMEOUT, PeerTask::negotiate(client)).await {
            Ok(Ok(peer)) => Ok(Self {
                peer: Some(peer),
                ..Self::default()
            }),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "no answer to the offer within {} s",
                ANSWER_TIMEOUT.as_secs()
            )),
        }
    }

    /// The frames the peer's next arrival completes (often none: a note or an access unit
    /// waiting for its other half); why, once the peer failed (it is dropped then). Never
    /// returns without a peer.
    pub(super) async fn next_frames(&mut self) -> Result<Vec<Frame>, String> {
        match next_arrival(&mut self.peer).await {
            Some(Arrival::Closed(why)) => {
                self.drop_peer();
                Err(format!("the WebRTC peer failed: {why}"))
            }
            None => {
                self.drop_peer();
                Err("the WebRTC peer stopped".to_string())
            }
            Some(arrival) => {
                let frames = self.frames.take(arrival);
                self.carrying |= !frames.is_empty();
                Ok(frames)
            }
        }
    }

    /// The server moved the frames back to the WebSocket: it has given the peer up.
    pub(super) fn given_up(&mut self) {
        self.drop_peer();
    }

    /// The peer's input channel, while the peer carries the frames.
    pub(super) fn input_channel(&self) -> Option<&PeerTask> {
        self.peer.as_ref().filter(|_| self.carrying)
    }

    fn drop_peer(&mut self) {
        *self = Self::websocket_only();
    }
}
