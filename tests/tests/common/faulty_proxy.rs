//! A loopback HTTP proxy in front of Orthanc for the DICOMweb tests: it forwards every
//! request, except that a request whose URI contains the text set by
//! [`FaultyProxy::fail_with_500`] is answered 500 (which Orthanc's Lua filter cannot do:
//! it refuses with 403 only), and instance retrievals can be slowed down so that a
//! retrieval lasts long enough to report progress. Answers are buffered whole (test data).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// Largest request body forwarded.
const MAX_REQUEST_BYTES: usize = 16 << 20;

/// What the proxy does besides forwarding.
#[derive(Default)]
struct Faults {
    /// URIs ending with this are answered 500.
    fail: Option<String>,
    /// Delay before each instance retrieval is forwarded.
    instance_delay: Duration,
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
        server_mode::tls::provider();
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

    /// Answers 500 to every request whose URI ends with `text` from now on (an instance's
    /// `/instances/UID`).
    pub fn fail_with_500(&self, text: &str) {
        self.faults().fail = Some(text.to_string());
    }

    /// Waits `delay` before forwarding each instance retrieval from now on.
    pub fn slow_instances(&self, delay: Duration) {
        self.faults().instance_delay = delay;
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
    let (fail, delay) = {
        let faults = proxy.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let fail = faults
            .fail
            .as_deref()
            .is_some_and(|text| uri.ends_with(text));
        (fail, faults.instance_delay)
    };
    if fail {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, "failed on purpose");
    }
    if uri.contains("/instances/") && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
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
    let mut response = Response::new(Body::from(bytes));
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

fn answer(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}
