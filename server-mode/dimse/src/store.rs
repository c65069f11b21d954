//! The folder received instances are stored in: each streamed to a file of its own as it
//! arrives (`.incoming/`), within [`MOST_INSTANCE_BYTES`] and the folder's limit, then put
//! in place whole by a rename as `STUDY/SERIES/SOP.dcm`, unless that SOP instance is
//! stored already. The data set is written as it came, behind a file meta group of ours.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, OpenFileOptions};
use tempfile::NamedTempFile;

use crate::command::Status;

/// The most bytes one instance may take (a large enhanced multi-frame series fits).
pub const MOST_INSTANCE_BYTES: u64 = 4 << 30;
/// The longest UID (PS3.5 §9).
const MOST_UID_CHARS: usize = 64;
/// Where instances stream while they arrive (a name the catalogue walk passes over).
const INCOMING: &str = ".incoming";
/// This implementation's class UID in the file meta groups it writes.
const IMPLEMENTATION_CLASS_UID: &str = "2.25.330116860247072004666795914149352892713";

/// Whether `text` is a UID: digits and single dots, at most 64 characters, neither
/// starting nor ending with a dot. Such a text names a file or folder safely.
pub fn is_uid(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MOST_UID_CHARS
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !text.starts_with('.')
        && !text.ends_with('.')
        && !text.contains("..")
}

/// The folder received instances are stored in, and how much it may hold.
#[derive(Debug)]
pub struct StoreFolder {
    root: PathBuf,
    most_bytes: u64,
    used: AtomicU64,
}

impl StoreFolder {
    /// The folder `root` (made if missing), holding at most `most_bytes` of instances
    /// (those already in it counted now).
    pub fn open(root: &Path, most_bytes: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join(INCOMING))?;
        // What an earlier run left half received goes.
        for entry in std::fs::read_dir(root.join(INCOMING))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        Ok(Self {
            root: root.to_path_buf(),
            most_bytes,
            used: AtomicU64::new(bytes_under(root)),
        })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes of instances it holds.
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Starts an instance of `sop_class`/`sop_instance` in `transfer_syntax` from
    /// `calling_ae`: its file meta group written, its data set to follow.
    pub(crate) fn begin(
        &self,
        sop_class: &str,
        sop_instance: &str,
        transfer_syntax: &str,
        calling_ae: &str,
    ) -> Result<Incoming, Status> {
        if !is_uid(sop_instance) || !is_uid(sop_class) {
            return Err(Status::CannotUnderstand);
        }
        let meta = FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(sop_class)
            .media_storage_sop_instance_uid(sop_instance)
            .transfer_syntax(transfer_syntax)
            .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
            .implementation_version_name("HOUNSFIELD")
            .source_application_entity_title(calling_ae)
            .build()
            .map_err(|_| Status::CannotUnderstand)?;
        let mut head = vec![0u8; 128];
        head.extend_from_slice(b"DICM");
        meta.write(&mut head)
            .map_err(|_| Status::CannotUnderstand)?;
        // A file of its own, removed when dropped: an association that ends mid-instance
        // leaves nothing behind.
        let file = tempfile::Builder::new()
            .suffix(".part")
            .tempfile_in(self.root.join(INCOMING))
            .map_err(|_| Status::OutOfResources)?;
        let mut incoming = Incoming {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            sop_instance: sop_instance.to_string(),
            bytes: 0,
            refused: None,
        };
        // The meta group counts as the rest does: the store's bytes are its files' sizes.
        incoming.write(self, &head);
        Ok(incoming)
    }

    /// Puts `incoming`, whole, in its place: what was stored, or the status refusing it.
    pub(crate) fn finish(&self, incoming: Incoming) -> Result<Stored, Status> {
        if let Some(status) = incoming.refused {
            return Err(status);
        }
        let file = incoming
            .file
            .ok_or(Status::OutOfResources)?
            .into_inner()
            .map_err(|_| Status::OutOfResources)?;
        let stored = self.place(file, &incoming.sop_instance, incoming.bytes)?;
        if !stored.duplicate {
            self.used.fetch_add(stored.bytes, Ordering::Relaxed);
        }
        Ok(stored)
    }

