//! Writing a file whole: a temporary file in the target's folder (so the rename stays on
//! one file system), given its permissions first, written and flushed to disk, then
//! persisted over the target. Two writers at once each have a temporary file of their
//! own; the last rename wins.

use std::io::Write;
use std::path::Path;

/// Who may read the file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    /// Its owner alone (`0600`): keys, tokens, settings that hold them.
    OwnerOnly,
    /// Everyone may read it, its owner alone write it (`0644`): certificates.
    WorldReadable,
    /// A file that exists keeps its permission bits, owner and group (an administrator's
    /// `root:hounsfield 0640` stays readable by the service); a new one is owner-only.
    KeepExisting,
}

/// Writes `bytes` to `path` whole, with `permissions` from the first byte on.
pub fn write_whole(path: &Path, bytes: &[u8], permissions: Permissions) -> std::io::Result<()> {
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |name| name.to_string_lossy().into_owned());
    // Created owner-only (0600) by tempfile; removed if anything below fails.
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(folder)?;
    set_permissions(temporary.as_file(), path, permissions)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Gives the temporary `file` the permissions the target `path` is to have.
#[cfg(unix)]
fn set_permissions(
    file: &std::fs::File,
    path: &Path,
    permissions: Permissions,
) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = match permissions {
        Permissions::OwnerOnly => 0o600,
        Permissions::WorldReadable => 0o644,
        Permissions::KeepExisting => match std::fs::metadata(path) {
            Ok(existing) => {
                let made = file.metadata()?;
                // Ownership changed only where it differs (that takes root or the owner).
                if (made.uid(), made.gid()) != (existing.uid(), existing.gid()) {
                    std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()))?;
                }
                existing.mode() & 0o777
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0o600,
            Err(error) => return Err(error),
        },
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_permissions(_: &std::fs::File, _: &Path, _: Permissions) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("the file is there")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_file_is_written_whole_with_its_permissions_and_nothing_left_beside_it() {
        let folder = tempfile::tempdir().expect("a folder");
        let key = folder.path().join("key.pem");
        write_whole(&key, b"secret", Permissions::OwnerOnly).expect("written");
        assert_eq!(std::fs::read(&key).expect("read back"), b"secret");
        assert_eq!(mode(&key), 0o600);
        let certificate = folder.path().join("certificate.pem");
        write_whole(&certificate, b"public", Permissions::WorldReadable).expect("written");
        assert_eq!(mode(&certificate), 0o644);
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .expect("listed")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }

    #[test]
    fn an_existing_file_keeps_its_mode_and_a_new_one_is_owner_only() {
        let folder = tempfile::tempdir().expect("a folder");
        let users = folder.path().join("users.toml");
        std::fs::write(&users, "old").expect("written");
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_whole(&users, b"new", Permissions::KeepExisting).expect("rewritten");
        assert_eq!(std::fs::read(&users).expect("read back"), b"new");
        assert_eq!(mode(&users), 0o640);
        let fresh = folder.path().join("fresh.toml");
        write_whole(&fresh, b"first", Permissions::KeepExisting).expect("written");
        assert_eq!(mode(&fresh), 0o600);
    }

    #[test]
    fn writers_at_once_never_share_a_temporary_file() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("settings.toml");
        std::thread::scope(|scope| {
            for n in 0..8u8 {
                let path = &path;
                scope.spawn(move || {
                    let text = vec![b'a' + n; 4096];
                    write_whole(path, &text, Permissions::OwnerOnly).expect("written");
                });
            }
        });
        let text = std::fs::read(&path).expect("read back");
        assert_eq!(text.len(), 4096, "one writer's file, whole");
        assert!(
            text.iter().all(|&byte| byte == text[0]),
            "not a mix of two writers"
        );
    }

    #[test]
    fn a_write_that_cannot_replace_its_target_leaves_it_and_no_temporary_file() {
        let folder = tempfile::tempdir().expect("a folder");
        // A folder where the file should be: the rename over it fails.
        let path = folder.path().join("settings.toml");
        std::fs::create_dir(&path).expect("a folder in the way");
        std::fs::write(path.join("kept"), "kept").expect("written");
        assert!(write_whole(&path, b"new", Permissions::OwnerOnly).is_err());
        assert_eq!(
            std::fs::read(path.join("kept")).expect("still there"),
            b"kept"
        );
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .expect("listed")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }
}
