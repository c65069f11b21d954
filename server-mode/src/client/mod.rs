//! The client half: a Rust client of protocol v1 ([`Client`]) and the decoding of the
//! frames it receives into pixels ([`FrameDecoder`], over FFmpeg's [`H264Decoder`] for
//! video). Used by the tests, `hounsfield bench stream` and the desktop's thin client.

mod connection;
pub mod decode;
mod h264;
pub mod lossy_relay;
pub mod webrtc;

pub use connection::{Client, ClientError, Event, Frame, STILL_CODECS, VIDEO_CODECS, Welcome};
pub use decode::{DecodeError, DecodedImage, FrameDecoder, psnr};
pub use h264::H264Decoder;
