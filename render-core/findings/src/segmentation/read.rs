//! Reads a binary DICOM Segmentation (ours or another program's) onto a series' grid:
//! each frame's pixels are placed at the voxel nearest their centre in patient space, so
//! a SEG made on another grid of the same frame of reference is shown where it belongs.
//! Every count and length is checked against the file before anything is allocated.

use std::path::Path;

use dicom_core::Tag;
use dicom_core::dictionary::DataDictionary;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use glam::DVec3;
use hounsfield_segment::segment::{Algorithm, Code};
use hounsfield_segment::{Grid, Mask, Segment};
use hounsfield_volume::Volume;
use hounsfield_volume::dicom::declared::{Reach, open_checked};

use super::colour::dicom_lab_to_srgb;
use super::write::SEGMENTATION_STORAGE;
use super::{MOST_FRAMES, MOST_SEGMENTATION_BYTES, MOST_SEGMENTS};
use crate::error::FindingError;
use crate::report::content::{items, text};

/// What a Segmentation says of itself, without its pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationHeader {
    /// Its SOP Instance UID.
    pub sop_instance_uid: String,
    /// Its own series.
    pub series_uid: String,
    /// The study it belongs to.
    pub study_uid: String,
    /// The series it was drawn on (its Referenced Series Sequence).
    pub referenced_series_uids: Vec<String>,
    /// The frame of reference its positions are in.
    pub frame_of_reference_uid: String,
    /// Its segments' labels, in order.
    pub segment_labels: Vec<String>,
    /// ContentLabel.
    pub content_label: String,
    /// ContentDate and ContentTime.
    pub written: String,
}

/// A Segmentation read onto a series' grid.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSegmentation {
    /// What it says of itself.
    pub header: SegmentationHeader,
    /// Its segments, with their voxels on the series' grid.
    pub segments: Vec<Segment>,
    /// Pixels set in the SEG whose centres fall outside the series' volume.
    pub pixels_outside: usize,
}

/// Reads the Segmentation in `path` onto `volume`, its lengths checked first.
pub fn read_segmentation_file(
    path: &Path,
    volume: &Volume,
) -> Result<ReadSegmentation, FindingError> {
    let object = open(path, None)?;
    read_segmentation(&path.display().to_string(), &object, volume)
}

/// Reads the header of the Segmentation in `path`.
pub fn read_segmentation_header(path: &Path) -> Result<SegmentationHeader, FindingError> {
    let object = open(path, Some(tags::PIXEL_DATA))?;
    header(&Refuse(path.display().to_string()), &object)
}

/// The file at `path` parsed, up to `until` when given (a header needs no pixels).
fn open(path: &Path, until: Option<Tag>) -> Result<dicom_object::DefaultDicomObject, FindingError> {
    let refuse = Refuse(path.display().to_string());
    let checked = open_checked(path, Reach::WholeFile).map_err(|e| refuse.because(e))?;
    if checked.layout.bytes > MOST_SEGMENTATION_BYTES {
        return Err(refuse.because(format!(
            "{} bytes is over the {MOST_SEGMENTATION_BYTES}-byte limit of a segmentation",
            checked.layout.bytes
        )));
    }
    let options =
        dicom_object::OpenFileOptions::new().read_preamble(dicom_object::file::ReadPreamble::Auto);
    let options = match until {
        Some(tag) => options.read_until(tag),
        None => options,
    };
    options
        .from_reader(checked.file)
        .map_err(|e| refuse.because(e))
}

/// Names the document in every refusal.
struct Refuse(String);

impl Refuse {
    fn because(&self, reason: impl std::fmt::Display) -> FindingError {
        FindingError::NotAReport {
            what: self.0.clone(),
            reason: reason.to_string(),
        }
    }
}

fn header(refuse: &Refuse, object: &InMemDicomObject) -> Result<SegmentationHeader, FindingError> {
    let class = text(object, tags::SOP_CLASS_UID);
    if class != SEGMENTATION_STORAGE {
        return Err(refuse.because(format!(
            "SOPClassUID {class} is not Segmentation Storage ({SEGMENTATION_STORAGE})"
        )));
    }
    let segments = items(object, tags::SEGMENT_SEQUENCE);
    if segments.is_empty() || segments.len() > MOST_SEGMENTS {
        return Err(refuse.because(format!(
            "SegmentSequence holds {} segments; 1 to {MOST_SEGMENTS} are read",
            segments.len()
        )));
    }
    Ok(SegmentationHeader {
        sop_instance_uid: text(object, tags::SOP_INSTANCE_UID),
        series_uid: text(object, tags::SERIES_INSTANCE_UID),
        study_uid: text(object, tags::STUDY_INSTANCE_UID),
        referenced_series_uids: items(object, tags::REFERENCED_SERIES_SEQUENCE)
            .iter()
            .map(|item| text(item, tags::SERIES_INSTANCE_UID))
            .collect(),
        frame_of_reference_uid: text(object, tags::FRAME_OF_REFERENCE_UID),
        segment_labels: segments
            .iter()
            .map(|item| text(item, tags::SEGMENT_LABEL))
            .collect(),
        content_label: text(object, tags::CONTENT_LABEL),
        written: format!(
            "{} {}",
            text(object, tags::CONTENT_DATE),
            text(object, tags::CONTENT_TIME)
        ),
    })
}

