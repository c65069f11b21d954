//! Typed attribute values read from one DICOM object, each text kept within bounds and
//! each malformed number named with its file and attribute.

use std::path::Path;

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::{IMAGE_ORIENTATION, IMAGE_POSITION, PIXEL_SPACING};
use crate::dicom::error::{Attribute, DicomError};
use crate::dicom::text::trim_value;

/// The longest text an image header keeps of one attribute (characters). DICOM's own
/// bounds are far below (LO and UI 64, PN 3 × 64, ST 1024); a longer value is a broken or
/// hostile file, and keeping it whole in every image's header costs its length per image.
pub const MAX_HEADER_TEXT_CHARS: usize = 1024;
/// The most values an image header keeps of one multi-valued text attribute (ImageType
/// has four or five).
pub const MAX_HEADER_VALUES: usize = 64;

/// A text value without DICOM's padding, cut to [`MAX_HEADER_TEXT_CHARS`].
fn kept_text(value: &str) -> String {
    hounsfield_vocabulary::text::cut_with_mark(trim_value(value), MAX_HEADER_TEXT_CHARS)
        .into_owned()
}

/// Reads typed attribute values from one object, naming the file on failure.
pub(super) struct AttributeReader<'a> {
    /// The file the object was read from.
    pub(super) file: &'a Path,
    /// The object (or functional-group item) read.
    pub(super) object: &'a InMemDicomObject,
}

impl AttributeReader<'_> {
    /// The attribute's text, at most [`MAX_HEADER_TEXT_CHARS`] characters (cut with a
    /// mark): the header of every image of a series keeps its own copy.
    pub(super) fn string(&self, tag: Tag) -> String {
        self.object
            .get(tag)
            .and_then(|e| e.to_str().ok())
            .map(|s| kept_text(&s))
            .unwrap_or_default()
    }

    /// The attribute's values, each as [`Self::string`] keeps it, at most
    /// [`MAX_HEADER_VALUES`] of them.
    pub(super) fn strings(&self, tag: Tag) -> Vec<String> {
        self.object
            .get(tag)
            .and_then(|e| e.to_multi_str().ok())
            .map(|values| {
                values
                    .iter()
                    .take(MAX_HEADER_VALUES)
                    .map(|s| kept_text(s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The attribute's first number, when finite.
    pub(super) fn f64(&self, tag: Tag) -> Option<f64> {
        self.first_f64(tag)
    }

    /// The first of the attribute's numbers, when finite.
    pub(super) fn first_f64(&self, tag: Tag) -> Option<f64> {
        let values = self.object.get(tag)?.to_multi_float64().ok()?;
        values.first().copied().filter(|v| v.is_finite())
    }

    /// A time of day (TM, or the time of a DT) in seconds from midnight, when the
    /// attribute holds a well-formed one.
    pub(super) fn seconds_of_day(&self, tag: Tag) -> Option<f64> {
        let element = self.object.get(tag)?;
        let time = if element.vr() == VR::DT {
            *element.to_datetime().ok()?.time()?
        } else {
            element.to_time().ok()?
        };
        let whole = f64::from(*time.hour()) * 3600.0
            + f64::from(time.minute().copied().unwrap_or(0)) * 60.0
            + f64::from(time.second().copied().unwrap_or(0));
        Some(whole + f64::from(time.fraction_micro().unwrap_or(0)) / 1e6)
    }

    /// The attribute as a signed integer.
    pub(super) fn i32(&self, tag: Tag) -> Option<i32> {
        self.object.get(tag)?.to_int::<i32>().ok()
    }

    /// The attribute as an unsigned integer.
    pub(super) fn u32(&self, tag: Tag) -> Option<u32> {
        self.object.get(tag)?.to_int::<u32>().ok()
    }

    /// The attribute as an unsigned integer; an error naming `attribute` when absent or
    /// malformed.
    pub(super) fn required_u32(&self, attribute: Attribute, tag: Tag) -> Result<u32, DicomError> {
        let element = self.object.get(tag).ok_or(DicomError::MissingAttribute {
            file: self.file.to_path_buf(),
            attribute,
        })?;
        element
            .to_int::<u32>()
            .map_err(|e| DicomError::InvalidAttribute {
                file: self.file.to_path_buf(),
                attribute,
                reason: e.to_string(),
            })
    }

    /// Exactly `N` finite numbers, `None` when absent or empty, an error when malformed.
    pub(super) fn floats<const N: usize>(&self, tag: Tag) -> Result<Option<[f64; N]>, DicomError> {
        let Some(element) = self.object.get(tag) else {
            return Ok(None);
        };
        let invalid = |reason: String| DicomError::InvalidAttribute {
            file: self.file.to_path_buf(),
            attribute: attribute_of(tag),
            reason,
        };
        let values = match element.to_multi_float64() {
            Ok(values) => values,
            Err(_)
                if element
                    .to_str()
                    .map(|s| trim_value(&s).is_empty())
                    .unwrap_or(false) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(invalid(e.to_string())),
        };
        if values.is_empty() {
            return Ok(None);
        }
        let array: [f64; N] = values
            .as_slice()
            .try_into()
            .map_err(|_| invalid(format!("{} values where {N} are needed", values.len())))?;
        if array.iter().any(|v| !v.is_finite()) {
            return Err(invalid("not a finite number".to_string()));
        }
        Ok(Some(array))
    }
}

/// The named attribute for the tags whose values the reader checks.
fn attribute_of(tag: Tag) -> Attribute {
    match tag {
        tags::IMAGE_POSITION_PATIENT => IMAGE_POSITION,
        tags::IMAGE_ORIENTATION_PATIENT => IMAGE_ORIENTATION,
        tags::PIXEL_SPACING => PIXEL_SPACING,
        Tag(group, element) => Attribute {
            keyword: "attribute",
            tag: (group, element),
        },
    }
}
