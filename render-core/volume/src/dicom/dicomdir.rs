//! DICOMDIR (Media Storage Directory) reading: the patient → study → series → image tree of
//! a DICOMDIR file and the image files its records reference.
//!
//! Records are linked by byte offsets (PS3.10 §8.5, PS3.3 F.3), which dicom-object does not
//! expose, so the items of the Directory Record Sequence are located by walking the raw bytes.
//! When those offsets are unusable the tree is rebuilt from the order of the records.
//!
//! Three steps, one submodule each: `item_layout` walks the raw bytes to the byte offset of
//! every record (and cuts items that overrun their sequence), `records` reads each record's
//! attributes and links, and `record_tree` links the records into the tree.

mod item_layout;
mod record_tree;
mod records;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

use super::declared::{Reach, check_declared_lengths_in};
use super::error::{Attribute, DicomError};
use item_layout::{Encoding, ItemLayout};
use record_tree::{assemble, link};
pub use records::DirectoryRecord;
use records::read_entries;

/// Media Storage Directory Storage SOP class.
const MEDIA_STORAGE_DIRECTORY: &str = "1.2.840.10008.1.3.10";

/// A DICOMDIR file and its tree of directory records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    /// The DICOMDIR file.
    pub path: PathBuf,
    /// The root directory entity: PATIENT records, normally.
    pub roots: Vec<DirectoryRecord>,
}

/// The largest DICOMDIR read (a million records take about 300 MB).
const MAX_DICOMDIR_BYTES: u64 = 512 << 20;

/// Reads a DICOMDIR file into its tree of records.
pub fn read_dicomdir(path: &Path) -> Result<Directory, DicomError> {
    let io = |source| DicomError::Io {
        file: path.to_path_buf(),
        source,
    };
    let bytes =
        hounsfield_files::read_at_most(path, MAX_DICOMDIR_BYTES).map_err(|error| match error {
            hounsfield_files::SmallFileError::Io(source) => io(source),
            hounsfield_files::SmallFileError::TooLarge(size) => DicomError::NotDicom {
                file: path.to_path_buf(),
                reason: format!(
                    "a DICOMDIR of {size} bytes is over the {MAX_DICOMDIR_BYTES} bytes one may have"
                ),
            },
        })?;
    let head = parse(path, &bytes, Some(tags::DIRECTORY_RECORD_SEQUENCE))?;
    check_sop_class(path, &head)?;
    let layout = Encoding::of_transfer_syntax(head.meta().transfer_syntax())
        .and_then(|encoding| ItemLayout::find(&bytes, encoding));
    let repaired = match &layout {
        Some(layout) => layout.repair(&bytes),
        None => Cow::Borrowed(bytes.as_slice()),
    };
    let object = parse(path, &repaired, None)?;
    let entries = read_entries(path, &object)?;
    let links = link(path, &object, &entries, layout);
    Ok(Directory {
        path: path.to_path_buf(),
        roots: assemble(links, entries),
    })
}

impl Directory {
    /// Every record's referenced file, depth first.
    pub fn referenced_files(&self) -> Vec<PathBuf> {
        self.records()
            .filter_map(|record| record.referenced_file.clone())
            .collect()
    }

    /// How many records of this type the tree holds.
    pub fn count(&self, record_type: &str) -> usize {
        self.records()
            .filter(|record| record.record_type == record_type)
            .count()
    }

    /// All records, depth first, parents before their children.
    fn records(&self) -> impl Iterator<Item = &DirectoryRecord> {
        let mut stack: Vec<&DirectoryRecord> = self.roots.iter().rev().collect();
        std::iter::from_fn(move || {
            let record = stack.pop()?;
            stack.extend(record.children.iter().rev());
            Some(record)
        })
    }
}

/// Whether a SOP class UID is Media Storage Directory Storage, ignoring NUL/space padding.
pub fn is_dicomdir_sop_class(uid: &str) -> bool {
    uid.trim_end_matches(['\0', ' ']) == MEDIA_STORAGE_DIRECTORY
}

/// Parses the file with dicom-object, up to (without) `until` if given.
fn parse(path: &Path, bytes: &[u8], until: Option<Tag>) -> Result<DefaultDicomObject, DicomError> {
    check_declared_lengths_in(path, bytes, until.map_or(Reach::WholeFile, Reach::Until))?;
    let options = OpenFileOptions::new();
    let options = match until {
        Some(tag) => options.read_until(tag),
        None => options,
    };
    options
        .from_reader(bytes)
        .map_err(|error| DicomError::NotDicom {
            file: path.to_path_buf(),
            reason: error.to_string(),
        })
}

