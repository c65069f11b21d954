//! The Rust client of protocol v1 ([`Client`]) and the decoding of the frames it receives
//! into pixels ([`FrameDecoder`], over FFmpeg's H.264 decoder for video; a connection's
//! frames taken in order, keyframes asked for, through [`FrameReception`]); frames over
//! WebRTC through [`webrtc`]; signing in through the server's identity provider with the
//! system's browser, [`sign_in`]. Used by the desktop's thin client, `hounsfield bench stream`
//! and the tests.

mod connection;
pub mod decode;
#[cfg(feature = "lossy-relay")]
pub mod lossy_relay;
pub mod reception;
pub mod sign_in;
pub mod webrtc;

pub use connection::{
    Client, ClientError, Event, Frame, HangingTold, STILL_CODECS, VIDEO_CODECS, Welcome,
};
pub use decode::{DecodeError, FrameDecoder};
pub use hounsfield_video::{DecodedImage, H264Decoder, psnr, psnr_over_volume};
pub use reception::{Decoded, FrameReception};
