//! Opening a file whose kind is not trusted: the one way Hounsfield opens a file named
//! by a folder walk, a DICOMDIR, a configuration or a user. A named pipe, a device or a
//! socket would block a plain `open` (a pipe waits for a writer) or a read for good, so
//! the file is opened without blocking and kept only when the opened handle itself says
//! it is a regular file: no window between a check and the open in which it could be
//! swapped.

use std::fs::{File, FileType};
use std::io;
use std::path::Path;

/// Opens `path` for reading when it is a regular file (a link to one is followed); a
/// folder, named pipe, socket or device is refused with an `InvalidInput` error naming
/// its kind, at once.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No wait for a pipe's writer or a device; regular files ignore the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(not_regular(kind))
    }
}

/// The error for an entry of `kind` where a regular file was wanted.
pub fn not_regular(kind: FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file but {}", kind_name(kind)),
    )
}

/// What an entry of the file system is, in words: "a folder", "a named pipe"…
pub fn kind_name(kind: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_char_device() {
            return "a character device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_opens_and_a_folder_is_refused_by_kind() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("file");
        std::fs::write(&path, b"x").expect("written");
        assert!(open_regular(&path).is_ok());
        let refused = open_regular(folder.path()).expect_err("a folder is refused");
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert!(refused.to_string().contains("a folder"), "{refused}");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_without_a_writer_is_refused_at_once() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let pipe = folder.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // A plain open would wait here for a writer that never comes.
        let refused = open_regular(&pipe).expect_err("a pipe is refused");
        assert!(refused.to_string().contains("a named pipe"), "{refused}");
        let char_device = open_regular(Path::new("/dev/zero")).expect_err("a device is refused");
        assert!(
            char_device.to_string().contains("a character device"),
            "{char_device}"
        );
    }
}
