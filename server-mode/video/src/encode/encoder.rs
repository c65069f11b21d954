//! One H.264 encoder, FFmpeg's by name: RGBA frames in, one Annex B access unit out for
//! each frame at once (no B-frames, no lookahead), at a bitrate that may change between
//! frames. SPS and PPS come in-band before every keyframe, so a decoder can start there.
//!
//! Streaming encoders budget each frame as if frames came at a constant rate (taking
//! real timestamps into account would cost a frame of delay), while rendered frames come
//! as fast as the renderer manages. So the encoder measures the real frame rate and asks
//! for `bitrate × ENCODER_FPS / real rate`: the bits a second stay those aimed at.

use std::time::{Duration, Instant};

use ffmpeg_next::codec::context::Context;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Dictionary, Packet, Rational, encoder, frame, picture, threading};

use crate::{VideoError, convert};

/// Smallest side an encoder is opened with (pixels).
const MIN_SIDE: u32 = 16;
/// Frames between keyframes the encoder would insert itself; streams ask for keyframes
/// by time instead ([`super::VideoStream`]), so this only bounds a stream that never does.
const MAX_GOP_FRAMES: u32 = 600;
/// Threads an encoder may use (x264 writes one slice per thread).
const MAX_THREADS: usize = 4;
/// The frame rate encoders are opened with; their rate control budgets each frame at
/// `bitrate / ENCODER_FPS`.
const ENCODER_FPS: f64 = 30.0;
/// The range the measured frame rate is kept in.
const FPS_RANGE: (f64, f64) = (2.0, 60.0);
/// A gap between frames longer than this is a pause, not a frame rate.
const PAUSE: Duration = Duration::from_secs(1);
/// Weight of the newest interval in the measured frame rate.
const FPS_SMOOTHING: f64 = 0.2;
/// Relative change of the bitrate asked of the encoder below which it is not told.
const RETUNE_SHARE: f64 = 0.05;

/// One encoded frame: the NAL units of one picture, Annex B (start codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// The bytes, every slice of the picture (several when the encoder is threaded).
    pub bytes: Vec<u8>,
    /// An IDR picture, with SPS and PPS in front: decodable on its own.
    pub keyframe: bool,
}

/// An opened H.264 encoder of a fixed, even size.
pub struct H264Encoder {
    name: String,
    encoder: encoder::video::Encoder,
    /// The frame RGBA pixels are copied into before conversion.
    rgba: frame::Video,
    /// The encoder's pixel format.
    format: Pixel,
    started: Instant,
    last_pts: i64,
    /// The bitrate aimed at (per second of real time).
    bitrate_kbps: u32,
    /// The real frame rate, smoothed.
    frame_rate: f64,
    last_frame: Option<Instant>,
    /// The bitrate the encoder was last told (for its constant frame rate).
    told_kbps: u32,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("name", &self.name)
            .field("size", &self.size())
            .field("bitrate_kbps", &self.bitrate_kbps)
            .finish()
    }
}

