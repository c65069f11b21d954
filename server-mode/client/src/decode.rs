//! Frames into pixels for clients: [`FrameDecoder`] decodes JPEG, PNG and H.264 frames
//! (FFmpeg's decoder for H.264, which keeps state between frames) into RGBA. A client
//! that gets [`DecodeError::NeedKeyframe`] should send `keyframe` to the server.
//!
//! A frame is decoded within what its header states: a header past
//! [`MAX_FRAME_SIDE`](hounsfield_protocol::MAX_FRAME_SIDE) is refused, a JPEG or PNG whose
//! own header declares another size is refused before it is decoded
//! ([`DecodeError::DeclaredSize`]), and the decoder may allocate no more than a picture of
//! the stated size needs ([`picture_limits`]).

use hounsfield_protocol::{Codec, FrameHeader, HeaderError};
use hounsfield_video::{DecodedImage, H264Decoder, VideoError};

use crate::Frame;

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A JPEG or PNG payload is broken, or would take more memory to decode than a
    /// picture of the header's size.
    #[error("frame image: {0}")]
    Image(#[from] image::ImageError),
    /// The header states a picture larger than any a server sends.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A JPEG or PNG payload's own header declares another size than the frame header:
    /// refused before decoding, since a decoder allocates what the picture declares.
    #[error(
        "frame {frame_seq}: its {codec:?} data declares {}×{} pixels where its header says {}×{}; not decoded",
        .declared[0], .declared[1], .stated[0], .stated[1]
    )]
    DeclaredSize {
        /// The frame's `frame_seq`.
        frame_seq: u32,
        /// JPEG or PNG.
        codec: Codec,
        /// Width and height in the frame header.
        stated: [u32; 2],
        /// Width and height the payload declares of itself.
        declared: [u32; 2],
    },
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

    /// Whether the frame lied about its size (a header past the bound of frames, a payload
    /// declaring another size than its header, a picture of another size): no honest
    /// server sends one, so a client should close the connection, where a broken frame
    /// only asks for a keyframe.
    pub fn lies_about_its_size(&self) -> bool {
        matches!(
            self,
            Self::Header(_) | Self::DeclaredSize { .. } | Self::SizeMismatch { .. }
        )
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
        header.check_size()?;
        let image = match header.codec {
            Codec::Jpeg => decode_picture(frame, image::ImageFormat::Jpeg)?,
            Codec::Png => decode_picture(frame, image::ImageFormat::Png)?,
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
            // A keyframe starts afresh: no state of a broken stream survives it. Its
            // pictures may be no larger than its header says (with FFmpeg's rounding).
            let max_pixels = h264_max_pixels(frame.header.width, frame.header.height);
            self.h264 = Some(H264Decoder::at_most(max_pixels).map_err(video_error)?);
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

/// What FFmpeg's H.264 decoder may allocate for a stream whose keyframe states `width` ×
/// `height`: FFmpeg counts a row rounded up to its alignment (up to 64 pixels) and a coded
/// picture in whole macroblocks (16 pixels), so a margin of 64 each way. A stream whose SPS
/// declares more is refused before its picture is allocated.
fn h264_max_pixels(width: u16, height: u16) -> u64 {
    (u64::from(width) + 64) * (u64::from(height) + 64)
}

/// Bytes a decoder may allocate besides the picture (tables, a row or two, metadata).
const DECODER_SLACK_BYTES: u64 = 1 << 20;

/// What a JPEG or PNG decoder may take for a frame stated `width` × `height`: that size
/// and no more, and memory for such a picture at 16 bits a channel (8 bytes a pixel, the
/// most a PNG holds) and the decoder's tables.
pub fn picture_limits(width: u32, height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + DECODER_SLACK_BYTES);
    limits
}

/// Decodes a JPEG or PNG frame (its payload in `format`) into RGBA within what its header
/// states: the size the payload declares of itself (its own header, read without
/// decoding) must be the frame header's, and the decoder works within [`picture_limits`]
/// of it.
pub(crate) fn decode_picture(
    frame: &crate::Frame,
    format: image::ImageFormat,
) -> Result<DecodedImage, DecodeError> {
    let header: &FrameHeader = &frame.header;
    header.check_size()?;
    let stated = [u32::from(header.width), u32::from(header.height)];
    let reader = |limits: image::Limits| {
        let mut reader =
            image::ImageReader::with_format(std::io::Cursor::new(&frame.payload), format);
        reader.limits(limits);
        reader
    };
    // The declared size first, from the payload's header alone: within the memory of the
    // stated size, whatever the sides it declares, so that a lie is told as one.
    let mut headers_only = picture_limits(stated[0], stated[1]);
    headers_only.max_image_width = None;
    headers_only.max_image_height = None;
    let (width, height) = reader(headers_only).into_dimensions()?;
    if [width, height] != stated {
        return Err(DecodeError::DeclaredSize {
            frame_seq: header.frame_seq,
            codec: header.codec,
            stated,
            declared: [width, height],
        });
    }
    let image = reader(picture_limits(width, height)).decode()?.into_rgba8();
    Ok(DecodedImage {
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    })
}
