//! A session's H.264 stream: its encoder, opened again when the frame size changes (the
//! first picture at the new size is a keyframe), keyframes when asked for and at least
//! every `keyframe_interval`, at the bitrate the session's rate control sets.

use std::time::{Duration, Instant};

use super::{AccessUnit, H264Encoder};
use crate::VideoError;

/// One session's encoder and keyframe clock.
#[derive(Debug)]
pub struct VideoStream {
    encoder: H264Encoder,
    keyframe_interval: Duration,
    last_keyframe: Option<Instant>,
}

impl VideoStream {
    /// Opens the first of `candidates` (FFmpeg encoder names) that opens at `size`.
    pub fn open(
        candidates: &[String],
        size: [u32; 2],
        bitrate_kbps: u32,
        keyframe_interval: Duration,
    ) -> Result<Self, VideoError> {
        let mut errors = Vec::new();
        for name in candidates {
            match H264Encoder::open(name, size[0], size[1], bitrate_kbps) {
                Ok(encoder) => {
                    return Ok(Self {
                        encoder,
                        keyframe_interval,
                        last_keyframe: None,
                    });
                }
                Err(error) => errors.push(error),
            }
        }
        Err(match errors.len() {
            0 => VideoError::NotFound("(no H.264 encoder configured)".to_string()),
            1 => errors.remove(0),
            _ => VideoError::Encode(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        })
    }

    /// The size pictures are encoded at now (even sides).
    pub fn size(&self) -> [u32; 2] {
        self.encoder.size()
    }

    /// FFmpeg's name of the encoder in use.
    pub fn encoder_name(&self) -> &str {
        self.encoder.name()
    }

    /// Encodes an RGBA frame: at a new size the encoder is opened again, and the picture
    /// is a keyframe when `keyframe` asks, after a new size, or when the last keyframe is
    /// `keyframe_interval` old.
    pub fn encode(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        keyframe: bool,
        bitrate_kbps: u32,
        now: Instant,
    ) -> Result<AccessUnit, VideoError> {
        let size = [width & !1, height & !1];
        if size != self.encoder.size() {
            self.encoder = H264Encoder::open(self.encoder.name(), size[0], size[1], bitrate_kbps)?;
            self.last_keyframe = None;
        }
        self.encoder.set_bitrate_kbps(bitrate_kbps);
        let due = keyframe
            || self
                .last_keyframe
                .is_none_or(|at| now.saturating_duration_since(at) >= self.keyframe_interval);
        let unit = self.encoder.encode(rgba, width, height, due, now)?;
        if unit.keyframe {
            self.last_keyframe = Some(now);
        }
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encoder::tests::moving_picture;

    #[test]
    fn keyframes_come_first_on_request_after_a_resize_and_by_time() {
        let interval = Duration::from_secs(2);
        let candidates = ["h264_no_such_encoder", "libx264"].map(str::to_string);
        let mut stream =
            VideoStream::open(&candidates, [96, 64], 800, interval).expect("libx264 opens");
        assert_eq!(stream.encoder_name(), "libx264");
        let start = Instant::now();
        let mut encode = |size: [u32; 2], t: u32, keyframe: bool, at: Duration| {
            let rgba = moving_picture(size[0], size[1], t);
            stream
                .encode(&rgba, size[0], size[1], keyframe, 800, start + at)
                .expect("encodes")
                .keyframe
        };
        let ms = Duration::from_millis;
        assert!(encode([96, 64], 0, false, ms(0)), "the first picture");
        assert!(!encode([96, 64], 1, false, ms(40)));
        assert!(encode([96, 64], 2, true, ms(80)), "asked for");
        assert!(!encode([96, 64], 3, false, ms(120)));
        assert!(encode([99, 67], 4, false, ms(160)), "a new size (98×66)");
        assert!(!encode([98, 66], 5, false, ms(200)), "the same even size");
        assert!(!encode([98, 66], 6, false, ms(2100)));
        assert!(
            encode([98, 66], 7, false, ms(2170)),
            "two seconds after the last"
        );
    }

    #[test]
    fn no_encoder_that_opens_is_an_error() {
        let error = VideoStream::open(
            &["h264_no_such_encoder".to_string()],
            [96, 64],
            800,
            Duration::from_secs(2),
        )
        .expect_err("nothing opens");
        assert_eq!(
            error,
            VideoError::NotFound("h264_no_such_encoder".to_string())
        );
    }
}
