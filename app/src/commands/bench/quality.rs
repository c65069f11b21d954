//! The picture quality behind `bench stream`'s bit rates: interactive frames of the same
//! scripted drag, rendered here as the server renders them and encoded as the server
//! encodes them (JPEG at its interactive quality; H.264 by a session's video stream, with
//! its keyframes, at the nominal bitrate), then decoded and compared with the rendered
//! pixels (PSNR over R, G and B). Frames are timed at the frame rate the stream reached,
//! and each turns the camera as far as the inputs a frame of the stream takes in.
//!
//! Since the codecs reach different PSNRs, H.264 also encodes the frames at a ladder of
//! bitrates around nominal: the bytes it needs for JPEG's PSNR, over JPEG's bytes, is
//! the comparison at equal quality.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use render_core::view::{Quality, ViewState};
use serde::Serialize;
use server_mode::encode::{Encoding, INTERACTIVE_JPEG_QUALITY, encode};
use server_mode::rate::RateControl;
use server_mode::video::{H264Decoder, VideoStream};

use super::stream::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT};
use crate::source;

/// Frames compared (after the renderer's interactive budget has settled).
const FRAMES: usize = 40;
/// Frames rendered first and not compared.
const SETTLE_FRAMES: usize = 5;
/// The bitrates H.264 is measured at, as multiples of nominal (1 is the reported one).
const LADDER: [f64; 7] = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0];

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
    /// The JPEG quality of interactive frames.
    pub jpeg_quality: u8,
    /// JPEG's mean PSNR (dB).
    pub jpeg_psnr_db: f64,
    /// JPEG's mean bytes a frame.
    pub jpeg_bytes_per_frame: f64,
    /// The H.264 encoder.
    pub h264_encoder: String,
    /// The nominal bitrate of the frame size (kbit/s), as a session starts.
    pub h264_kbps: u32,
    /// H.264's mean PSNR at the nominal bitrate (dB).
    pub h264_psnr_db: f64,
    /// H.264's mean bytes a frame at the nominal bitrate.
    pub h264_bytes_per_frame: f64,
    /// H.264 at each bitrate of the ladder, nominal among them.
    pub h264_ladder: Vec<LadderRung>,
    /// The bytes a frame H.264 needs for JPEG's PSNR (interpolated on the ladder); none
    /// when that PSNR lies outside the ladder's.
    pub h264_bytes_per_frame_at_jpeg_psnr: Option<f64>,
    /// Those bytes over JPEG's: the bandwidth ratio at equal quality.
    pub equal_quality_ratio: Option<f64>,
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

/// One rung while it runs: its own stream and decoder, and the sums so far.
struct Rung {
    kbps: u32,
    stream: VideoStream,
    decoder: H264Decoder,
    psnr_sum: f64,
    bytes: usize,
}

