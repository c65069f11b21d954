//! Pixel decoding: each frame from its transfer syntax to stored values, rescaled
//! straight into a volume's slice ([`super::rescale`]). Every path starts at
//! [`CheckedPixelData`], which checks what each compressed frame declares of itself
//! before a decoder sees it. Uncompressed grey data is read in place, JPEG 2000 goes to
//! OpenJPEG directly ([`super::jpeg2000`]), 12-bit lossy JPEG to GDCM
//! ([`super::jpeg12`]), and everything else through dicom-pixeldata, one frame at a time.

use std::path::Path;

use super::budget::VoxelBudget;
use super::checked_pixels::CheckedPixelData;
use super::error::DicomError;
use super::header::{MosaicTile, PixelFormat, Rescale, error_chain};
pub use super::rescale::{Sample, write_rescaled};
use super::{jpeg12, jpeg2000};

/// One frame to decode and where its rescaled values go.
pub struct FrameTarget<'a, T> {
    /// Frame index in the file.
    pub frame: u32,
    /// The modality rescale of this frame.
    pub rescale: Rescale,
    /// Destination: rows × columns values (of the tile, for a mosaic's slice).
    pub out: &'a mut [T],
    /// For a slice of a Siemens mosaic: its tile in the frame.
    pub tile: Option<MosaicTile>,
}

/// Decodes the listed frames of one file into their targets, within the machine's budget
/// ([`VoxelBudget::for_machine`]).
pub fn decode_frames<T: Sample>(
    file: &Path,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
) -> Result<(), DicomError> {
    decode_frames_within(file, format, targets, VoxelBudget::for_machine())
}

/// Decodes the listed frames of one file into their targets, once every frame was checked
/// ([`CheckedPixelData::open`]) and one decoded frame fits `budget`.
pub fn decode_frames_within<T: Sample>(
    file: &Path,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
    budget: VoxelBudget,
) -> Result<(), DicomError> {
    let pixels = CheckedPixelData::open(file, budget)?;
    decode_checked(&pixels, format, targets)
}

/// Decodes the listed frames of checked pixel data into their targets.
pub fn decode_checked<T: Sample>(
    pixels: &CheckedPixelData,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
) -> Result<(), DicomError> {
    let file = pixels.file();
    if let Some(target) = targets.iter().find(|t| t.frame >= pixels.shape().frames) {
        return Err(past_the_end(file, target.frame));
    }
    if targets.iter().any(|t| t.tile.is_some()) {
        return decode_tiles(pixels, format, targets);
    }
    if jpeg12::decodes(pixels) {
        for target in targets.iter_mut() {
            let frame = pixels.frame(target.frame)?;
            let decoded = jpeg12::decode_frame(pixels, &frame, format)?;
            write_rescaled(file, &decoded, format, target.rescale, target.out)?;
        }
        return Ok(());
    }
    if jpeg2000::decodes(pixels) {
        for target in targets.iter_mut() {
            let frame = pixels.frame(target.frame)?;
            guard_panics(file, || {
                jpeg2000::decode_into(
                    file,
                    &frame,
                    pixels.shape(),
                    format,
                    target.rescale,
                    target.out,
                )
            })??;
        }
        return Ok(());
    }
    if let Some(bytes) = pixels.native_grey_bytes(format) {
        let bytes_per_sample = usize::from(format.bits_allocated / 8).max(1);
        for target in targets.iter_mut() {
            let frame_len = target.out.len() * bytes_per_sample;
            let start = target.frame as usize * frame_len;
            let frame = bytes.get(start..start + frame_len).ok_or_else(|| DicomError::Decode {
                file: file.to_path_buf(),
                reason: format!(
                    "pixel data holds {} bytes, frame {} needs bytes {start} to {} (truncated?)",
                    bytes.len(),
                    target.frame,
                    start + frame_len
                ),
            })?;
            write_rescaled(file, frame, format, target.rescale, target.out)?;
        }
        return Ok(());
    }
    let decode_error = |e: dicom_pixeldata::Error| DicomError::Decode {
        file: file.to_path_buf(),
        reason: error_chain(&e),
    };
    for target in targets.iter_mut() {
        let decoded = guard_panics(file, || pixels.decode_with_pixeldata(target.frame))??
            .map_err(decode_error)?;
        let bytes = decoded.frame_data(0).map_err(decode_error)?;
        write_rescaled(file, bytes, format, target.rescale, target.out)?;
    }
    Ok(())
}

/// Decodes each frame the targets name once, whole, and copies each target's tile (or
/// the whole frame) out of it: a mosaic's slices share one frame.
fn decode_tiles<T: Sample>(
    pixels: &CheckedPixelData,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
) -> Result<(), DicomError> {
    let shape = pixels.shape();
    let (rows, columns) = (shape.rows as usize, shape.columns as usize);
    let mut frames: Vec<u32> = targets.iter().map(|t| t.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    // One frame at a time: within the budget `CheckedPixelData::open` checked.
    let mut whole = vec![T::default(); rows * columns];
    for frame in frames {
        let rescale = targets
            .iter()
            .find(|t| t.frame == frame)
            .map_or(Rescale::IDENTITY, |t| t.rescale);
        decode_checked(
            pixels,
            format,
            &mut [FrameTarget {
                frame,
                rescale,
                out: &mut whole,
                tile: None,
            }],
        )?;
        for target in targets.iter_mut().filter(|t| t.frame == frame) {
            copy_tile(pixels.file(), &whole, columns, target)?;
        }
    }
    Ok(())
}

/// Copies a target's tile (its rows of `out.len() / tile columns`) out of a decoded
/// frame `columns` wide.
fn copy_tile<T: Sample>(
    file: &Path,
    whole: &[T],
    columns: usize,
    target: &mut FrameTarget<'_, T>,
) -> Result<(), DicomError> {
    let Some(tile) = target.tile else {
        let out_of = |_| tile_outside(file, target.frame);
        let source = whole.get(..target.out.len()).ok_or(()).map_err(out_of)?;
        target.out.copy_from_slice(source);
        return Ok(());
    };
    let tile_columns = columns / tile.across.max(1) as usize;
    let tile_rows = target.out.len() / tile_columns.max(1);
    let first = tile.first_pixel(tile_rows, tile_columns, columns);
    for (row, out) in target.out.chunks_mut(tile_columns.max(1)).enumerate() {
        let start = first + row * columns;
        let source = whole
            .get(start..start + out.len())
            .ok_or_else(|| tile_outside(file, target.frame))?;
        out.copy_from_slice(source);
    }
    Ok(())
}

fn tile_outside(file: &Path, frame: u32) -> DicomError {
    DicomError::Decode {
        file: file.to_path_buf(),
        reason: format!("a mosaic tile reaches past frame {frame}"),
    }
}

fn past_the_end(file: &Path, frame: u32) -> DicomError {
    DicomError::Decode {
        file: file.to_path_buf(),
        reason: format!("frame {frame} is past the end of the pixel data"),
    }
}

/// Runs a decoder, turning a panic into an error: some decoders index past the end of
/// malformed data instead of returning an error, and a broken file must cost its slice,
/// never the program.
fn guard_panics<R>(file: &Path, decode: impl FnOnce() -> R) -> Result<R, DicomError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).map_err(|panic| {
        DicomError::Decode {
            file: file.to_path_buf(),
            reason: format!(
                "malformed compressed data ({})",
                crate::panics::message(&*panic).unwrap_or("decoder failed")
            ),
        }
    })
}
