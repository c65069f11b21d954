//! Which files a scan reads: the files under the paths it was given, a DICOMDIR's
//! referenced files in place of the DICOMDIR. The one place a library's folders are
//! walked, with its bounds:
//!
//! - folders nest at most [`MAX_FOLDER_DEPTH`] below the path given, and a walk looks at
//!   no more than [`MAX_WALK_ENTRIES`] entries; the walk keeps a list of folders to
//!   visit, not a recursion, so no nesting can exhaust the stack;
//! - a link is followed only to a regular file inside the path given (never out of the
//!   library, and never to a folder, so no walk loops);
//! - a file reached through several paths (a link, a hard link, a bind mount of a folder
//!   inside the library, two paths given) is read once, under the first of its paths: the
//!   same images twice would stack as a second time point;
//! - an entry that is not a regular file (a named pipe, a socket, a device) is skipped with
//!   its kind, never opened; a file is later opened by [`super::declared::open_checked`],
//!   which checks its kind again on the opened handle.

use std::path::{Path, PathBuf};

use super::dicomdir::read_dicomdir;
use super::skipped::SkippedFile;

/// How deep folders may nest below the path given. Archives and PACS exports nest a
/// handful deep (patient / study / series / file); 32 leaves room for any real layout.
pub const MAX_FOLDER_DEPTH: usize = 32;
/// Most entries (files and folders) one walk looks at: a million is several thousand
/// studies' worth of single-frame files; past it the walk stops with that reason.
pub const MAX_WALK_ENTRIES: usize = 1_000_000;
/// How deep DICOMDIRs may reference further DICOMDIRs (a media export's directory per
/// patient or per disc below the top one): a handful at most on real media.
pub const MAX_DICOMDIR_NESTING: usize = 8;

/// Whether `file` starts as a DICOM Part 10 file does: a 128-byte preamble, then `DICM`
/// (what a DICOM network peer sends; a folder's thumbnails and notes do not).
pub fn starts_as_part10(file: &Path) -> bool {
    let mut head = [0u8; 132];
    std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head[128..] == b"DICM"
}

/// The files under `paths` to read, sorted, each file once however many paths reach it,
/// and what was skipped.
pub fn files_under(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<SkippedFile>) {
    let mut walk = Walk::default();
    for path in paths {
        walk.path_given(path);
    }
    walk.files.sort();
    walk.files.dedup();
    (one_path_a_file(walk.files), walk.skipped)
}

/// `files` (sorted) with each file kept under its first path only: paths that name the
/// same file (one device and inode: a hard link, a bind mount) are one. A path whose file
/// cannot be looked at now is kept; opening it says why.
fn one_path_a_file(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::with_capacity(files.len());
    files
        .into_iter()
        .filter(|file| file_identity(file).is_none_or(|identity| seen.insert(identity)))
        .collect()
}

/// The device and inode of the file at `path`: what names a file whatever path reaches it.
#[cfg(unix)]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|metadata| (metadata.dev(), metadata.ino()))
}

/// Elsewhere, paths alone tell files apart.
#[cfg(not(unix))]
fn file_identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// A walk in progress.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    skipped: Vec<SkippedFile>,
    entries: usize,
}

impl Walk {
    fn skip(&mut self, file: &Path, reason: String) {
        self.skipped.push(SkippedFile {
            file: file.to_path_buf(),
            reason,
        });
    }

    /// Counts one more entry looked at; past [`MAX_WALK_ENTRIES`], says the walk stopped
    /// at `at` and answers true.
    fn past_the_entry_bound(&mut self, at: &Path) -> bool {
        self.entries += 1;
        if self.entries <= MAX_WALK_ENTRIES {
            return false;
        }
        self.skip(
            at,
            format!(
                "the walk stopped here: {MAX_WALK_ENTRIES} entries are the most one scan looks at"
            ),
        );
        true
    }

