//! What a library says of its series to clients: ids checked before use, and reasons and
//! paths that never name a folder.

use std::path::Path;

use hounsfield_protocol::SeriesInfo;

use super::MAX_ID_LEN;

/// The path a series' thumbnail is served at.
pub fn thumbnail_path(id: &str) -> String {
    format!("/thumbnail/{id}")
}

/// The modalities of `series`, each once, in their order.
pub fn modalities_of(series: &[SeriesInfo]) -> Vec<String> {
    let mut modalities: Vec<String> = Vec::new();
    for modality in series.iter().map(|s| &s.modality) {
        if !modality.is_empty() && !modalities.contains(modality) {
            modalities.push(modality.clone());
        }
    }
    modalities
}

/// A reason with every image's full path cut to its file name: folder names often hold
/// patients' names, and clients are never told the server's paths.
pub(super) fn without_paths(
    reason: &str,
    images: &[render_core::dicom::header::ImageHeader],
) -> String {
    without_file_paths(reason, images.iter().map(|image| image.file.as_path()))
}

/// [`without_paths`] over bare paths.
pub(super) fn without_file_paths<'a>(
    reason: &str,
    files: impl IntoIterator<Item = &'a Path>,
) -> String {
    let mut text = reason.to_string();
    for file in files {
        let path = file.display().to_string();
        if text.contains(&path) {
            let name = file.file_name().map_or_else(
                || "a file".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            text = text.replace(&path, &name);
        }
    }
    text
}

/// Whether `id` has the shape of a catalog id (UID characters and a part suffix): paths,
/// empty and overlong strings are refused before any lookup.
pub(super) fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !id.contains("..")
}

/// An id cut short and stripped of control characters, safe to echo in a message.
pub(super) fn printable(id: &str) -> String {
    id.chars()
        .filter(|c| !c.is_control())
        .take(MAX_ID_LEN)
        .collect()
}
