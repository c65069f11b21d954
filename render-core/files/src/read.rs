//! Reading a small file whose size is not trusted (a certificate, a key, the server's
//! users file): opened as a regular file only, and never more than its limit, and one byte to tell it went over, is read
//! into memory, even when the file grows while it is read.

use std::io::Read;
use std::path::Path;

/// Why a small file was not read.
#[derive(Debug)]
pub enum SmallFileError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The file is larger than the limit: its size (as the file system says it now).
    TooLarge(u64),
}

/// The bytes of the file at `path`, if it holds at most `limit` of them.
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, SmallFileError> {
    let file = crate::open_regular(path).map_err(SmallFileError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(SmallFileError::Io)?;
    if bytes.len() as u64 > limit {
        let size = std::fs::metadata(path).map_or(limit.saturating_add(1), |meta| meta.len());
        return Err(SmallFileError::TooLarge(size));
    }
    Ok(bytes)
}

/// The UTF-8 text of the file at `path` if it holds at most `limit` bytes; every failure
/// as an I/O error, one too large saying so of `what` ("a preset file").
pub fn read_text_at_most(path: &Path, limit: u64, what: &str) -> std::io::Result<String> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    let bytes = read_at_most(path, limit).map_err(|error| match error {
        SmallFileError::Io(error) => error,
        SmallFileError::TooLarge(size) => {
            invalid(format!("{size} bytes: {what} is at most {limit}"))
        }
    })?;
    String::from_utf8(bytes).map_err(|error| invalid(format!("{what} must be UTF-8 text: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("small");
        std::fs::write(&path, [7u8; 16]).expect("written");
        assert_eq!(read_at_most(&path, 16).expect("read").len(), 16);
        assert!(matches!(
            read_at_most(&path, 15),
            Err(SmallFileError::TooLarge(16))
        ));
        assert!(matches!(
            read_at_most(&folder.path().join("missing"), 16),
            Err(SmallFileError::Io(_))
        ));
        let refused = read_text_at_most(&path, 15, "a small file").expect_err("too large");
        assert!(
            refused.to_string().contains("a small file is at most 15"),
            "{refused}"
        );
        std::fs::write(&path, [0xFF, 0xFE]).expect("written");
        let refused = read_text_at_most(&path, 16, "a small file").expect_err("not UTF-8");
        assert!(refused.to_string().contains("UTF-8"), "{refused}");
    }
}