/// Reads a Segmentation already parsed onto `volume`; `what` names it in errors.
pub fn read_segmentation(
    what: &str,
    object: &InMemDicomObject,
    volume: &Volume,
) -> Result<ReadSegmentation, FindingError> {
    let refuse = Refuse(what.to_string());
    let header = header(&refuse, object)?;
    let number = |tag: Tag| -> Result<u32, FindingError> {
        object
            .element(tag)
            .ok()
            .and_then(|e| e.to_int::<u32>().ok())
            .ok_or_else(|| refuse.because(format!("{} is missing or not a number", tag_name(tag))))
    };
    let segmentation_type = text(object, tags::SEGMENTATION_TYPE);
    if segmentation_type != "BINARY" || number(tags::BITS_ALLOCATED)? != 1 {
        return Err(refuse.because(format!(
            "SegmentationType {segmentation_type} with BitsAllocated {}: only binary segmentations (1 bit) are read",
            number(tags::BITS_ALLOCATED).unwrap_or(0)
        )));
    }
    let (rows, columns) = (
        number(tags::ROWS)? as usize,
        number(tags::COLUMNS)? as usize,
    );
    let frame_count = number(tags::NUMBER_OF_FRAMES)? as usize;
    if frame_count == 0 || frame_count > MOST_FRAMES {
        return Err(refuse.because(format!(
            "NumberOfFrames {frame_count}: 1 to {MOST_FRAMES} are read"
        )));
    }
    let pixels = object
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.value().to_bytes().ok())
        .ok_or_else(|| {
            refuse.because(
                "PixelData is missing or compressed: only native binary pixel data is read",
            )
        })?;
    let frame_bits = rows * columns;
    let needed = (frame_bits * frame_count).div_ceil(8);
    if pixels.len() < needed {
        return Err(refuse.because(format!(
            "PixelData holds {} bytes; {frame_count} frames of {rows}×{columns} need {needed}",
            pixels.len()
        )));
    }
    let per_frame = items(object, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if per_frame.len() != frame_count {
        return Err(refuse.because(format!(
            "PerFrameFunctionalGroupsSequence holds {} items for {frame_count} frames",
            per_frame.len()
        )));
    }
    let shared = items(object, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).first();
    let grid = Grid::of(volume);
    let segment_items = items(object, tags::SEGMENT_SEQUENCE);
    let mut numbers = Vec::with_capacity(segment_items.len());
    let mut segments = Vec::with_capacity(segment_items.len());
    for item in segment_items {
        numbers.push(
            item.element(tags::SEGMENT_NUMBER)
                .ok()
                .and_then(|e| e.to_int::<u16>().ok())
                .ok_or_else(|| refuse.because("a segment has no SegmentNumber"))?,
        );
        segments.push(segment_of(item, Mask::empty(grid)));
    }
    let mut pixels_outside = 0;
    for (f, group) in per_frame.iter().enumerate() {
        let frame = FramePlane::of(group, shared)
            .map_err(|reason| refuse.because(format!("frame {}: {reason}", f + 1)))?;
        let segment_number = items(group, tags::SEGMENT_IDENTIFICATION_SEQUENCE)
            .first()
            .or_else(|| {
                shared.and_then(|s| items(s, tags::SEGMENT_IDENTIFICATION_SEQUENCE).first())
            })
            .and_then(|item| item.element(tags::REFERENCED_SEGMENT_NUMBER).ok())
            .and_then(|e| e.to_int::<u16>().ok())
            .ok_or_else(|| refuse.because(format!("frame {} names no segment", f + 1)))?;
        let Some(slot) = numbers.iter().position(|&n| n == segment_number) else {
            return Err(refuse.because(format!(
                "frame {} names segment {segment_number}, which SegmentSequence lacks",
                f + 1
            )));
        };
        let first_bit = f * frame_bits;
        // The segment's mask is this reader's alone until it is returned.
        let mask = std::sync::Arc::make_mut(&mut segments[slot].mask);
        for offset in 0..frame_bits {
            let bit = first_bit + offset;
            if pixels[bit / 8] & (1 << (bit % 8)) == 0 {
                continue;
            }
            let (row, column) = (offset / columns, offset % columns);
            match volume.nearest_index(frame.centre(row, column)) {
                Some(index) => mask.insert(index),
                None => pixels_outside += 1,
            }
        }
    }
    Ok(ReadSegmentation {
        header,
        segments,
        pixels_outside,
    })
}

