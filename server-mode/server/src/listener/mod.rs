//! Accepting connections, bounded: at most `max_connections` are open at once, and at most
//! `max_connections_per_address` from one address (trusted proxies excepted); when every
//! place is taken, a newcomer takes the place of a connection that has not proven itself
//! ([`places`]), else it is closed as it arrives, and counted. Each is served by hyper's
//! HTTP/1 with a limit on the time a request's headers may take, which also closes idle
//! keep-alive connections, so half-sent requests cannot hold the server's places. A
//! WebSocket upgrade keeps its connection's place ([`ConnectionPlace`]) for as long as it
//! runs. With TLS, the handshake comes first, within the same time limit; a plain HTTP
//! request on the TLS port is answered with a short 400 that says to use `https://`, and
//! closed.
//!
//! axum's own `serve` sets no header time limit and no connection cap, hence this loop
//! over hyper's connection builder.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use hounsfield_tls::ServerTls;

mod answered;
mod places;

use answered::{Answer, Tracked};
pub(crate) use places::Refused;
use places::{Place, PlaceBounds, Places};

/// How a server accepts connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once (HTTP and WebSocket together); more are closed at once.
    pub max_connections: usize,
    /// Connections open at once from one client address (trusted proxies excepted); more
    /// are closed at once.
    pub max_connections_per_address: usize,
    /// Longest time a request's headers may take to arrive, counted from the first read
    /// (or from the end of the previous response on a kept-alive connection).
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 256 connections, 32 from one address; 10 s for a request's headers.
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_connections_per_address: 32,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// A connection's place under the caps; a WebSocket handler keeps a clone while it runs.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionPlace(Arc<Place>);

impl ConnectionPlace {
    /// The connection is a WebSocket that authenticated: a newcomer never takes its place.
    /// False when one already has (the connection is closing).
    pub(crate) fn authenticated(&self) -> bool {
        self.0.authenticated()
    }

    /// Completes when a newcomer takes this place: the connection must close.
    pub(crate) async fn evicted(&self) {
        self.0.evicted().await;
    }
}

/// How long a connection may go without proving itself (a whole request, or a WebSocket's
/// `hello`) before a newcomer may take its place when all are taken: time for a client's
/// fresh connection to send its request.
const UNPROVEN_GRACE: Duration = Duration::from_secs(1);

/// The kernel's send buffer for each connection (Linux doubles it for its bookkeeping):
/// a few interactive frames, or one lossless still, and still 100 Mbit/s at 40 ms of
/// round trip.
const SEND_BUFFER_BYTES: usize = 512 * 1024;

/// After an `accept` error (out of file descriptors, say), how long to wait before trying
/// again, so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The first byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The answer to plain HTTP sent to the TLS port.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nThis server speaks HTTPS only: use https:// (and wss:// for WebSockets).\n";

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown`
/// completes, then asks each connection to close and waits until all have. Connections
/// from `trusted_proxies` have no cap of their own. `refused` is told of each connection
/// turned away at a cap, and why.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    trusted_proxies: Vec<ipnet::IpNet>,
    tls: Option<ServerTls>,
    refused: impl Fn(SocketAddr, Refused) + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let places = Places::new(PlaceBounds {
        max_connections: limits.max_connections,
        max_per_address: limits.max_connections_per_address,
        grace: UNPROVEN_GRACE,
        exempt: trusted_proxies,
    });
    let (closing, closing_seen) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let place = match places.admit(client.ip(), Instant::now()) {
            Ok(place) => ConnectionPlace(Arc::new(place)),
            Err(why) => {
                refused(client, why);
                drop(stream);
                continue;
            }
        };
        // Frames go out as soon as they are written, and no more than a bounded amount
        // waits in the kernel for a client that stopped reading: its writes then block,
        // so it gets no more frames rendered and is dropped by the connection's write
        // timeout, instead of filling megabytes of buffer first.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        if let Err(error) = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER_BYTES)
        {
            tracing::debug!(%error, "the send buffer keeps its size");
        }
        let served = Served {
            client,
            router: router.clone(),
            header_read_timeout: limits.header_read_timeout,
            place,
            closing: closing_seen.clone(),
        };
        match &tls {
            None => tokio::spawn(served.http(stream)),
            Some(tls) => tokio::spawn(served.https(stream, tls.clone())),
        };
    }
    drop(listener);
    let _ = closing.send(true);
    // Every place comes back once its connection (and WebSocket) has closed.
    places.all_returned().await;
}

/// One accepted connection and what serving it needs.
struct Served {
    client: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    place: ConnectionPlace,
    closing: watch::Receiver<bool>,
}

impl Served {
    /// The TLS handshake (within the header time limit, unless a newcomer takes the place
    /// first), then HTTP over it; plain HTTP is told to use `https://`.
    async fn https(self, stream: TcpStream, tls: ServerTls) {
        let client = self.client;
        let place = self.place.clone();
        let handshake = async {
            let mut first = [0u8; 1];
            if stream.peek(&mut first).await? == 1 && first[0] != TLS_HANDSHAKE_RECORD {
                let mut stream = stream;
                stream.write_all(PLAIN_HTTP_ANSWER).await?;
                stream.shutdown().await?;
                return Ok(None);
            }
            tls.acceptor().accept(stream).await.map(Some)
        };
        let handshake = tokio::time::timeout(self.header_read_timeout, handshake);
        let handshaken = tokio::select! {
            handshaken = handshake => handshaken,
            () = place.evicted() => {
                tracing::debug!(%client, "TLS handshake given up for a newcomer");
                return;
            }
        };
        match handshaken {
            Ok(Ok(Some(stream))) => self.http(stream).await,
            Ok(Ok(None)) => {
                tracing::debug!(%client, "plain HTTP on the TLS port: told to use https")
            }
            Ok(Err(error)) => tracing::debug!(%client, %error, "TLS handshake failed"),
            Err(_) => tracing::debug!(%client, "TLS handshake not finished in time"),
        }
    }

    /// HTTP/1 requests (and a WebSocket upgrade) until the client leaves, its headers are
    /// late, a newcomer takes its place while it answers nothing, or the server closes.
    async fn http<I>(self, stream: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            client,
            router,
            header_read_timeout,
            place,
            mut closing,
        } = self;
        let evicted = place.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(client));
            request.extensions_mut().insert(place.clone());
            let answer = Answer::new(place.0.clone());
            let request = request.map(|body| Tracked::request(body, answer.clone()));
            let router = router.clone();
            async move {
                let Ok(response) = router.oneshot(request).await;
                Ok::<_, Infallible>(response.map(|body| Tracked::response(body, answer)))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        tokio::pin!(connection);
        let finished = tokio::select! {
            finished = connection.as_mut() => finished,
            _ = closing.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
            () = evicted.evicted() => {
                tracing::debug!(%client, "connection closed for a newcomer");
                return;
            }
        };
        if let Err(error) = finished {
            tracing::debug!(%client, %error, "connection ended");
        }
    }
}
