//! JPEG 2000 frames (transfer syntaxes 1.2.840.10008.1.2.4.90 and .91) decoded by
//! OpenJPEG through jpeg2k, their samples rescaled straight into the volume's slice: no
//! intermediate byte buffer and no per-sample copy, which dicom-pixeldata's adapter makes.
//! The decoder and its settings are the ones dicom-pixeldata uses, so values are the same.

use std::borrow::Cow;
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::error::DicomError;
use super::header::{PixelFormat, Rescale};
use super::rescale::{Sample, write_rescaled_samples};
use super::text::trim_value;

/// JPEG 2000 Image Compression (Lossless Only).
pub const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
/// JPEG 2000 Image Compression (lossless or lossy).
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.91";

/// The JPEG 2000 codestreams of a grey object's frames.
#[derive(Debug)]
pub struct Codestreams<'a> {
    fragments: &'a [Vec<u8>],
    frames: u32,
    rows: u32,
    columns: u32,
}

impl<'a> Codestreams<'a> {
    /// The frames' codestreams when the object is grey JPEG 2000 whose fragments map to
    /// frames plainly (one frame in any number of fragments, or one fragment a frame);
    /// `None` leaves the object to dicom-pixeldata.
    pub fn of(
        object: &'a InMemDicomObject,
        transfer_syntax: &str,
        format: PixelFormat,
    ) -> Option<Self> {
        if !matches!(trim_value(transfer_syntax), JPEG_2000_LOSSLESS | JPEG_2000)
            || format.samples_per_pixel != 1
        {
            return None;
        }
        let number = |tag| object.get(tag).and_then(|e| e.to_int::<u32>().ok());
        let frames = number(tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
        let fragments = object.get(tags::PIXEL_DATA)?.value().fragments()?;
        let plain = (frames == 1 && !fragments.is_empty()) || fragments.len() == frames as usize;
        plain.then_some(Self {
            fragments,
            frames,
            rows: number(tags::ROWS)?,
            columns: number(tags::COLUMNS)?,
        })
    }

    /// The codestream of one frame (a one-frame object's fragments joined), or `None`
    /// past the last frame.
    pub fn frame(&self, index: u32) -> Option<Cow<'a, [u8]>> {
        match self.fragments {
            [only] if index == 0 => Some(Cow::Borrowed(only.as_slice())),
            all if self.frames == 1 && index == 0 => Some(Cow::Owned(all.concat())),
            all => all.get(index as usize).map(|f| Cow::Borrowed(f.as_slice())),
        }
    }

    /// Decodes one codestream and writes its samples, rescaled, into `out`.
    pub fn decode_into<T: Sample>(
        &self,
        file: &Path,
        codestream: &[u8],
        format: PixelFormat,
        rescale: Rescale,
        out: &mut [T],
    ) -> Result<(), DicomError> {
        let decode_error = |reason: String| DicomError::Decode {
            file: file.to_path_buf(),
            reason,
        };
        let image = jpeg2k::Image::from_bytes(codestream)
            .map_err(|e| decode_error(format!("JPEG 2000 decoder failure: {e}")))?;
        let [component] = image.components() else {
            return Err(decode_error(format!(
                "the JPEG 2000 codestream has {} components, SamplesPerPixel (0028,0002) is 1",
                image.components().len()
            )));
        };
        if (component.width(), component.height()) != (self.columns, self.rows) {
            return Err(decode_error(format!(
                "the JPEG 2000 codestream is {}×{}, Columns × Rows (0028,0011/0010) say {}×{}",
                component.width(),
                component.height(),
                self.columns,
                self.rows
            )));
        }
        write_rescaled_samples(file, component.data(), format, rescale, out)
    }
}
