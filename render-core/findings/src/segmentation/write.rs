//! A binary DICOM Segmentation of a series' segments: one frame per slice a segment
//! touches, on the volume's own grid, each frame's plane position and the source image it
//! was drawn on, the segments' codes, algorithm and colour, and the series referenced.

use dicom_core::value::{C, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, InMemDicomObject};
use glam::DVec3;
use hounsfield_segment::Segment;
use hounsfield_volume::Volume;

use super::MOST_SEGMENTS;
use super::colour::srgb_to_dicom_lab;
use crate::error::FindingError;
use crate::report::codes::Code;
use crate::report::elements::{
    Authorship, DocumentKind, code_item, decimal_string, document_header, part10, segment_code,
    sequence, text_element,
};
use crate::report::{ImageRef, ReportSubject, new_uid};

/// Segmentation Storage.
pub const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";

const KIND: DocumentKind = DocumentKind {
    sop_class_uid: SEGMENTATION_STORAGE,
    modality: "SEG",
    series_number: "9101",
    series_description: "Segmentation",
};

/// The purpose of a frame's reference to its source image.
const SOURCE_IMAGE: Code = Code {
    value: "121322",
    scheme: "DCM",
    meaning: "Source image for image processing operation",
};
/// How a frame derives from its source image.
const SEGMENTATION_DERIVATION: Code = Code {
    value: "113076",
    scheme: "DCM",
    meaning: "Segmentation",
};

/// A Segmentation of `segments` (drawn on `volume`, the grid of `subject`'s series),
/// ready to be written as a Part 10 file: its SOP Instance UID is new. Empty segments
/// are listed but take no frame; at least one segment must hold a voxel.
pub fn segmentation(
    subject: &ReportSubject,
    volume: &Volume,
    segments: &[Segment],
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    if segments.is_empty() || segments.len() > MOST_SEGMENTS {
        return Err(FindingError::Encode(format!(
            "a segmentation carries 1 to {MOST_SEGMENTS} segments, not {}",
            segments.len()
        )));
    }
    if let Some(segment) = segments.iter().find(|s| s.mask.dims() != volume.dims) {
        return Err(FindingError::Encode(format!(
            "segment {} is on a {:?} grid, the series on {:?}",
            segment.label,
            segment.mask.dims(),
            volume.dims
        )));
    }
    let frames = frames_of(segments, volume.dims);
    if frames.is_empty() {
        return Err(FindingError::Encode(
            "every segment is empty: nothing to save".to_string(),
        ));
    }
    let instance_uid = new_uid()?;
    let series_uid = match &authorship.series_uid {
        Some(uid) => uid.clone(),
        None => new_uid()?,
    };
    let mut document = document_header(subject, KIND, &instance_uid, &series_uid, authorship);
    let geometry = Geometry::of(volume);
    put_image_modules(
        &mut document,
        volume,
        &frames,
        segments,
        authorship,
        &subject.frame_of_reference_uid,
    )?;
    document.put(sequence(
        tags::SEGMENT_SEQUENCE,
        segments
            .iter()
            .enumerate()
            .map(|(n, segment)| segment_item(n + 1, segment))
            .collect(),
    ));
    put_dimensions(&mut document, &new_uid()?);
    document.put(sequence(
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![geometry.shared_group()],
    ));
    document.put(sequence(
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        frames
            .iter()
            .map(|frame| geometry.frame_group(frame, subject.slice_images.get(frame.slice)))
            .collect(),
    ));
    document.put(sequence(
        tags::REFERENCED_SERIES_SEQUENCE,
        vec![referenced_series(subject)],
    ));
    document.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::U8(pixel_bits(segments, volume.dims, &frames).into()),
    ));
    part10(document, SEGMENTATION_STORAGE, &instance_uid)
}

/// One frame: a segment (from 1) on a slice `k` of the grid.
struct Frame {
    segment: usize,
    slice: usize,
}

/// The frames to write: each segment's slices that hold a voxel of it, segment by
/// segment, slice by slice.
fn frames_of(segments: &[Segment], [ni, nj, _]: [usize; 3]) -> Vec<Frame> {
    let slice_len = ni * nj;
    let mut frames = Vec::new();
    for (n, segment) in segments.iter().enumerate() {
        let mut last_slice = None;
        for index in segment.mask.indices() {
            let slice = index / slice_len;
            if last_slice != Some(slice) {
                frames.push(Frame {
                    segment: n + 1,
                    slice,
                });
                last_slice = Some(slice);
            }
        }
    }
    frames
}