impl H264Encoder {
    /// Opens FFmpeg's encoder `name` (e.g. `libx264`, `h264_nvenc`) for frames of
    /// `width` × `height` rounded down to even sides, aiming at `bitrate_kbps`.
    pub fn open(
        name: &str,
        width: u32,
        height: u32,
        bitrate_kbps: u32,
    ) -> Result<Self, VideoError> {
        crate::init();
        let (width, height) = (width & !1, height & !1);
        let open_error = |reason: String| VideoError::Open {
            name: name.to_string(),
            width,
            height,
            reason,
        };
        if width < MIN_SIDE || height < MIN_SIDE {
            return Err(open_error(format!(
                "each side must be at least {MIN_SIDE} pixels"
            )));
        }
        let codec =
            encoder::find_by_name(name).ok_or_else(|| VideoError::NotFound(name.to_string()))?;
        let mut video = Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|error| open_error(error.to_string()))?;
        let format = pixel_format(name);
        video.set_width(width);
        video.set_height(height);
        video.set_format(format);
        // Milliseconds: frames carry when they were encoded, so rate control sees the real,
        // variable frame rate.
        video.set_time_base(Rational::new(1, 1000));
        video.set_frame_rate(Some(Rational::new(ENCODER_FPS as i32, 1)));
        video.set_gop(MAX_GOP_FRAMES);
        video.set_max_b_frames(0);
        video.set_bit_rate(bits_per_s(bitrate_kbps));
        video.set_max_bit_rate(bits_per_s(bitrate_kbps));
        convert::describe_colours(&mut video);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
        video.set_threading(threading::Config {
            kind: threading::Type::Slice,
            count: threads,
            ..threading::Config::default()
        });
        let encoder = video
            .open_as_with(codec, options(name, bitrate_kbps))
            .map_err(|error| open_error(error.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            encoder,
            rgba: frame::Video::new(Pixel::RGBA, width, height),
            format,
            started: Instant::now(),
            last_pts: -1,
            bitrate_kbps,
            frame_rate: ENCODER_FPS,
            last_frame: None,
            told_kbps: bitrate_kbps,
        })
    }

    /// FFmpeg's name of the encoder.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size frames are encoded at (even sides).
    pub fn size(&self) -> [u32; 2] {
        [self.rgba.width(), self.rgba.height()]
    }

    /// The bitrate aimed at (kbit/s).
    pub fn bitrate_kbps(&self) -> u32 {
        self.bitrate_kbps
    }

    /// The real frame rate measured so far (frames a second).
    pub fn frame_rate(&self) -> f64 {
        self.frame_rate
    }

    /// Aims at a new bitrate from the next frame on (the encoder reconfigures itself).
    pub fn set_bitrate_kbps(&mut self, bitrate_kbps: u32) {
        self.bitrate_kbps = bitrate_kbps;
    }

    /// Measures the frame rate with a frame made at `at`, and tells the encoder the
    /// bitrate that gives [`Self::bitrate_kbps`] at that rate.
    fn pace(&mut self, at: Instant) {
        if let Some(last) = self.last_frame {
            let interval = at.saturating_duration_since(last);
            if !interval.is_zero() && interval <= PAUSE {
                let fps = (1.0 / interval.as_secs_f64()).clamp(FPS_RANGE.0, FPS_RANGE.1);
                self.frame_rate += (fps - self.frame_rate) * FPS_SMOOTHING;
            }
        }
        self.last_frame = Some(at);
        let wanted = f64::from(self.bitrate_kbps) * ENCODER_FPS / self.frame_rate;
        let told = f64::from(self.told_kbps);
        if (wanted - told).abs() > told * RETUNE_SHARE {
            self.told_kbps = wanted.round() as u32;
            self.encoder.set_bit_rate(bits_per_s(self.told_kbps));
            self.encoder.set_max_bit_rate(bits_per_s(self.told_kbps));
        }
    }

    /// Encodes an RGBA image (`width` × `height`, rows from the top) shown at time `at`
    /// and returns its access unit; an odd last column or row beyond the encoder's size is
    /// left out. `keyframe` asks for an IDR picture. Rate control spreads the bitrate
    /// over the times given, so they should be when frames are really made.
    pub fn encode(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        keyframe: bool,
        at: Instant,
    ) -> Result<AccessUnit, VideoError> {
        let [own_width, own_height] = self.size();
        if rgba.len() != width as usize * height as usize * 4
            || width < own_width
            || height < own_height
        {
            return Err(VideoError::BadFrame {
                width,
                height,
                bytes: rgba.len(),
            });
        }
        self.pace(at);
        convert::fill_rgba(&mut self.rgba, rgba, width);
        // A new picture each time: the encoder may still hold a reference to the last one.
        let mut picture = frame::Video::new(self.format, own_width, own_height);
        convert::convert(&self.rgba, &mut picture)?;
        let elapsed_ms = i64::try_from(at.saturating_duration_since(self.started).as_millis())
            .unwrap_or(i64::MAX);
        let pts = elapsed_ms.max(self.last_pts + 1);
        self.last_pts = pts;
        picture.set_pts(Some(pts));
        picture.set_kind(if keyframe {
            picture::Type::I
        } else {
            picture::Type::None
        });
        self.encoder
            .send_frame(&picture)
            .map_err(|error| VideoError::Encode(error.to_string()))?;
        let mut unit = AccessUnit {
            bytes: Vec::new(),
            keyframe: false,
        };
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    unit.bytes
                        .extend_from_slice(packet.data().unwrap_or_default());
                    unit.keyframe |= packet.is_key();
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == EAGAIN => break,
                Err(ffmpeg_next::Error::Eof) => break,
                Err(error) => return Err(VideoError::Encode(error.to_string())),
            }
        }
        if unit.bytes.is_empty() {
            return Err(VideoError::Buffered(self.name.clone()));
        }
        Ok(unit)
    }
}

