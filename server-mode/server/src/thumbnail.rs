//! `GET /thumbnail/SERIES_ID`: a small JPEG of a series' middle image for the web client's
//! study browser, behind the same authentication as `/ws` (a token as
//! `Authorization: Bearer` or `?token=`, or the login cookie) and only of series the user
//! may open. Thumbnails are decoded off the async threads, a few at once (more waiting
//! in a short queue, past it 503), never through the volume cache, and kept in a small
//! cache bounded in count and bytes, least recently used out first.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lru::LruCache;
use tokio::sync::Semaphore;

use crate::audit::Refusal;
use crate::http::{App, TokenQuery, refuse_user, request_token};
use crate::library::LibraryError;
use crate::login::token_or_cookie_identity;

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
/// How long a browser may keep a thumbnail (seconds): a series' images do not change
/// while it keeps its id.
const MAX_AGE_S: u64 = 3600;

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

/// `GET /thumbnail/{id}`: 200 with a JPEG, 401 without a valid token or login, 403 for a
/// series the user may not open, 404 for an id the library does not list (or a series
/// without a thumbnail), 503 while too many are being made.
pub(crate) async fn thumbnail(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = request_token(Some(&query), &headers);
    let identity = match token_or_cookie_identity(&app, client, token, &headers, "for /thumbnail") {
        Ok(identity) => identity,
        Err(refused) => return *refused,
    };
    if !app.may_open(&identity, &id) {
        refuse_user(
            &app,
            client,
            Some(&identity),
            Refusal::Forbidden,
            "/thumbnail of a series the user may not open",
        );
        return (
            StatusCode::FORBIDDEN,
            "a viewer sees thumbnails only of what it may open\n",
        )
            .into_response();
    }
    let thumbnails = &app.thumbnails;
    if let Some(jpeg) = thumbnails.lock_cache().get(&id) {
        return jpeg_response(jpeg);
    }
    if thumbnails.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
        thumbnails.waiting.fetch_sub(1, Ordering::AcqRel);
        return busy();
    }
    let waiting = Waiting(&thumbnails.waiting);
    let permit =
        match tokio::time::timeout(MAX_WAIT, thumbnails.decodes.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return busy(),
        };
    drop(waiting);
    // Another request may have made it meanwhile.
    if let Some(jpeg) = thumbnails.lock_cache().get(&id) {
        return jpeg_response(jpeg);
    }
    let library = app.library.clone();
    let series = id.clone();
    let made = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let image = library.thumbnail(&series, THUMBNAIL_SIDE)?;
        encode_grey_jpeg(&image).ok_or(LibraryError::NoThumbnail(series))
    })
    .await;
    match made {
        Ok(Ok(jpeg)) => {
            let jpeg: Arc<[u8]> = jpeg.into();
            thumbnails.lock_cache().insert(&id, jpeg.clone());
            jpeg_response(jpeg)
        }
        Ok(Err(LibraryError::UnknownSeries(_))) => {
            (StatusCode::NOT_FOUND, "no such series\n").into_response()
        }
        Ok(Err(error)) => (StatusCode::NOT_FOUND, format!("{error}\n")).into_response(),
        Err(error) => {
            tracing::error!(%error, "the thumbnail task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "no thumbnail\n").into_response()
        }
    }
}

/// 503: too many thumbnails being made; the browser may ask again in a second.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "busy making thumbnails; try again shortly\n",
    )
        .into_response()
}

/// 200 with `jpeg`, private to the user's browser for a while.
fn jpeg_response(jpeg: Arc<[u8]>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg".to_string()),
            (
                header::CACHE_CONTROL,
                format!("private, max-age={MAX_AGE_S}"),
            ),
        ],
        jpeg.to_vec(),
    )
        .into_response()
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
