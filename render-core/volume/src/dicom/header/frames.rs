//! The frames of a multi-frame file: a legacy one's frames as time points at one
//! position, an enhanced one's each from its own and the shared functional groups.

use dicom_core::Tag;
use dicom_dictionary_std::tags;

use super::attributes::AttributeReader;
use super::{ImageHeader, rescale_of, window_of};
use crate::dicom::error::{Attribute, DicomError};

/// A legacy multi-frame file without functional groups: frames share one geometry, so
/// they are treated as time points (or a cine) at one position.
pub(super) fn multi_frame_headers(base: &ImageHeader) -> Vec<ImageHeader> {
    (0..base.frames_in_file)
        .map(|frame| ImageHeader {
            frame,
            temporal_position: Some(frame as i32),
            ..base.clone()
        })
        .collect()
}

/// Frame headers of an enhanced multi-frame file: each attribute from the frame's own
/// functional group when present, else from the shared group, else from the top level.
pub(super) fn enhanced_frame_headers(
    reader: &AttributeReader<'_>,
    base: &ImageHeader,
) -> Result<Vec<ImageHeader>, DicomError> {
    let items = |tag: Tag| {
        reader
            .object
            .get(tag)
            .and_then(|e| e.items())
            .unwrap_or_default()
    };
    let shared = items(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).first();
    let per_frame = items(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if per_frame.len() != base.frames_in_file as usize {
        return Err(DicomError::InvalidAttribute {
            file: base.file.clone(),
            attribute: Attribute::new("PerFrameFunctionalGroupsSequence", 0x5200, 0x9230),
            reason: format!(
                "{} items for NumberOfFrames {}",
                per_frame.len(),
                base.frames_in_file
            ),
        });
    }
    per_frame
        .iter()
        .enumerate()
        .map(|(frame, group)| {
            let macro_reader = |sequence: Tag| -> Option<AttributeReader<'_>> {
                [Some(group), shared]
                    .into_iter()
                    .flatten()
                    .find_map(|g| g.get(sequence).and_then(|e| e.items()?.first()))
                    .map(|object| AttributeReader {
                        file: reader.file,
                        object,
                    })
            };
            let mut header = ImageHeader {
                frame: frame as u32,
                ..base.clone()
            };
            if let Some(r) = macro_reader(tags::PLANE_POSITION_SEQUENCE) {
                header.position = r
                    .floats::<3>(tags::IMAGE_POSITION_PATIENT)?
                    .or(header.position);
            }
            if let Some(r) = macro_reader(tags::PLANE_ORIENTATION_SEQUENCE) {
                header.orientation = r
                    .floats::<6>(tags::IMAGE_ORIENTATION_PATIENT)?
                    .or(header.orientation);
            }
            if let Some(r) = macro_reader(tags::PIXEL_MEASURES_SEQUENCE) {
                header.pixel_spacing_mm = r
                    .floats::<2>(tags::PIXEL_SPACING)?
                    .or(header.pixel_spacing_mm);
                header.slice_thickness_mm =
                    r.f64(tags::SLICE_THICKNESS).or(header.slice_thickness_mm);
                header.spacing_between_slices_mm = r
                    .f64(tags::SPACING_BETWEEN_SLICES)
                    .or(header.spacing_between_slices_mm);
            }
            if let Some(r) = macro_reader(tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE) {
                header.rescale = rescale_of(&r);
            }
            if let Some(r) = macro_reader(tags::FRAME_VOILUT_SEQUENCE) {
                header.window = window_of(&r).or(header.window);
            }
            if let Some(r) = macro_reader(tags::FRAME_CONTENT_SEQUENCE) {
                header.temporal_position = r
                    .i32(tags::TEMPORAL_POSITION_INDEX)
                    .or(header.temporal_position);
                header.acquisition_time_s = r
                    .seconds_of_day(tags::FRAME_ACQUISITION_DATE_TIME)
                    .or(header.acquisition_time_s);
            }
            if let Some(r) = macro_reader(tags::CARDIAC_SYNCHRONIZATION_SEQUENCE) {
                header.trigger_time_ms = r
                    .f64(tags::NOMINAL_CARDIAC_TRIGGER_DELAY_TIME)
                    .or(header.trigger_time_ms);
            }
            if let Some(r) = macro_reader(tags::MR_TIMING_AND_RELATED_PARAMETERS_SEQUENCE) {
                header.repetition_time_ms =
                    r.f64(tags::REPETITION_TIME).or(header.repetition_time_ms);
            }
            if let Some(r) = macro_reader(tags::MR_DIFFUSION_SEQUENCE) {
                header.b_value = r.f64(tags::DIFFUSION_B_VALUE).or(header.b_value);
            }
            Ok(header)
        })
        .collect()
}
