//! Image headers: the attributes of one image (one frame) that the catalog groups by and
//! the loader needs, read without the pixel data. Enhanced multi-frame files give one
//! header per frame from their shared and per-frame functional groups, so they take the
//! same path as classic one-file-per-slice series.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};

mod attributes;
mod frames;
mod mosaic;
mod suv;

use attributes::AttributeReader;
pub use attributes::{MAX_HEADER_TEXT_CHARS, MAX_HEADER_VALUES};
use frames::{enhanced_frame_headers, multi_frame_headers};
pub use mosaic::{MAX_MOSAIC_SLICES, MosaicTile};
pub use suv::{SuvFactor, read_suv_factor, series_suv_factor};

use super::declared::{DeclaredLayout, PixelDataExtent, Reach, open_checked};
use super::dicomdir::is_dicomdir_sop_class;
use super::error::{Attribute, DicomError};
use super::text::trim_value;
use crate::volume::Window;

/// ImagePositionPatient (0020,0032).
pub const IMAGE_POSITION: Attribute = Attribute::new("ImagePositionPatient", 0x0020, 0x0032);
/// ImageOrientationPatient (0020,0037).
pub const IMAGE_ORIENTATION: Attribute = Attribute::new("ImageOrientationPatient", 0x0020, 0x0037);
/// PixelSpacing (0028,0030).
pub const PIXEL_SPACING: Attribute = Attribute::new("PixelSpacing", 0x0028, 0x0030);
/// PixelData (7FE0,0010).
pub const PIXEL_DATA: Attribute = Attribute::new("PixelData", 0x7FE0, 0x0010);
/// Rows (0028,0010).
pub const ROWS: Attribute = Attribute::new("Rows", 0x0028, 0x0010);
/// Columns (0028,0011).
pub const COLUMNS: Attribute = Attribute::new("Columns", 0x0028, 0x0011);
/// BitsAllocated (0028,0100).
pub const BITS_ALLOCATED: Attribute = Attribute::new("BitsAllocated", 0x0028, 0x0100);
/// NumberOfFrames (0028,0008).
pub const NUMBER_OF_FRAMES: Attribute = Attribute::new("NumberOfFrames", 0x0028, 0x0008);

/// Most frames one file may hold: far above any scanner's multi-frame object, far below
/// what would make a header-only scan costly.
pub const MAX_FRAMES_PER_FILE: u32 = 1 << 15;
/// The fewest bytes one encapsulated frame takes: its item header.
const MIN_ENCAPSULATED_FRAME_BYTES: u64 = 8;

/// How stored pixel values are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    /// Bits per sample in the buffer: 8, 16 or 32.
    pub bits_allocated: u16,
    /// Bits that carry the value.
    pub bits_stored: u16,
    /// The most significant bit of the value.
    pub high_bit: u16,
    /// Two's complement values (PixelRepresentation 1).
    pub signed: bool,
    /// 1 for grey images, 3 for colour.
    pub samples_per_pixel: u16,
}

impl PixelFormat {
    /// The smallest and largest stored value this format can hold.
    pub fn stored_range(&self) -> (f64, f64) {
        let bits = i32::from(self.bits_stored.clamp(1, 32));
        if self.signed {
            (-(2f64.powi(bits - 1)), 2f64.powi(bits - 1) - 1.0)
        } else {
            (0.0, 2f64.powi(bits) - 1.0)
        }
    }
}

/// The modality rescale: value = stored × slope + intercept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rescale {
    /// RescaleSlope (0028,1053).
    pub slope: f64,
    /// RescaleIntercept (0028,1052).
    pub intercept: f64,
}

impl Rescale {
    /// The identity rescale.
    pub const IDENTITY: Rescale = Rescale {
        slope: 1.0,
        intercept: 0.0,
    };

    /// Whether slope and intercept are whole numbers, so rescaled values stay whole.
    pub fn is_integral(&self) -> bool {
        self.slope.fract() == 0.0 && self.intercept.fract() == 0.0
    }

    /// Applies the rescale to a stored value.
    pub fn apply(&self, stored: f64) -> f64 {
        stored * self.slope + self.intercept
    }
}

