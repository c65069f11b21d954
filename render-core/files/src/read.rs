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
    }
}
