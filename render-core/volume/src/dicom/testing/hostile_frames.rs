//! Series of small DICOM images whose compressed frames lie about their size, written
//! from scratch with dicom-rs: a hostile library for the tests of every path that decodes
//! (this crate's, and the processes' tests of `info`, `--serve`, `render` and movies).
//!
//! Each series is [`HOSTILE_SERIES_IMAGES`] CT images of 4 × 4 (axial, 1 mm apart) in one
//! study; its header is honest and only its frames lie. [`write_honest_series`] writes the
//! same series with frames that tell the truth, which load.

use std::io;
use std::path::{Path, PathBuf};

use dicom_core::value::{PixelFragmentSequence, PrimitiveValue};
use dicom_core::{DataElement, DicomValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::codestreams::{Jpeg2000Siz, jp2, jpeg_2000, jpeg_baseline, rle_16_bit};

/// Images in each series written here.
pub const HOSTILE_SERIES_IMAGES: usize = 3;
/// Rows and columns the headers declare.
pub const HOSTILE_IMAGE_SIDE: u16 = 4;
/// The side the oversized frames declare.
pub const HOSTILE_DECLARED_SIDE: u32 = 60000;
/// The study every series written here belongs to.
pub const HOSTILE_STUDY_UID: &str = "2.25.7300";

const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// One way a compressed frame lies about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostileFrame {
    /// A JPEG 2000 codestream whose SIZ declares 60000 × 60000 (one tile) in a 4 × 4
    /// image.
    Jpeg2000Oversized,
    /// The same codestream wrapped in a JP2 file whose image header box says 4 × 4.
    Jp2Oversized,
    /// A JPEG 2000 codestream of 3 components; SamplesPerPixel is 1.
    Jpeg2000ExtraComponents,
    /// A JPEG 2000 codestream of 24-bit samples; BitsAllocated is 16.
    Jpeg2000ExtraBits,
    /// A baseline JPEG whose frame header (SOF0) declares 60000 × 60000.
    JpegOversized,
    /// A JPEG 2000 codestream cut off inside its SIZ segment (20 bytes).
    Jpeg2000Truncated,
    /// An RLE frame whose header declares 4294967295 segments.
    RleSegments,
}

impl HostileFrame {
    /// Every case.
    pub const ALL: [HostileFrame; 7] = [
        HostileFrame::Jpeg2000Oversized,
        HostileFrame::Jp2Oversized,
        HostileFrame::Jpeg2000ExtraComponents,
        HostileFrame::Jpeg2000ExtraBits,
        HostileFrame::JpegOversized,
        HostileFrame::Jpeg2000Truncated,
        HostileFrame::RleSegments,
    ];

    /// The case's folder in a hostile library, and its files' prefix.
    pub fn name(self) -> &'static str {
        match self {
            HostileFrame::Jpeg2000Oversized => "j2k-60000",
            HostileFrame::Jp2Oversized => "jp2-60000",
            HostileFrame::Jpeg2000ExtraComponents => "j2k-components",
            HostileFrame::Jpeg2000ExtraBits => "j2k-bits",
            HostileFrame::JpegOversized => "jpeg-60000",
            HostileFrame::Jpeg2000Truncated => "j2k-truncated",
            HostileFrame::RleSegments => "rle-segments",
        }
    }

    /// Words the refusal of each of its files says (after the file and the frame).
    pub fn refusal(self) -> &'static str {
        match self {
            HostileFrame::Jpeg2000Oversized | HostileFrame::Jp2Oversized => {
                "JPEG 2000 codestream declares 60000 × 60000"
            }
            HostileFrame::Jpeg2000ExtraComponents => "declares 3 components",
            HostileFrame::Jpeg2000ExtraBits => "declares 24-bit samples",
            HostileFrame::JpegOversized => "JPEG frame header declares 60000 × 60000",
            HostileFrame::Jpeg2000Truncated => "SIZ segment is cut short",
            HostileFrame::RleSegments => "declares 4294967295 segments",
        }
    }

    /// SeriesInstanceUID of the case's hostile series.
    pub fn series_uid(self) -> String {
        format!("2.25.7310{}", self.number())
    }

    /// SeriesInstanceUID of the case's honest twin ([`write_honest_series`]).
    pub fn honest_series_uid(self) -> String {
        format!("2.25.7320{}", self.number())
    }

    fn number(self) -> usize {
        Self::ALL.iter().position(|case| *case == self).unwrap_or(0)
    }

    /// Transfer syntax and BitsAllocated of the case's images.
    fn encoding(self) -> (&'static str, u16) {
        match self {
            HostileFrame::JpegOversized => (JPEG_BASELINE, 8),
            HostileFrame::RleSegments => (RLE_LOSSLESS, 16),
            _ => (JPEG_2000_LOSSLESS, 16),
        }
    }

    /// The frame each image holds: the lie, or the truth about a 4 × 4 image.
    fn frame(self, honest: bool) -> Vec<u8> {
        let side = HOSTILE_IMAGE_SIDE;
        let small = Jpeg2000Siz::grey(u32::from(side), u32::from(side), 12);
        let huge = Jpeg2000Siz::grey(HOSTILE_DECLARED_SIDE, HOSTILE_DECLARED_SIDE, 12);
        let declared_side = HOSTILE_DECLARED_SIDE as u16;
        match (self, honest) {
            (HostileFrame::Jpeg2000Oversized, false) => jpeg_2000(huge),
            (HostileFrame::Jp2Oversized, true) => {
                jp2(u32::from(side), u32::from(side), 12, &jpeg_2000(small))
            }
            (HostileFrame::Jp2Oversized, false) => {
                jp2(u32::from(side), u32::from(side), 12, &jpeg_2000(huge))
            }
            (HostileFrame::Jpeg2000ExtraComponents, false) => jpeg_2000(Jpeg2000Siz {
                components: 3,
                ..small
            }),
            (HostileFrame::Jpeg2000ExtraBits, false) => {
                jpeg_2000(Jpeg2000Siz { bits: 24, ..small })
            }
            (HostileFrame::JpegOversized, honest) => {
                let declared = if honest { side } else { declared_side };
                jpeg_baseline(declared, declared)
            }
            (HostileFrame::Jpeg2000Truncated, false) => jpeg_2000(small)[..20].to_vec(),
            (HostileFrame::RleSegments, honest) => {
                rle_16_bit(side, side, if honest { 2 } else { u32::MAX })
            }
            (_, _) => jpeg_2000(small),
        }
    }
}

