//! A findings folder: the latest report of each series a server or a desktop keeps, at
//! `<folder>/<StudyInstanceUID>/<SeriesInstanceUID>.dcm`, and the key images and
//! snapshots of the study beside them, each `<SOPInstanceUID>.dcm` (its Segmentations
//! too, found again by the series they were drawn on). UIDs name the files
//! only after they are checked to be UIDs, so no series can name a path outside the
//! folder.

use std::path::{Path, PathBuf};

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_files::{Permissions, write_whole};

use crate::error::FindingError;
use crate::report::{ReadReport, read_report_file, sop_instance_uid_of};
use crate::segmentation::{SegmentationHeader, read_segmentation_header};

/// The folder's name under a server's state folder or beside a desktop's settings.
pub const FOLDER_NAME: &str = "findings";

/// Where the report of `series_uid` in `study_uid` lives in `folder`.
pub fn report_path(
    folder: &Path,
    study_uid: &str,
    series_uid: &str,
) -> Result<PathBuf, FindingError> {
    for (what, uid) in [
        ("StudyInstanceUID", study_uid),
        ("SeriesInstanceUID", series_uid),
    ] {
        if !is_uid(uid) {
            return Err(FindingError::NotAReport {
                what: what.to_string(),
                reason: format!("{uid:?} is not a DICOM UID (digits and dots, 64 at most)"),
            });
        }
    }
    Ok(folder.join(study_uid).join(format!("{series_uid}.dcm")))
}

/// Writes `report` as the series' latest, replacing the one before whole.
pub fn keep_report(
    folder: &Path,
    study_uid: &str,
    series_uid: &str,
    report: &FileDicomObject<InMemDicomObject>,
) -> Result<PathBuf, FindingError> {
    write_at(report_path(folder, study_uid, series_uid)?, report)
}

/// Writes `document` (key images, a snapshot) into the study's folder under its own SOP
/// Instance UID: documents accumulate, where a series' report is replaced.
pub fn keep_document(
    folder: &Path,
    study_uid: &str,
    document: &FileDicomObject<InMemDicomObject>,
) -> Result<PathBuf, FindingError> {
    // The study's folder as a report's is named: the same UID checks.
    let path = report_path(folder, study_uid, &sop_instance_uid_of(document))?;
    write_at(path, document)
}

/// Writes `document` whole at `path`, its folder made first.
fn write_at(
    path: PathBuf,
    document: &FileDicomObject<InMemDicomObject>,
) -> Result<PathBuf, FindingError> {
    let io = |source| FindingError::Io {
        file: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut bytes = Vec::new();
    document
        .write_all(&mut bytes)
        .map_err(|error| FindingError::Encode(error.to_string()))?;
    write_whole(&path, &bytes, Permissions::OwnerOnly).map_err(io)?;
    Ok(path)
}

/// The series' latest report in `folder`, if there is one.
pub fn kept_report(
    folder: &Path,
    study_uid: &str,
    series_uid: &str,
) -> Result<Option<ReadReport>, FindingError> {
    let path = report_path(folder, study_uid, series_uid)?;
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FindingError::Io { file: path, source }),
        Ok(_) => read_report_file(&path).map(Some),
    }
}

/// The most files of a study's folder read when its Segmentations are looked for.
pub const MOST_STUDY_FILES_READ: usize = 256;

/// The Segmentations in `folder` drawn on `series_uid` of `study_uid` (their Referenced
/// Series names it), newest first: each file of the study's folder (at most
/// [`MOST_STUDY_FILES_READ`]) read up to its pixel data, those that are no Segmentation
/// passed over. None when the study has no folder.
pub fn kept_segmentations(
    folder: &Path,
    study_uid: &str,
    series_uid: &str,
) -> Result<Vec<(PathBuf, SegmentationHeader)>, FindingError> {
    let report = report_path(folder, study_uid, series_uid)?;
    let Some(study) = report.parent() else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(study) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(FindingError::Io {
                file: study.to_path_buf(),
                source,
            });
        }
        Ok(entries) => entries,
    };
    let mut found: Vec<(PathBuf, SegmentationHeader)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "dcm") && path != &report)
        .take(MOST_STUDY_FILES_READ)
        .filter_map(|path| {
            let header = read_segmentation_header(&path).ok()?;
            header
                .referenced_series_uids
                .iter()
                .any(|uid| uid == series_uid)
                .then_some((path, header))
        })
        .collect();
    found.sort_by(|a, b| b.1.written.cmp(&a.1.written));
    Ok(found)
}

/// Whether `text` is a DICOM UID: digits and dots, no empty or zero-led component, 64
/// characters at most.
pub fn is_uid(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uids_name_files_in_the_folder() {
        let folder = Path::new("/var/lib/hounsfield/findings");
        let path = report_path(folder, "1.2.3", "1.2.3.4").expect("uids");
        assert_eq!(path, folder.join("1.2.3/1.2.3.4.dcm"));
        for bad in ["../etc", "1.2/3", "", "1..2", "1.02", &"1".repeat(65)] {
            assert!(report_path(folder, bad, "1.2").is_err(), "{bad}");
            assert!(report_path(folder, "1.2", bad).is_err(), "{bad}");
        }
        assert!(is_uid("1.2.840.10008.0.1"));
    }
}
