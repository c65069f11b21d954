//! RGBA ↔ YUV through swscale, and RGBA buffers into and out of FFmpeg frames. A scaling
//! context cannot move between threads, so each thread keeps its own few, made again only
//! when formats or sizes change; the encoders and decoders that use them stay `Send`.

use std::cell::RefCell;

use ffmpeg_next::software::scaling;
use ffmpeg_next::{color, encoder, frame};

use super::VideoError;

/// Scaling contexts a thread keeps (one per format and size pair).
const CACHED_SCALERS: usize = 4;

thread_local! {
    static SCALERS: RefCell<Vec<scaling::Context>> = const { RefCell::new(Vec::new()) };
}

/// Tells an encoder what [`convert`] produces, for the stream to say so: BT.601 matrix,
/// limited range, sRGB pixels (BT.709 primaries, the sRGB transfer).
pub(crate) fn describe_colours(video: &mut encoder::video::Video) {
    video.set_colorspace(color::Space::SMPTE170M);
    video.set_color_range(color::Range::MPEG);
    video.set_color_primaries(color::Primaries::BT709);
    video.set_color_transfer_characteristic(color::TransferCharacteristic::IEC61966_2_1);
}

/// Converts `input` into `output`, which has its format and size already (same size as
/// the input: no scaling, only colour conversion). BT.601 matrix, limited range on the
/// YUV side (swscale's default, and what the encoders signal).
pub(crate) fn convert(input: &frame::Video, output: &mut frame::Video) -> Result<(), VideoError> {
    let source = scaling::context::Definition {
        format: input.format(),
        width: input.width(),
        height: input.height(),
    };
    let target = scaling::context::Definition {
        format: output.format(),
        width: output.width(),
        height: output.height(),
    };
    SCALERS.with_borrow_mut(|scalers| {
        let found = scalers
            .iter()
            .position(|s| *s.input() == source && *s.output() == target);
        let scaler = match found {
            Some(n) => &mut scalers[n],
            None => {
                let made = scaling::Context::get(
                    source.format,
                    source.width,
                    source.height,
                    target.format,
                    target.width,
                    target.height,
                    scaling::Flags::BILINEAR,
                )
                .map_err(|error| {
                    VideoError::Convert(format!(
                        "no conversion from {:?} {}×{} to {:?} {}×{}: {error}",
                        source.format,
                        source.width,
                        source.height,
                        target.format,
                        target.width,
                        target.height
                    ))
                })?;
                if scalers.len() >= CACHED_SCALERS {
                    scalers.remove(0);
                }
                scalers.push(made);
                let last = scalers.len() - 1;
                &mut scalers[last]
            }
        };
        scaler
            .run(input, output)
            .map_err(|error| VideoError::Convert(error.to_string()))
    })
}

/// Copies the top-left `frame.width()` × `frame.height()` pixels of an RGBA image
/// `source_width` pixels wide into an RGBA frame (rows padded to the frame's stride).
pub(crate) fn fill_rgba(frame: &mut frame::Video, rgba: &[u8], source_width: u32) {
    let row_bytes = frame.width() as usize * 4;
    let source_stride = source_width as usize * 4;
    let stride = frame.stride(0);
    let rows = frame.height() as usize;
    let plane = frame.data_mut(0);
    for (target, source) in plane
        .chunks_mut(stride)
        .zip(rgba.chunks(source_stride))
        .take(rows)
    {
        target[..row_bytes].copy_from_slice(&source[..row_bytes]);
    }
}

/// The pixels of an RGBA frame as a packed buffer (rows from the top, no padding).
pub(crate) fn packed_rgba(frame: &frame::Video) -> Vec<u8> {
    let row_bytes = frame.width() as usize * 4;
    let stride = frame.stride(0);
    let mut out = Vec::with_capacity(row_bytes * frame.height() as usize);
    for row in frame.data(0).chunks(stride).take(frame.height() as usize) {
        out.extend_from_slice(&row[..row_bytes]);
    }
    out
}
