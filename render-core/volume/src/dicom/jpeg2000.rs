//! JPEG 2000 frames (transfer syntaxes 1.2.840.10008.1.2.4.90 and .91) decoded by
//! OpenJPEG through jpeg2k, their samples rescaled straight into the volume's slice: no
//! intermediate byte buffer and no per-sample copy, which dicom-pixeldata's adapter makes.
//! The decoder and its settings are the ones dicom-pixeldata uses, so values are the same.

use std::path::Path;

use super::checked_pixels::{CheckedFrame, CheckedPixelData, PixelShape};
use super::codestream_size::Codestream;
use super::error::DicomError;
use super::header::{PixelFormat, Rescale};
use super::rescale::{Sample, write_rescaled_samples};

/// JPEG 2000 Image Compression (Lossless Only).
pub const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
/// JPEG 2000 Image Compression (lossless or lossy).
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.91";

/// Whether the frames of `pixels` are decoded here: grey JPEG 2000 of the two Part 1
/// transfer syntaxes; any other JPEG 2000 goes to dicom-pixeldata.
pub fn decodes(pixels: &CheckedPixelData) -> bool {
    pixels.codestream() == Some(Codestream::Jpeg2000)
        && matches!(pixels.transfer_syntax(), JPEG_2000_LOSSLESS | JPEG_2000)
        && pixels.shape().samples_per_pixel == 1
}

/// Decodes one checked frame and writes its samples, rescaled, into `out`.
pub fn decode_into<T: Sample>(
    file: &Path,
    frame: &CheckedFrame<'_>,
    shape: PixelShape,
    format: PixelFormat,
    rescale: Rescale,
    out: &mut [T],
) -> Result<(), DicomError> {
    let decode_error = |reason: String| DicomError::Decode {
        file: file.to_path_buf(),
        reason,
    };
    let image = jpeg2k::Image::from_bytes(frame.bytes())
        .map_err(|e| decode_error(format!("JPEG 2000 decoder failure: {e}")))?;
    // Checked before decoding; OpenJPEG's own view is checked again after it.
    let [component] = image.components() else {
        return Err(decode_error(format!(
            "the JPEG 2000 codestream has {} components, SamplesPerPixel (0028,0002) is 1",
            image.components().len()
        )));
    };
    if (component.width(), component.height()) != (shape.columns, shape.rows) {
        return Err(decode_error(format!(
            "the JPEG 2000 codestream is {}×{}, Columns × Rows (0028,0011/0010) say {}×{}",
            component.width(),
            component.height(),
            shape.columns,
            shape.rows
        )));
    }
    write_rescaled_samples(file, component.data(), format, rescale, out)
}
