//! Pixel decoding: each frame from its transfer syntax to stored values, rescaled
//! straight into a volume's slice ([`super::rescale`]). Uncompressed grey data is read
//! in place, JPEG 2000 goes to OpenJPEG directly ([`super::jpeg2000`]), 12-bit lossy
//! JPEG to GDCM ([`super::jpeg12`]), and everything else through dicom-pixeldata.

use std::borrow::Cow;
use std::path::Path;

use dicom_core::DicomValue;
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;

use super::declared::{Reach, open_checked};
use super::error::DicomError;
use super::header::{PIXEL_DATA, PixelFormat, Rescale, error_chain, open_error};
pub use super::rescale::{Sample, write_rescaled};
use super::{jpeg12, jpeg2000};

/// One frame to decode and where its rescaled values go.
pub struct FrameTarget<'a, T> {
    /// Frame index in the file.
    pub frame: u32,
    /// The modality rescale of this frame.
    pub rescale: Rescale,
    /// Destination: rows × columns values.
    pub out: &'a mut [T],
}

/// Decodes the listed frames of one file into their targets.
pub fn decode_frames<T: Sample>(
    file: &Path,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
) -> Result<(), DicomError> {
    let checked = open_checked(file, Reach::WholeFile)?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(checked.file)
        .map_err(|e| open_error(file, e))?;
    if object.get(tags::PIXEL_DATA).is_none() {
        return Err(DicomError::MissingAttribute {
            file: file.to_path_buf(),
            attribute: PIXEL_DATA,
        });
    }
    let transfer_syntax = object.meta().transfer_syntax();
    if let Some(fragments) = jpeg12::twelve_bit_fragments(&object, transfer_syntax) {
        let frames = jpeg12::decode_all_frames(file, &object, &fragments, format)?;
        for target in targets.iter_mut() {
            let bytes = frames
                .frame(target.frame)
                .ok_or_else(|| past_the_end(file, target.frame))?;
            write_rescaled(file, bytes, format, target.rescale, target.out)?;
        }
        return Ok(());
    }
    if let Some(codestreams) = jpeg2000::Codestreams::of(&object, transfer_syntax, format) {
        for target in targets.iter_mut() {
            let codestream = codestreams
                .frame(target.frame)
                .ok_or_else(|| past_the_end(file, target.frame))?;
            guard_panics(file, || {
                codestreams.decode_into(file, &codestream, format, target.rescale, target.out)
            })??;
        }
        return Ok(());
    }
    if let Some(bytes) = native_grey_bytes(&object, format) {
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
    let whole_file = targets.len() > 1;
    let first_frame = targets.first().map_or(0, |t| t.frame);
    let decoded = guard_panics(file, || {
        if whole_file {
            object.decode_pixel_data()
        } else {
            object.decode_pixel_data_frame(first_frame)
        }
    })?
    .map_err(decode_error)?;
    for target in targets.iter_mut() {
        let frame_in_decoded = if whole_file { target.frame } else { 0 };
        let bytes = decoded.frame_data(frame_in_decoded).map_err(decode_error)?;
        write_rescaled(file, bytes, format, target.rescale, target.out)?;
    }
    Ok(())
}

/// Uncompressed grey pixel data, as dicom-object read it (in native byte order, as
/// dicom-pixeldata takes it too); `None` for encapsulated or colour data.
fn native_grey_bytes(object: &InMemDicomObject, format: PixelFormat) -> Option<Cow<'_, [u8]>> {
    if format.samples_per_pixel != 1 || !matches!(format.bits_allocated, 8 | 16 | 32) {
        return None;
    }
    match object.get(tags::PIXEL_DATA)?.value() {
        DicomValue::Primitive(value) => Some(value.to_bytes()),
        _ => None,
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
