//! A server run in the background of another program (the desktop's shared session, the
//! streaming benchmark, tests): a named thread with an async runtime of its own binds the
//! server, reports the address it got (or why it could not bind) and serves until it is
//! stopped. The handle stops it, and waits for the thread, when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::config::{ServerConfig, ServerError};
use crate::http::Server;
use crate::library::Library;
use crate::metrics::Metrics;
use crate::scheduler::Scheduler;

/// Threads of the server's async runtime (sockets and sessions; rendering has its own).
const RUNTIME_THREADS: usize = 2;
/// How long a stopped server may take to close its connections before it is left behind.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A server serving on a thread of its own until stopped (or dropped).
pub struct BackgroundServer {
    address: SocketAddr,
    /// It serves TLS (`wss`).
    tls: bool,
    metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServerError>>>,
}

impl BackgroundServer {
    /// Starts a thread called `name` that binds a server with `config` on `library` and
    /// `scheduler` and serves; returns once it listens, or with the error that kept it from
    /// listening.
    pub fn start(
        name: &str,
        config: ServerConfig,
        library: Arc<Library>,
        scheduler: Arc<Scheduler>,
    ) -> Result<Self, ServerError> {
        let tls = config.tls.is_some();
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound_tx, bound_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name(name.to_string()).spawn({
            let runtime_name = name.to_string();
            move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(RUNTIME_THREADS)
                    .thread_name(runtime_name)
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = bound_tx.send(Err(ServerError::Io(error)));
                        return Ok(());
                    }
                };
                runtime.block_on(serve(config, library, scheduler, bound_tx, stopped))
            }
        })?;
        let bound = bound_rx.recv().unwrap_or_else(|_| {
            Err(ServerError::Io(std::io::Error::other(
                "the server's thread ended before it listened",
            )))
        });
        match bound {
            Ok((address, metrics)) => Ok(Self {
                address,
                tls,
                metrics,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Err(error) => {
                let _ = thread.join();
                Err(error)
            }
        }
    }

    /// The address it listens on (with the port chosen when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The WebSocket address of protocol v1 on it: `ws://address/ws` (`wss` with TLS).
    pub fn websocket_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}/ws", self.address)
    }

    /// The server's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Stops serving (open sessions are closed, given [`STOP_GRACE`] to go), waits for the
    /// thread, and says whether serving ended with an error.
    pub fn stop(mut self) -> Result<(), ServerError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(served)) => served,
            Some(Err(_)) => Err(ServerError::Io(std::io::Error::other(
                "the server's thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Err(error) = self.stop_and_join() {
            tracing::warn!(%error, address = %self.address, "the background server stopped");
        }
    }
}

/// The thread's work: bind, report, serve until `stopped` (or its sender is dropped), then
/// give open connections [`STOP_GRACE`] to close.
async fn serve(
    config: ServerConfig,
    library: Arc<Library>,
    scheduler: Arc<Scheduler>,
    bound: std::sync::mpsc::SyncSender<Result<(SocketAddr, Arc<Metrics>), ServerError>>,
    stopped: oneshot::Receiver<()>,
) -> Result<(), ServerError> {
    let server = match Server::bind(config, library, scheduler).await {
        Ok(server) => server,
        Err(error) => {
            let _ = bound.send(Err(error));
            return Ok(());
        }
    };
    let address = match server.local_addr() {
        Ok(address) => address,
        Err(error) => {
            let _ = bound.send(Err(error));
            return Ok(());
        }
    };
    let _ = bound.send(Ok((address, server.metrics())));
    let (stopping_tx, stopping) = oneshot::channel::<()>();
    let serving = server.run(async move {
        // A dropped sender stops the server too.
        let _ = stopped.await;
        let _ = stopping_tx.send(());
    });
    tokio::pin!(serving);
    tokio::select! {
        biased;
        served = &mut serving => served,
        () = async {
            if stopping.await.is_ok() {
                tokio::time::sleep(STOP_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => Ok(()),
    }
}
