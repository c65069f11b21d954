//! Findings as a DICOM Measurement Report: a Comprehensive 3D SR document following
//! TID 1500, each finding a measurement group (TID 1410) with its outline in patient
//! coordinates, the image it was drawn on, and its numbers with UCUM units.

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, InMemDicomObject};
use glam::DVec3;
use hounsfield_vocabulary::FindingKind;
use hounsfield_volume::Volume;

use super::calcium::{ReportedCalcium, calcium_groups};
use super::codes;
use super::elements::{
    Authorship, DocumentKind, code_content, code_item, container, document_header,
    evidence_of_series, image_content, image_region, number, part10, person_content, sequence,
    text_content, text_element, uid_content,
};
use super::subject::{ImageRef, ReportSubject};
use super::tracking::tracking_identifier;
use super::uid::new_uid;
use crate::error::FindingError;
use crate::{Finding, Measurement};

/// Comprehensive 3D SR Storage.
pub const COMPREHENSIVE_3D_SR: &str = "1.2.840.10008.5.1.4.1.1.88.34";
/// The series number the reports are given (a high number keeps them after the images
/// in a viewer's series list).
const REPORT_SERIES_NUMBER: &str = "9001";

/// One finding with what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredFinding {
    /// The finding.
    pub finding: Finding,
    /// What it measured on the series' volume.
    pub measurement: Measurement,
}

/// A Measurement Report of `findings` and a `calcium` score on `subject`'s series (drawn
/// on `volume`), ready to be written as a Part 10 file: its SOP Instance UID is new.
pub fn measurement_report(
    subject: &ReportSubject,
    volume: &Volume,
    findings: &[MeasuredFinding],
    calcium: Option<&ReportedCalcium>,
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let images: Vec<Option<&ImageRef>> = findings
        .iter()
        .map(|measured| subject.image_of(volume, &measured.finding))
        .collect();
    // The library lists the images measured on; a finding on no stored image (an oblique
    // or a reformatted slice) is listed by the stored slice nearest its middle, so that
    // the library (which TID 1600 wants non-empty) names where it is.
    let mut library: Vec<&ImageRef> = findings
        .iter()
        .zip(&images)
        .filter_map(|(measured, image)| {
            image.or_else(|| {
                let points = &measured.finding.points_lps;
                let middle = points.iter().sum::<DVec3>() / points.len().max(1) as f64;
                subject.image_nearest(volume, middle)
            })
        })
        .collect();
    let mut groups = Vec::with_capacity(findings.len());
    for (measured, image) in findings.iter().zip(&images) {
        groups.push(measurement_group(subject, measured, *image)?);
    }
    if let Some(calcium) = calcium {
        let (calcium_groups, key_images) = calcium_groups(subject, volume, calcium)?;
        groups.extend(calcium_groups);
        library.extend(key_images);
    }
    report_document(subject, library, groups, None, authorship)
}

/// A TID 1500 Measurement Report on `subject`'s series listing the images of `library`
/// (sorted, each once) and holding the measurement groups `groups`, ready to be written
/// as a Part 10 file: its SOP Instance UID is new. Its evidence is the series' images,
/// and `also` (a series UID and an instance of it in the same study: a Segmentation its
/// groups reference).
pub(crate) fn report_document(
    subject: &ReportSubject,
    mut library: Vec<&ImageRef>,
    groups: Vec<InMemDicomObject>,
    also: Option<(&str, &ImageRef)>,
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let instance_uid = new_uid()?;
    let series_uid = match &authorship.series_uid {
        Some(uid) => uid.clone(),
        None => new_uid()?,
    };
    library.sort_by(|a, b| a.sop_instance_uid.cmp(&b.sop_instance_uid));
    library.dedup();

    let mut report = document_header(
        subject,
        DocumentKind {
            sop_class_uid: COMPREHENSIVE_3D_SR,
            modality: "SR",
            series_number: REPORT_SERIES_NUMBER,
            series_description: "Findings",
        },
        &instance_uid,
        &series_uid,
        authorship,
    );
    let mut text = |tag: Tag, vr: VR, value: &str| {
        report.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    text(tags::COMPLETION_FLAG, VR::CS, "PARTIAL");
    text(tags::VERIFICATION_FLAG, VR::CS, "UNVERIFIED");
    text(tags::VALUE_TYPE, VR::CS, "CONTAINER");
    text(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");
    report.put(sequence(
        tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE,
        vec![],
    ));
    report.put(sequence(tags::PERFORMED_PROCEDURE_CODE_SEQUENCE, vec![]));
    report.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(codes::IMAGING_MEASUREMENT_REPORT)],
    ));
    report.put(sequence(
        tags::CONTENT_TEMPLATE_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([
            text_element(tags::MAPPING_RESOURCE, VR::CS, "DCMR"),
            text_element(tags::TEMPLATE_IDENTIFIER, VR::CS, "1500"),
        ])],
    ));
    let mut evidence_series: Vec<(&str, &[ImageRef])> = Vec::with_capacity(2);
    if !subject.instances.is_empty() {
        evidence_series.push((&subject.series_uid, &subject.instances));
    }
    if let Some((series_uid, instance)) = also {
        evidence_series.push((series_uid, std::slice::from_ref(instance)));
    }
    if !evidence_series.is_empty() {
        report.put(sequence(
            tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
            vec![evidence_of_series(subject, &evidence_series)],
        ));
    }
    let procedure = match subject.modality.as_str() {
        "CT" => codes::CT_PROCEDURE,
        "MR" => codes::MR_PROCEDURE,
        _ => codes::IMAGING_PROCEDURE,
    };
    let mut content = vec![
        code_content("HAS CONCEPT MOD", codes::LANGUAGE, codes::ENGLISH),
        code_content("HAS OBS CONTEXT", codes::OBSERVER_TYPE, codes::PERSON),
        person_content(&authorship.observer),
        code_content("HAS CONCEPT MOD", codes::PROCEDURE_REPORTED, procedure),
        container(
            codes::IMAGE_LIBRARY,
            vec![container(
                codes::IMAGE_LIBRARY_GROUP,
                library
                    .iter()
                    .map(|image| image_content(None, image))
                    .collect(),
            )],
        ),
    ];
    content.push(container(codes::IMAGING_MEASUREMENTS, groups));
    report.put(sequence(tags::CONTENT_SEQUENCE, content));

    part10(report, COMPREHENSIVE_3D_SR, &instance_uid)
}

