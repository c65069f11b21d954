//! WebRTC beside the WebSocket: the session's H.264 access units over RTP (DTLS-SRTP) and
//! its input over data channels, negotiated on the session's own authenticated socket.
//! The server is ICE-lite and answers the client's offer; frames go over one transport at a
//! time, and the WebSocket carries them again whenever WebRTC does not connect or fails.
//!
//! Shared by both ends: the server's endpoint and peers, and the client's peer.
//!
//! - [`client_peer`]: the client's side of a connection (the Rust client drives it).
//! - [`endpoint`]: the task owning the UDP socket and every session's peer.
//! - [`link`]: one session's side: its peer, its transport, its frames' RTP times.
//! - [`offer`]: a client's SDP offer checked before the stack reads it.
//! - [`peer`]: one session's peer (str0m: sans-IO, ICE-lite, H.264 sent, data channels).
//! - `sans_io`: what both sides do with the stack alike (datagrams in, texts out, steps).
//! - [`transport`]: which transport carries the frames, and when that changes.

pub mod client_peer;
pub mod endpoint;
pub mod link;
pub mod offer;
pub mod peer;
pub mod sans_io;
pub mod transport;

pub use endpoint::{Endpoint, PeerEvent, PeerHandle};
pub use link::{Carried, PeerNews, WebRtcLink};
pub use sans_io::Drained;

use std::net::{IpAddr, SocketAddr};

/// Where a server's WebRTC endpoint listens and what it tells clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebRtcConfig {
    /// The UDP address bound (port 0: any free port).
    pub bind: SocketAddr,
    /// The address announced to clients in answers, when it is not `bind`'s (behind NAT:
    /// the address clients reach); needed when `bind` is unspecified (`0.0.0.0`).
    pub announce: Option<IpAddr>,
}

impl WebRtcConfig {
    /// On a free UDP port of 127.0.0.1, announced as it is (tests and benchmarks).
    pub fn loopback() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            announce: None,
        }
    }
}