/// What libx264 gets on top of `ultrafast`: the deblocking loop filter, and intra
/// macroblocks split into 4×4 predictions. Rendered volumes turning under a drag change
/// too much from frame to frame for motion compensation to predict, so most of a frame is
/// coded as intra blocks: on the CT of `bench stream` (1280×720) these add 2.5 dB of PSNR
/// at the same bitrate, on the phantom 2 dB, for well under a millisecond a frame
/// (libx264's next preset, `superfast`, gains 0.1–0.2 dB more for a millisecond more).
const X264_PARAMS: &str = "deblock=1:partitions=i4x4";

fn bits_per_s(kbps: u32) -> usize {
    usize::try_from(u64::from(kbps) * 1000).unwrap_or(usize::MAX)
}

/// The pixel format each encoder takes from memory.
fn pixel_format(name: &str) -> Pixel {
    match name {
        "h264_qsv" | "h264_vaapi" => Pixel::NV12,
        _ => Pixel::YUV420P,
    }
}

/// Each encoder's settings for streaming: its fastest preset, no delay, keyframes that
/// are IDR pictures when asked for, Constrained Baseline (every decoder takes it), and a
/// rate-control buffer of a fifth of a second at the opening bitrate (small, so frames stay
/// small and a lower bitrate set later takes effect within a second).
///
/// libx264's `ultrafast` also turns off the loop filter and the 4×4 intra predictions,
/// both of which Constrained Baseline has; [`X264_PARAMS`] turns them back on.
fn options(name: &str, bitrate_kbps: u32) -> Dictionary<'static> {
    let mut options = Dictionary::new();
    options.set("bufsize", &(bits_per_s(bitrate_kbps) / 5).to_string());
    let specific: &[(&str, &str)] = match name {
        "libx264" => &[
            ("preset", "ultrafast"),
            ("tune", "zerolatency"),
            ("profile", "baseline"),
            ("forced-idr", "1"),
            ("x264-params", X264_PARAMS),
        ],
        "h264_nvenc" => &[
            ("preset", "p1"),
            ("tune", "ull"),
            ("zerolatency", "1"),
            ("delay", "0"),
            ("rc", "cbr"),
            ("profile", "baseline"),
            ("forced-idr", "1"),
        ],
        "h264_qsv" => &[
            ("preset", "veryfast"),
            ("async_depth", "1"),
            ("profile", "baseline"),
            ("forced_idr", "1"),
        ],
        "h264_vaapi" => &[("async_depth", "1"), ("profile", "constrained_baseline")],
        _ => &[],
    };
    for (key, value) in specific {
        options.set(key, value);
    }
    options
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::H264Decoder;
    use crate::psnr;
    use std::time::Duration;

    /// A test picture that moves with `t`: gradients and a bright square.
    pub(crate) fn moving_picture(width: u32, height: u32, t: u32) -> Vec<u8> {
        let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
        for y in 0..height {
            for x in 0..width {
                let inside = (x + 3 * t) % width < width / 4 && y > height / 3 && y < height / 2;
                let value = if inside {
                    [240, 230, 220]
                } else {
                    [(x + t) as u8, (y * 2) as u8, ((x + y) / 2) as u8]
                };
                rgba.extend_from_slice(&[value[0], value[1], value[2], 255]);
            }
        }
        rgba
    }

    #[test]
    fn libx264_frames_decode_in_order_close_to_the_source() {
        let (width, height) = (160, 96);
        let mut encoder =
            H264Encoder::open("libx264", width, height, 2_000).expect("libx264 opens");
        let mut decoder = H264Decoder::new().expect("a decoder");
        let start = Instant::now();
        for t in 0..12 {
            let source = moving_picture(width, height, t);
            let at = start + Duration::from_millis(u64::from(t) * 40);
            let unit = encoder
                .encode(&source, width, height, false, at)
                .expect("encodes");
            assert_eq!(
                unit.keyframe,
                t == 0,
                "frame {t}: only the first is a keyframe"
            );
            assert!(
                unit.bytes.starts_with(&[0, 0, 0, 1]) || unit.bytes.starts_with(&[0, 0, 1]),
                "Annex B start code"
            );
            let image = decoder.decode(&unit.bytes).expect("decodes");
            assert_eq!((image.width, image.height), (width, height));
            let quality = psnr(&image.rgba, &source);
            assert!(quality > 30.0, "frame {t}: PSNR {quality:.1} dB");
        }
    }

    /// The slices (NAL types 1 and 5) of an Annex B access unit.
    fn slices(unit: &[u8]) -> usize {
        unit.windows(4)
            .filter(|w| w[..3] == [0, 0, 1] && matches!(w[3] & 0x1f, 1 | 5))
            .count()
    }

    #[test]
    fn an_access_unit_holds_every_slice_of_its_picture() {
        let (width, height) = (320, 240);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
        let mut encoder = H264Encoder::open("libx264", width, height, 1_000).expect("opens");
        let mut decoder = H264Decoder::new().expect("a decoder");
        let start = Instant::now();
        for t in 0..3 {
            let source = moving_picture(width, height, t);
            let at = start + Duration::from_millis(u64::from(t) * 40);
            let unit = encoder
                .encode(&source, width, height, t == 0, at)
                .expect("encodes");
            // x264 writes one slice per thread: all of them are in the one unit.
            assert_eq!(slices(&unit.bytes), threads, "frame {t}");
            let image = decoder
                .decode(&unit.bytes)
                .expect("the whole picture decodes");
            assert_eq!((image.width, image.height), (width, height));
        }
    }

    #[test]
    fn the_bits_a_second_hold_at_a_lower_frame_rate() {
        let (width, height) = (320, 192);
        let kbit_s = |interval_ms: u64| {
            let mut encoder = H264Encoder::open("libx264", width, height, 300).expect("opens");
            let start = Instant::now();
            let mut bytes = 0;
            for t in 0..60u32 {
                let at = start + Duration::from_millis(u64::from(t) * interval_ms);
                let source = moving_picture(width, height, t * 3);
                let unit = encoder
                    .encode(&source, width, height, false, at)
                    .expect("encodes");
                if t >= 30 {
                    bytes += unit.bytes.len();
                }
            }
            (bytes as f64 * 8.0 / 1000.0) / (30.0 * interval_ms as f64 / 1000.0)
        };
        let (fast, slow) = (kbit_s(33), kbit_s(100));
        // Both near 300 kbit/s: frames three times as far apart are three times as large.
        for rate in [fast, slow] {
            assert!(
                (200.0..420.0).contains(&rate),
                "{fast:.0} and {slow:.0} kbit/s"
            );
        }
    }

    #[test]
    fn encoders_and_streams_move_between_threads() {
        fn send<T: Send>() {}
        send::<H264Encoder>();
        send::<H264Decoder>();
        send::<crate::VideoStream>();
    }

    #[test]
    fn a_lower_bitrate_takes_effect_on_the_open_encoder() {
        let (width, height) = (320, 192);
        let mut encoder = H264Encoder::open("libx264", width, height, 4_000).expect("opens");
        let start = Instant::now();
        let mut sizes = Vec::new();
        for t in 0..60u32 {
            if t == 30 {
                encoder.set_bitrate_kbps(200);
            }
            let at = start + Duration::from_millis(u64::from(t) * 50);
            let source = moving_picture(width, height, t * 2);
            let unit = encoder
                .encode(&source, width, height, false, at)
                .expect("encodes");
            sizes.push(unit.bytes.len());
        }
        // Twenty frames a second: 4 Mbit/s is 25 kB a frame, 200 kbit/s 1.25 kB.
        let mean = |range: std::ops::Range<usize>| {
            sizes[range.clone()].iter().sum::<usize>() as f64 / range.len() as f64
        };
        let (high, low) = (mean(10..30), mean(45..60));
        assert!(
            low * 3.0 < high,
            "{high:.0} B then {low:.0} B a frame: {sizes:?}"
        );
        assert!(low < 2_500.0, "{low:.0} B a frame at 200 kbit/s");
    }
}
