//! 12-bit lossy JPEG (JPEG extended, process 4; transfer syntax 1.2.840.10008.1.2.4.51),
//! which dicom-pixeldata's JPEG decoder does not read: decoded by GDCM's 12-bit IJG codec.
//!
//! Which decoder a file needs is read from its codestream, not from its attributes: the
//! frame header's sample precision. 8-bit JPEG extended stays with dicom-pixeldata.

use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use gdcm_rs::{GDCMPhotometricInterpretation, GDCMTransferSyntax};

use super::error::DicomError;
use super::header::PixelFormat;
use super::text::trim_value;

/// JPEG Extended (Process 2 & 4): lossy JPEG with 8- or 12-bit samples.
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// The frame header of a JPEG codestream: which coding process and how many bits a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The start-of-frame marker's second byte (0xC0 baseline, 0xC1 extended, …).
    pub marker: u8,
    /// Sample precision in bits (P in ITU-T T.81, B.2.2).
    pub precision: u8,
}

impl FrameHeader {
    /// Reads the frame header of a codestream: the first start-of-frame segment after the
    /// start of image. `None` when the bytes are not a JPEG codestream with a frame header.
    pub fn read(codestream: &[u8]) -> Option<FrameHeader> {
        if codestream.get(..2)? != [0xFF, 0xD8] {
            return None;
        }
        let mut at = 2;
        loop {
            // Markers may be preceded by fill bytes (0xFF).
            while *codestream.get(at)? != 0xFF {
                at += 1;
            }
            while *codestream.get(at)? == 0xFF {
                at += 1;
            }
            let marker = *codestream.get(at)?;
            at += 1;
            match marker {
                // Standalone markers: no length.
                0x01 | 0xD0..=0xD7 => continue,
                // End of image or start of scan before any frame header.
                0xD9 | 0xDA => return None,
                _ => {}
            }
            let length = usize::from(u16::from_be_bytes([
                *codestream.get(at)?,
                *codestream.get(at + 1)?,
            ]));
            if is_start_of_frame(marker) {
                return Some(FrameHeader {
                    marker,
                    precision: *codestream.get(at + 2)?,
                });
            }
            at += length;
        }
    }

    /// Lossy (DCT-based) coding with more than 8 bits a sample.
    pub fn is_lossy_above_8_bits(&self) -> bool {
        let lossless = matches!(self.marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
        !lossless && self.precision > 8
    }
}

/// SOF0–SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The encapsulated pixel data of an object when it is lossy JPEG with more than 8 bits a
/// sample; `None` for anything else (left to dicom-pixeldata).
pub fn twelve_bit_fragments<'a>(
    object: &'a InMemDicomObject,
    transfer_syntax: &str,
) -> Option<Vec<&'a [u8]>> {
    if trim_value(transfer_syntax) != JPEG_EXTENDED {
        return None;
    }
    let fragments = object.get(tags::PIXEL_DATA)?.value().fragments()?;
    let header = FrameHeader::read(fragments.first()?)?;
    header
        .is_lossy_above_8_bits()
        .then(|| fragments.iter().map(Vec::as_slice).collect())
}

/// Decoded frames: native little-endian samples, frame after frame, in GDCM's buffer.
pub struct DecodedFrames {
    pixels: gdcm_rs::PixelData,
    frame_len: usize,
}

impl DecodedFrames {
    /// The bytes of one frame, or `None` past the last.
    pub fn frame(&self, index: u32) -> Option<&[u8]> {
        let start = (index as usize).checked_mul(self.frame_len)?;
        self.pixels
            .data()
            .get(start..start.checked_add(self.frame_len)?)
    }
}

