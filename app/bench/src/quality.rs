//! The picture quality behind `bench stream`'s bit rates: interactive frames of the same
//! scripted drag, rendered here as the server renders them and encoded as the server
//! encodes them (JPEG at its interactive quality; H.264 by a session's video stream, with
//! its keyframes, at the bitrate a session gives pictures of that size), then decoded, shown at the view's size as a
//! client shows them, and compared with the frame the server would show (PSNR over R, G
//! and B). Frames are timed at the frame rate the stream reached, each turns the camera
//! as far as the inputs a frame of the stream takes in, and the renderer keeps the
//! internal resolution the stream's frames were drawn at.
//!
//! The server sends both codecs' interactive frames as drawn, at the renderer's internal
//! resolution, and the client scales them up. Since the codecs reach
//! different PSNRs, H.264 also encodes the frames at a ladder of bitrates around that
//! one: the bytes it needs for JPEG's PSNR, over JPEG's bytes, is the comparison at
//! equal quality. The same ladder at the view's size separates what the codec gains from
//! what sending fewer pixels gains.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hounsfield_client::psnr;
use hounsfield_client::{DecodedImage, H264Decoder};
use hounsfield_server::encode::{Encoding, INTERACTIVE_JPEG_QUALITY, encode};
use hounsfield_server::rate::{Bitrate, RateControl};
use hounsfield_video::encode::VideoStream;
use render_core::gpu::{FrameImage, InteractiveBudget};
use render_core::view::Quality;
use serde::Serialize;

use super::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT};

/// Frames compared (after the renderer's interactive budget has settled).
const FRAMES: usize = 40;
/// Frames rendered first and not compared.
const SETTLE_FRAMES: usize = 5;
/// The bitrates H.264 is measured at, as multiples of nominal (1 is the reported one).
/// Down to a sixteenth: a picture drawn at the view's size gets four times the view's
/// nominal, and the interactive JPEG's PSNR must still fall within the ladder (a CI run
/// with the picture at 0.7 of a 160×120 view's sides found it below a quarter's).
const LADDER: [f64; 9] = [0.0625, 0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0];
/// The JPEG qualities measured (the interactive one among them).
const JPEG_LADDER: [u8; 7] = [30, 40, 50, 60, 70, 80, 90];

/// Mean PSNR of each codec's interactive frames.
#[derive(Debug, Serialize)]
pub(super) struct QualityReport {
    /// Frames compared.
    pub frames: usize,
    /// The frame rate the H.264 frames were timed at.
    pub fps: f64,
    /// How far the camera turns from one frame to the next (degrees).
    pub orbit_deg_per_frame: f64,
    /// Longest time between H.264 keyframes, as the server's streams have it (s).
    pub keyframe_interval_s: f64,
    /// The renderer's internal resolution, as a share of the view's sides.
    pub render_scale: f32,
    /// The view's size, at which every frame is shown.
    pub size: [u32; 2],
    /// The JPEG quality of interactive frames.
    pub jpeg_quality: u8,
    /// JPEG's mean PSNR (dB).
    pub jpeg_psnr_db: f64,
    /// JPEG's mean bytes a frame.
    pub jpeg_bytes_per_frame: f64,
    /// The H.264 encoder.
    pub h264_encoder: String,
    /// The size H.264 pictures are sent at (as drawn).
    pub h264_size: [u32; 2],
    /// The bitrate a session starts at for pictures of that size shown at the view's
    /// (kbit/s; the view's nominal, more for pictures drawn larger than a quarter of its
    /// sides).
    pub h264_kbps: u32,
    /// H.264's mean PSNR at that bitrate, shown at the view's size (dB).
    pub h264_psnr_db: f64,
    /// H.264's mean bytes a frame at that bitrate.
    pub h264_bytes_per_frame: f64,
    /// H.264 as sent, at each bitrate of the ladder, nominal among them.
    pub h264_ladder: Vec<LadderRung>,
    /// The bytes a frame H.264 needs for JPEG's PSNR (interpolated on the ladder); none
    /// when that PSNR lies outside the ladder's.
    pub h264_bytes_per_frame_at_jpeg_psnr: Option<f64>,
    /// Those bytes over JPEG's: the bandwidth ratio at equal quality.
    pub equal_quality_ratio: Option<f64>,
    /// H.264 at the view's size, as if sent after the server scaled it up, at each
    /// bitrate of the ladder.
    pub same_size_ladder: Vec<LadderRung>,
    /// The bandwidth ratio at equal quality with H.264 at the view's size: the codec's
    /// own share of the saving.
    pub same_size_equal_quality_ratio: Option<f64>,
    /// JPEG at each quality of its ladder, the interactive one among them.
    pub jpeg_ladder: Vec<JpegRung>,
    /// The bytes a frame JPEG needs for H.264's PSNR at the nominal bitrate (interpolated
    /// on JPEG's ladder).
    pub jpeg_bytes_per_frame_at_h264_psnr: Option<f64>,
    /// H.264's bytes at the nominal bitrate over those: the bandwidth ratio at the quality
    /// H.264 streams at.
    pub ratio_at_h264_psnr: Option<f64>,
}

