//! Segments' numbers in a Measurement Report: a Comprehensive 3D SR (TID 1500) whose
//! measurement groups are volumetric (TID 1411), each naming its segment in the
//! Segmentation saved with it and the series that segment was drawn on, with the
//! segment's volume and the statistics of the values inside in UCUM units.

use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, InMemDicomObject};
use glam::DVec3;
use hounsfield_segment::measure::SegmentMeasures;
use hounsfield_segment::{Segment, measure};
use hounsfield_volume::Volume;

use super::codes;
use super::elements::number;
use super::elements::{
    Authorship, container, content_item, segment_code, sequence, text_content, text_element,
    uid_content,
};
use super::subject::{ImageRef, ReportSubject};
use super::uid::{new_uid, sop_instance_uid_of};
use super::write::report_document;
use crate::error::FindingError;
use crate::segmentation::{SEGMENTATION_STORAGE, segmentation};
use crate::unit_of;

/// A segment saved in a Segmentation, with its numbers.
#[derive(Debug, Clone, Copy)]
pub struct MeasuredSegment<'a> {
    /// Its Segment Number in the Segmentation (from 1).
    pub number: u16,
    /// The segment.
    pub segment: &'a Segment,
    /// Its numbers on the series' values.
    pub measures: &'a SegmentMeasures,
    /// The values' unit (`HU` for a CT).
    pub unit: &'a str,
}

/// A Segmentation of `segments` drawn on `volume` (of `subject`'s series) and the
/// Measurement Report of their numbers that references it: the two documents a save of
/// segments keeps, the Segmentation first.
pub fn segmentation_with_report(
    subject: &ReportSubject,
    volume: &Volume,
    segments: &[Segment],
    authorship: &Authorship,
) -> Result<[FileDicomObject<InMemDicomObject>; 2], FindingError> {
    let document = segmentation(subject, volume, segments, authorship)?;
    let measures = segments
        .iter()
        .map(|segment| measure(volume, &segment.mask))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| FindingError::Encode(error.to_string()))?;
    let unit = unit_of(&volume.modality);
    let measured: Vec<MeasuredSegment<'_>> = (1..)
        .zip(segments.iter().zip(&measures))
        .map(|(number, (segment, measures))| MeasuredSegment {
            number,
            segment,
            measures,
            unit,
        })
        .collect();
    let report = segment_report(subject, volume, &document, &measured, authorship)?;
    Ok([document, report])
}

/// A Measurement Report of `segments`, saved in `segmentation` (a Segmentation of
/// `subject`'s series, drawn on `volume`): a volumetric measurement group for each, ready
/// to be written as a Part 10 file (its SOP Instance UID is new). Its image library lists
/// the stored slice nearest each segment's middle; its evidence, the series' images and
/// the Segmentation.
pub fn segment_report(
    subject: &ReportSubject,
    volume: &Volume,
    segmentation: &FileDicomObject<InMemDicomObject>,
    segments: &[MeasuredSegment<'_>],
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let segmentation_ref = ImageRef {
        sop_class_uid: SEGMENTATION_STORAGE.to_string(),
        sop_instance_uid: sop_instance_uid_of(segmentation),
        frame: None,
    };
    let segmentation_series = segmentation
        .element(tags::SERIES_INSTANCE_UID)
        .ok()
        .and_then(|element| element.to_str().ok())
        .map(|uid| uid.trim_end_matches(['\0', ' ']).to_string())
        .ok_or_else(|| {
            FindingError::Encode("the segmentation has no SeriesInstanceUID".to_string())
        })?;
    let library: Vec<&ImageRef> = segments
        .iter()
        .filter_map(|measured| {
            let (first, last) = measured.measures.bounds?;
            let middle =
                (DVec3::from(first.map(|n| n as f64)) + DVec3::from(last.map(|n| n as f64))) * 0.5;
            subject.image_nearest(volume, volume.voxel_to_lps_point(middle))
        })
        .collect();
    let mut groups = Vec::with_capacity(segments.len());
    for measured in segments {
        groups.push(volumetric_group(
            subject,
            &segmentation_ref.sop_instance_uid,
            measured,
        )?);
    }
    report_document(
        subject,
        library,
        groups,
        Some((&segmentation_series, &segmentation_ref)),
        authorship,
    )
}

/// One segment's volumetric measurement group (TID 1411).
fn volumetric_group(
    subject: &ReportSubject,
    segmentation_uid: &str,
    measured: &MeasuredSegment<'_>,
) -> Result<InMemDicomObject, FindingError> {
    let segment = measured.segment;
    let mut finding = content_item("CONTAINS", "CODE", codes::FINDING);
    finding.put(sequence(
        tags::CONCEPT_CODE_SEQUENCE,
        vec![segment_code(&segment.property_type)],
    ));
    let mut reference = content_item("CONTAINS", "IMAGE", codes::REFERENCED_SEGMENT);
    reference.put(sequence(
        tags::REFERENCED_SOP_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([
            text_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, SEGMENTATION_STORAGE),
            text_element(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, segmentation_uid),
            dicom_core::DataElement::new(
                tags::REFERENCED_SEGMENT_NUMBER,
                VR::US,
                dicom_core::PrimitiveValue::from(measured.number),
            ),
        ])],
    ));
    let measures = measured.measures;
    let unit = codes::value_unit(measured.unit);
    let mut items = vec![
        text_content("CONTAINS", codes::TRACKING_IDENTIFIER, &segment.label),
        uid_content(codes::TRACKING_UNIQUE_IDENTIFIER, &new_uid()?),
        finding,
        reference,
        uid_content(codes::SOURCE_SERIES_FOR_SEGMENTATION, &subject.series_uid),
        number(codes::VOLUME, measures.volume_ml, codes::MILLILITRE),
    ];
    let statistics = [
        (codes::MEAN, measures.mean),
        (codes::STANDARD_DEVIATION, measures.sd),
        (codes::MINIMUM, measures.min),
        (codes::MAXIMUM, measures.max),
    ];
    items.extend(
        statistics
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| number(name, value, unit))),
    );
    items.push(number(
        codes::VOXEL_COUNT,
        measures.voxels as f64,
        codes::VOXELS,
    ));
    let mut group = container(codes::MEASUREMENT_GROUP, items);
    group.put(sequence(
        tags::CONTENT_TEMPLATE_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([
            text_element(tags::MAPPING_RESOURCE, VR::CS, "DCMR"),
            text_element(tags::TEMPLATE_IDENTIFIER, VR::CS, "1411"),
        ])],
    ));
    Ok(group)
}
