//! A file a scan passed over, and why: what the catalogue, the folder walk and the
//! header reads report instead of failing the whole scan.

use std::path::PathBuf;

/// A file that was not catalogued, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub file: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}
