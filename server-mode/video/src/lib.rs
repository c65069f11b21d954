//! H.264 through FFmpeg (ffmpeg-next), encode and decode together: the server's encoders
//! ([`encode`]: which one this machine can open, and a session's stream of access units),
//! movie files ([`MovieWriter`]: MP4),
//! the clients' decoder ([`H264Decoder`]), the pictures both trade ([`DecodedImage`],
//! [`psnr`]), FFmpeg's one-time set-up, its errors, and the pixel conversions between RGBA
//! and YUV.

pub(crate) mod convert;
mod decode;
pub mod encode;
mod movie;
mod picture;

pub use decode::H264Decoder;
pub use encode::{AccessUnit, H264Encoder, VideoStream};
pub use movie::{MAX_MOVIE_FPS, MOVIE_ENCODERS, MovieWriter};
pub use picture::{BACKGROUND_LEVEL, DecodedImage, psnr, psnr_over_volume};

use std::sync::Once;

/// Why H.264 encoding or decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    /// FFmpeg has no encoder (or decoder) of that name.
    #[error("FFmpeg has no codec named {0}")]
    NotFound(String),
    /// The encoder exists but did not open (no hardware, bad settings…).
    #[error("{name} did not open at {width}×{height}: {reason}")]
    Open {
        /// The FFmpeg encoder's name.
        name: String,
        /// Frame width asked for.
        width: u32,
        /// Frame height asked for.
        height: u32,
        /// FFmpeg's error.
        reason: String,
    },
    /// A frame smaller than an encoder takes (sides of 2 pixels at least), or a buffer
    /// that does not hold the pixels it claims to.
    #[error("a {width}×{height} frame cannot be encoded from {bytes} bytes")]
    BadFrame {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes given.
        bytes: usize,
    },
    /// The encoder held the frame back instead of writing its access unit at once (an
    /// encoder with delay cannot stream).
    #[error("{0} gave no access unit for a frame: it buffers frames, which streaming cannot use")]
    Buffered(String),
    /// Encoding failed.
    #[error("H.264 encoding failed: {0}")]
    Encode(String),
    /// Decoding failed (corrupt data, or a frame whose references are missing).
    #[error("H.264 decoding failed: {0}")]
    Decode(String),
    /// The decoder took the data but gave no picture for it.
    #[error("the H.264 decoder gave no picture for the access unit")]
    NoPicture,
    /// Converting between RGBA and YUV failed.
    #[error("pixel conversion failed: {0}")]
    Convert(String),
}

/// Registers FFmpeg once and quietens its own logging: failures come back as errors
/// (hardware encoders that cannot open would otherwise print to stderr).
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(error) = ffmpeg_next::init() {
            tracing::warn!(%error, "FFmpeg initialisation");
        }
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            ffmpeg_next::util::log::Level::Warning
        } else {
            ffmpeg_next::util::log::Level::Fatal
        };
        ffmpeg_next::util::log::set_level(level);
    });
}
