//! The parts every document this program writes shares: the patient, study and series
//! modules, SR content items built from codes, and the Part 10 file's meta.

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, FileMetaTableBuilder, InMemDicomObject};
use glam::DVec3;

use super::codes::{self, Code};
use super::subject::{ImageRef, ReportSubject};
use crate::error::FindingError;

/// When and by whom a report is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorship {
    /// The observer: the signed-in user (a DICOM person name).
    pub observer: String,
    /// ContentDate (YYYYMMDD).
    pub date: String,
    /// ContentTime (HHMMSS).
    pub time: String,
    /// The report's series (a new one when `None`).
    pub series_uid: Option<String>,
}

/// Explicit VR little endian: the transfer syntax every reader takes.
const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

/// What kind of document a header is for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocumentKind {
    /// Its SOP Class UID.
    pub sop_class_uid: &'static str,
    /// Its series' modality (`SR`, `KO`, `OT`).
    pub modality: &'static str,
    /// Its series' number (high, so it lists after the images).
    pub series_number: &'static str,
    /// Its series' description.
    pub series_description: &'static str,
}

/// A new document of `kind` in `subject`'s study: the SOP common, patient, study, series
/// and equipment modules, its instance number and its content date and time.
pub(crate) fn document_header(
    subject: &ReportSubject,
    kind: DocumentKind,
    instance_uid: &str,
    series_uid: &str,
    authorship: &Authorship,
) -> InMemDicomObject {
    let mut document = InMemDicomObject::new_empty();
    let mut text = |tag: Tag, vr: VR, value: &str| {
        document.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    text(tags::SOP_CLASS_UID, VR::UI, kind.sop_class_uid);
    text(tags::SOP_INSTANCE_UID, VR::UI, instance_uid);
    text(tags::PATIENT_NAME, VR::PN, &subject.patient_name);
    text(tags::PATIENT_ID, VR::LO, &subject.patient_id);
    text(
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        &subject.patient_birth_date,
    );
    text(tags::PATIENT_SEX, VR::CS, &subject.patient_sex);
    text(tags::STUDY_INSTANCE_UID, VR::UI, &subject.study_uid);
    text(tags::STUDY_DATE, VR::DA, &subject.study_date);
    text(tags::STUDY_TIME, VR::TM, &subject.study_time);
    text(tags::STUDY_ID, VR::SH, &subject.study_id);
    text(tags::ACCESSION_NUMBER, VR::SH, &subject.accession_number);
    text(
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        &subject.referring_physician,
    );
    if !subject.study_description.is_empty() {
        text(tags::STUDY_DESCRIPTION, VR::LO, &subject.study_description);
    }
    text(tags::MODALITY, VR::CS, kind.modality);
    text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    text(tags::SERIES_NUMBER, VR::IS, kind.series_number);
    text(tags::SERIES_DESCRIPTION, VR::LO, kind.series_description);
    text(tags::MANUFACTURER, VR::LO, "Hounsfield");
    text(tags::INSTANCE_NUMBER, VR::IS, "1");
    text(tags::CONTENT_DATE, VR::DA, &authorship.date);
    text(tags::CONTENT_TIME, VR::TM, &authorship.time);
    text(tags::INSTANCE_CREATION_DATE, VR::DA, &authorship.date);
    text(tags::INSTANCE_CREATION_TIME, VR::TM, &authorship.time);
    document
}

/// `document` as a Part 10 file (explicit VR little endian).
pub(crate) fn part10(
    document: InMemDicomObject,
    sop_class_uid: &str,
    instance_uid: &str,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(EXPLICIT_VR_LITTLE_ENDIAN)
        .media_storage_sop_class_uid(sop_class_uid)
        .media_storage_sop_instance_uid(instance_uid)
        .implementation_class_uid(super::uid::IMPLEMENTATION_CLASS_UID)
        .implementation_version_name("HOUNSFIELD");
    document
        .with_meta(meta)
        .map_err(|error| FindingError::Encode(error.to_string()))
}

/// `instances` of the subject's series, as a document's evidence.
pub(crate) fn evidence_of(subject: &ReportSubject, instances: &[ImageRef]) -> InMemDicomObject {
    evidence_of_series(subject, &[(&subject.series_uid, instances)])
}

/// The instances of each of `series` (its UID, its instances) in the subject's study, as
/// a document's evidence.
pub(crate) fn evidence_of_series(
    subject: &ReportSubject,
    series: &[(&str, &[ImageRef])],
) -> InMemDicomObject {
    let series = series
        .iter()
        .map(|(uid, instances)| {
            InMemDicomObject::from_element_iter([
                text_element(tags::SERIES_INSTANCE_UID, VR::UI, uid),
                sequence(
                    tags::REFERENCED_SOP_SEQUENCE,
                    instances.iter().map(referenced_sop).collect(),
                ),
            ])
        })
        .collect();
    InMemDicomObject::from_element_iter([
        text_element(tags::STUDY_INSTANCE_UID, VR::UI, &subject.study_uid),
        sequence(tags::REFERENCED_SERIES_SEQUENCE, series),
    ])
}

pub(crate) fn container(name: Code, children: Vec<InMemDicomObject>) -> InMemDicomObject {
    let mut item = content_item("CONTAINS", "CONTAINER", name);
    item.put(text_element(
        tags::CONTINUITY_OF_CONTENT,
        VR::CS,
        "SEPARATE",
    ));
    item.put(sequence(tags::CONTENT_SEQUENCE, children));
    item
}

pub(crate) fn text_content(relationship: &str, name: Code, value: &str) -> InMemDicomObject {
    let mut item = content_item(relationship, "TEXT", name);
    item.put(text_element(tags::TEXT_VALUE, VR::UT, value));
    item
}

pub(crate) fn uid_content(name: Code, uid: &str) -> InMemDicomObject {
    let mut item = content_item("CONTAINS", "UIDREF", name);
    item.put(text_element(tags::UID, VR::UI, uid));
    item
}

pub(crate) fn code_content(relationship: &str, name: Code, value: Code) -> InMemDicomObject {
    let mut item = content_item(relationship, "CODE", name);
    item.put(sequence(
        tags::CONCEPT_CODE_SEQUENCE,
        vec![code_item(value)],
    ));
    item
}

pub(crate) fn person_content(name: &str) -> InMemDicomObject {
    let mut item = content_item("HAS OBS CONTEXT", "PNAME", codes::PERSON_OBSERVER_NAME);
    item.put(text_element(tags::PERSON_NAME, VR::PN, name));
    item
}

pub(crate) fn image_content(name: Option<Code>, image: &ImageRef) -> InMemDicomObject {
    let mut item = InMemDicomObject::from_element_iter([
        text_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        text_element(tags::VALUE_TYPE, VR::CS, "IMAGE"),
    ]);
    if let Some(name) = name {
        item.put(sequence(
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            vec![code_item(name)],
        ));
    }
    item.put(sequence(
        tags::REFERENCED_SOP_SEQUENCE,
        vec![referenced_sop(image)],
    ));
    item
}

pub(crate) fn referenced_sop(image: &ImageRef) -> InMemDicomObject {
    let mut item = InMemDicomObject::from_element_iter([
        text_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, &image.sop_class_uid),
        text_element(
            tags::REFERENCED_SOP_INSTANCE_UID,
            VR::UI,
            &image.sop_instance_uid,
        ),
    ]);
    if let Some(frame) = image.frame {
        item.put(text_element(
            tags::REFERENCED_FRAME_NUMBER,
            VR::IS,
            &frame.to_string(),
        ));
    }
    item
}

