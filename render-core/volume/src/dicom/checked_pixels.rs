//! The one way to a file's pixel data. [`CheckedPixelData::open`] reads a file whose
//! declared lengths were checked ([`super::declared`]) and, before any decoder sees a byte
//! of it, checks every frame: the size its compressed data declares of itself
//! ([`super::codestream_size`]) against the file's Rows, Columns, SamplesPerPixel and
//! BitsAllocated, and one decoded frame against the memory budget.
//!
//! The object stays private here: a decoder gets a frame's bytes only as a
//! [`CheckedFrame`] (made by the same check), dicom-pixeldata decodes only through
//! [`CheckedPixelData::decode_with_pixeldata`], and uncompressed samples come from
//! [`CheckedPixelData::native_grey_bytes`]. So no decode path (a load, a file decoded
//! ahead, a thumbnail) can allocate by a codestream's word.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use dicom_core::DicomValue;
use dicom_dictionary_std::tags;
use dicom_encoding::adapters::PixelDataObject;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{DecodedPixelData, PixelDecoder};

use super::budget::VoxelBudget;
use super::codestream_size::{Codestream, DeclaredSize, ImageSize};
use super::declared::{Reach, open_checked};
use super::error::{DicomError, human_bytes};
use super::header::{MAX_FRAMES_PER_FILE, PIXEL_DATA, PixelFormat, open_error};
use super::text::trim_value;

/// Most JPEG 2000 tiles one frame may have. OpenJPEG keeps coding parameters per tile and
/// component (kilobytes each) from the main header on; scanners write one tile, or tiles
/// of 256 or more a side.
pub const MAX_TILES_PER_FRAME: u64 = 4096;
/// Bytes a decoded sample takes at its widest: OpenJPEG's `i32`, the loader's `f32`.
const DECODED_SAMPLE_BYTES: u64 = 4;

/// A frame's layout as the file's own attributes give it: what decoders are held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelShape {
    /// Rows (0028,0010).
    pub rows: u32,
    /// Columns (0028,0011).
    pub columns: u32,
    /// SamplesPerPixel (0028,0002), 1 when absent.
    pub samples_per_pixel: u32,
    /// BitsAllocated (0028,0100).
    pub bits_allocated: u32,
    /// NumberOfFrames (0028,0008), 1 when absent.
    pub frames: u32,
}

impl PixelShape {
    /// Bytes one frame takes decoded, at 4 bytes a sample.
    pub fn decoded_frame_bytes(&self) -> u64 {
        u64::from(self.rows)
            * u64::from(self.columns)
            * u64::from(self.samples_per_pixel)
            * DECODED_SAMPLE_BYTES
    }

    /// Bytes one frame's stored samples take.
    pub fn stored_frame_bytes(&self) -> u64 {
        u64::from(self.rows)
            * u64::from(self.columns)
            * u64::from(self.samples_per_pixel)
            * u64::from(self.bits_allocated / 8)
    }
}

/// A file's pixel data whose every frame was checked before any decoder saw it.
#[derive(Debug)]
pub struct CheckedPixelData {
    file: PathBuf,
    object: DefaultDicomObject,
    shape: PixelShape,
    transfer_syntax: String,
    /// The frames' codestream; `None` for native pixel data.
    codestream: Option<Codestream>,
    /// What the first frame declared (compressed data only).
    first_frame: Option<DeclaredSize>,
}

/// One frame's compressed bytes, made only once what they declare matched the header.
#[derive(Debug)]
pub struct CheckedFrame<'a> {
    index: u32,
    bytes: Cow<'a, [u8]>,
    declared: DeclaredSize,
}

impl CheckedFrame<'_> {
    /// The frame's index in the file.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The frame's compressed bytes (its fragments joined).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the bytes declared of themselves.
    pub fn declared(&self) -> DeclaredSize {
        self.declared
    }
}

impl CheckedPixelData {
    /// Opens `file` (its declared lengths checked) and checks every frame before a byte
    /// of pixel data is decoded: each compressed frame's own size against Rows, Columns,
    /// SamplesPerPixel and BitsAllocated, and one decoded frame against `budget`.
    pub fn open(file: &Path, budget: VoxelBudget) -> Result<CheckedPixelData, DicomError> {
        let checked = open_checked(file, Reach::WholeFile)?;
        let object = OpenFileOptions::new()
            .read_preamble(ReadPreamble::Auto)
            .from_reader(checked.file)
            .map_err(|e| open_error(file, e))?;
        Self::check(file, object, budget)
    }

