//! Reading directory records: the items of the Directory Record Sequence, each with the
//! attributes the catalog needs, its ReferencedFileID resolved inside the DICOMDIR's folder,
//! and the offsets that link it to other records.

use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use crate::dicom::error::{Attribute, DicomError};

/// Deepest record nesting (and sequence nesting) accepted; real directories use about five.
pub(super) const MAX_DEPTH: usize = 32;

/// One directory record with the attributes the catalog needs, and its lower-level records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// DirectoryRecordType (0004,1430): "PATIENT", "STUDY", "SERIES", "IMAGE" or what the file says.
    pub record_type: String,
    /// PatientID (0010,0020).
    pub patient_id: Option<String>,
    /// PatientName (0010,0010).
    pub patient_name: Option<String>,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: Option<String>,
    /// StudyDate (0008,0020).
    pub study_date: Option<String>,
    /// StudyDescription (0008,1030).
    pub study_description: Option<String>,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: Option<String>,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i32>,
    /// Modality (0008,0060).
    pub modality: Option<String>,
    /// ReferencedFileID (0004,1500) joined onto the DICOMDIR's folder.
    pub referenced_file: Option<PathBuf>,
    /// The records of the referenced lower-level directory entity.
    pub children: Vec<DirectoryRecord>,
}

/// The records of the Directory Record Sequence, in file order.
pub(super) fn read_entries(
    path: &Path,
    object: &DefaultDicomObject,
) -> Result<Vec<Entry>, DicomError> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let items = directory_records(path, object)?;
    Ok(items.iter().map(|item| Entry::read(item, folder)).collect())
}

/// The items of the Directory Record Sequence, in file order.
fn directory_records<'a>(
    path: &Path,
    object: &'a DefaultDicomObject,
) -> Result<&'a [InMemDicomObject], DicomError> {
    let attribute = Attribute::new("DirectoryRecordSequence", 0x0004, 0x1220);
    let element = object.get(tags::DIRECTORY_RECORD_SEQUENCE).ok_or_else(|| {
        DicomError::MissingAttribute {
            file: path.to_path_buf(),
            attribute,
        }
    })?;
    match element.items() {
        Some(items) => Ok(items),
        None if element.value().multiplicity() == 0 => Ok(&[]),
        None => Err(DicomError::InvalidAttribute {
            file: path.to_path_buf(),
            attribute,
            reason: "not a sequence".to_owned(),
        }),
    }
}

/// A directory record without children, and its links to other records.
#[derive(Debug, Clone, Default)]
pub(super) struct Entry {
    /// The record's attributes.
    pub(super) record: DirectoryRecord,
    /// OffsetOfTheNextDirectoryRecord (0004,1400); 0 for none.
    pub(super) next: u32,
    /// OffsetOfReferencedLowerLevelDirectoryEntity (0004,1420); 0 for none.
    pub(super) lower: u32,
}

impl Entry {
    /// Reads one item of the Directory Record Sequence.
    fn read(item: &InMemDicomObject, folder: &Path) -> Self {
        let record = DirectoryRecord {
            record_type: text(item, tags::DIRECTORY_RECORD_TYPE).unwrap_or_default(),
            patient_id: text(item, tags::PATIENT_ID),
            patient_name: text(item, tags::PATIENT_NAME),
            study_instance_uid: text(item, tags::STUDY_INSTANCE_UID),
            study_date: text(item, tags::STUDY_DATE),
            study_description: text(item, tags::STUDY_DESCRIPTION),
            series_instance_uid: text(item, tags::SERIES_INSTANCE_UID),
            series_number: item
                .get(tags::SERIES_NUMBER)
                .and_then(|element| element.to_int::<i32>().ok()),
            modality: text(item, tags::MODALITY),
            referenced_file: referenced_file(item, folder),
            children: Vec::new(),
        };
        Self {
            record,
            next: offset(item, tags::OFFSET_OF_THE_NEXT_DIRECTORY_RECORD),
            lower: offset(
                item,
                tags::OFFSET_OF_REFERENCED_LOWER_LEVEL_DIRECTORY_ENTITY,
            ),
        }
    }
}

/// A text attribute without padding; `None` when absent or empty.
fn text(object: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = object.get(tag)?.to_str().ok()?;
    let value = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!value.is_empty()).then(|| value.to_owned())
}

/// An offset attribute; 0 (none) when absent or unreadable.
pub(super) fn offset(object: &InMemDicomObject, tag: Tag) -> u32 {
    object
        .get(tag)
        .and_then(|element| element.to_int::<u32>().ok())
        .unwrap_or(0)
}

/// ReferencedFileID (0004,1500) resolved against the DICOMDIR's folder.
fn referenced_file(item: &InMemDicomObject, folder: &Path) -> Option<PathBuf> {
    let values = item.get(tags::REFERENCED_FILE_ID)?.to_multi_str().ok()?;
    let components: Vec<&str> = values
        .iter()
        .flat_map(|value| value.split('\\'))
        .map(|component| component.trim_matches(|c: char| c == '\0' || c == ' '))
        .filter(|component| !component.is_empty())
        .collect();
    if components.is_empty() {
        return None;
    }
    if let Some(bad) = components.iter().find(|c| !is_plain_component(c)) {
        tracing::warn!("ignoring ReferencedFileID with component {bad:?}");
        return None;
    }
    Some(
        components
            .iter()
            .fold(folder.to_path_buf(), |path, c| path.join(c)),
    )
}

/// Whether a file ID component names an entry inside its folder (no `..`, no separators).
fn is_plain_component(component: &str) -> bool {
    component != "." && component != ".." && !component.contains(['/', ':', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_stay_inside_the_folder() {
        assert!(is_plain_component("CR1"));
        assert!(!is_plain_component(".."));
        assert!(!is_plain_component("A/B"));
        assert!(!is_plain_component("C:"));
    }
}
