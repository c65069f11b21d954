//! Reading a structured report's content items: a sequence's items, an element's text,
//! whether an item has a concept name, a NUM item's value and unit. What reads reports
//! back (findings, calcium scores, segmentations' reports) shares them.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;

use super::codes::Code;

/// A NUM item's value: its floating-point value where written, else its decimal string.
pub(crate) fn numeric_value(item: &InMemDicomObject) -> Option<f64> {
    let measured = items(item, tags::MEASURED_VALUE_SEQUENCE).first()?;
    let exact = measured
        .element(tags::FLOATING_POINT_VALUE)
        .ok()
        .and_then(|e| e.to_float64().ok());
    exact.or_else(|| text(measured, tags::NUMERIC_VALUE).trim().parse().ok())
}

/// A NUM item's unit code value.
pub(crate) fn unit_of(item: &InMemDicomObject) -> String {
    items(item, tags::MEASURED_VALUE_SEQUENCE)
        .first()
        .and_then(|measured| items(measured, tags::MEASUREMENT_UNITS_CODE_SEQUENCE).first())
        .map(|unit| text(unit, tags::CODE_VALUE))
        .unwrap_or_default()
}

/// Whether `item`'s concept name is `code`.
pub(crate) fn is_named(item: &InMemDicomObject, code: Code) -> bool {
    items(item, tags::CONCEPT_NAME_CODE_SEQUENCE)
        .first()
        .is_some_and(|name| {
            text(name, tags::CODE_VALUE) == code.value
                && text(name, tags::CODING_SCHEME_DESIGNATOR) == code.scheme
        })
}

/// The items of sequence `tag` of `object` (none when it is absent or not a sequence).
pub(crate) fn items(object: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    object
        .element(tag)
        .ok()
        .and_then(InMemElement::items)
        .unwrap_or(&[])
}

/// The text of element `tag` of `object`, DICOM's padding dropped (empty when absent).
pub(crate) fn text(object: &InMemDicomObject, tag: Tag) -> String {
    object
        .element(tag)
        .ok()
        .and_then(|element| element.to_str().ok())
        .map(|value| value.trim_end_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}
