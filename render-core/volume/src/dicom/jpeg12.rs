//! 12-bit lossy JPEG (JPEG extended, process 4; transfer syntax 1.2.840.10008.1.2.4.51),
//! which dicom-pixeldata's JPEG decoder does not read: decoded by GDCM's 12-bit IJG codec
//! ([`gdcm`]), one checked frame at a time.
//!
//! Which decoder a file needs is read from its codestream, not from its attributes: the
//! frame header's sample precision ([`super::codestream_size`]). 8-bit JPEG extended
//! stays with dicom-pixeldata.

mod gdcm;

use std::path::Path;

use super::checked_pixels::{CheckedFrame, CheckedPixelData};
use super::codestream_size::next_marker;
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

/// Decodes one checked frame of 12-bit lossy JPEG into native little-endian samples of
/// `format.bits_allocated` bits: the frame's stored bytes, no more.
pub fn decode_frame(
    pixels: &CheckedPixelData,
    frame: &CheckedFrame<'_>,
    format: PixelFormat,
) -> Result<Vec<u8>, DicomError> {
    let file: &Path = pixels.file();
    let decode_error = |reason: String| DicomError::Decode {
        file: file.to_path_buf(),
        reason,
    };
    segments_within(frame.bytes()).map_err(|why| {
        decode_error(format!(
            "12-bit JPEG frame {} is refused before decoding: {why}",
            frame.index()
        ))
    })?;
    let shape = pixels.shape();
    let frame_len = usize::try_from(shape.stored_frame_bytes()).map_err(|_| {
        decode_error(format!(
            "12-bit JPEG frame {} is too large for this machine",
            frame.index()
        ))
    })?;
    let layout = gdcm::FrameLayout {
        columns: shape.columns,
        rows: shape.rows,
        photometric: &pixels.photometric(),
    };
    gdcm::decode(frame.bytes(), &layout, format, frame_len)
        .map_err(|why| decode_error(format!("12-bit JPEG frame {}: {why}", frame.index())))
}

/// Walks a JPEG frame's markers from its SOI to its EOI as libjpeg finds them (any bytes
/// up to an 0xFF, fill bytes, the marker's code; after a scan's header, its entropy-coded
/// data up to the next marker that is not a restart, 0xFF00 being a coded 0xFF), and says
/// why not where a marker segment runs past the frame's end or no EOI ends the frame.
///
/// GDCM's 12-bit codec reads its input through a C++ stream that, once read past its end,
/// hands libjpeg nothing more, and libjpeg's skipping of a segment then never ends: a
/// decoder thread spinning for good. A frame that would take it there never reaches it.
fn segments_within(frame: &[u8]) -> Result<(), String> {
    let no_eoi = || format!("no EOI ends its {} bytes", frame.len());
    let byte = |at: usize| frame.get(at).copied().ok_or_else(no_eoi);
    if frame.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err("it does not begin with SOI".to_string());
    }
    let mut at = 2;
    loop {
        let (marker, after) = next_marker(frame, at).ok_or_else(no_eoi)?;
        at = after;
        match marker {
            // EOI: the frame is whole.
            0xD9 => return Ok(()),
            // A coded 0xFF, TEM, a restart or SOI: no segment follows.
            0x00 | 0x01 | 0xD0..=0xD8 => {}
            _ => {
                let length = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
                let end = at + length;
                if length < 2 {
                    return Err(format!(
                        "its marker segment 0xFF{marker:02X} at byte {} declares {length} \
                         bytes, under its own 2-byte length",
                        at - 2
                    ));
                }
                if end > frame.len() {
                    return Err(format!(
                        "its marker segment 0xFF{marker:02X} at byte {} declares {length} \
                         bytes, past the frame's end at byte {}",
                        at - 2,
                        frame.len()
                    ));
                }
                at = end;
                if marker == 0xDA {
                    at = end_of_entropy_coded_data(frame, at).ok_or_else(no_eoi)?;
                }
            }
        }
    }
}