/// Who and what an image belongs to: patient, study and series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// PatientName (0010,0010).
    pub patient_name: String,
    /// PatientID (0010,0020).
    pub patient_id: String,
    /// StudyInstanceUID (0020,000D).
    pub study_uid: String,
    /// StudyDate (0008,0020).
    pub study_date: String,
    /// StudyDescription (0008,1030).
    pub study_description: String,
    /// SeriesInstanceUID (0020,000E).
    pub series_uid: String,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i32>,
    /// SeriesDescription (0008,103E).
    pub series_description: String,
    /// Modality (0008,0060).
    pub modality: String,
    /// BodyPartExamined (0018,0015), e.g. `LSPINE`; may be empty.
    pub body_part: String,
    /// AccessionNumber (0008,0050): the order's number at the hospital, may be empty.
    pub accession_number: String,
    /// PatientBirthDate (0010,0030), may be empty.
    pub patient_birth_date: String,
    /// PatientSex (0010,0040), may be empty.
    pub patient_sex: String,
    /// StudyTime (0008,0030), may be empty.
    pub study_time: String,
    /// StudyID (0020,0010), may be empty.
    pub study_id: String,
    /// ReferringPhysicianName (0008,0090), may be empty.
    pub referring_physician: String,
}

/// The attributes of one image (a classic file, or one frame of a multi-frame file).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageHeader {
    /// The file holding the image.
    pub file: PathBuf,
    /// Frame index within the file (0 for classic files).
    pub frame: u32,
    /// Frames in the file.
    pub frames_in_file: u32,
    /// Patient, study and series.
    pub identity: Identity,
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// FrameOfReferenceUID (0020,0052): the patient coordinate system of the series.
    pub frame_of_reference_uid: String,
    /// InstanceNumber (0020,0013).
    pub instance_number: Option<i32>,
    /// Orders time points at one position: TemporalPositionIndex, else
    /// TemporalPositionIdentifier.
    pub temporal_position: Option<i32>,
    /// EchoNumbers (0018,0086), the first: which echo of a multi-echo series.
    pub echo_number: Option<i32>,
    /// TriggerTime (0018,1060), or an enhanced frame's NominalCardiacTriggerDelayTime:
    /// the cardiac phase, ms after the R wave.
    pub trigger_time_ms: Option<f64>,
    /// DiffusionBValue (0018,9087): the diffusion weighting, s/mm².
    pub b_value: Option<f64>,
    /// RepetitionTime (0018,0080), ms: in a dynamic MR series without acquisition times
    /// (fMRI), the time between volumes.
    pub repetition_time_ms: Option<f64>,
    /// AcquisitionTime (0008,0032), or an enhanced frame's FrameAcquisitionDateTime: when
    /// the image was acquired, seconds from midnight.
    pub acquisition_time_s: Option<f64>,
    /// Rows (0028,0010): image height.
    pub rows: u32,
    /// Columns (0028,0011): image width.
    pub columns: u32,
    /// PixelSpacing: (between rows, between columns) in mm.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// ImageOrientationPatient: row direction then column direction, LPS.
    pub orientation: Option<[f64; 6]>,
    /// ImagePositionPatient: centre of the first pixel, LPS mm.
    pub position: Option<[f64; 3]>,
    /// SliceThickness (0018,0050) in mm.
    pub slice_thickness_mm: Option<f64>,
    /// SpacingBetweenSlices (0018,0088) in mm.
    pub spacing_between_slices_mm: Option<f64>,
    /// Modality rescale of this image.
    pub rescale: Rescale,
    /// The first window the header suggests.
    pub window: Option<Window>,
    /// Stored pixel layout.
    pub pixel_format: PixelFormat,
    /// PhotometricInterpretation (0028,0004).
    pub photometric: String,
    /// Transfer syntax UID of the file.
    pub transfer_syntax: String,
    /// ImageType says MOSAIC (Siemens packs a slice stack into one image) and the mosaic
    /// could not be unpacked into its slices (why is in `mosaic_refused`).
    pub mosaic: bool,
    /// Why a mosaic could not be unpacked.
    pub mosaic_refused: Option<String>,
    /// Where this slice lies in the mosaic it was unpacked from (the header's rows and
    /// columns are the slice's; the file's frame is the whole mosaic).
    pub tile: Option<MosaicTile>,
    /// ImageType says LOCALIZER (a scout or planning image, not for reading).
    pub localizer: bool,
}

/// What a file turned out to be when its header was read.
#[derive(Debug)]
pub enum FileKind {
    /// Images, one header per frame.
    Images(Vec<ImageHeader>),
    /// A DICOMDIR: the catalog reads it through [`super::dicomdir`].
    Directory,
}

/// Reads the header of a DICOM file (stopping before the pixel data).
pub fn read_file_headers(file: &Path) -> Result<FileKind, DicomError> {
    let (layout, object) = header_object(file)?;
    let meta = object.meta();
    if is_dicomdir_sop_class(meta.media_storage_sop_class_uid()) {
        return Ok(FileKind::Directory);
    }
    let transfer_syntax = trim_value(meta.transfer_syntax()).to_string();
    headers_from_object(file, &object, &transfer_syntax, &layout).map(FileKind::Images)
}

