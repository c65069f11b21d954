//! DICOM's text values as files hold them: padded to an even length with spaces (or NULs,
//! for UIDs).

/// Strips DICOM's padding (spaces and NULs) from a value.
pub fn trim_value(value: &str) -> &str {
    value.trim_matches(|c: char| c == '\0' || c.is_whitespace())
}
