//! Frame encoding: an RGBA frame into the payload of a frame message, JPEG (lossy, for
//! interaction and ordinary stills) or PNG (lossless). H.264 frames depend on the frames
//! before them and are encoded by the session's [`hounsfield_video::encode::VideoStream`] instead.

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use hounsfield_protocol::Codec;

/// JPEG quality of interactive frames.
pub const INTERACTIVE_JPEG_QUALITY: u8 = 60;
/// JPEG quality of final stills that are not lossless.
pub const FINAL_JPEG_QUALITY: u8 = 95;

/// How to encode a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JPEG at a quality (1–100).
    Jpeg {
        /// 1 (smallest) to 100 (best).
        quality: u8,
    },
    /// Lossless PNG.
    Png,
    /// The next access unit of the session's H.264 stream.
    H264 {
        /// An IDR picture, decodable on its own.
        keyframe: bool,
        /// The rate control's target and the network's ceiling; the picture's size as
        /// drawn decides its bitrate ([`crate::rate::Bitrate::for_picture`]).
        bitrate: crate::rate::Bitrate,
    },
}

impl Encoding {
    /// Whether this asks for an H.264 keyframe.
    pub fn asks_keyframe(self) -> bool {
        matches!(self, Encoding::H264 { keyframe: true, .. })
    }

    /// The codec the payload will be in.
    pub fn codec(self) -> Codec {
        match self {
            Encoding::Jpeg { .. } => Codec::Jpeg,
            Encoding::Png => Codec::Png,
            Encoding::H264 { .. } => Codec::H264,
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The buffer does not hold width × height RGBA pixels, or a side exceeds 65535.
    #[error("a {width}×{height} frame cannot be encoded from {bytes} bytes")]
    BadFrame {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes given.
        bytes: usize,
    },
    /// The JPEG encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
    /// H.264 frames need the session's stream, not this function.
    #[error("H.264 frames are encoded by the session's video stream")]
    NeedsStream,
}

/// Encodes `rgba` (width × height pixels, rows from the top) as `encoding` says.
pub fn encode(
    rgba: &[u8],
    width: u32,
    height: u32,
    encoding: Encoding,
) -> Result<Vec<u8>, EncodeError> {
    let bad = || EncodeError::BadFrame {
        width,
        height,
        bytes: rgba.len(),
    };
    let (w16, h16) = (
        u16::try_from(width).map_err(|_| bad())?,
        u16::try_from(height).map_err(|_| bad())?,
    );
    if width == 0 || height == 0 || rgba.len() != width as usize * height as usize * 4 {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(rgba.len() / 8);
    match encoding {
        Encoding::Jpeg { quality } => {
            let encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
            encoder.encode(rgba, w16, h16, jpeg_encoder::ColorType::Rgba)?;
        }
        Encoding::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
                .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)?;
        }
        Encoding::H264 { .. } => return Err(EncodeError::NeedsStream),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> Vec<u8> {
        (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [x as u8, y as u8, 128, 255]))
            .collect()
    }

    #[test]
    fn png_round_trips_exactly() {
        let rgba = gradient(64, 48);
        let png = encode(&rgba, 64, 48, Encoding::Png).expect("encodes");
        let back = image::load_from_memory(&png).expect("decodes").to_rgba8();
        assert_eq!(back.dimensions(), (64, 48));
        assert_eq!(back.into_raw(), rgba);
    }

    #[test]
    fn jpeg_is_close_and_smaller_at_lower_quality() {
        let rgba = gradient(64, 48);
        let good = encode(&rgba, 64, 48, Encoding::Jpeg { quality: 90 }).expect("encodes");
        let poor = encode(&rgba, 64, 48, Encoding::Jpeg { quality: 30 }).expect("encodes");
        assert!(poor.len() < good.len(), "{} vs {}", poor.len(), good.len());
        let back = image::load_from_memory(&good).expect("decodes").to_rgba8();
        let worst = back
            .pixels()
            .zip(rgba.chunks(4))
            .flat_map(|(p, q)| (0..3).map(move |c| p.0[c].abs_diff(q[c])))
            .max()
            .unwrap_or(255);
        assert!(worst <= 12, "largest channel error {worst}");
    }

    #[test]
    fn mismatched_buffers_are_refused() {
        assert!(matches!(
            encode(&[0; 10], 2, 2, Encoding::Png),
            Err(EncodeError::BadFrame { .. })
        ));
        assert!(encode(&[], 0, 0, Encoding::Jpeg { quality: 50 }).is_err());
        assert!(encode(&[0; 4], 70_000, 1, Encoding::Png).is_err());
    }
}
