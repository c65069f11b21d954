//! Thumbnails of series for the web client's study browser: a small JPEG of a series'
//! middle image, decoded off the async threads, a few at once (more waiting in a short
//! queue, past it busy), never through the volume cache, and kept in a small cache bounded
//! in count and bytes, least recently used out first. `GET /thumbnail/SERIES_ID` serves
//! them ([`handler`]).

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use lru::LruCache;
use tokio::sync::Semaphore;

use crate::library::{Library, LibraryError};

/// Longest side of a thumbnail (pixels).
pub const THUMBNAIL_SIDE: usize = 128;
/// JPEG quality of thumbnails.
const JPEG_QUALITY: u8 = 85;
/// Thumbnails decoded at once.
const DECODES_AT_ONCE: usize = 2;
/// Requests that may wait for a decode; more are told 503.
const MAX_WAITING: usize = 64;
/// How long a request waits for a decode before it is told 503.
const MAX_WAIT: Duration = Duration::from_secs(15);
/// Thumbnails the cache keeps at most.
const CACHE_ENTRIES: NonZeroUsize = NonZeroUsize::new(2048).expect("not zero");
/// Bytes of JPEG the cache keeps at most.
const CACHE_BYTES: usize = 16 << 20;

/// The thumbnails served: the cache and the bound on decodes.
pub(crate) struct Thumbnails {
    cache: Mutex<ThumbnailCache>,
    decodes: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Default for Thumbnails {
    fn default() -> Self {
        Self {
            cache: Mutex::new(ThumbnailCache::new(CACHE_ENTRIES, CACHE_BYTES)),
            decodes: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl Thumbnails {
    fn lock_cache(&self) -> MutexGuard<'_, ThumbnailCache> {
        // The cache is consistent between statements.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Counts a request waiting for a decode while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why no thumbnail came.
#[derive(Debug)]
pub(crate) enum ThumbnailError {
    /// Too many are being made; ask again shortly.
    Busy,
    /// The library lists no series of that id.
    UnknownSeries,
    /// The series has no thumbnail to show (why).
    NotMade(String),
    /// The decoding task failed (a bug; the log says why).
    TaskFailed,
}

impl Thumbnails {
    /// The thumbnail of series `id` as a JPEG: from the cache, or decoded off the async
    /// threads (a few at once, a short queue waiting, past it [`ThumbnailError::Busy`])
    /// and kept.
    pub(crate) async fn jpeg(
        &self,
        library: &Arc<Library>,
        id: &str,
    ) -> Result<Arc<[u8]>, ThumbnailError> {
        if let Some(jpeg) = self.lock_cache().get(id) {
            return Ok(jpeg);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ThumbnailError::Busy);
        }
        let waiting = Waiting(&self.waiting);
        let permit =
            match tokio::time::timeout(MAX_WAIT, self.decodes.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Err(ThumbnailError::Busy),
            };
        drop(waiting);
        // Another request may have made it meanwhile.
        if let Some(jpeg) = self.lock_cache().get(id) {
            return Ok(jpeg);
        }
        let library = library.clone();
        let series = id.to_string();
        let made = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let image = library.thumbnail(&series, THUMBNAIL_SIDE)?;
            encode_grey_jpeg(&image).ok_or(LibraryError::NoThumbnail(series))
        })
        .await;
        match made {
            Ok(Ok(jpeg)) => {
                let jpeg: Arc<[u8]> = jpeg.into();
                self.lock_cache().insert(id, jpeg.clone());
                Ok(jpeg)
            }
            Ok(Err(LibraryError::UnknownSeries(_))) => Err(ThumbnailError::UnknownSeries),
            Ok(Err(error)) => Err(ThumbnailError::NotMade(error.to_string())),
            Err(error) => {
                tracing::error!(%error, "the thumbnail task failed");
                Err(ThumbnailError::TaskFailed)
            }
        }
    }
}

/// A grey picture as a JPEG; `None` when it is empty or too large for JPEG.
fn encode_grey_jpeg(image: &render_core::dicom::thumbnail::GreyImage) -> Option<Vec<u8>> {
    let width = u16::try_from(image.width).ok().filter(|w| *w > 0)?;
    let height = u16::try_from(image.height).ok().filter(|h| *h > 0)?;
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY)
        .encode(&image.pixels, width, height, jpeg_encoder::ColorType::Luma)
        .ok()?;
    Some(out)
}

/// Encoded thumbnails by series id, bounded in count and bytes, least recently used out.
struct ThumbnailCache {
    max_bytes: usize,
    bytes: usize,
    /// At most its capacity (the bound in count); `bytes` sums its JPEGs.
    entries: LruCache<String, Arc<[u8]>>,
}

impl ThumbnailCache {
    fn new(max_entries: NonZeroUsize, max_bytes: usize) -> Self {
        Self {
            max_bytes,
            bytes: 0,
            entries: LruCache::new(max_entries),
        }
    }

    /// The thumbnail of `id`, made the most recently used.
    fn get(&mut self, id: &str) -> Option<Arc<[u8]>> {
        self.entries.get(id).cloned()
    }

    /// Keeps `jpeg` under `id`, evicting the least recently used until both bounds hold.
    fn insert(&mut self, id: &str, jpeg: Arc<[u8]>) {
        if jpeg.len() > self.max_bytes {
            return;
        }
        self.bytes += jpeg.len();
        // What `push` gives back is the old thumbnail of `id`, or the one evicted to keep
        // the bound in count.
        if let Some((_, old)) = self.entries.push(id.to_string(), jpeg) {
            self.bytes -= old.len();
        }
        while self.bytes > self.max_bytes {
            let Some((_, evicted)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= evicted.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_its_bounds_and_evicts_the_least_recently_used() {
        let mut cache = ThumbnailCache::new(NonZeroUsize::new(2).expect("not zero"), 100);
        cache.insert("a", vec![0; 10].into());
        cache.insert("b", vec![0; 10].into());
        assert!(cache.get("a").is_some(), "a is now the newer");
        cache.insert("c", vec![0; 10].into());
        assert!(cache.get("b").is_none(), "b was the oldest");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        cache.insert("d", vec![0; 95].into());
        assert_eq!(cache.entries.len(), 1, "bytes bound: only d fits");
        assert_eq!(cache.bytes, 95);
        cache.insert("huge", vec![0; 101].into());
        assert!(cache.get("huge").is_none(), "larger than the whole cache");
    }

    #[test]
    fn grey_pictures_encode_as_jpegs_of_their_size() {
        let image = render_core::dicom::thumbnail::GreyImage {
            width: 20,
            height: 10,
            pixels: (0..200).map(|n| n as u8).collect(),
        };
        let jpeg = encode_grey_jpeg(&image).expect("encodes");
        let back = image::load_from_memory(&jpeg).expect("a JPEG");
        assert_eq!((back.width(), back.height()), (20, 10));
        let empty = render_core::dicom::thumbnail::GreyImage {
            width: 0,
            height: 0,
            pixels: Vec::new(),
        };
        assert!(encode_grey_jpeg(&empty).is_none());
    }
}
