//! 12-bit lossy JPEG (JPEG extended, process 4; transfer syntax 1.2.840.10008.1.2.4.51),
//! which dicom-pixeldata's JPEG decoder does not read: decoded by GDCM's 12-bit IJG codec,
//! one checked frame at a time.
//!
//! Which decoder a file needs is read from its codestream, not from its attributes: the
//! frame header's sample precision ([`super::codestream_size`]). 8-bit JPEG extended
//! stays with dicom-pixeldata.

use std::path::Path;

use gdcm_rs::{GDCMPhotometricInterpretation, GDCMTransferSyntax};

use super::checked_pixels::{CheckedFrame, CheckedPixelData};
use super::error::DicomError;
use super::header::PixelFormat;

/// JPEG Extended (Process 2 & 4): lossy JPEG with 8- or 12-bit samples.
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// Whether the frames of `pixels` are decoded here: JPEG extended whose first frame is
/// coded lossily with more than 8 bits a sample.
pub fn decodes(pixels: &CheckedPixelData) -> bool {
    pixels.transfer_syntax() == JPEG_EXTENDED
        && pixels
            .first_frame_size()
            .is_some_and(|size| size.is_lossy_jpeg_above_8_bits())
}

/// One decoded frame: native little-endian samples, in GDCM's buffer.
pub struct DecodedFrame {
    pixels: gdcm_rs::PixelData,
    frame_len: usize,
}

impl DecodedFrame {
    /// The frame's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.pixels.data().get(..self.frame_len).unwrap_or_default()
    }
}

/// Decodes one checked frame of 12-bit lossy JPEG into native little-endian samples of
/// `format.bits_allocated` bits.
pub fn decode_frame(
    pixels: &CheckedPixelData,
    frame: &CheckedFrame<'_>,
    format: PixelFormat,
) -> Result<DecodedFrame, DicomError> {
    let file: &Path = pixels.file();
    let decode_error = |reason: String| DicomError::Decode {
        file: file.to_path_buf(),
        reason,
    };
    let shape = pixels.shape();
    let photometric = pixels.photometric();
    let photometric: GDCMPhotometricInterpretation = photometric.parse().map_err(|_| {
        decode_error(format!(
            "PhotometricInterpretation {photometric} is not supported for 12-bit JPEG"
        ))
    })?;
    let decoded = gdcm_rs::decode_multi_frame_compressed(
        &[frame.bytes()],
        &[shape.columns, shape.rows, 1],
        photometric,
        GDCMTransferSyntax::JPEGExtendedProcess2_4,
        format.samples_per_pixel,
        format.bits_allocated,
        format.bits_stored,
        format.high_bit,
        u16::from(format.signed),
    )
    .map_err(|e| decode_error(format!("12-bit JPEG (JPEG extended) data is corrupt: {e}")))?;
    let frame_len = usize::try_from(shape.stored_frame_bytes()).unwrap_or(usize::MAX);
    let decoded_len = decoded.data().len();
    if decoded_len < frame_len {
        return Err(decode_error(format!(
            "12-bit JPEG frame {} decoded to {decoded_len} bytes, {frame_len} were expected",
            frame.index()
        )));
    }
    Ok(DecodedFrame {
        pixels: decoded,
        frame_len,
    })
}
