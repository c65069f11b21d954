//! Frames into pixels for clients: [`FrameDecoder`] decodes JPEG, PNG and H.264 frames
//! (FFmpeg's decoder for H.264, which keeps state between frames) into RGBA. A client
//! that gets [`DecodeError::NeedKeyframe`] should send `keyframe` to the server.

use hounsfield_protocol::Codec;
use hounsfield_video::{DecodedImage, H264Decoder, VideoError};

use crate::Frame;

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A JPEG or PNG payload is broken.
    #[error("frame image: {0}")]
    Image(#[from] image::ImageError),
    /// An H.264 frame that depends on earlier ones came before any keyframe (or after a
    /// failed one): ask the server for a keyframe.
    #[error("H.264 frame {frame_seq} needs a keyframe first: ask the server for one")]
    NeedKeyframe {
        /// The frame's `frame_seq`.
        frame_seq: u32,
    },
    /// The H.264 decoder failed; later frames need a keyframe.
    #[error("H.264 frame {frame_seq}: {source}")]
    Video {
        /// The frame's `frame_seq`.
        frame_seq: u32,
        /// What failed.
        source: VideoError,
    },
    /// The picture's size is not the one the header states.
    #[error("frame {frame_seq} is {actual:?} pixels, its header says {stated:?}")]
    SizeMismatch {
        /// The frame's `frame_seq`.
        frame_seq: u32,
        /// Width and height in the header.
        stated: [u32; 2],
        /// Width and height of the decoded picture.
        actual: [u32; 2],
    },
}

impl DecodeError {
    /// Whether the server should be asked for a keyframe (`keyframe` message).
    pub fn wants_keyframe(&self) -> bool {
        matches!(self, Self::NeedKeyframe { .. } | Self::Video { .. })
    }
}

/// Decodes a session's frames, in the order they arrive.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// The H.264 decoder, from the first keyframe on; dropped after an error.
    h264: Option<H264Decoder>,
}

impl FrameDecoder {
    /// A decoder with no H.264 state yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `frame` into RGBA. H.264 frames must come in order; a frame that is not a
    /// keyframe is refused until a keyframe has been decoded.
    pub fn decode(&mut self, frame: &Frame) -> Result<DecodedImage, DecodeError> {
        let header = &frame.header;
        let image = match header.codec {
            Codec::Jpeg | Codec::Png => {
                let format = if header.codec == Codec::Jpeg {
                    image::ImageFormat::Jpeg
                } else {
                    image::ImageFormat::Png
                };
                let image = image::load_from_memory_with_format(&frame.payload, format)?.to_rgba8();
                DecodedImage {
                    width: image.width(),
                    height: image.height(),
                    rgba: image.into_raw(),
                }
            }
            Codec::H264 => self.decode_h264(frame)?,
        };
        let stated = [u32::from(header.width), u32::from(header.height)];
        let actual = [image.width, image.height];
        if stated != actual {
            return Err(DecodeError::SizeMismatch {
                frame_seq: header.frame_seq,
                stated,
                actual,
            });
        }
        Ok(image)
    }

    fn decode_h264(&mut self, frame: &Frame) -> Result<DecodedImage, DecodeError> {
        let frame_seq = frame.header.frame_seq;
        let video_error = |source| DecodeError::Video { frame_seq, source };
        if frame.header.flags.keyframe() {
            // A keyframe starts afresh: no state of a broken stream survives it.
            self.h264 = Some(H264Decoder::new().map_err(video_error)?);
        }
        let Some(decoder) = self.h264.as_mut() else {
            return Err(DecodeError::NeedKeyframe { frame_seq });
        };
        decoder.decode(&frame.payload).map_err(|source| {
            self.h264 = None;
            video_error(source)
        })
    }
}