/// The frames' pixels, one bit each, rows of columns, frame after frame with no gap
/// between frames (PS3.5 8.1.1: the first pixel in a byte's lowest bit).
fn pixel_bits(segments: &[Segment], [ni, nj, _]: [usize; 3], frames: &[Frame]) -> Vec<u8> {
    let slice_len = ni * nj;
    let total_bits = frames.len() * slice_len;
    let mut bytes = vec![0u8; total_bits.div_ceil(8)];
    // Pixel data has an even length.
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    for (f, frame) in frames.iter().enumerate() {
        let mask = &segments[frame.segment - 1].mask;
        let base = frame.slice * slice_len;
        let first_bit = f * slice_len;
        for offset in 0..slice_len {
            if mask.contains(base + offset) {
                let bit = first_bit + offset;
                bytes[bit / 8] |= 1 << (bit % 8);
            }
        }
    }
    bytes
}

fn put_image_modules(
    document: &mut InMemDicomObject,
    volume: &Volume,
    frames: &[Frame],
    segments: &[Segment],
    authorship: &Authorship,
    frame_of_reference_uid: &str,
) -> Result<(), FindingError> {
    let [columns, rows, _] = volume.dims;
    let (rows, columns) = (
        u16::try_from(rows).map_err(|_| too_large("rows", rows))?,
        u16::try_from(columns).map_err(|_| too_large("columns", columns))?,
    );
    let mut text = |tag: Tag, vr: VR, value: &str| document.put(text_element(tag, vr, value));
    text(tags::FRAME_OF_REFERENCE_UID, VR::UI, frame_of_reference_uid);
    text(tags::IMAGE_TYPE, VR::CS, "DERIVED\\PRIMARY");
    text(tags::CONTENT_LABEL, VR::CS, "SEGMENTATION");
    text(
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        &format!("{} segments", segments.len()),
    );
    text(tags::CONTENT_CREATOR_NAME, VR::PN, &authorship.observer);
    text(tags::SEGMENTATION_TYPE, VR::CS, "BINARY");
    text(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00");
    text(tags::NUMBER_OF_FRAMES, VR::IS, &frames.len().to_string());
    text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    text(tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
    text(tags::MANUFACTURER_MODEL_NAME, VR::LO, "Hounsfield");
    text(tags::DEVICE_SERIAL_NUMBER, VR::LO, "1");
    text(tags::SOFTWARE_VERSIONS, VR::LO, env!("CARGO_PKG_VERSION"));
    for (tag, value) in [
        (tags::SAMPLES_PER_PIXEL, 1),
        (tags::ROWS, rows),
        (tags::COLUMNS, columns),
        (tags::BITS_ALLOCATED, 1),
        (tags::BITS_STORED, 1),
        (tags::HIGH_BIT, 0),
        (tags::PIXEL_REPRESENTATION, 0),
    ] {
        document.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }
    Ok(())
}

fn too_large(what: &str, value: usize) -> FindingError {
    FindingError::Encode(format!("{value} {what} is over DICOM's 65,535"))
}

/// A segment of the Segment Sequence.
fn segment_item(number: usize, segment: &Segment) -> InMemDicomObject {
    let mut item = InMemDicomObject::from_element_iter([
        DataElement::new(
            tags::SEGMENT_NUMBER,
            VR::US,
            PrimitiveValue::from(number as u16),
        ),
        text_element(tags::SEGMENT_LABEL, VR::LO, &segment.label),
        text_element(
            tags::SEGMENT_ALGORITHM_TYPE,
            VR::CS,
            segment.algorithm.dicom_type(),
        ),
        sequence(
            tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE,
            vec![segment_code(&segment.category)],
        ),
        sequence(
            tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE,
            vec![segment_code(&segment.property_type)],
        ),
        DataElement::new(
            tags::RECOMMENDED_DISPLAY_CIE_LAB_VALUE,
            VR::US,
            PrimitiveValue::U16(C::from_slice(&srgb_to_dicom_lab(segment.colour))),
        ),
    ]);
    if let Some(name) = segment.algorithm.name() {
        item.put(text_element(tags::SEGMENT_ALGORITHM_NAME, VR::LO, name));
    }
    item
}

/// The two dimensions frames are indexed by: the segment, then the plane's position.
fn put_dimensions(document: &mut InMemDicomObject, organization_uid: &str) {
    document.put(sequence(
        tags::DIMENSION_ORGANIZATION_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([text_element(
            tags::DIMENSION_ORGANIZATION_UID,
            VR::UI,
            organization_uid,
        )])],
    ));
    let dimension = |pointer: Tag, group: Tag| {
        InMemDicomObject::from_element_iter([
            text_element(tags::DIMENSION_ORGANIZATION_UID, VR::UI, organization_uid),
            DataElement::new(
                tags::DIMENSION_INDEX_POINTER,
                VR::AT,
                PrimitiveValue::Tags(C::from_slice(&[pointer])),
            ),
            DataElement::new(
                tags::FUNCTIONAL_GROUP_POINTER,
                VR::AT,
                PrimitiveValue::Tags(C::from_slice(&[group])),
            ),
        ])
    };
    document.put(sequence(
        tags::DIMENSION_INDEX_SEQUENCE,
        vec![
            dimension(
                tags::REFERENCED_SEGMENT_NUMBER,
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
            ),
            dimension(tags::IMAGE_POSITION_PATIENT, tags::PLANE_POSITION_SEQUENCE),
        ],
    ));
}

/// Where the grid's slices lie in patient space.
struct Geometry {
    origin: DVec3,
    row_direction: DVec3,
    column_direction: DVec3,
    slice_step: DVec3,
    spacing_mm: [f64; 3],
}

impl Geometry {
    fn of(volume: &Volume) -> Self {
        let axis = |n: usize| volume.voxel_to_lps.col(n).truncate();
        Self {
            origin: axis(3),
            row_direction: axis(0).normalize_or_zero(),
            column_direction: axis(1).normalize_or_zero(),
            slice_step: axis(2),
            spacing_mm: volume.spacing_mm,
        }
    }

    /// What every frame shares: the pixels' size and the planes' orientation.
    fn shared_group(&self) -> InMemDicomObject {
        let [si, sj, sk] = self.spacing_mm;
        let measures = InMemDicomObject::from_element_iter([
            decimals(tags::PIXEL_SPACING, &[sj, si]),
            decimals(tags::SLICE_THICKNESS, &[sk]),
            decimals(tags::SPACING_BETWEEN_SLICES, &[sk]),
        ]);
        let orientation = InMemDicomObject::from_element_iter([decimals(
            tags::IMAGE_ORIENTATION_PATIENT,
            &[
                self.row_direction.x,
                self.row_direction.y,
                self.row_direction.z,
                self.column_direction.x,
                self.column_direction.y,
                self.column_direction.z,
            ],
        )]);
        InMemDicomObject::from_element_iter([
            sequence(tags::PIXEL_MEASURES_SEQUENCE, vec![measures]),
            sequence(tags::PLANE_ORIENTATION_SEQUENCE, vec![orientation]),
        ])
    }

    /// A frame's own groups: its dimension indices, its plane's position, its segment and
    /// the source image it was drawn on.
    fn frame_group(&self, frame: &Frame, source: Option<&ImageRef>) -> InMemDicomObject {
        let position = self.origin + self.slice_step * frame.slice as f64;
        let mut group = InMemDicomObject::from_element_iter([
            sequence(
                tags::FRAME_CONTENT_SEQUENCE,
                vec![InMemDicomObject::from_element_iter([DataElement::new(
                    tags::DIMENSION_INDEX_VALUES,
                    VR::UL,
                    PrimitiveValue::U32(C::from_slice(&[
                        frame.segment as u32,
                        frame.slice as u32 + 1,
                    ])),
                )])],
            ),
            sequence(
                tags::PLANE_POSITION_SEQUENCE,
                vec![InMemDicomObject::from_element_iter([decimals(
                    tags::IMAGE_POSITION_PATIENT,
                    &position.to_array(),
                )])],
            ),
            sequence(
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                vec![InMemDicomObject::from_element_iter([DataElement::new(
                    tags::REFERENCED_SEGMENT_NUMBER,
                    VR::US,
                    PrimitiveValue::from(frame.segment as u16),
                )])],
            ),
        ]);
        if let Some(image) = source {
            let mut source_item = crate::report::elements::referenced_sop(image);
            source_item.put(sequence(
                tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                vec![code_item(SOURCE_IMAGE)],
            ));
            let derivation = InMemDicomObject::from_element_iter([
                sequence(
                    tags::DERIVATION_CODE_SEQUENCE,
                    vec![code_item(SEGMENTATION_DERIVATION)],
                ),
                sequence(tags::SOURCE_IMAGE_SEQUENCE, vec![source_item]),
            ]);
            group.put(sequence(tags::DERIVATION_IMAGE_SEQUENCE, vec![derivation]));
        }
        group
    }
}

/// A multi-valued decimal string.
fn decimals(tag: Tag, values: &[f64]) -> DataElement<InMemDicomObject> {
    let strings: Vec<String> = values.iter().map(|&v| decimal_string(v)).collect();
    DataElement::new(tag, VR::DS, PrimitiveValue::Strs(C::from_vec(strings)))
}

/// The series the segments were drawn on, every instance of it.
fn referenced_series(subject: &ReportSubject) -> InMemDicomObject {
    let instances = subject
        .instances
        .iter()
        .map(|image| {
            InMemDicomObject::from_element_iter([
                text_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, &image.sop_class_uid),
                text_element(
                    tags::REFERENCED_SOP_INSTANCE_UID,
                    VR::UI,
                    &image.sop_instance_uid,
                ),
            ])
        })
        .collect();
    InMemDicomObject::from_element_iter([
        text_element(tags::SERIES_INSTANCE_UID, VR::UI, &subject.series_uid),
        sequence(tags::REFERENCED_INSTANCE_SEQUENCE, instances),
    ])
}
