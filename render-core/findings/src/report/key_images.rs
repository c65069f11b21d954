//! Key images: a Key Object Selection document (TID 2010, "Of Interest") marking stored
//! images of a series, with the radiologist's description, in the series' study.

use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, InMemDicomObject};

use super::codes;
use super::elements::Authorship;
use super::elements::{
    DocumentKind, code_content, code_item, document_header, evidence_of, image_content, part10,
    person_content, sequence, text_content, text_element,
};
use super::subject::{ImageRef, ReportSubject};
use super::uid::new_uid;
use crate::error::FindingError;

/// Key Object Selection Document Storage.
pub const KEY_OBJECT_SELECTION: &str = "1.2.840.10008.5.1.4.1.1.88.59";

/// A Key Object Selection of `images` of `subject`'s series, described by `description`
/// (may be empty), ready to be written as a Part 10 file.
pub fn key_object_selection(
    subject: &ReportSubject,
    images: &[ImageRef],
    description: &str,
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let instance_uid = new_uid()?;
    let series_uid = match &authorship.series_uid {
        Some(uid) => uid.clone(),
        None => new_uid()?,
    };
    let mut document = document_header(
        subject,
        DocumentKind {
            sop_class_uid: KEY_OBJECT_SELECTION,
            modality: "KO",
            series_number: "9002",
            series_description: "Key images",
        },
        &instance_uid,
        &series_uid,
        authorship,
    );
    document.put(text_element(tags::VALUE_TYPE, VR::CS, "CONTAINER"));
    document.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(codes::OF_INTEREST)],
    ));
    document.put(text_element(
        tags::CONTINUITY_OF_CONTENT,
        VR::CS,
        "SEPARATE",
    ));
    document.put(sequence(
        tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE,
        vec![],
    ));
    document.put(sequence(
        tags::CONTENT_TEMPLATE_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([
            text_element(tags::MAPPING_RESOURCE, VR::CS, "DCMR"),
            text_element(tags::TEMPLATE_IDENTIFIER, VR::CS, "2010"),
        ])],
    ));
    document.put(sequence(
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![evidence_of(subject, images)],
    ));
    let mut content = vec![
        code_content("HAS OBS CONTEXT", codes::OBSERVER_TYPE, codes::PERSON),
        person_content(&authorship.observer),
    ];
    if !description.is_empty() {
        content.push(text_content(
            "CONTAINS",
            codes::KEY_OBJECT_DESCRIPTION,
            description,
        ));
    }
    content.extend(images.iter().map(|image| image_content(None, image)));
    document.put(sequence(tags::CONTENT_SEQUENCE, content));
    part10(document, KEY_OBJECT_SELECTION, &instance_uid)
}