    /// One path the scan was given: a folder, a DICOMDIR or a file.
    fn path_given(&mut self, path: &Path) {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) => return self.skip(path, format!("cannot read: {error}")),
        };
        if metadata.is_dir() {
            return self.folder(path);
        }
        if !metadata.is_file() {
            return self.skip(path, not_regular(&metadata));
        }
        if is_dicomdir(path) {
            let found = self.files.len();
            self.dicomdir(path);
            if self.files.len() == found
                && let Some(folder) = path.parent()
            {
                // A DICOMDIR that leads to no image (records in a layout it does not
                // describe, files moved): the images beside it are still the study.
                self.skip(
                    path,
                    "it references no image file here: its folder is read instead".to_string(),
                );
                self.folder(folder);
            }
            return;
        }
        self.files.push(path.to_path_buf());
    }

    /// The files a DICOMDIR references, each a regular file in the DICOMDIR's folder;
    /// a referenced DICOMDIR (a nested directory file) is followed in its turn, at most
    /// [`MAX_DICOMDIR_NESTING`] deep, each once.
    fn dicomdir(&mut self, path: &Path) {
        let Ok(top) = path.canonicalize() else {
            return self.skip(path, "cannot read".to_string());
        };
        let mut to_read = vec![(path.to_path_buf(), 0usize)];
        let mut read = std::collections::HashSet::from([top]);
        while let Some((path, depth)) = to_read.pop() {
            for nested in self.one_dicomdir(&path) {
                let Ok(real) = nested.canonicalize() else {
                    continue;
                };
                if depth + 1 > MAX_DICOMDIR_NESTING {
                    self.skip(
                        &nested,
                        format!(
                            "DICOMDIRs nest deeper than {MAX_DICOMDIR_NESTING} levels below {}",
                            path.display()
                        ),
                    );
                } else if read.insert(real) {
                    to_read.push((nested, depth + 1));
                }
            }
        }
    }

    /// The image files one DICOMDIR references, kept; the DICOMDIRs it references, to
    /// be read in their turn.
    fn one_dicomdir(&mut self, path: &Path) -> Vec<PathBuf> {
        let directory = match read_dicomdir(path) {
            Ok(directory) => directory,
            Err(error) => {
                self.skip(path, error.reason());
                return Vec::new();
            }
        };
        let folder = path.parent().unwrap_or(Path::new("."));
        let Ok(inside) = folder.canonicalize() else {
            self.skip(path, "its folder cannot be read".to_string());
            return Vec::new();
        };
        let mut nested = Vec::new();
        for file in directory.referenced_files() {
            if self.past_the_entry_bound(path) {
                break;
            }
            match file.canonicalize() {
                Ok(real) if !real.starts_with(&inside) => self.skip(
                    &file,
                    format!("referenced by {} but outside its folder", path.display()),
                ),
                Ok(real) => match std::fs::metadata(&real) {
                    Ok(metadata) if metadata.is_file() && is_dicomdir(&real) => {
                        nested.push(as_given(folder, &inside, &real));
                    }
                    Ok(metadata) if metadata.is_file() => {
                        self.files.push(as_given(folder, &inside, &real));
                    }
                    Ok(metadata) => self.skip(&file, not_regular(&metadata)),
                    Err(error) => self.skip(&file, format!("cannot read: {error}")),
                },
                Err(_) => self.skip(
                    &file,
                    format!("referenced by {} but missing", path.display()),
                ),
            }
        }
        nested
    }

    /// Every file under `root`, folder by folder, within the walk's bounds.
    fn folder(&mut self, root: &Path) {
        let Ok(inside) = root.canonicalize() else {
            return self.skip(root, "cannot read folder".to_string());
        };
        let mut to_visit = vec![(root.to_path_buf(), 0usize)];
        while let Some((folder, depth)) = to_visit.pop() {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(error) => {
                    self.skip(&folder, format!("cannot read folder: {error}"));
                    continue;
                }
            };
            for entry in entries.flatten() {
                if self.past_the_entry_bound(&folder) {
                    return;
                }
                let path = entry.path();
                if path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
                {
                    continue;
                }
                let kind = match entry.file_type() {
                    Ok(kind) => kind,
                    Err(error) => {
                        self.skip(&path, format!("cannot read: {error}"));
                        continue;
                    }
                };
                if kind.is_dir() {
                    if depth + 1 > MAX_FOLDER_DEPTH {
                        self.skip(
                            &path,
                            format!(
                                "folders nest deeper than {MAX_FOLDER_DEPTH} levels below {}",
                                root.display()
                            ),
                        );
                    } else {
                        to_visit.push((path, depth + 1));
                    }
                } else if kind.is_file() {
                    self.files.push(path);
                } else if kind.is_symlink() {
                    self.link(&path, root, &inside);
                } else {
                    self.skip(&path, hounsfield_files::not_regular(kind).to_string());
                }
            }
        }
    }

    /// A link met in a folder: kept (as the file it names) only when it names a regular
    /// file inside the library, `root` (`inside` once resolved).
    fn link(&mut self, link: &Path, root: &Path, inside: &Path) {
        let real = match link.canonicalize() {
            Ok(real) => real,
            Err(error) => return self.skip(link, format!("a broken link: {error}")),
        };
        if !real.starts_with(inside) {
            return self.skip(
                link,
                format!("a link out of the library (to {})", real.display()),
            );
        }
        match std::fs::metadata(&real) {
            Ok(metadata) if metadata.is_file() => self.files.push(as_given(root, inside, &real)),
            Ok(metadata) if metadata.is_dir() => self.skip(
                link,
                "a link to a folder is not followed (the folder is walked where it is)".to_string(),
            ),
            Ok(metadata) => self.skip(link, not_regular(&metadata)),
            Err(error) => self.skip(link, format!("cannot read: {error}")),
        }
    }
}

