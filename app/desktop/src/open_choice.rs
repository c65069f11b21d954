//! What the user chose to open: a file, folder or DICOMDIR, and a series in it, whether
//! from the studies panel, a recent study or the PACS tab.

use std::path::PathBuf;

/// A series the user chose to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenChoice {
    /// The file, folder or DICOMDIR.
    pub path: PathBuf,
    /// The series id; none: the largest.
    pub series: Option<String>,
}