    /// Reads the study and series of the instance received whole (`bytes` in `file`), and
    /// puts it in place unless it is stored already.
    fn place(&self, file: NamedTempFile, sop_instance: &str, bytes: u64) -> Result<Stored, Status> {
        let header = OpenFileOptions::new()
            .read_until(tags::PIXEL_DATA)
            .open_file(file.path())
            .map_err(|_| Status::CannotUnderstand)?;
        let uid = |tag| {
            Some(crate::command::text_of(&header, tag))
                .filter(|s| is_uid(s))
                .ok_or(Status::CannotUnderstand)
        };
        if uid(tags::SOP_INSTANCE_UID)? != sop_instance {
            return Err(Status::DataSetMismatch);
        }
        let (study, series) = (
            uid(tags::STUDY_INSTANCE_UID)?,
            uid(tags::SERIES_INSTANCE_UID)?,
        );
        let folder = self.root.join(&study).join(&series);
        std::fs::create_dir_all(&folder).map_err(|_| Status::OutOfResources)?;
        // Within the folder's filesystem, and never over a file there: the instance appears
        // whole or not at all, and one stored already stays as it was.
        let duplicate = match file.persist_noclobber(folder.join(format!("{sop_instance}.dcm"))) {
            Ok(_) => false,
            Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => true,
            Err(_) => return Err(Status::OutOfResources),
        };
        Ok(Stored {
            study,
            series,
            bytes,
            duplicate,
        })
    }

    /// Whether `more` bytes still fit in the folder.
    fn fits(&self, more: u64) -> bool {
        self.used_bytes().saturating_add(more) <= self.most_bytes
    }
}

/// An instance arriving: its file (removed unless put in place), and how much of it came.
#[derive(Debug)]
pub(crate) struct Incoming {
    file: Option<BufWriter<NamedTempFile>>,
    sop_instance: String,
    bytes: u64,
    /// Set once a bound or a write failed: the rest is read and let go.
    refused: Option<Status>,
}

impl Incoming {
    /// Appends a fragment of the data set, within the instance's and the folder's bounds.
    pub(crate) fn write(&mut self, store: &StoreFolder, fragment: &[u8]) {
        if self.refused.is_some() {
            return;
        }
        self.bytes += fragment.len() as u64;
        if self.bytes > MOST_INSTANCE_BYTES || !store.fits(self.bytes) {
            self.refused = Some(Status::OutOfResources);
            self.file = None;
            return;
        }
        if let Some(file) = &mut self.file
            && file.write_all(fragment).is_err()
        {
            self.refused = Some(Status::OutOfResources);
            self.file = None;
        }
    }
}

/// An instance stored (or found stored already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) study: String,
    pub(crate) series: String,
    pub(crate) bytes: u64,
    pub(crate) duplicate: bool,
}

/// Bytes of the files under `folder`, its subfolders too.
fn bytes_under(folder: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![folder.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(kind) if kind.is_file() => {
                    total += entry.metadata().map_or(0, |m| m.len());
                }
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uids_name_files() {
        for good in ["1.2.840.10008.5.1.4.1.1.2", "2.25.1", "1"] {
            assert!(is_uid(good), "{good}");
        }
        for bad in [
            "",
            "../etc",
            "1..2",
            ".1",
            "1.",
            "1.2/3",
            "1.2a",
            &"1".repeat(65),
        ] {
            assert!(!is_uid(bad), "{bad}");
        }
    }

    #[test]
    fn an_instance_past_the_folders_limit_is_refused_and_leaves_nothing() {
        let folder = tempfile::tempdir().expect("a folder");
        let store = StoreFolder::open(folder.path(), 1000).expect("opened");
        let mut incoming = store
            .begin("1.2.3", "1.2.3.4", "1.2.840.10008.1.2.1", "CT1")
            .expect("begun");
        incoming.write(&store, &[0; 600]);
        incoming.write(&store, &[0; 600]);
        assert_eq!(store.finish(incoming), Err(Status::OutOfResources));
        let left = std::fs::read_dir(folder.path().join(INCOMING))
            .expect("listed")
            .count();
        assert_eq!(left, 0, "no half file stays");
        assert_eq!(store.used_bytes(), 0);
        assert!(matches!(
            store.begin("1.2.3", "../1", "1.2.840.10008.1.2.1", "CT1"),
            Err(Status::CannotUnderstand)
        ));
    }
}