/// `real`, a resolved path inside `inside` (which `root` resolves to), written under
/// `root` as the scan was given it: the same file found twice is one path.
fn as_given(root: &Path, inside: &Path, real: &Path) -> PathBuf {
    real.strip_prefix(inside)
        .map_or_else(|_| real.to_path_buf(), |within| root.join(within))
}

/// Whether the file is named DICOMDIR (any case).
fn is_dicomdir(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("DICOMDIR"))
}

/// Why an entry that is not a regular file is skipped.
fn not_regular(metadata: &std::fs::Metadata) -> String {
    hounsfield_files::not_regular(metadata.file_type()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(skipped: &[SkippedFile]) -> Vec<(String, String)> {
        skipped
            .iter()
            .map(|s| {
                (
                    s.file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    s.reason.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn folders_past_the_depth_bound_are_skipped_and_those_within_it_walked() {
        let library = tempfile::tempdir().expect("a folder");
        let mut deep = library.path().to_path_buf();
        for level in 1..=MAX_FOLDER_DEPTH + 3 {
            deep.push(format!("d{level}"));
            std::fs::create_dir(&deep).expect("made");
            std::fs::write(deep.join(format!("f{level}")), b"x").expect("written");
        }
        let (files, skipped) = files_under(&[library.path().to_path_buf()]);
        assert_eq!(files.len(), MAX_FOLDER_DEPTH, "{files:?}");
        let skipped = reasons(&skipped);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0].0, format!("d{}", MAX_FOLDER_DEPTH + 1));
        assert!(
            skipped[0].1.contains("deeper than 32 levels"),
            "{skipped:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_library_to_folders_and_pipes_are_skipped_with_their_reason() {
        let outside = tempfile::tempdir().expect("a folder");
        std::fs::write(outside.path().join("secret.dcm"), b"x").expect("written");
        let library = tempfile::tempdir().expect("a folder");
        let root = library.path();
        std::fs::create_dir(root.join("series")).expect("made");
        std::fs::write(root.join("series/image.dcm"), b"x").expect("written");
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).expect("linked")
        };
        link(&outside.path().join("secret.dcm"), "out.dcm");
        link(root, "loop");
        link(&root.join("series/image.dcm"), "again.dcm");
        let made = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.dcm"))
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let (files, skipped) = files_under(&[root.to_path_buf()]);
        // The link inside the library names the file already found: one entry.
        assert_eq!(files.len(), 1, "{files:?}");
        let skipped = reasons(&skipped);
        let reason = |name: &str| {
            skipped
                .iter()
                .find(|(file, _)| file == name)
                .map(|(_, reason)| reason.clone())
                .unwrap_or_default()
        };
        assert!(
            reason("out.dcm").contains("out of the library"),
            "{skipped:?}"
        );
        assert!(reason("loop").contains("not followed"), "{skipped:?}");
        assert!(reason("pipe.dcm").contains("a named pipe"), "{skipped:?}");
        assert_eq!(skipped.len(), 3, "{skipped:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_reached_through_two_paths_is_read_once() {
        let library = tempfile::tempdir().expect("a folder");
        let root = library.path();
        std::fs::create_dir(root.join("series")).expect("made");
        std::fs::create_dir(root.join("mirror")).expect("made");
        for name in ["1.dcm", "2.dcm"] {
            std::fs::write(root.join("series").join(name), b"x").expect("written");
            // A hard link: one device and inode under a second path, as a bind mount of
            // the folder would show it.
            std::fs::hard_link(
                root.join("series").join(name),
                root.join("mirror").join(name),
            )
            .expect("linked");
        }
        let (files, skipped) = files_under(&[root.to_path_buf(), root.join("series")]);
        let names: Vec<String> = files
            .iter()
            .map(|file| {
                file.strip_prefix(root)
                    .map(|path| path.display().to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(names, ["mirror/1.dcm", "mirror/2.dcm"], "{files:?}");
        assert!(skipped.is_empty(), "{skipped:?}");
    }

    /// Copies the folder `from` into `to`, folders and files.
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("made");
        for entry in std::fs::read_dir(from).expect("read").flatten() {
            let path = entry.path();
            let target = to.join(entry.file_name());
            if path.is_dir() {
                copy_tree(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copied");
            }
        }
    }

    /// Writes a DICOMDIR at `path` whose one record references `referenced` (its
    /// components, from the DICOMDIR's folder).
    fn write_dicomdir(path: &Path, referenced: &[&str]) {
        use dicom_core::value::{DataSetSequence, PrimitiveValue};
        use dicom_core::{DataElement, VR};
        use dicom_dictionary_std::tags;
        use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

        let mut record = InMemDicomObject::new_empty();
        record.put(DataElement::new(
            tags::OFFSET_OF_THE_NEXT_DIRECTORY_RECORD,
            VR::UL,
            PrimitiveValue::from(0u32),
        ));
        record.put(DataElement::new(
            tags::RECORD_IN_USE_FLAG,
            VR::US,
            PrimitiveValue::from(0xFFFFu16),
        ));
        record.put(DataElement::new(
            tags::OFFSET_OF_REFERENCED_LOWER_LEVEL_DIRECTORY_ENTITY,
            VR::UL,
            PrimitiveValue::from(0u32),
        ));
        record.put(DataElement::new(
            tags::DIRECTORY_RECORD_TYPE,
            VR::CS,
            PrimitiveValue::from("PRIVATE"),
        ));
        record.put(DataElement::new(
            tags::REFERENCED_FILE_ID,
            VR::CS,
            PrimitiveValue::Strs(referenced.iter().map(|part| part.to_string()).collect()),
        ));
        let mut directory = InMemDicomObject::new_empty();
        directory.put(DataElement::new(
            tags::DIRECTORY_RECORD_SEQUENCE,
            VR::SQ,
            DataSetSequence::from(vec![record]),
        ));
        directory
            .with_meta(
                FileMetaTableBuilder::new()
                    .media_storage_sop_class_uid("1.2.840.10008.1.3.10")
                    .media_storage_sop_instance_uid("2.25.4711")
                    .transfer_syntax("1.2.840.10008.1.2.1"),
            )
            .expect("a file meta group")
            .write_to_file(path)
            .expect("written");
    }

    #[test]
    fn a_dicomdir_referencing_another_is_followed_and_one_leading_nowhere_reads_its_folder() {
        let media = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/pydicom-test-files/pydicom/data/test_files/dicomdirtests"
        ));
        let library = tempfile::tempdir().expect("a folder");
        let root = library.path();
        copy_tree(media, &root.join("DISC1"));
        let (inner, _) = files_under(&[root.join("DISC1/DICOMDIR")]);
        assert!(inner.len() > 10, "{inner:?}");
        // A top directory file whose one record references the disc's directory file.
        write_dicomdir(&root.join("DICOMDIR"), &["DISC1", "DICOMDIR"]);
        let (files, skipped) = files_under(&[root.join("DICOMDIR")]);
        assert_eq!(files.len(), inner.len(), "{skipped:?}");
        assert!(
            files
                .iter()
                .all(|file| file.starts_with(root.join("DISC1")))
        );
        // A directory file referencing back up to the top one: outside its folder, not
        // followed (no loop); the top one then leads to no image and its folder is read.
        write_dicomdir(&root.join("DISC1/DICOMDIR"), &["..", "DICOMDIR"]);
        let (files, skipped) = files_under(&[root.join("DICOMDIR")]);
        assert!(files.len() > 10, "its folder read instead: {skipped:?}");
        // A directory file that leads to no image: the images beside it are read.
        write_dicomdir(&root.join("DICOMDIR"), &["NOWHERE", "IMAGE"]);
        let (files, skipped) = files_under(&[root.join("DICOMDIR")]);
        assert!(files.len() > 10, "{files:?}");
        let said = reasons(&skipped);
        assert!(
            said.iter()
                .any(|(_, reason)| reason.contains("its folder is read instead")),
            "{said:?}"
        );
    }
}
