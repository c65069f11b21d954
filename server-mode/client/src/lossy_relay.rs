//! A UDP relay between a client's WebRTC peer and the server that loses a share of the
//! media it carries back, to see what packet loss does to the frames (the loss tests and
//! `bench stream`'s lossy runs). Only RTP and RTCP are lost (the first byte 128–191, as
//! RFC 7983 tells them from STUN and DTLS), so the connection is set up alike every time;
//! which packets are lost follows a seeded generator, so a run can be repeated.
//!
//! A test bench, not the product: built only with the `lossy-relay` feature (the tests and
//! the developer build of `hounsfield`, `--features test-bench`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::UdpSocket;

use crate::webrtc::PeerTask;

/// The largest datagram relayed.
const MAX_DATAGRAM: usize = 2048;

/// A running relay; dropping it stops it.
pub struct LossyRelay {
    client_side: Arc<UdpSocket>,
    /// Told the server's address once it is known.
    server: tokio::sync::watch::Sender<Option<SocketAddr>>,
    lost: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl LossyRelay {
    /// A relay on a free port of `ip` losing `loss` (0 to 1) of the server's media
    /// packets, in an order `seed` decides.
    pub async fn bind(ip: std::net::IpAddr, loss: f64, seed: u64) -> std::io::Result<Self> {
        Self::bind_at(SocketAddr::new(ip, 0), loss, seed).await
    }

    /// [`Self::bind`], the client side at `address` (a server may announce it as its own,
    /// so that a browser's peer goes through the relay).
    pub async fn bind_at(address: SocketAddr, loss: f64, seed: u64) -> std::io::Result<Self> {
        let client_side = Arc::new(UdpSocket::bind(address).await?);
        let server_side = UdpSocket::bind(SocketAddr::new(address.ip(), 0)).await?;
        let (server, server_rx) = tokio::sync::watch::channel(None);
        let lost = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(relay(
            client_side.clone(),
            server_side,
            server_rx,
            Loss {
                share: loss.clamp(0.0, 1.0),
                rng: fastrand::Rng::with_seed(seed),
                lost: lost.clone(),
            },
        ));
        Ok(Self {
            client_side,
            server,
            lost,
            task,
        })
    }

    /// The address the client sends to instead of the server's.
    pub fn address(&self) -> std::io::Result<SocketAddr> {
        self.client_side.local_addr()
    }

    /// Forwards to `server` from now on.
    pub fn forward_to(&self, server: SocketAddr) {
        self.server.send_replace(Some(server));
    }

    /// Media packets lost so far.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which packets are lost.
struct Loss {
    share: f64,
    rng: fastrand::Rng,
    lost: Arc<AtomicU64>,
}

impl Loss {
    /// Whether to lose `datagram` (only media: RTP and RTCP).
    fn loses(&mut self, datagram: &[u8]) -> bool {
        let media = datagram
            .first()
            .is_some_and(|byte| (128..=191).contains(byte));
        let lose = media && self.rng.f64() < self.share;
        if lose {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        lose
    }
}

/// Client → server as it comes; server → client less what `loss` takes. The client is
/// whoever sent last to the client side.
async fn relay(
    client_side: Arc<UdpSocket>,
    server_side: UdpSocket,
    mut server: tokio::sync::watch::Receiver<Option<SocketAddr>>,
    mut loss: Loss,
) {
    let mut client = None;
    let mut from_client = vec![0_u8; MAX_DATAGRAM];
    let mut from_server = vec![0_u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            received = client_side.recv_from(&mut from_client) => {
                let Ok((n, source)) = received else { continue };
                client = Some(source);
                let to = *server.borrow_and_update();
                if let Some(to) = to {
                    // Lost when the socket's buffer is full, as on a network.
                    let _ = server_side.send_to(&from_client[..n], to).await;
                }
            }
            received = server_side.recv_from(&mut from_server) => {
                let Ok((n, _)) = received else { continue };
                if let Some(to) = client
                    && !loss.loses(&from_server[..n])
                {
                    let _ = client_side.send_to(&from_server[..n], to).await;
                }
            }
        }
    }
}

impl PeerTask {
    /// [`PeerTask::negotiate`], the peer reaching the server through `relay` when given
    /// (the server's candidate in the answer is replaced by the relay's address).
    pub async fn negotiate_through(
        client: &mut crate::Client,
        relay: Option<&LossyRelay>,
    ) -> Result<Self, crate::ClientError> {
        let Some(relay) = relay else {
            return Self::negotiate(client).await;
        };
        let relay_address = relay
            .address()
            .map_err(|error| crate::ClientError::Protocol(format!("WebRTC: {error}")))?;
        Self::negotiate_with(client, |answer| {
            let (through, server) = through_relay(&answer, relay_address)
                .ok_or_else(|| "the answer has no host candidate".to_string())?;
            relay.forward_to(server);
            Ok(through)
        })
        .await
    }
}

/// `answer` with its host candidate's address replaced by `relay`, and that address.
fn through_relay(answer: &str, relay: SocketAddr) -> Option<(String, SocketAddr)> {
    let mut server = None;
    let lines: Vec<String> = answer
        .split("\r\n")
        .map(|line| {
            let mut fields: Vec<&str> = line.split(' ').collect();
            let host = line.starts_with("a=candidate:")
                && fields.len() >= 8
                && fields[6] == "typ"
                && fields[7] == "host";
            let address = host
                .then(|| {
                    format!("{}:{}", fields[4], fields[5])
                        .parse::<SocketAddr>()
                        .ok()
                })
                .flatten();
            match address {
                Some(address) if server.is_none() => {
                    server = Some(address);
                    let (ip, port) = (relay.ip().to_string(), relay.port().to_string());
                    fields[4] = &ip;
                    fields[5] = &port;
                    fields.join(" ")
                }
                _ => line.to_string(),
            }
        })
        .collect();
    server.map(|server| (lines.join("\r\n"), server))
}