/// Decodes every frame of 12-bit lossy JPEG pixel data into native little-endian samples
/// of `format.bits_allocated` bits.
pub fn decode_all_frames(
    file: &Path,
    object: &InMemDicomObject,
    fragments: &[&[u8]],
    format: PixelFormat,
) -> Result<DecodedFrames, DicomError> {
    let decode_error = |reason: String| DicomError::Decode {
        file: file.to_path_buf(),
        reason,
    };
    let number = |tag, keyword: &str| -> Result<u32, DicomError> {
        object
            .get(tag)
            .and_then(|e| e.to_int::<u32>().ok())
            .ok_or_else(|| decode_error(format!("{keyword} missing or not a number")))
    };
    let rows = number(tags::ROWS, "Rows")?;
    let columns = number(tags::COLUMNS, "Columns")?;
    let frames = object
        .get(tags::NUMBER_OF_FRAMES)
        .and_then(|e| e.to_int::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    let photometric = object
        .get(tags::PHOTOMETRIC_INTERPRETATION)
        .and_then(|e| e.to_str().ok())
        .map(|s| trim_value(&s).to_string())
        .unwrap_or_else(|| "MONOCHROME2".to_string());
    let photometric: GDCMPhotometricInterpretation = photometric.parse().map_err(|_| {
        decode_error(format!(
            "PhotometricInterpretation {photometric} is not supported for 12-bit JPEG"
        ))
    })?;
    let decoded = gdcm_rs::decode_multi_frame_compressed(
        fragments,
        &[columns, rows, frames],
        photometric,
        GDCMTransferSyntax::JPEGExtendedProcess2_4,
        format.samples_per_pixel,
        format.bits_allocated,
        format.bits_stored,
        format.high_bit,
        u16::from(format.signed),
    )
    .map_err(|e| decode_error(format!("12-bit JPEG (JPEG extended) data is corrupt: {e}")))?;
    let frame_len = [rows, columns, u32::from(format.samples_per_pixel)]
        .iter()
        .map(|&n| n as usize)
        .product::<usize>()
        * usize::from(format.bits_allocated / 8);
    let decoded_len = decoded.data().len();
    if decoded_len < frame_len * frames as usize {
        return Err(decode_error(format!(
            "12-bit JPEG decoded to {decoded_len} bytes, {frames} frames of {frame_len} bytes were expected"
        )));
    }
    Ok(DecodedFrames {
        pixels: decoded,
        frame_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP0 segment, then a frame header with the given marker and precision.
    fn codestream(marker: u8, precision: u8) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        bytes.extend_from_slice(&[0xFF, marker, 0x00, 0x0B, precision, 0x01, 0x00]);
        bytes.extend_from_slice(&[0x01, 0x00, 0x01, 0x01, 0x11, 0x00]);
        bytes
    }

    #[test]
    fn reads_precision_past_other_segments() {
        let header = FrameHeader::read(&codestream(0xC1, 12)).expect("a frame header");
        assert_eq!(
            header,
            FrameHeader {
                marker: 0xC1,
                precision: 12
            }
        );
        assert!(header.is_lossy_above_8_bits());
    }

    #[test]
    fn eight_bit_and_lossless_streams_are_not_twelve_bit_lossy() {
        for (marker, precision) in [(0xC0, 8), (0xC1, 8), (0xC3, 12), (0xC3, 16)] {
            let header = FrameHeader::read(&codestream(marker, precision)).expect("header");
            assert!(!header.is_lossy_above_8_bits(), "{marker:#x} {precision}");
        }
    }

    #[test]
    fn huffman_table_is_not_a_frame_header() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x03, 0x00];
        bytes.extend_from_slice(&codestream(0xC1, 12)[2..]);
        assert_eq!(FrameHeader::read(&bytes).map(|h| h.marker), Some(0xC1));
    }

    #[test]
    fn truncated_or_foreign_bytes_have_no_frame_header() {
        let full = codestream(0xC1, 12);
        let precision_at = 12;
        assert_eq!(full[precision_at], 12);
        for cut in 0..=precision_at {
            assert_eq!(FrameHeader::read(&full[..cut]), None, "cut at {cut}");
        }
        assert_eq!(FrameHeader::read(b"not a jpeg"), None);
        assert_eq!(FrameHeader::read(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None);
    }
}
