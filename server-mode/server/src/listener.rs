//! Accepting connections, bounded: at most `max_connections` are open at once (more are
//! closed as they arrive, and counted); each is served by hyper's HTTP/1 with a limit on
//! the time a request's headers may take, which also closes idle keep-alive connections,
//! so half-sent requests cannot hold the server's places. A WebSocket upgrade keeps its
//! connection's place ([`ConnectionPlace`]) for as long as it runs. With TLS, the
//! handshake comes first, within the same time limit; a plain HTTP request on the TLS port
//! is answered with a short 400 that says to use `https://`, and closed.
//!
//! axum's own `serve` sets no header time limit and no connection cap, hence this loop
//! over hyper's connection builder.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use hounsfield_tls::ServerTls;

/// How a server accepts connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once (HTTP and WebSocket together); more are closed at once.
    pub max_connections: usize,
    /// Longest time a request's headers may take to arrive, counted from the first read
    /// (or from the end of the previous response on a kept-alive connection).
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 256 connections; 10 s for a request's headers.
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// A connection's place under the cap; a WebSocket handler keeps a clone while it runs.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionPlace(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

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
/// completes, then asks each connection to close and waits until all have. `refused` is
/// told of each connection turned away at the cap.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<ServerTls>,
    refused: impl Fn(SocketAddr) + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let places = Arc::new(Semaphore::new(max));
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
        let Ok(permit) = places.clone().try_acquire_owned() else {
            refused(client);
            drop(stream);
            continue;
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
        let place = ConnectionPlace(Arc::new(permit));
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
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = places.acquire_many(all).await;
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
    /// The TLS handshake (within the header time limit), then HTTP over it; plain HTTP is
    /// told to use `https://`.
    async fn https(self, stream: TcpStream, tls: ServerTls) {
        let client = self.client;
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
        match tokio::time::timeout(self.header_read_timeout, handshake).await {
            Ok(Ok(Some(stream))) => self.http(stream).await,
            Ok(Ok(None)) => {
                tracing::debug!(%client, "plain HTTP on the TLS port: told to use https")
            }
            Ok(Err(error)) => tracing::debug!(%client, %error, "TLS handshake failed"),
            Err(_) => tracing::debug!(%client, "TLS handshake not finished in time"),
        }
    }

    /// HTTP/1 requests (and a WebSocket upgrade) until the client leaves, its headers are
    /// late, or the server closes.
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
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(client));
            request.extensions_mut().insert(place.clone());
            let router = router.clone();
            async move {
                let Ok(response) = router.oneshot(request).await;
                Ok::<_, Infallible>(response)
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
        };
        if let Err(error) = finished {
            tracing::debug!(%client, %error, "connection ended");
        }
    }
}
