//! A loopback HTTP proxy in front of Orthanc for the DICOMweb tests: it forwards every
//! request, except that a request whose URI ends with a text given to
//! [`FaultyProxy::fail_with_500`] is answered 500 (which Orthanc's Lua filter cannot do:
//! it refuses with 403 only); retrievals can be slowed down so that they last long enough
//! to report progress (instances delayed, whole-series answers paced); and whole-series
//! answers can break off after some bytes, as a dropped connection does. Answers are
//! buffered whole from Orthanc (test data), then sent in chunks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// Largest request body forwarded.
const MAX_REQUEST_BYTES: usize = 16 << 20;

/// Size of the chunks answers are sent in.
const CHUNK_BYTES: usize = 64 << 10;

/// What the proxy does besides forwarding.
#[derive(Default)]
struct Faults {
    /// URIs ending with one of these are answered 500.
    fail: Vec<String>,
    /// Delay before each instance retrieval is forwarded, and before each chunk of a
    /// whole-series answer.
    delay: Duration,
    /// Whole-series answers break off after this many bytes.
    break_series_after: Option<usize>,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<Faults>,
}

/// A running proxy; it serves until the test process ends.
pub struct FaultyProxy {
    address: SocketAddr,
    proxy: Arc<Proxy>,
}

impl FaultyProxy {
    /// A proxy on a free loopback port forwarding to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> FaultyProxy {
        hounsfield_tls::provider();
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
            faults: Mutex::default(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("its address");
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        std::thread::Builder::new()
            .name("faulty-proxy".to_string())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the proxy");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    axum::serve(listener, router)
                        .await
                        .expect("the proxy serves");
                });
            })
            .expect("the proxy's thread");
        FaultyProxy { address, proxy }
    }

    /// The DICOMweb base URL through the proxy.
    pub fn dicomweb_url(&self) -> String {
        format!("http://{}/dicom-web", self.address)
    }

    /// Answers 500 from now on to every request whose URI ends with `text` (an
    /// instance's `/instances/UID`, a series' `/series/UID`), as well as those given before.
    pub fn fail_with_500(&self, text: &str) {
        self.faults().fail.push(text.to_string());
    }

    /// Waits `delay` from now on before forwarding each instance retrieval, and before
    /// each 64 KiB of a whole-series answer.
    pub fn slow_retrievals(&self, delay: Duration) {
        self.faults().delay = delay;
    }

    /// Breaks every whole-series answer off after `bytes` from now on.
    pub fn break_series_after(&self, bytes: usize) {
        self.faults().break_series_after = Some(bytes);
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.proxy
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Forwards one request (or fails it, or delays it, as the faults say).
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let uri = request.uri().to_string();
    let whole_series = crate::orthanc::is_series_retrieval(&uri);
    let (fail, delay, break_after) = {
        let faults = proxy.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let fail = faults.fail.iter().any(|text| uri.ends_with(text.as_str()));
        (fail, faults.delay, faults.break_series_after)
    };
    if fail {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, "failed on purpose");
    }
    if uri.contains("/instances/") && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (chunk_delay, break_after) = if whole_series {
        (delay, break_after)
    } else {
        (Duration::ZERO, None)
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return answer(StatusCode::BAD_REQUEST, "request body unreadable");
    };
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return answer(StatusCode::BAD_REQUEST, "unknown method");
    };
    let mut upstream = proxy
        .client
        .request(method, format!("{}{uri}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name.as_str() != "host" {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    let Ok(reply) = upstream.send().await else {
        return answer(StatusCode::BAD_GATEWAY, "upstream unreachable");
    };
    let status = StatusCode::from_u16(reply.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers: Vec<(String, Vec<u8>)> = reply
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "transfer-encoding" | "connection" | "content-length" | "keep-alive"
            )
        })
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect();
    let Ok(bytes) = reply.bytes().await else {
        return answer(StatusCode::BAD_GATEWAY, "upstream answer broke off");
    };
    let mut response = Response::new(chunked(bytes, chunk_delay, break_after));
    *response.status_mut() = status;
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// `bytes` as a body sent in chunks, `delay` before each, breaking off with an error
/// after `break_after` bytes when set.
fn chunked(bytes: axum::body::Bytes, delay: Duration, break_after: Option<usize>) -> Body {
    let end = break_after.map_or(bytes.len(), |limit| limit.min(bytes.len()));
    let broken = end < bytes.len();
    let chunks = futures_util::stream::unfold(0, move |at| {
        let bytes = bytes.clone();
        async move {
            if at >= end {
                return if broken && at == end {
                    Some((Err(std::io::Error::other("broken off on purpose")), at + 1))
                } else {
                    None
                };
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let next = (at + CHUNK_BYTES).min(end);
            Some((Ok(bytes.slice(at..next)), next))
        }
    });
    Body::from_stream(chunks)
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}
