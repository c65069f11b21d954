//! The server's H.264 encoding: which encoder this machine can open ([`probe`]), and a session's
//! stream of access units ([`VideoStream`] over [`H264Encoder`]).

mod backend;
pub(crate) mod encoder;
mod stream;

pub use backend::{DEFAULT_ENCODERS, EncoderAttempt, EncoderProbe, probe};
pub use encoder::{AccessUnit, H264Encoder};
pub use stream::VideoStream;
