//! WebRTC beside the WebSocket: the session's H.264 access units over RTP (DTLS-SRTP) and
//! its input over data channels, negotiated on the session's own authenticated socket.
//! The server is ICE-lite and answers the client's offer; frames go over one transport at a
//! time, and the WebSocket carries them again whenever WebRTC does not connect or fails.
//!
//! - [`endpoint`]: the task owning the UDP socket and every session's peer.
//! - [`offer`]: a client's SDP offer checked before the stack reads it.
//! - [`peer`]: one session's peer (str0m: sans-IO, ICE-lite, H.264 sent, data channels).
//! - [`transport`]: which transport carries the frames, and when that changes.

pub mod endpoint;
pub mod offer;
pub mod peer;
pub mod transport;