/// JPEG's figures at one quality.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct JpegRung {
    /// The JPEG quality (1–100).
    pub quality: u8,
    /// Mean PSNR (dB).
    pub psnr_db: f64,
    /// Mean bytes a frame.
    pub bytes_per_frame: f64,
}

/// H.264's figures at one bitrate.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct LadderRung {
    /// The bitrate asked for (kbit/s).
    pub kbps: u32,
    /// Mean PSNR (dB).
    pub psnr_db: f64,
    /// Mean bytes a frame.
    pub bytes_per_frame: f64,
}

impl LadderRung {
    /// Bytes a frame and PSNR.
    fn point(&self) -> (f64, f64) {
        (self.bytes_per_frame, self.psnr_db)
    }
}

impl JpegRung {
    /// Bytes a frame and PSNR.
    fn point(&self) -> (f64, f64) {
        (self.bytes_per_frame, self.psnr_db)
    }
}

/// One rung while it runs: its own stream and decoder, and the sums so far.
struct Rung {
    kbps: u32,
    stream: VideoStream,
    decoder: H264Decoder,
    psnr_sum: f64,
    bytes: usize,
}

/// A ladder of streams for pictures of one size, shown at another.
struct Ladder {
    rungs: Vec<Rung>,
    nominal_kbps: u32,
}