    /// Checks an object already read from `file`, as [`Self::open`] does.
    pub fn check(
        file: &Path,
        object: DefaultDicomObject,
        budget: VoxelBudget,
    ) -> Result<CheckedPixelData, DicomError> {
        let transfer_syntax = trim_value(object.meta().transfer_syntax()).to_string();
        let encapsulated = match object.get(tags::PIXEL_DATA).map(|e| e.value()) {
            None => {
                return Err(DicomError::MissingAttribute {
                    file: file.to_path_buf(),
                    attribute: PIXEL_DATA,
                });
            }
            Some(DicomValue::PixelSequence(_)) => true,
            Some(_) => false,
        };
        let shape = shape_of(file, &object)?;
        let codestream = Codestream::of_transfer_syntax(&transfer_syntax);
        let refuse = |frame: u32, reason: String| DicomError::FrameRefused {
            file: file.to_path_buf(),
            frame,
            reason,
        };
        match (encapsulated, codestream) {
            (true, None) => {
                return Err(DicomError::Unsupported {
                    file: file.to_path_buf(),
                    what: format!(
                        "compressed pixel data of transfer syntax {transfer_syntax} is not supported (no decoder here reads what its frames declare)"
                    ),
                });
            }
            (false, Some(codestream)) => {
                return Err(refuse(
                    0,
                    format!(
                        "transfer syntax {transfer_syntax} calls for a {} a frame, but the pixel data is not encapsulated",
                        codestream.name()
                    ),
                ));
            }
            _ => {}
        }
        let decoded = shape.decoded_frame_bytes();
        if decoded > budget.max_bytes {
            return Err(refuse(
                0,
                format!(
                    "one frame of {} × {} × {} samples takes {} decoded, over the {} one series may take (set with --max-series-mb or HOUNSFIELD_MAX_SERIES_MB)",
                    shape.columns,
                    shape.rows,
                    shape.samples_per_pixel,
                    human_bytes(decoded),
                    human_bytes(budget.max_bytes)
                ),
            ));
        }
        let mut pixels = CheckedPixelData {
            file: file.to_path_buf(),
            object,
            shape,
            transfer_syntax,
            codestream,
            first_frame: None,
        };
        if codestream.is_some() {
            let mut first = None;
            for index in 0..shape.frames {
                let declared = pixels.frame(index)?.declared;
                first.get_or_insert(declared);
            }
            pixels.first_frame = first;
        }
        Ok(pixels)
    }

    /// The file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The frames' layout from the file's own attributes.
    pub fn shape(&self) -> PixelShape {
        self.shape
    }

    /// The transfer syntax UID.
    pub fn transfer_syntax(&self) -> &str {
        &self.transfer_syntax
    }

    /// The frames' codestream; `None` for native pixel data.
    pub fn codestream(&self) -> Option<Codestream> {
        self.codestream
    }

    /// The image size the first compressed frame declared (all were checked alike).
    pub fn first_frame_size(&self) -> Option<ImageSize> {
        match self.first_frame? {
            DeclaredSize::Image(size) => Some(size),
            _ => None,
        }
    }

    /// PhotometricInterpretation (0028,0004), trimmed; MONOCHROME2 when absent.
    pub fn photometric(&self) -> String {
        self.object
            .get(tags::PHOTOMETRIC_INTERPRETATION)
            .and_then(|e| e.to_str().ok())
            .map(|s| trim_value(&s).to_string())
            .unwrap_or_else(|| "MONOCHROME2".to_string())
    }