/// Writes the hostile series of `case` into `folder` (made if missing): its paths.
pub fn write_hostile_series(folder: &Path, case: HostileFrame) -> io::Result<Vec<PathBuf>> {
    write_series(folder, case, false)
}

/// Writes the honest twin of `case`'s series into `folder`: the same images, their frames
/// declaring what the header says. Its paths.
pub fn write_honest_series(folder: &Path, case: HostileFrame) -> io::Result<Vec<PathBuf>> {
    write_series(folder, case, true)
}

/// Writes every hostile case into its own folder of `folder`, named by
/// [`HostileFrame::name`]: each case with its folder.
pub fn write_hostile_library(folder: &Path) -> io::Result<Vec<(HostileFrame, PathBuf)>> {
    HostileFrame::ALL
        .iter()
        .map(|&case| {
            let case_folder = folder.join(case.name());
            write_hostile_series(&case_folder, case)?;
            Ok((case, case_folder))
        })
        .collect()
}

fn write_series(folder: &Path, case: HostileFrame, honest: bool) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder)?;
    let series_uid = if honest {
        case.honest_series_uid()
    } else {
        case.series_uid()
    };
    let prefix = if honest { "honest" } else { case.name() };
    (0..HOSTILE_SERIES_IMAGES)
        .map(|slice| {
            let path = folder.join(format!("{prefix}-{slice}.dcm"));
            write_image(&path, case, honest, &series_uid, slice)?;
            Ok(path)
        })
        .collect()
}

/// One 4 × 4 CT image at z = `slice` mm holding the case's frame.
fn write_image(
    path: &Path,
    case: HostileFrame,
    honest: bool,
    series_uid: &str,
    slice: usize,
) -> io::Result<()> {
    let (transfer_syntax, bits_allocated) = case.encoding();
    let instance_uid = format!("{series_uid}.{}", slice + 1);
    let mut object = InMemDicomObject::new_empty();
    let mut text = |tag, vr, value: &str| {
        object.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    text(tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE);
    text(tags::SOP_INSTANCE_UID, VR::UI, &instance_uid);
    text(tags::MODALITY, VR::CS, "CT");
    text(tags::PATIENT_NAME, VR::PN, "Hostile^Frames");
    text(tags::PATIENT_ID, VR::LO, "HOSTILE-FRAMES");
    text(tags::STUDY_INSTANCE_UID, VR::UI, HOSTILE_STUDY_UID);
    text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    text(tags::FRAME_OF_REFERENCE_UID, VR::UI, "2.25.7301");
    text(tags::SERIES_DESCRIPTION, VR::LO, case.name());
    text(
        tags::SERIES_NUMBER,
        VR::IS,
        &(case.number() + 1).to_string(),
    );
    text(tags::INSTANCE_NUMBER, VR::IS, &(slice + 1).to_string());
    text(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0");
    text(
        tags::IMAGE_POSITION_PATIENT,
        VR::DS,
        &format!("0\\0\\{slice}"),
    );
    text(tags::PIXEL_SPACING, VR::DS, "1\\1");
    text(tags::SLICE_THICKNESS, VR::DS, "1");
    text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    text(tags::RESCALE_INTERCEPT, VR::DS, "0");
    text(tags::RESCALE_SLOPE, VR::DS, "1");
    let stored_bits = if bits_allocated == 8 { 8 } else { 12 };
    for (tag, value) in [
        (tags::ROWS, HOSTILE_IMAGE_SIDE),
        (tags::COLUMNS, HOSTILE_IMAGE_SIDE),
        (tags::SAMPLES_PER_PIXEL, 1),
        (tags::BITS_ALLOCATED, bits_allocated),
        (tags::BITS_STORED, stored_bits),
        (tags::HIGH_BIT, stored_bits - 1),
        (tags::PIXEL_REPRESENTATION, 0),
    ] {
        object.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }
    let fragments = PixelFragmentSequence::new(Vec::<u32>::new(), vec![case.frame(honest)]);
    object.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        DicomValue::from(fragments),
    ));
    object
        .with_meta(
            FileMetaTableBuilder::new()
                .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                .media_storage_sop_instance_uid(&instance_uid)
                .transfer_syntax(transfer_syntax),
        )
        .map_err(io::Error::other)?
        .write_to_file(path)
        .map_err(io::Error::other)
}