fn tag_name(tag: Tag) -> String {
    dicom_dictionary_std::StandardDataDictionary
        .by_tag(tag)
        .map(|entry| entry.alias.to_string())
        .unwrap_or_else(|| format!("{tag}"))
}

/// A segment's description, with an empty mask to fill.
fn segment_of(item: &InMemDicomObject, mask: Mask) -> Segment {
    let code = |tag: Tag| {
        items(item, tag).first().map(|c| Code {
            value: text(c, tags::CODE_VALUE),
            scheme: text(c, tags::CODING_SCHEME_DESIGNATOR),
            meaning: text(c, tags::CODE_MEANING),
        })
    };
    let name = text(item, tags::SEGMENT_ALGORITHM_NAME);
    let algorithm = match text(item, tags::SEGMENT_ALGORITHM_TYPE).as_str() {
        "AUTOMATIC" => Algorithm::Automatic(name),
        "SEMIAUTOMATIC" => Algorithm::Semiautomatic(name),
        _ => Algorithm::Manual,
    };
    let colour = item
        .element(tags::RECOMMENDED_DISPLAY_CIE_LAB_VALUE)
        .ok()
        .and_then(|e| e.to_multi_int::<u16>().ok())
        .and_then(|lab| <[u16; 3]>::try_from(lab.as_slice()).ok())
        .map_or([255, 255, 0], dicom_lab_to_srgb);
    let mut segment = Segment::new(&text(item, tags::SEGMENT_LABEL), colour, algorithm, mask);
    if let Some(category) = code(tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE) {
        segment.category = category;
    }
    if let Some(property_type) = code(tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE) {
        segment.property_type = property_type;
    }
    segment
}

/// Where a frame's pixels lie: its first pixel's centre, and the steps from column to
/// column and from row to row (mm, in LPS).
struct FramePlane {
    position: DVec3,
    column_step: DVec3,
    row_step: DVec3,
}

impl FramePlane {
    /// The plane of a frame from its own functional groups, else the shared ones.
    fn of(group: &InMemDicomObject, shared: Option<&InMemDicomObject>) -> Result<Self, String> {
        let find = |sequence: Tag, tag: Tag, count: usize| -> Result<Vec<f64>, String> {
            let from = |g: &InMemDicomObject| {
                items(g, sequence)
                    .first()
                    .and_then(|item| item.element(tag).ok())
                    .and_then(|e| e.to_multi_float64().ok())
            };
            let values = from(group)
                .or_else(|| shared.and_then(from))
                .ok_or_else(|| format!("{} is missing", tag_name(tag)))?;
            if values.len() != count || values.iter().any(|v| !v.is_finite()) {
                return Err(format!("{} is not {count} finite numbers", tag_name(tag)));
            }
            Ok(values)
        };
        let position = find(
            tags::PLANE_POSITION_SEQUENCE,
            tags::IMAGE_POSITION_PATIENT,
            3,
        )?;
        let orientation = find(
            tags::PLANE_ORIENTATION_SEQUENCE,
            tags::IMAGE_ORIENTATION_PATIENT,
            6,
        )?;
        let spacing = find(tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING, 2)?;
        if spacing.iter().any(|&s| s <= 0.0) {
            return Err("PixelSpacing is not positive".to_string());
        }
        let row_direction = DVec3::new(orientation[0], orientation[1], orientation[2]);
        let column_direction = DVec3::new(orientation[3], orientation[4], orientation[5]);
        Ok(Self {
            position: DVec3::new(position[0], position[1], position[2]),
            // PixelSpacing is (between rows, between columns).
            column_step: row_direction.normalize_or_zero() * spacing[1],
            row_step: column_direction.normalize_or_zero() * spacing[0],
        })
    }

    fn centre(&self, row: usize, column: usize) -> DVec3 {
        self.position + self.column_step * column as f64 + self.row_step * row as f64
    }
}
