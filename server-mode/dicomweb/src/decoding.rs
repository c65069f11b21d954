//! A series decoded while it arrives: each instance that lands in the cache (or is there
//! already) is handed to the decoding threads at once, so that decoding, the longest part
//! of a load, overlaps the wait for the network instead of following it.

use std::path::Path;

use std::time::Instant;

use hounsfield_volume::dicom::{Catalog, PreDecoded};
use hounsfield_volume::progress::no_progress;

use super::cache::{RetrievalProgress, SeriesCache};
use super::{DicomWeb, PacsError};

/// A series retrieved from a PACS into the cache, catalogued and decoded as it arrived:
/// what the command line, the desktop and the server's library load alike.
pub struct ArrivedSeries {
    /// The catalog of its cached instances, where the series has the same id as from
    /// files.
    pub catalog: Catalog,
    /// One line per instance the PACS did not deliver (after the retries), naming its URL
    /// and why: the series is loaded without them, the gap reported by the loader.
    pub missing: Vec<String>,
    /// Instances the PACS listed for the series.
    pub expected: usize,
    /// Its instances decoded while they arrived, for the load to take.
    pub decoded: PreDecoded,
    /// When its first instance was on disk.
    pub first_arrival: Option<Instant>,
}

/// Retrieves series `series_uid` of study `study_uid` into `cache` as
/// [`SeriesCache::retrieve_available`] does, decoding each instance as it arrives into
/// frames of at most `max_bytes` in all, and catalogues it once every arrived instance is
/// decoded. A decoder that panics on an instance leaves it to the loader (which reports
/// it). An error when no instance arrived.
pub fn retrieve_series(
    cache: &SeriesCache,
    source: &DicomWeb,
    (study_uid, series_uid): (&str, &str),
    progress: RetrievalProgress<'_>,
    max_bytes: u64,
) -> Result<ArrivedSeries, PacsError> {
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
    let expected = retrieved.instances + retrieved.failed.len();
    let missing = retrieved
        .failed
        .iter()
        .map(|error| format!("an instance of {expected} not retrieved, left out: {error}"))
        .collect();
    Ok(ArrivedSeries {
        catalog: Catalog::scan(&[retrieved.folder], &no_progress),
        missing,
        expected,
        decoded: ahead,
        first_arrival: retrieved.first_arrival,
    })
}