/// Renders the drag's interactive frames of the series at `path` (the phantom without one)
/// and measures both codecs on them; the H.264 frames are timed at `fps` with a keyframe
/// at least every `keyframe_interval`.
pub(super) fn interactive_quality(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    fps: f64,
    keyframe_interval: Duration,
    h264_encoder: &str,
) -> anyhow::Result<QualityReport> {
    let opened = source::open_volume(path, series)?;
    let volume = Arc::new(opened.volume);
    let mut renderer = crate::commands::render::new_renderer()?;
    let preset = renderer.presets().default_for(&volume.modality).clone();
    renderer.load_volume(volume.clone());
    let mut view = ViewState::initial(&volume, &preset.name, preset.mode);
    view.quality = Quality::Interactive;
    let size = size.map(|side| side & !1);
    let fps = fps.max(1.0);
    // Inputs that arrive while a frame renders fold into the next one: at fewer frames a
    // second than inputs, each frame turns by several inputs' worth.
    let orbit_deg_per_frame = ORBIT_DEG_PER_INPUT * (INPUTS_PER_S / fps).max(1.0);
    let nominal = RateControl::new(size).nominal_kbps();
    let encoders = [h264_encoder.to_string()];
    let mut rungs = LADDER
        .iter()
        .map(|&share| {
            let kbps = (f64::from(nominal) * share).round() as u32;
            Ok(Rung {
                kbps,
                stream: VideoStream::open(&encoders, size, kbps, keyframe_interval)?,
                decoder: H264Decoder::new()?,
                psnr_sum: 0.0,
                bytes: 0,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let interval = Duration::from_secs_f64(1.0 / fps);
    let start = Instant::now();
    let (mut jpeg_psnr, mut jpeg_bytes) = (0.0, 0);
    for n in 0..SETTLE_FRAMES + FRAMES {
        view.camera.orbit(orbit_deg_per_frame, 0.0);
        let image = renderer.render_image(&view, size)?;
        let at = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
        for rung in &mut rungs {
            let unit =
                rung.stream
                    .encode(&image.rgba, image.width, image.height, false, rung.kbps, at)?;
            let decoded = rung.decoder.decode(&unit.bytes)?;
            if n >= SETTLE_FRAMES {
                rung.bytes += unit.bytes.len();
                rung.psnr_sum += psnr(&decoded.rgba, &image.rgba);
            }
        }
        if n < SETTLE_FRAMES {
            continue;
        }
        let jpeg = encode(
            &image.rgba,
            image.width,
            image.height,
            Encoding::Jpeg {
                quality: INTERACTIVE_JPEG_QUALITY,
            },
        )?;
        jpeg_bytes += jpeg.len();
        let back = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .context("decoding the JPEG again")?
            .to_rgba8();
        jpeg_psnr += psnr(back.as_raw(), &image.rgba);
    }
    let frames = FRAMES as f64;
    let ladder: Vec<LadderRung> = rungs
        .iter()
        .map(|rung| LadderRung {
            kbps: rung.kbps,
            psnr_db: rung.psnr_sum / frames,
            bytes_per_frame: rung.bytes as f64 / frames,
        })
        .collect();
    let h264 = ladder
        .iter()
        .find(|rung| rung.kbps == nominal)
        .copied()
        .context("the nominal bitrate is on the ladder")?;
    let (jpeg_psnr_db, jpeg_bytes_per_frame) = (jpeg_psnr / frames, jpeg_bytes as f64 / frames);
    let at_jpeg_psnr = bytes_at_psnr(&ladder, jpeg_psnr_db);
    Ok(QualityReport {
        frames: FRAMES,
        fps,
        orbit_deg_per_frame,
        keyframe_interval_s: keyframe_interval.as_secs_f64(),
        jpeg_quality: INTERACTIVE_JPEG_QUALITY,
        jpeg_psnr_db,
        jpeg_bytes_per_frame,
        h264_encoder: h264_encoder.to_string(),
        h264_kbps: nominal,
        h264_psnr_db: h264.psnr_db,
        h264_bytes_per_frame: h264.bytes_per_frame,
        h264_ladder: ladder,
        h264_bytes_per_frame_at_jpeg_psnr: at_jpeg_psnr,
        equal_quality_ratio: at_jpeg_psnr.map(|bytes| bytes / jpeg_bytes_per_frame.max(1.0)),
    })
}

/// The bytes a frame at which the ladder reaches `target_db`: between the two rungs
/// around it, with the logarithm of the bytes linear in PSNR (as it nearly is); none when
/// no two neighbouring rungs enclose it.
fn bytes_at_psnr(ladder: &[LadderRung], target_db: f64) -> Option<f64> {
    let mut rungs = ladder.to_vec();
    rungs.sort_by(|a, b| a.bytes_per_frame.total_cmp(&b.bytes_per_frame));
    rungs.windows(2).find_map(|pair| {
        let (low, high) = (pair[0], pair[1]);
        if !(low.psnr_db <= target_db && target_db <= high.psnr_db) {
            return None;
        }
        let span = high.psnr_db - low.psnr_db;
        let share = if span > 0.0 {
            (target_db - low.psnr_db) / span
        } else {
            0.0
        };
        let (low_ln, high_ln) = (
            low.bytes_per_frame.max(1.0).ln(),
            high.bytes_per_frame.max(1.0).ln(),
        );
        Some((low_ln + (high_ln - low_ln) * share).exp())
    })
}

/// Peak signal-to-noise ratio of `a` against `b` (RGBA, alpha ignored), in dB; 99 when equal.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (p, q) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(p[c]) - f64::from(q[c]);
            sum += d * d;
            count += 1;
        }
    }
    if sum == 0.0 || count == 0 {
        return 99.0;
    }
    10.0 * (255.0 * 255.0 / (sum / count as f64)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(bytes_per_frame: f64, psnr_db: f64) -> LadderRung {
        LadderRung {
            kbps: 0,
            psnr_db,
            bytes_per_frame,
        }
    }

    #[test]
    fn equal_quality_bytes_are_interpolated_between_the_rungs_around_them() {
        let ladder = [rung(4000.0, 40.0), rung(16000.0, 46.0), rung(8000.0, 43.0)];
        let at = |db| bytes_at_psnr(&ladder, db);
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

    #[test]
    fn psnr_is_infinite_for_equal_images_and_falls_with_error() {
        let a = vec![100u8; 64];
        assert_eq!(psnr(&a, &a), 99.0);
        let mut b = a.clone();
        b[0] = 110;
        let small = psnr(&a, &b);
        b[1] = 140;
        let large = psnr(&a, &b);
        assert!(small > large && large > 20.0, "{small} {large}");
    }
}
