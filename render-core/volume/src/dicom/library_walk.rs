//! Which files a scan reads: the files under the paths it was given, a DICOMDIR's
//! referenced files in place of the DICOMDIR. The one place a library's folders are
//! walked, with its bounds:
//!
//! - folders nest at most [`MAX_FOLDER_DEPTH`] below the path given, and a walk looks at
//!   no more than [`MAX_WALK_ENTRIES`] entries; the walk keeps a list of folders to
//!   visit, not a recursion, so no nesting can exhaust the stack;
//! - a link is followed only to a regular file inside the path given (never out of the
//!   library, and never to a folder, so no walk loops);
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

/// The files under `paths` to read, sorted and without repeats, and what was skipped.
pub fn files_under(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<SkippedFile>) {
    let mut walk = Walk::default();
    for path in paths {
        walk.path_given(path);
    }
    walk.files.sort();
    walk.files.dedup();
    (walk.files, walk.skipped)
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
            return self.dicomdir(path);
        }
        self.files.push(path.to_path_buf());
    }

    /// The files a DICOMDIR references, each a regular file in the DICOMDIR's folder.
    fn dicomdir(&mut self, path: &Path) {
        let directory = match read_dicomdir(path) {
            Ok(directory) => directory,
            Err(error) => return self.skip(path, error.reason()),
        };
        let folder = path.parent().unwrap_or(Path::new("."));
        let Ok(inside) = folder.canonicalize() else {
            return self.skip(path, "its folder cannot be read".to_string());
        };
        for file in directory.referenced_files() {
            match file.canonicalize() {
                Ok(real) if !real.starts_with(&inside) => self.skip(
                    &file,
                    format!("referenced by {} but outside its folder", path.display()),
                ),
                Ok(real) => match std::fs::metadata(&real) {
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
                self.entries += 1;
                if self.entries > MAX_WALK_ENTRIES {
                    return self.skip(
                        &folder,
                        format!(
                            "the walk stopped here: {MAX_WALK_ENTRIES} entries are the most one scan looks at"
                        ),
                    );
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
}