pub(crate) fn content_item(relationship: &str, value_type: &str, name: Code) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text_element(tags::RELATIONSHIP_TYPE, VR::CS, relationship),
        text_element(tags::VALUE_TYPE, VR::CS, value_type),
        sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![code_item(name)]),
    ])
}

pub(crate) fn code_item(code: Code) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text_element(tags::CODE_VALUE, VR::SH, code.value),
        text_element(tags::CODING_SCHEME_DESIGNATOR, VR::SH, code.scheme),
        text_element(tags::CODE_MEANING, VR::LO, code.meaning),
    ])
}

/// A code of a segment (its category or type, as typed or chosen) as a code item.
pub(crate) fn segment_code(code: &hounsfield_segment::Code) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text_element(tags::CODE_VALUE, VR::SH, &code.value),
        text_element(tags::CODING_SCHEME_DESIGNATOR, VR::SH, &code.scheme),
        text_element(tags::CODE_MEANING, VR::LO, &code.meaning),
    ])
}

pub(crate) fn text_element(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(value))
}

pub(crate) fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// A value as a DICOM decimal string (16 characters at most): its shortest form where
/// that fits, else as many decimals as fit (a position in mm keeps ten digits or more).
pub(crate) fn decimal_string(value: f64) -> String {
    let plain = format!("{value}");
    if plain.len() <= 16 {
        return plain;
    }
    for decimals in (0..=12).rev() {
        let fixed = format!("{value:.decimals$}");
        if fixed.len() <= 16 {
            return fixed;
        }
    }
    format!("{value:.6e}")
}

/// A NUM content item: `name`, `value` in `unit` (as text and as a 64-bit float).
pub(crate) fn number(name: Code, value: f64, unit: Code) -> InMemDicomObject {
    let mut item = content_item("CONTAINS", "NUM", name);
    let measured = InMemDicomObject::from_element_iter([
        text_element(tags::NUMERIC_VALUE, VR::DS, &decimal_string(value)),
        DataElement::new(
            tags::FLOATING_POINT_VALUE,
            VR::FD,
            PrimitiveValue::from(value),
        ),
        sequence(tags::MEASUREMENT_UNITS_CODE_SEQUENCE, vec![code_item(unit)]),
    ]);
    item.put(sequence(tags::MEASURED_VALUE_SEQUENCE, vec![measured]));
    item
}

/// An Image Region content item: a SCOORD3D of `graphic_type` through `points` (LPS mm,
/// written as 32-bit floats) in the frame of reference `frame_of_reference_uid`.
pub(crate) fn image_region(
    graphic_type: &str,
    points: &[DVec3],
    frame_of_reference_uid: &str,
) -> InMemDicomObject {
    let data: Vec<f32> = points
        .iter()
        .flat_map(|p| [p.x as f32, p.y as f32, p.z as f32])
        .collect();
    let mut item = content_item("CONTAINS", "SCOORD3D", codes::IMAGE_REGION);
    item.put(text_element(tags::GRAPHIC_TYPE, VR::CS, graphic_type));
    item.put(DataElement::new(
        tags::GRAPHIC_DATA,
        VR::FL,
        PrimitiveValue::F32(data.into()),
    ));
    item.put(text_element(
        tags::REFERENCED_FRAME_OF_REFERENCE_UID,
        VR::UI,
        frame_of_reference_uid,
    ));
    item
}
