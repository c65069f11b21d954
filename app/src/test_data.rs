//! Where the unit tests find the shared DICOM data.

use std::path::PathBuf;

/// `relative` under the shared DICOM data beside the checkout (or `$HOUNSFIELD_DATA`).
pub fn data(relative: &str) -> PathBuf {
    std::env::var_os("HOUNSFIELD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join(relative)
}