/// Fails unless the file meta says Media Storage Directory.
fn check_sop_class(path: &Path, object: &DefaultDicomObject) -> Result<(), DicomError> {
    let uid = object.meta().media_storage_sop_class_uid();
    if is_dicomdir_sop_class(uid) {
        return Ok(());
    }
    Err(DicomError::InvalidAttribute {
        file: path.to_path_buf(),
        attribute: Attribute::new("MediaStorageSOPClassUID", 0x0002, 0x0002),
        reason: format!("{uid} is not Media Storage Directory ({MEDIA_STORAGE_DIRECTORY})"),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use dicom_object::InMemDicomObject;

    use super::*;

    /// The pydicom DICOMDIR test files.
    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/pydicom-test-files/pydicom/data/test_files/dicomdirtests"
    );

    /// Variants that hold the same 2 patients, 6 studies, 13 series and 31 images.
    const SAME_TREE: [&str; 5] = [
        "DICOMDIR",
        "DICOMDIR-implicit",
        "DICOMDIR-bigEnd",
        "DICOMDIR-reordered",
        "DICOMDIR-nooffset",
    ];

    pub(super) fn data(name: &str) -> PathBuf {
        Path::new(DATA).join(name)
    }

    fn read(name: &str) -> Directory {
        read_dicomdir(&data(name)).expect(name)
    }

    fn counts(directory: &Directory) -> [usize; 4] {
        ["PATIENT", "STUDY", "SERIES", "IMAGE"].map(|kind| directory.count(kind))
    }

    /// Asserts roots of `root_type` → STUDY → SERIES → IMAGE, and nothing else.
    fn assert_shape(directory: &Directory, root_type: &str) {
        for root in &directory.roots {
            assert_eq!(root.record_type, root_type);
            for study in &root.children {
                assert_eq!(study.record_type, "STUDY", "under {root_type}");
                for series in &study.children {
                    assert_eq!(series.record_type, "SERIES", "under STUDY");
                    for image in &series.children {
                        assert_eq!(image.record_type, "IMAGE", "under SERIES");
                        assert!(image.children.is_empty());
                        assert!(image.referenced_file.is_some());
                    }
                }
            }
        }
    }

    /// Depth-first (depth, type, ids, file relative to the DICOMDIR) of every record.
    fn signature(directory: &Directory) -> Vec<String> {
        fn visit(record: &DirectoryRecord, depth: usize, folder: &Path, out: &mut Vec<String>) {
            let file = record
                .referenced_file
                .as_deref()
                .and_then(|file| file.strip_prefix(folder).ok());
            out.push(format!(
                "{depth} {} {:?} {:?} {:?} {:?} {:?} {file:?}",
                record.record_type,
                record.patient_id,
                record.study_instance_uid,
                record.series_instance_uid,
                record.series_number,
                record.modality,
            ));
            for child in &record.children {
                visit(child, depth + 1, folder, out);
            }
        }
        let folder = directory.path.parent().expect("a folder");
        let mut out = Vec::new();
        for root in &directory.roots {
            visit(root, 0, folder, &mut out);
        }
        out
    }

    #[test]
    fn variants_have_the_expected_counts_and_shape() {
        for name in SAME_TREE {
            let directory = read(name);
            assert_eq!(counts(&directory), [2, 6, 13, 31], "{name}");
            assert_eq!(directory.roots.len(), 2, "{name}");
            assert_shape(&directory, "PATIENT");
        }
    }

    #[test]
    fn variants_give_the_same_tree_as_the_plain_file() {
        let plain = signature(&read("DICOMDIR"));
        assert_eq!(plain.len(), 52);
        for name in SAME_TREE {
            assert_eq!(signature(&read(name)), plain, "{name}");
        }
    }

    #[test]
    fn reordered_records_follow_offsets_not_sequence_order() {
        let directory = read("DICOMDIR-reordered");
        let first = &directory.roots[0];
        assert_eq!(first.patient_id.as_deref(), Some("77654033"));
        assert_eq!(first.children.len(), 2);
        assert_eq!(first.children[0].children.len(), 3, "series of study 1");
    }

    #[test]
    fn nopatient_keeps_the_invalid_root_type() {
        let directory = read("DICOMDIR-nopatient");
        assert_eq!(directory.roots.len(), 2);
        let root_type = directory.roots[0].record_type.clone();
        assert_eq!(root_type, "UNKNOWN", "as written in the file");
        assert_eq!(directory.count(&root_type), 2);
        assert_eq!(counts(&directory), [0, 6, 13, 31]);
        assert_shape(&directory, &root_type);
        let strip_root_type = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .map(|line| line.replace(&root_type, "PATIENT"))
                .collect()
        };
        assert_eq!(
            strip_root_type(signature(&directory)),
            signature(&read("DICOMDIR"))
        );
    }

    #[test]
    fn tiny_alpha_has_fifty_images_on_disk() {
        let directory = read("TINY_ALPHA/DICOMDIR");
        assert_eq!(counts(&directory), [1, 1, 1, 50]);
        assert_shape(&directory, "PATIENT");
        let files = directory.referenced_files();
        assert_eq!(files.len(), 50);
        assert!(files.iter().all(|file| file.is_file()), "{files:?}");
        assert!(files[0].ends_with("PT000000/ST000000/SE000000/IM000000"));
    }

    #[test]
    fn referenced_files_exist_and_are_depth_first() {
        let directory = read("DICOMDIR");
        let files = directory.referenced_files();
        assert_eq!(files.len(), 31);
        assert!(files.iter().all(|file| file.is_file()), "{files:?}");
        assert_eq!(files[0], data("77654033/CR1/6154"));
        assert!(
            files
                .iter()
                .take(5)
                .all(|file| file.starts_with(data("77654033")))
        );
    }

    #[test]
    fn record_attributes_are_read_without_padding() {
        let directory = read("DICOMDIR-bigEnd");
        let patient = &directory.roots[0];
        assert_eq!(patient.patient_id.as_deref(), Some("77654033"));
        assert!(patient.patient_name.is_some());
        let study = &patient.children[0];
        assert!(
            study
                .study_instance_uid
                .as_deref()
                .is_some_and(|uid| !uid.ends_with('\0'))
        );
        assert!(
            study
                .study_date
                .as_deref()
                .is_some_and(|date| date.len() == 8)
        );
        let series = &study.children[0];
        assert_eq!(series.modality.as_deref(), Some("CR"));
        assert!(series.series_number.is_some());
        assert!(series.series_instance_uid.is_some());
    }

    #[test]
    fn empty_directory_is_not_an_error() {
        let directory = read("DICOMDIR-empty.dcm");
        assert!(directory.roots.is_empty());
        assert!(directory.referenced_files().is_empty());
        assert_eq!(counts(&directory), [0; 4]);
    }

    #[test]
    fn non_dicom_file_is_not_dicom() {
        let result = read_dicomdir(&data("README.txt"));
        assert!(
            matches!(result, Err(DicomError::NotDicom { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let result = read_dicomdir(&data("no-such-DICOMDIR"));
        assert!(matches!(result, Err(DicomError::Io { .. })), "{result:?}");
    }

    #[test]
    fn image_file_is_not_a_directory() {
        let result = read_dicomdir(&data("../CT_small.dcm"));
        match result {
            Err(DicomError::InvalidAttribute { attribute, .. }) => {
                assert_eq!(attribute.tag, (0x0002, 0x0002));
            }
            other => panic!("expected InvalidAttribute, got {other:?}"),
        }
    }

    #[test]
    fn truncated_files_give_errors_or_fall_back_without_panicking() {
        let bytes = std::fs::read(data("DICOMDIR")).expect("DICOMDIR");
        let whole = read("DICOMDIR");
        let named = |directory: &Directory| -> HashSet<PathBuf> {
            directory
                .referenced_files()
                .iter()
                .filter_map(|file| file.strip_prefix(directory.path.parent()?).ok())
                .map(Path::to_path_buf)
                .collect()
        };
        let whole_files = named(&whole);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("DICOMDIR");
        let mut errors = 0;
        for len in [
            0,
            100,
            140,
            400,
            1000,
            5000,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            std::fs::write(&path, &bytes[..len]).expect("write");
            match read_dicomdir(&path) {
                Err(error) => {
                    errors += 1;
                    assert!(
                        error.to_string().contains(&path.display().to_string()),
                        "cut at {len}: the error names the file: {error}"
                    );
                }
                Ok(directory) => {
                    // A fallback may read the records that are whole: fewer, never others.
                    let files = named(&directory);
                    assert!(
                        files.is_subset(&whole_files) && files.len() < whole_files.len(),
                        "cut at {len}: {} of {} files, all of them in the whole file",
                        files.len(),
                        whole_files.len()
                    );
                }
            }
            // A scan of the folder reports the cut file (or the images it names, which
            // are not there) and finds no study.
            let catalog = crate::dicom::Catalog::scan(
                &[dir.path().to_path_buf()],
                &crate::progress::no_progress,
            );
            assert!(catalog.studies.is_empty(), "cut at {len}");
            assert!(
                catalog.skipped.iter().all(|skip| !skip.reason.is_empty()),
                "cut at {len}: {:?}",
                catalog.skipped
            );
            assert!(
                !catalog.skipped.is_empty(),
                "cut at {len}: nothing reported"
            );
        }
        assert!(errors > 0, "the shortest cuts are errors");
    }

    #[test]
    fn missing_record_sequence_is_reported() {
        let meta = dicom_object::FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(MEDIA_STORAGE_DIRECTORY)
            .media_storage_sop_instance_uid("1.2.3.4")
            .transfer_syntax("1.2.840.10008.1.2.1")
            .build()
            .expect("meta");
        let object = InMemDicomObject::new_empty().with_exact_meta(meta);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("DICOMDIR");
        object.write_to_file(&path).expect("write");
        match read_dicomdir(&path) {
            Err(DicomError::MissingAttribute { attribute, .. }) => {
                assert_eq!(attribute.tag, (0x0004, 0x1220));
            }
            other => panic!("expected MissingAttribute, got {other:?}"),
        }
    }

    #[test]
    fn dicomdir_sop_class_ignores_padding() {
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10"));
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10\0"));
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10 "));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.1.3.1"));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.1.3.100"));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.5.1.4.1.1.2"));
    }
}