/// A file's attributes up to its pixel data, its declared lengths walked first, with what
/// the walk learnt.
pub(super) fn header_object(
    file: &Path,
) -> Result<(DeclaredLayout, DefaultDicomObject), DicomError> {
    let checked = open_checked(file, Reach::UntilPixelData)?;
    let object = OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .read_preamble(ReadPreamble::Auto)
        .from_reader(checked.file)
        .map_err(|e| open_error(file, e))?;
    Ok((checked.layout, object))
}

/// Turns an open-file failure into an error naming the file; I/O stays I/O.
pub(crate) fn open_error(file: &Path, error: dicom_object::ReadError) -> DicomError {
    if let dicom_object::ReadError::OpenFile { source, .. } = &error {
        return DicomError::Io {
            file: file.to_path_buf(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        };
    }
    let chain = error_chain(&error);
    let reason = if chain.contains("magic code") {
        "no DICOM Part 10 header ('DICM' at byte 128 missing)".to_string()
    } else if chain.contains("fill whole buffer") {
        "file is truncated: it ends before its data does".to_string()
    } else {
        chain
    };
    DicomError::NotDicom {
        file: file.to_path_buf(),
        reason,
    }
}

/// An error and its sources on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// One header per frame of an opened object whose lengths were checked (`layout`).
pub fn headers_from_object(
    file: &Path,
    object: &InMemDicomObject,
    transfer_syntax: &str,
    layout: &DeclaredLayout,
) -> Result<Vec<ImageHeader>, DicomError> {
    let reader = AttributeReader { file, object };
    let rows = reader
        .required_u32(ROWS, tags::ROWS)
        .map_err(|_| not_an_image(&reader))?;
    let columns = reader
        .required_u32(COLUMNS, tags::COLUMNS)
        .map_err(|_| not_an_image(&reader))?;
    let bits_allocated = reader.required_u32(BITS_ALLOCATED, tags::BITS_ALLOCATED)? as u16;
    let bits_stored = reader
        .u32(tags::BITS_STORED)
        .map_or(bits_allocated, |v| v as u16);
    let pixel_format = PixelFormat {
        bits_allocated,
        bits_stored,
        high_bit: reader
            .u32(tags::HIGH_BIT)
            .map_or(bits_stored.saturating_sub(1), |v| v as u16),
        signed: reader.u32(tags::PIXEL_REPRESENTATION) == Some(1),
        samples_per_pixel: reader.u32(tags::SAMPLES_PER_PIXEL).map_or(1, |v| v as u16),
    };
    if !matches!(bits_allocated, 8 | 16 | 32) {
        return Err(DicomError::Unsupported {
            file: file.to_path_buf(),
            what: format!("BitsAllocated (0028,0100) of {bits_allocated} is not supported"),
        });
    }
    let frames_in_file = reader.u32(tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
    check_declared_size(file, [rows, columns, frames_in_file], &pixel_format, layout)?;
    let identity = Identity {
        patient_name: reader.string(tags::PATIENT_NAME),
        patient_id: reader.string(tags::PATIENT_ID),
        study_uid: reader.string(tags::STUDY_INSTANCE_UID),
        study_date: reader.string(tags::STUDY_DATE),
        study_description: reader.string(tags::STUDY_DESCRIPTION),
        series_uid: reader.string(tags::SERIES_INSTANCE_UID),
        series_number: reader.i32(tags::SERIES_NUMBER),
        series_description: reader.string(tags::SERIES_DESCRIPTION),
        modality: reader.string(tags::MODALITY),
        body_part: reader.string(tags::BODY_PART_EXAMINED),
        accession_number: reader.string(tags::ACCESSION_NUMBER),
        patient_birth_date: reader.string(tags::PATIENT_BIRTH_DATE),
        patient_sex: reader.string(tags::PATIENT_SEX),
        study_time: reader.string(tags::STUDY_TIME),
        study_id: reader.string(tags::STUDY_ID),
        referring_physician: reader.string(tags::REFERRING_PHYSICIAN_NAME),
    };
    let image_type = reader.strings(tags::IMAGE_TYPE);
    let base = ImageHeader {
        file: file.to_path_buf(),
        frame: 0,
        frames_in_file,
        identity,
        sop_instance_uid: reader.string(tags::SOP_INSTANCE_UID),
        sop_class_uid: reader.string(tags::SOP_CLASS_UID),
        frame_of_reference_uid: reader.string(tags::FRAME_OF_REFERENCE_UID),
        instance_number: reader.i32(tags::INSTANCE_NUMBER),
        temporal_position: reader.i32(tags::TEMPORAL_POSITION_IDENTIFIER),
        echo_number: reader.i32(tags::ECHO_NUMBERS),
        trigger_time_ms: reader.f64(tags::TRIGGER_TIME),
        b_value: reader.f64(tags::DIFFUSION_B_VALUE),
        repetition_time_ms: reader.f64(tags::REPETITION_TIME),
        acquisition_time_s: reader.seconds_of_day(tags::ACQUISITION_TIME),
        rows,
        columns,
        pixel_spacing_mm: reader.floats::<2>(tags::PIXEL_SPACING)?,
        orientation: reader.floats::<6>(tags::IMAGE_ORIENTATION_PATIENT)?,
        position: reader.floats::<3>(tags::IMAGE_POSITION_PATIENT)?,
        slice_thickness_mm: reader.f64(tags::SLICE_THICKNESS),
        spacing_between_slices_mm: reader.f64(tags::SPACING_BETWEEN_SLICES),
        rescale: rescale_of(&reader),
        window: window_of(&reader),
        pixel_format,
        photometric: reader.string(tags::PHOTOMETRIC_INTERPRETATION),
        transfer_syntax: transfer_syntax.to_string(),
        mosaic: image_type.iter().any(|t| t.eq_ignore_ascii_case("MOSAIC")),
        mosaic_refused: None,
        tile: None,
        localizer: image_type
            .iter()
            .any(|t| t.eq_ignore_ascii_case("LOCALIZER")),
    };
    match object.get(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE) {
        Some(_) => enhanced_frame_headers(&reader, &base),
        None if base.mosaic && frames_in_file == 1 => Ok(mosaic::unpack(&reader, &base)
            .unwrap_or_else(|why| {
                vec![ImageHeader {
                    mosaic_refused: Some(why),
                    ..base
                }]
            })),
        None if frames_in_file > 1 => Ok(multi_frame_headers(&base)),
        None => Ok(vec![base]),
    }
}

/// Rows and Columns of at least one, and no more frames than the file can hold: checked
/// before a header per frame is made or a byte of pixel data is allocated.
fn check_declared_size(
    file: &Path,
    [rows, columns, frames]: [u32; 3],
    format: &PixelFormat,
    layout: &DeclaredLayout,
) -> Result<(), DicomError> {
    let invalid = |attribute: Attribute, reason: String| DicomError::InvalidAttribute {
        file: file.to_path_buf(),
        attribute,
        reason,
    };
    if rows == 0 {
        return Err(invalid(
            ROWS,
            "0: an image has at least one row".to_string(),
        ));
    }
    if columns == 0 {
        return Err(invalid(
            COLUMNS,
            "0: an image has at least one column".to_string(),
        ));
    }
    if frames > MAX_FRAMES_PER_FILE {
        return Err(invalid(
            NUMBER_OF_FRAMES,
            format!("{frames} is over the {MAX_FRAMES_PER_FILE} frames a file may hold"),
        ));
    }
    let frame_bytes = u64::from(rows)
        * u64::from(columns)
        * u64::from(format.samples_per_pixel.max(1))
        * u64::from(format.bits_allocated / 8);
    let (needed, room, what) = match layout.pixel_data {
        PixelDataExtent::Native { bytes } => (
            frame_bytes * u64::from(frames),
            bytes,
            "its PixelData holds",
        ),
        PixelDataExtent::Encapsulated { bytes_left } => (
            MIN_ENCAPSULATED_FRAME_BYTES * u64::from(frames),
            bytes_left,
            "its compressed pixel data has",
        ),
        PixelDataExtent::Absent => (u64::from(frames), layout.bytes, "the file holds"),
    };
    if needed > room {
        return Err(invalid(
            if frames > 1 { NUMBER_OF_FRAMES } else { ROWS },
            format!(
                "{frames} frame(s) of {rows} × {columns} need at least {needed} bytes, but {what} {room}"
            ),
        ));
    }
    Ok(())
}

fn rescale_of(reader: &AttributeReader<'_>) -> Rescale {
    Rescale {
        slope: reader
            .f64(tags::RESCALE_SLOPE)
            .filter(|s| *s != 0.0 && s.is_finite())
            .unwrap_or(1.0),
        intercept: reader
            .f64(tags::RESCALE_INTERCEPT)
            .filter(|i| i.is_finite())
            .unwrap_or(0.0),
    }
}

fn window_of(reader: &AttributeReader<'_>) -> Option<Window> {
    let center = reader.first_f64(tags::WINDOW_CENTER)?;
    let width = reader.first_f64(tags::WINDOW_WIDTH)?;
    (width > 0.0).then_some(Window { width, center })
}

fn not_an_image(reader: &AttributeReader<'_>) -> DicomError {
    let sop_class = reader.string(tags::SOP_CLASS_UID);
    DicomError::NotAnImage {
        file: reader.file.to_path_buf(),
        reason: if sop_class.is_empty() {
            "no Rows (0028,0010) or Columns (0028,0011)".to_string()
        } else {
            format!("no Rows (0028,0010) or Columns (0028,0011); SOP class {sop_class}")
        },
    }
}