/// One finding's measurement group.
fn measurement_group(
    subject: &ReportSubject,
    measured: &MeasuredFinding,
    image: Option<&ImageRef>,
) -> Result<InMemDicomObject, FindingError> {
    let finding = &measured.finding;
    let mut items = vec![
        text_content(
            "CONTAINS",
            codes::TRACKING_IDENTIFIER,
            &tracking_identifier(finding),
        ),
        uid_content(codes::TRACKING_UNIQUE_IDENTIFIER, &new_uid()?),
        code_content("CONTAINS", codes::FINDING, codes::ABNORMAL_STRUCTURE),
        scoord3d(finding, &subject.frame_of_reference_uid),
    ];
    if let Some(image) = image {
        items.push(image_content(Some(codes::SOURCE_IMAGE), image));
    }
    match &measured.measurement {
        Measurement::Region(statistics) => {
            let unit = codes::value_unit(&statistics.unit);
            items.push(number(codes::MEAN, statistics.mean, unit));
            items.push(number(codes::STANDARD_DEVIATION, statistics.sd, unit));
            items.push(number(codes::MINIMUM, statistics.min, unit));
            items.push(number(codes::MAXIMUM, statistics.max, unit));
            items.push(number(
                codes::AREA,
                statistics.area_mm2,
                codes::SQUARE_MILLIMETRE,
            ));
            items.push(number(
                codes::VOXEL_COUNT,
                statistics.voxels as f64,
                codes::VOXELS,
            ));
        }
        Measurement::Length { mm } => items.push(number(codes::LENGTH, *mm, codes::MILLIMETRE)),
        Measurement::Angle { degrees } => {
            items.push(number(codes::ANGLE, *degrees, codes::DEGREE));
        }
        Measurement::Pointer => {}
    }
    if !finding.note.is_empty() {
        items.push(text_content("CONTAINS", codes::COMMENT, &finding.note));
    }
    Ok(container(codes::MEASUREMENT_GROUP, items))
}

/// The finding's outline in the frame of reference: an ellipse by its two axes' ends, a
/// box or polygon closed on its first vertex, a line by its points.
fn scoord3d(finding: &Finding, frame_of_reference_uid: &str) -> InMemDicomObject {
    let (graphic_type, points) = outline_points(finding);
    image_region(graphic_type, &points, frame_of_reference_uid)
}

/// The graphic type and points of a finding's outline.
pub(crate) fn outline_points(finding: &Finding) -> (&'static str, Vec<DVec3>) {
    let points = &finding.points_lps;
    match finding.kind {
        FindingKind::Ellipse => {
            let axes = finding.axes;
            let (a, b) = (points[0], points[1]);
            let centre = (a + b) * 0.5;
            let half = (b - a) * 0.5;
            let across = axes.right * half.dot(axes.right);
            let down = axes.down * half.dot(axes.down);
            // The major axis first, as SCOORD3D's ELLIPSE takes them.
            let (major, minor) = if across.length() >= down.length() {
                (across, down)
            } else {
                (down, across)
            };
            (
                "ELLIPSE",
                vec![
                    centre - major,
                    centre + major,
                    centre - minor,
                    centre + minor,
                ],
            )
        }
        FindingKind::Rectangle => {
            let axes = finding.axes;
            let (a, b) = (points[0], points[1]);
            let across = axes.right * (b - a).dot(axes.right);
            let corners = vec![a, a + across, b, b - across, a];
            ("POLYGON", corners)
        }
        FindingKind::Polygon => {
            let mut closed = points.clone();
            closed.push(points[0]);
            ("POLYGON", closed)
        }
        FindingKind::Angle | FindingKind::Arrow | FindingKind::Ruler => {
            ("POLYLINE", points.clone())
        }
    }
}
