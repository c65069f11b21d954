//! FFmpeg's H.264 decoder: Annex B access units in, RGBA pictures out, one for each unit
//! at once (low-delay mode, no frame threading). A client's decoder is bounded by the
//! pictures it expects ([`H264Decoder::at_most`]): a stream's SPS may declare any size,
//! and FFmpeg allocates what it declares.

use ffmpeg_next::codec::context::Context;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Dictionary, Packet, codec, decoder, frame};

use crate::picture::DecodedImage;
use crate::{VideoError, convert};

/// A stateful H.264 decoder: access units must come in stream order, from a keyframe on.
pub struct H264Decoder {
    decoder: decoder::Video,
    /// The largest picture taken (pixels), when bounded: said in errors.
    max_pixels: Option<u64>,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder").finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Opens FFmpeg's H.264 decoder.
    pub fn new() -> Result<Self, VideoError> {
        Self::opened(Dictionary::new(), None)
    }

    /// Opens FFmpeg's H.264 decoder for pictures of at most `max_pixels` pixels: a stream
    /// whose SPS declares a larger one is refused before its picture is allocated
    /// (FFmpeg's `max_pixels`, checked when a slice sets the size and when a picture's
    /// buffer is taken; FFmpeg counts a row rounded up to its alignment, up to 64 pixels).
    pub fn at_most(max_pixels: u64) -> Result<Self, VideoError> {
        // The option's range ends at INT_MAX.
        const FFMPEG_MOST_PIXELS: u64 = 2_147_483_647;
        let mut options = Dictionary::new();
        let max_pixels = max_pixels.min(FFMPEG_MOST_PIXELS);
        options.set("max_pixels", &max_pixels.to_string());
        Self::opened(options, Some(max_pixels))
    }

    /// Opens FFmpeg's H.264 decoder with `options`, for pictures up to `max_pixels`.
    fn opened(options: Dictionary<'_>, max_pixels: Option<u64>) -> Result<Self, VideoError> {
        crate::init();
        let codec = decoder::find(codec::Id::H264)
            .ok_or_else(|| VideoError::NotFound("h264 (decoder)".to_string()))?;
        let mut context = Context::new_with_codec(codec);
        // A picture out for every unit in, nothing held back for reordering.
        context.set_flags(codec::Flags::LOW_DELAY);
        let decoder = context
            .decoder()
            .open_as_with(codec, options)
            .and_then(|opened| opened.video())
            .map_err(|error| VideoError::Decode(format!("the decoder did not open: {error}")))?;
        Ok(Self {
            decoder,
            max_pixels,
        })
    }

    /// Decodes one access unit into RGBA.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<DecodedImage, VideoError> {
        // FFmpeg says only that the data is invalid when a picture is past the bound.
        let max_pixels = self.max_pixels;
        let failed = |error: ffmpeg_next::Error| {
            VideoError::Decode(match max_pixels {
                Some(max) => format!("{error} (pictures over {max} pixels are refused)"),
                None => error.to_string(),
            })
        };
        let packet = Packet::copy(access_unit);
        self.decoder.send_packet(&packet).map_err(failed)?;
        let mut picture = frame::Video::empty();
        let mut last = None;
        loop {
            match self.decoder.receive_frame(&mut picture) {
                Ok(()) => {
                    if picture.is_corrupt() {
                        return Err(VideoError::Decode(
                            "the picture is corrupt (a reference is missing)".to_string(),
                        ));
                    }
                    let mut rgba =
                        frame::Video::new(Pixel::RGBA, picture.width(), picture.height());
                    convert::convert(&picture, &mut rgba)?;
                    last = Some(DecodedImage {
                        width: rgba.width(),
                        height: rgba.height(),
                        rgba: convert::packed_rgba(&rgba),
                    });
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == EAGAIN => break,
                Err(ffmpeg_next::Error::Eof) => break,
                Err(error) => return Err(failed(error)),
            }
        }
        last.ok_or(VideoError::NoPicture)
    }
}
