//! A series decoded while it arrives: each instance that lands in the cache (or is there
//! already) is handed to the decoding threads at once, so that decoding, the longest part
//! of a load, overlaps the wait for the network instead of following it.

use std::path::Path;

use render_core::dicom::PreDecoded;

use super::cache::{RetrievalProgress, Retrieved, SeriesCache};
use super::{DicomWeb, PacsError};

/// Retrieves series `series_uid` of study `study_uid` into `cache` as
/// [`SeriesCache::retrieve_available`] does, decoding each instance as it arrives into
/// frames of at most `max_bytes` in all; returns once every arrived instance is decoded.
/// A decoder that panics on an instance leaves it to the loader (which reports it).
pub fn retrieve_decoding(
    cache: &SeriesCache,
    source: &DicomWeb,
    (study_uid, series_uid): (&str, &str),
    progress: RetrievalProgress<'_>,
    max_bytes: u64,
) -> Result<(Retrieved, PreDecoded), PacsError> {
    let ahead = PreDecoded::new(max_bytes);
    let retrieved = rayon::in_place_scope(|scope| {
        let ahead = &ahead;
        let arrival = |file: &Path| {
            let file = file.to_path_buf();
            scope.spawn(move |_| {
                let decoded =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ahead.decode(&file)));
                if decoded.is_err() {
                    tracing::warn!(file = %file.display(), "decoding ahead panicked; left to the loader");
                }
            });
        };
        cache.retrieve_arriving(source, study_uid, series_uid, progress, &arrival)
    })?;
    Ok((retrieved, ahead))
}