/// Where the entropy-coded data starting at `from` ends: at the first marker that is not a
/// coded 0xFF (0xFF00), a fill byte or a restart (0xFFD0 to 0xFFD7).
fn end_of_entropy_coded_data(frame: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += frame.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match *frame.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::budget::VoxelBudget;

    #[test]
    fn gdcm_decodes_a_real_frame_only_into_the_length_its_header_declares() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/data/pydicom-test-files/pydicom/data/test_files/JPGExtended.dcm",
        );
        let pixels = CheckedPixelData::open(&file, VoxelBudget::new(1 << 30)).expect("opens");
        assert!(decodes(&pixels), "12 bits a sample, lossy");
        let frame = pixels.frame(0).expect("frame 0");
        let format = PixelFormat {
            bits_allocated: 16,
            bits_stored: 12,
            high_bit: 11,
            signed: false,
            samples_per_pixel: 1,
        };
        let shape = pixels.shape();
        let layout = gdcm::FrameLayout {
            columns: shape.columns,
            rows: shape.rows,
            photometric: "MONOCHROME2",
        };
        let whole = usize::try_from(shape.stored_frame_bytes()).expect("fits");
        let decoded = gdcm::decode(frame.bytes(), &layout, format, whole).expect("decoded");
        assert_eq!(decoded.len(), whole);
        assert!(decoded.iter().any(|&byte| byte != 0), "an image, not zeros");
        // A buffer of any other length is refused before GDCM writes into it.
        let why = gdcm::decode(frame.bytes(), &layout, format, whole - 2).expect_err("short");
        assert!(
            why.contains(&format!("GDCM would decode {whole} bytes")),
            "{why}"
        );
        let layout = gdcm::FrameLayout {
            photometric: "NOT-A-PHOTOMETRIC",
            ..layout
        };
        let why = gdcm::decode(frame.bytes(), &layout, format, whole).expect_err("unknown");
        assert!(why.contains("NOT-A-PHOTOMETRIC"), "{why}");
    }

    /// A frame: SOI, an APP0 of two bytes, SOF1, a scan header, `entropy` and EOI.
    fn frame(entropy: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        bytes.extend_from_slice(&[0xFF, 0xC1, 0x00, 0x0B, 12, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0]);
        bytes.extend_from_slice(entropy);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn a_whole_frame_passes_through_coded_bytes_restarts_and_fill() {
        let entropy = [
            0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD1, 0x78,
        ];
        assert_eq!(segments_within(&frame(&entropy)), Ok(()));
        // Bytes after the EOI (a fragment's padding) are not read.
        let mut padded = frame(&entropy);
        padded.extend_from_slice(&[0xFF, 0x00, 0x12]);
        assert_eq!(segments_within(&padded), Ok(()));
    }

    #[test]
    fn a_segment_past_the_end_or_a_missing_eoi_is_refused_by_name() {
        let mut past = frame(&[0x12, 0x34]);
        let eoi = past.len() - 2;
        past.truncate(eoi);
        past.extend_from_slice(&[0xFF, 0xE0, 0xFF, 0xFF]);
        let why = segments_within(&past).expect_err("past the end");
        assert!(why.contains("0xFFE0") && why.contains("65535"), "{why}");
        // Cut inside the frame header: that segment runs past the end.
        let cut = &frame(&[0x12, 0x34])[..20];
        let why = segments_within(cut).expect_err("cut");
        assert!(
            why.contains("0xFFC1") && why.contains("past the frame's end"),
            "{why}"
        );
        // Cut inside the scan: no EOI.
        let mut no_eoi = frame(&[0x12, 0x34]);
        no_eoi.truncate(no_eoi.len() - 2);
        let why = segments_within(&no_eoi).expect_err("no EOI");
        assert!(why.contains("no EOI"), "{why}");
        let short = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9];
        let why = segments_within(&short).expect_err("a length under 2");
        assert!(why.contains("under its own 2-byte length"), "{why}");
        assert!(
            segments_within(&[0x00, 0xD8, 0xFF, 0xD9]).is_err(),
            "no SOI"
        );
    }
}