impl Ladder {
    /// Streams of `encoder` for pictures of `picture` pixels, at the shares of [`LADDER`]
    /// of `nominal` (kbit/s).
    fn open(
        encoder: &str,
        nominal: u32,
        picture: [u32; 2],
        keyframe_interval: Duration,
    ) -> anyhow::Result<Self> {
        let encoders = [encoder.to_string()];
        let rungs = LADDER
            .iter()
            .map(|&share| {
                let kbps = (f64::from(nominal) * share).round() as u32;
                Ok(Rung {
                    kbps,
                    stream: VideoStream::open(&encoders, picture, kbps, keyframe_interval)?,
                    decoder: H264Decoder::new()?,
                    psnr_sum: 0.0,
                    bytes: 0,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            rungs,
            nominal_kbps: nominal,
        })
    }

    /// Encodes `picture` at every rung, and when `counted` adds its bytes and the PSNR of
    /// the decoded picture, shown at `reference`'s size, against `reference`.
    fn take(
        &mut self,
        picture: &FrameImage,
        reference: &FrameImage,
        at: Instant,
        counted: bool,
    ) -> anyhow::Result<()> {
        for rung in &mut self.rungs {
            let unit = rung.stream.encode(
                &picture.rgba,
                picture.width,
                picture.height,
                false,
                rung.kbps,
                at,
            )?;
            let decoded = rung.decoder.decode(&unit.bytes)?;
            if counted {
                let shown = decoded
                    .shown_at([reference.width, reference.height])
                    .context("a decoded picture fills its sides")?;
                rung.bytes += unit.bytes.len();
                rung.psnr_sum += psnr(&shown.rgba, &reference.rgba);
            }
        }
        Ok(())
    }

    /// The mean figures of each rung over `frames` counted frames.
    fn figures(&self, frames: f64) -> Vec<LadderRung> {
        self.rungs
            .iter()
            .map(|rung| LadderRung {
                kbps: rung.kbps,
                psnr_db: rung.psnr_sum / frames,
                bytes_per_frame: rung.bytes as f64 / frames,
            })
            .collect()
    }
}

/// Renders the drag's interactive frames of the series at `path` (the phantom without one)
/// at the internal resolution `render_scale` and measures both codecs on them; the H.264
/// frames are timed at `fps` with a keyframe at least every `keyframe_interval`.
pub(super) fn interactive_quality(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    fps: f64,
    render_scale: f32,
    keyframe_interval: Duration,
    h264_encoder: &str,
) -> anyhow::Result<QualityReport> {
    let (mut renderer, _, mut view) = super::opened_scene(path, series)?;
    view.quality = Quality::Interactive;
    // The same internal resolution and step for every render, whatever they take.
    renderer.interactive = InteractiveBudget::pinned(render_scale, InteractiveBudget::STEP);
    let size = size.map(|side| side & !1);
    let fps = fps.max(1.0);
    // Inputs that arrive while a frame renders fold into the next one: at fewer frames a
    // second than inputs, each frame turns by several inputs' worth.
    let orbit_deg_per_frame = ORBIT_DEG_PER_INPUT * (INPUTS_PER_S / fps).max(1.0);
    let interval = Duration::from_secs_f64(1.0 / fps);
    let start = Instant::now();
    let mut jpeg_sums = [(0.0, 0usize); JPEG_LADDER.len()];
    let mut ladders: Option<(Ladder, Ladder)> = None;
    for n in 0..SETTLE_FRAMES + FRAMES {
        view.camera.orbit(orbit_deg_per_frame, 0.0);
        let shown = renderer.render_image(&view, size)?;
        let drawn = renderer.render_image_as_drawn(&view, size)?;
        let at = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
        let (as_sent, same_size) = match &mut ladders {
            Some(ladders) => ladders,
            None => {
                // A session's bitrate for pictures of this size shown at the view's; the
                // pictures scaled up to the view's size get the same, for the codec's
                // share at equal bits.
                let picture = [drawn.width, drawn.height];
                let nominal =
                    Bitrate::at(RateControl::new(size).nominal_kbps()).for_picture(picture, size);
                ladders.insert((
                    Ladder::open(h264_encoder, nominal, picture, keyframe_interval)?,
                    Ladder::open(h264_encoder, nominal, size, keyframe_interval)?,
                ))
            }
        };
        let counted = n >= SETTLE_FRAMES;
        as_sent.take(&drawn, &shown, at, counted)?;
        same_size.take(&shown, &shown, at, counted)?;
        if !counted {
            continue;
        }
        for (&quality, (psnr_sum, bytes)) in JPEG_LADDER.iter().zip(&mut jpeg_sums) {
            let jpeg = encode(
                &drawn.rgba,
                drawn.width,
                drawn.height,
                Encoding::Jpeg { quality },
            )?;
            *bytes += jpeg.len();
            let back = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
                .context("decoding the JPEG again")?
                .to_rgba8();
            let back = DecodedImage {
                width: back.width(),
                height: back.height(),
                rgba: back.into_raw(),
            }
            .shown_at([shown.width, shown.height])
            .context("a decoded JPEG fills its sides")?;
            *psnr_sum += psnr(&back.rgba, &shown.rgba);
        }
    }
    let (as_sent, same_size) = ladders.context("frames were rendered")?;
    let frames = FRAMES as f64;
    let jpeg_ladder: Vec<JpegRung> = JPEG_LADDER
        .iter()
        .zip(jpeg_sums)
        .map(|(&quality, (psnr_sum, bytes))| JpegRung {
            quality,
            psnr_db: psnr_sum / frames,
            bytes_per_frame: bytes as f64 / frames,
        })
        .collect();
    let jpeg = jpeg_ladder
        .iter()
        .find(|rung| rung.quality == INTERACTIVE_JPEG_QUALITY)
        .copied()
        .context("the interactive JPEG quality is on the ladder")?;
    let (jpeg_psnr_db, jpeg_bytes_per_frame) = (jpeg.psnr_db, jpeg.bytes_per_frame);
    let at_jpeg_psnr =
        |ladder: &[LadderRung]| bytes_at_psnr(ladder.iter().map(LadderRung::point), jpeg_psnr_db);
    let over_jpeg = |bytes: f64| bytes / jpeg_bytes_per_frame.max(1.0);
    let ladder = as_sent.figures(frames);
    let h264 = ladder
        .iter()
        .find(|rung| rung.kbps == as_sent.nominal_kbps)
        .copied()
        .context("the nominal bitrate is on the ladder")?;
    let same_size_ladder = same_size.figures(frames);
    let h264_at_jpeg_psnr = at_jpeg_psnr(&ladder);
    let jpeg_at_h264_psnr = bytes_at_psnr(jpeg_ladder.iter().map(JpegRung::point), h264.psnr_db);
    Ok(QualityReport {
        frames: FRAMES,
        fps,
        orbit_deg_per_frame,
        keyframe_interval_s: keyframe_interval.as_secs_f64(),
        render_scale,
        size,
        jpeg_quality: INTERACTIVE_JPEG_QUALITY,
        jpeg_psnr_db,
        jpeg_bytes_per_frame,
        h264_encoder: h264_encoder.to_string(),
        h264_size: as_sent
            .rungs
            .first()
            .map_or(size, |rung| rung.stream.size()),
        h264_kbps: as_sent.nominal_kbps,
        h264_psnr_db: h264.psnr_db,
        h264_bytes_per_frame: h264.bytes_per_frame,
        equal_quality_ratio: h264_at_jpeg_psnr.map(over_jpeg),
        h264_bytes_per_frame_at_jpeg_psnr: h264_at_jpeg_psnr,
        h264_ladder: ladder,
        same_size_equal_quality_ratio: at_jpeg_psnr(&same_size_ladder).map(over_jpeg),
        same_size_ladder,
        jpeg_ladder,
        jpeg_bytes_per_frame_at_h264_psnr: jpeg_at_h264_psnr,
        ratio_at_h264_psnr: jpeg_at_h264_psnr.map(|bytes| h264.bytes_per_frame / bytes.max(1.0)),
    })
}

/// The bytes a frame at which a ladder of (bytes a frame, PSNR) points reaches
/// `target_db`: between the two points around it, with the logarithm of the bytes linear
/// in PSNR (as it nearly is); none when no two neighbouring points enclose it.
fn bytes_at_psnr(ladder: impl IntoIterator<Item = (f64, f64)>, target_db: f64) -> Option<f64> {
    let mut points: Vec<(f64, f64)> = ladder.into_iter().collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.windows(2).find_map(|pair| {
        let ((low_bytes, low_db), (high_bytes, high_db)) = (pair[0], pair[1]);
        if !(low_db <= target_db && target_db <= high_db) {
            return None;
        }
        let span = high_db - low_db;
        let share = if span > 0.0 {
            (target_db - low_db) / span
        } else {
            0.0
        };
        let (low_ln, high_ln) = (low_bytes.max(1.0).ln(), high_bytes.max(1.0).ln());
        Some((low_ln + (high_ln - low_ln) * share).exp())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(bytes_per_frame: f64, psnr_db: f64) -> (f64, f64) {
        (bytes_per_frame, psnr_db)
    }

    #[test]
    fn equal_quality_bytes_are_interpolated_between_the_rungs_around_them() {
        let ladder = [rung(4000.0, 40.0), rung(16000.0, 46.0), rung(8000.0, 43.0)];
        let at = |db| bytes_at_psnr(ladder, db);
        assert_eq!(at(43.0), Some(8000.0));
        // Halfway in PSNR is halfway in log bytes: the geometric mean.
        let between = at(41.5).expect("inside the ladder");
        assert!(
            (between - 4000.0f64 * 2.0f64.sqrt()).abs() < 1e-6,
            "{between}"
        );
        assert_eq!(at(39.0), None, "below the lowest rung");
        assert_eq!(at(47.0), None, "above the highest rung");
    }
}
