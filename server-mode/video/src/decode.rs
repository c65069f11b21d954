//! FFmpeg's H.264 decoder: Annex B access units in, RGBA pictures out, one for each unit
//! at once (low-delay mode, no frame threading).

use ffmpeg_next::codec::context::Context;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Packet, codec, decoder, frame};

use crate::picture::DecodedImage;
use crate::{VideoError, convert};

/// A stateful H.264 decoder: access units must come in stream order, from a keyframe on.
pub struct H264Decoder {
    decoder: decoder::Video,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder").finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Opens FFmpeg's H.264 decoder.
    pub fn new() -> Result<Self, VideoError> {
        crate::init();
        let codec = decoder::find(codec::Id::H264)
            .ok_or_else(|| VideoError::NotFound("h264 (decoder)".to_string()))?;
        let mut context = Context::new_with_codec(codec);
        // A picture out for every unit in, nothing held back for reordering.
        context.set_flags(codec::Flags::LOW_DELAY);
        let decoder = context
            .decoder()
            .open_as(codec)
            .and_then(|opened| opened.video())
            .map_err(|error| VideoError::Decode(format!("the decoder did not open: {error}")))?;
        Ok(Self { decoder })
    }

    /// Decodes one access unit into RGBA.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<DecodedImage, VideoError> {
        let packet = Packet::copy(access_unit);
        self.decoder
            .send_packet(&packet)
            .map_err(|error| VideoError::Decode(error.to_string()))?;
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
                Err(error) => return Err(VideoError::Decode(error.to_string())),
            }
        }
        last.ok_or(VideoError::NoPicture)
    }
}
