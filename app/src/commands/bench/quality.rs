//! The picture quality behind `bench stream`'s bit rates: interactive frames of the same
//! scripted drag, rendered here as the server renders them and encoded as the server
//! encodes them (JPEG at its interactive quality; H.264 by the server's encoder at the
//! nominal bitrate, the frames timed at the frame rate the stream reached), then decoded
//! and compared with the rendered pixels (PSNR over R, G and B).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use render_core::view::{Quality, ViewState};
use serde::Serialize;
use server_mode::encode::{Encoding, INTERACTIVE_JPEG_QUALITY, encode};
use server_mode::rate::RateControl;
use server_mode::video::{H264Decoder, H264Encoder};

use super::stream::ORBIT_DEG_PER_INPUT;
use crate::source;

/// Frames compared (after the renderer's interactive budget has settled).
const FRAMES: usize = 40;
/// Frames rendered first and not compared.
const SETTLE_FRAMES: usize = 5;

/// Mean PSNR of each codec's interactive frames.
#[derive(Debug, Serialize)]
pub(super) struct QualityReport {
    /// Frames compared.
    pub frames: usize,
    /// The frame rate the H.264 frames were timed at.
    pub fps: f64,
    /// JPEG at the interactive quality.
    pub jpeg_quality: u8,
    pub jpeg_psnr_db: f64,
    pub jpeg_bytes_per_frame: f64,
    /// The H.264 encoder and its bitrate.
    pub h264_encoder: String,
    pub h264_kbps: u32,
    pub h264_psnr_db: f64,
    pub h264_bytes_per_frame: f64,
}

/// Renders the drag's interactive frames of the series at `path` (the phantom without one)
/// and measures both codecs on them.
pub(super) fn interactive_quality(
    path: Option<&Path>,
    series: Option<&str>,
    size: [u32; 2],
    fps: f64,
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
    let kbps = RateControl::new(size).nominal_kbps();
    let mut h264 = H264Encoder::open(h264_encoder, size[0], size[1], kbps)?;
    let mut decoder = H264Decoder::new()?;
    let interval = Duration::from_secs_f64(1.0 / fps.max(1.0));
    let start = Instant::now();
    let (mut jpeg_psnr, mut jpeg_bytes, mut h264_psnr, mut h264_bytes) = (0.0, 0, 0.0, 0);
    for n in 0..SETTLE_FRAMES + FRAMES {
        view.camera.orbit(ORBIT_DEG_PER_INPUT, 0.0);
        let image = renderer.render_image(&view, size)?;
        let at = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
        let unit = h264.encode(&image.rgba, image.width, image.height, false, at)?;
        let decoded = decoder.decode(&unit.bytes)?;
        if n < SETTLE_FRAMES {
            continue;
        }
        h264_bytes += unit.bytes.len();
        h264_psnr += psnr(&decoded.rgba, &image.rgba);
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
    Ok(QualityReport {
        frames: FRAMES,
        fps,
        jpeg_quality: INTERACTIVE_JPEG_QUALITY,
        jpeg_psnr_db: jpeg_psnr / frames,
        jpeg_bytes_per_frame: jpeg_bytes as f64 / frames,
        h264_encoder: h264.name().to_string(),
        h264_kbps: kbps,
        h264_psnr_db: h264_psnr / frames,
        h264_bytes_per_frame: h264_bytes as f64 / frames,
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
