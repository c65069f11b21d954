//! The lossy link's far end: the listener inside the namespace hands each connection on
//! to the server on loopback, byte for byte, keeping little in between so that the server
//! feels the lossy leg's pace nearly as if it sent over it itself.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The receive buffer of the connection to the server: what the forwarder may hold of the
/// server's bytes beyond the lossy leg's send buffer.
const UPSTREAM_RECEIVE_BUFFER_BYTES: u32 = 128 * 1024;
/// What each direction copies at a time.
const COPY_BUFFER_BYTES: usize = 16 * 1024;

/// Accepts connections on `listener` (made inside the namespace) and joins each to a new
/// connection to the server `server` names, until the task is aborted (which ends them
/// all); a connection that comes before the server is named is closed.
pub(super) async fn forward(
    listener: std::net::TcpListener,
    server: watch::Receiver<Option<SocketAddr>>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "the lossy link cannot accept connections");
            return;
        }
    };
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => match *server.borrow() {
                    Some(server) => {
                        connections.spawn(join(client, server));
                    }
                    None => tracing::debug!("a connection came before the server was named"),
                },
                Err(error) => {
                    tracing::warn!(%error, "the lossy link stopped accepting connections");
                    return;
                }
            },
            Some(_) = connections.join_next() => {}
        }
    }
}

/// Copies between `client` and a new connection to `server` until either side closes.
async fn join(mut client: TcpStream, server: SocketAddr) {
    let joined = async {
        let socket = TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(UPSTREAM_RECEIVE_BUFFER_BYTES)?;
        let mut upstream = socket.connect(server).await?;
        // Small frames and inputs go at once, as the server's own sockets send them.
        client.set_nodelay(true)?;
        upstream.set_nodelay(true)?;
        tokio::io::copy_bidirectional_with_sizes(
            &mut client,
            &mut upstream,
            COPY_BUFFER_BYTES,
            COPY_BUFFER_BYTES,
        )
        .await
    };
    if let Err(error) = joined.await {
        tracing::debug!(%error, "a connection through the lossy link ended");
    }
}