    /// Compressed frame `index`, checked again as it is handed out: its bytes are those
    /// the decoders of its transfer syntax take for that frame.
    pub fn frame(&self, index: u32) -> Result<CheckedFrame<'_>, DicomError> {
        let refuse = |reason: String| DicomError::FrameRefused {
            file: self.file.clone(),
            frame: index,
            reason,
        };
        let Some(codestream) = self.codestream else {
            return Err(refuse("the pixel data is not compressed".to_string()));
        };
        if index >= self.shape.frames {
            return Err(refuse(format!(
                "the file has {} frame(s)",
                self.shape.frames
            )));
        }
        let bytes = match codestream {
            // One fragment a frame, as dicom-pixeldata's RLE and encapsulated
            // uncompressed readers take them.
            Codestream::Rle | Codestream::Uncompressed => {
                PixelDataObject::fragment(&self.object, index as usize)
            }
            // A frame's fragments as dicom-pixeldata gathers them (one each, or by the
            // basic offset table); its JPEG reader's own gathering starts at the same
            // fragment.
            Codestream::Jpeg2000 | Codestream::Jpeg | Codestream::JpegLs => {
                PixelDataObject::frame_pixel_data(&self.object, index)
            }
        }
        .ok_or_else(|| refuse("the pixel data holds no fragment for it".to_string()))?;
        let declared = codestream.declared_size(&bytes).map_err(|reason| {
            refuse(format!(
                "its {} cannot be read: {reason}",
                codestream.name()
            ))
        })?;
        self.check_declared(codestream, declared).map_err(refuse)?;
        Ok(CheckedFrame {
            index,
            bytes,
            declared,
        })
    }

    /// Decodes frame `index` with dicom-pixeldata (its frame checked again first).
    pub fn decode_with_pixeldata(
        &self,
        index: u32,
    ) -> Result<Result<DecodedPixelData<'_>, dicom_pixeldata::Error>, DicomError> {
        if self.codestream.is_some() {
            self.frame(index)?;
        } else if index >= self.shape.frames {
            return Err(DicomError::FrameRefused {
                file: self.file.clone(),
                frame: index,
                reason: format!("the file has {} frame(s)", self.shape.frames),
            });
        }
        Ok(self.object.decode_pixel_data_frame(index))
    }

    /// Uncompressed grey pixel data, as dicom-object read it (in native byte order, as
    /// dicom-pixeldata takes it too); `None` for compressed or colour data.
    pub fn native_grey_bytes(&self, format: PixelFormat) -> Option<Cow<'_, [u8]>> {
        if self.codestream.is_some()
            || format.samples_per_pixel != 1
            || !matches!(format.bits_allocated, 8 | 16 | 32)
        {
            return None;
        }
        match self.object.get(tags::PIXEL_DATA)?.value() {
            DicomValue::Primitive(value) => Some(value.to_bytes()),
            _ => None,
        }
    }

    /// Whether what a frame declared agrees with the header; the reason when not.
    fn check_declared(&self, codestream: Codestream, declared: DeclaredSize) -> Result<(), String> {
        let shape = self.shape;
        let name = codestream.name();
        match declared {
            DeclaredSize::Image(size) => {
                if (size.columns, size.rows) != (shape.columns, shape.rows) {
                    return Err(format!(
                        "its {name} declares {} × {}, but Columns × Rows (0028,0011/0010) say {} × {}",
                        size.columns, size.rows, shape.columns, shape.rows
                    ));
                }
                if size.components != shape.samples_per_pixel {
                    return Err(format!(
                        "its {name} declares {} components, but SamplesPerPixel (0028,0002) says {}",
                        size.components, shape.samples_per_pixel
                    ));
                }
                if size.bits > shape.bits_allocated {
                    return Err(format!(
                        "its {name} declares {}-bit samples, but BitsAllocated (0028,0100) is {}",
                        size.bits, shape.bits_allocated
                    ));
                }
                if size.tiles > MAX_TILES_PER_FRAME {
                    return Err(format!(
                        "its {name} declares {} tiles, over the {MAX_TILES_PER_FRAME} a frame may have",
                        size.tiles
                    ));
                }
            }
            DeclaredSize::RleSegments(segments) => {
                let needed = shape.samples_per_pixel * (shape.bits_allocated / 8);
                if segments != needed {
                    return Err(format!(
                        "its {name} declares {segments} segments, but SamplesPerPixel {} × BitsAllocated {} need {needed}",
                        shape.samples_per_pixel, shape.bits_allocated
                    ));
                }
            }
            DeclaredSize::Bytes(bytes) => {
                let needed = shape.stored_frame_bytes();
                if bytes < needed {
                    return Err(format!(
                        "its {name} holds {bytes} bytes, a frame of {} × {} needs {needed}",
                        shape.columns, shape.rows
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Rows, Columns, SamplesPerPixel, BitsAllocated and NumberOfFrames of the object, each
/// within what the loader reads.
fn shape_of(file: &Path, object: &DefaultDicomObject) -> Result<PixelShape, DicomError> {
    use super::header::{BITS_ALLOCATED, COLUMNS, NUMBER_OF_FRAMES, ROWS};
    let number = |tag| object.get(tag).and_then(|e| e.to_int::<u32>().ok());
    let required = |tag, attribute| {
        number(tag).ok_or_else(|| DicomError::MissingAttribute {
            file: file.to_path_buf(),
            attribute,
        })
    };
    let invalid = |attribute, reason: String| DicomError::InvalidAttribute {
        file: file.to_path_buf(),
        attribute,
        reason,
    };
    let shape = PixelShape {
        rows: required(tags::ROWS, ROWS)?,
        columns: required(tags::COLUMNS, COLUMNS)?,
        samples_per_pixel: number(tags::SAMPLES_PER_PIXEL).unwrap_or(1),
        bits_allocated: required(tags::BITS_ALLOCATED, BITS_ALLOCATED)?,
        frames: number(tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1),
    };
    if shape.rows == 0 || shape.rows > u32::from(u16::MAX) {
        return Err(invalid(ROWS, format!("{}: not 1 to 65535", shape.rows)));
    }
    if shape.columns == 0 || shape.columns > u32::from(u16::MAX) {
        return Err(invalid(
            COLUMNS,
            format!("{}: not 1 to 65535", shape.columns),
        ));
    }
    if !(1..=4).contains(&shape.samples_per_pixel) {
        return Err(DicomError::Unsupported {
            file: file.to_path_buf(),
            what: format!(
                "SamplesPerPixel (0028,0002) of {} is not supported",
                shape.samples_per_pixel
            ),
        });
    }
    if !matches!(shape.bits_allocated, 8 | 16 | 32) {
        return Err(DicomError::Unsupported {
            file: file.to_path_buf(),
            what: format!(
                "BitsAllocated (0028,0100) of {} is not supported",
                shape.bits_allocated
            ),
        });
    }
    if shape.frames > MAX_FRAMES_PER_FILE {
        return Err(invalid(
            NUMBER_OF_FRAMES,
            format!(
                "{} is over the {MAX_FRAMES_PER_FILE} frames a file may hold",
                shape.frames
            ),
        ));
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use dicom_core::value::{PixelFragmentSequence, PrimitiveValue};
    use dicom_core::{DataElement, VR};

    use super::*;
    use crate::dicom::testing::codestreams::{Jpeg2000Siz, jpeg_2000};
    use crate::dicom::testing::{HostileFrame, write_honest_series};

    /// An honest 4 × 4 JPEG 2000 image of the test library, its pixel data replaced by
    /// `pixel_data` (and NumberOfFrames set to `frames`).
    fn image_with(
        folder: &Path,
        frames: u32,
        pixel_data: DicomValue<dicom_object::InMemDicomObject>,
    ) -> PathBuf {
        let files = write_honest_series(folder, HostileFrame::Jpeg2000Oversized).expect("a series");
        let mut object = dicom_object::open_file(&files[0]).expect("opens");
        object.put(DataElement::new(
            tags::NUMBER_OF_FRAMES,
            VR::IS,
            PrimitiveValue::from(frames.to_string()),
        ));
        object.put(DataElement::new(tags::PIXEL_DATA, VR::OB, pixel_data));
        let path = folder.join("changed.dcm");
        object.write_to_file(&path).expect("written");
        path
    }

    #[test]
    fn every_frame_of_a_file_is_checked_before_any_is_decoded() {
        let folder = tempfile::tempdir().expect("a folder");
        let small = jpeg_2000(Jpeg2000Siz::grey(4, 4, 12));
        let huge = jpeg_2000(Jpeg2000Siz::grey(60000, 60000, 12));
        let fragments = PixelFragmentSequence::new(Vec::<u32>::new(), vec![small.clone(), huge]);
        let path = image_with(folder.path(), 2, DicomValue::from(fragments));
        let refused =
            CheckedPixelData::open(&path, VoxelBudget::new(1 << 30)).expect_err("refused");
        assert!(
            matches!(&refused, DicomError::FrameRefused { frame: 1, .. }),
            "{refused:?}"
        );
        let fragments = PixelFragmentSequence::new(Vec::<u32>::new(), vec![small.clone(), small]);
        let path = image_with(folder.path(), 2, DicomValue::from(fragments));
        let pixels = CheckedPixelData::open(&path, VoxelBudget::new(1 << 30)).expect("both honest");
        assert_eq!(pixels.shape().frames, 2);
        assert_eq!(pixels.frame(1).expect("frame 1").index(), 1);
        assert!(pixels.frame(2).is_err(), "past the last frame");
    }

    #[test]
    fn one_decoded_frame_over_the_budget_is_refused_by_its_size() {
        let folder = tempfile::tempdir().expect("a folder");
        let files =
            write_honest_series(folder.path(), HostileFrame::Jpeg2000Oversized).expect("a series");
        // 4 × 4 samples of 4 bytes decoded.
        assert!(CheckedPixelData::open(&files[0], VoxelBudget::new(64)).is_ok());
        let refused = CheckedPixelData::open(&files[0], VoxelBudget::new(63)).expect_err("over");
        let text = refused.to_string();
        assert!(
            text.contains("frame 0 refused before decoding: one frame of 4 × 4 × 1 samples takes 64 bytes decoded, over the 63 bytes"),
            "{text}"
        );
    }

    #[test]
    fn unencapsulated_pixel_data_under_a_compressed_syntax_is_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        let codestream = jpeg_2000(Jpeg2000Siz::grey(60000, 60000, 12));
        let path = image_with(
            folder.path(),
            1,
            DicomValue::from(PrimitiveValue::from(codestream)),
        );
        let refused =
            CheckedPixelData::open(&path, VoxelBudget::new(1 << 30)).expect_err("refused");
        assert!(
            refused
                .to_string()
                .contains("the pixel data is not encapsulated"),
            "{refused}"
        );
    }
}
