//! A client that stops reading: a raw WebSocket on a socket with a small receive buffer
//! that sends `hello`, `open` and then orbit inputs at [`INPUTS_PER_S`], but never reads a
//! byte. The server should stop rendering for it and drop it, without the other sessions
//! noticing; this says how it ended: dropped by the server, stalled (the server stopped
//! reading its inputs), or still sending when the soak ended.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use hounsfield_protocol::{Action, ClientMessage, Input, Viewport};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::StreamCodec;
use crate::client::{INPUTS_PER_S, ORBIT_DEG_PER_INPUT, offered};

/// The socket's receive buffer (bytes; Linux doubles it): small, so that the server's
/// writes back up soon, as they would behind a slow link.
const RECEIVE_BUFFER_BYTES: u32 = 64 * 1024;
/// A send that takes longer than this counts as stalled.
const SEND_STALL: Duration = Duration::from_secs(2);
/// How long connecting and the handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a slow reader ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Ending {
    /// The server closed its connection (a send failed).
    Dropped,
    /// Its sends stopped going through: the server stopped reading it.
    Stalled,
    /// It was still sending when the soak ended.
    Open,
    /// It could not connect or say hello.
    Failed,
}

/// What a slow reader saw.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SlowReaderTally {
    /// How it ended.
    pub(super) ending: Ending,
    /// Seconds from connecting to being dropped, or to the stall that lasted to the end.
    pub(super) after_s: Option<f64>,
    /// Orbit inputs that went out.
    pub(super) inputs_sent: u64,
    /// Why, when the server dropped it or it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<String>,
}

/// Connects to the server at `address`, opens `series` with a `size` view offering
/// `codec`, and sends orbit inputs until `until` without ever reading.
pub(super) async fn send_without_reading(
    address: SocketAddr,
    series: &str,
    size: [u32; 2],
    codec: StreamCodec,
    until: Instant,
) -> SlowReaderTally {
    let started = Instant::now();
    let mut tally = SlowReaderTally {
        ending: Ending::Failed,
        after_s: None,
        inputs_sent: 0,
        detail: None,
    };
    let mut socket = match connect(address).await {
        Ok(socket) => socket,
        Err(error) => {
            tally.detail = Some(format!("{error:#}"));
            return tally;
        }
    };
    let greeting = [
        ClientMessage::Hello {
            token: None,
            codecs: offered(codec).to_vec(),
            viewport: Some(Viewport {
                width: size[0],
                height: size[1],
            }),
            transports: Vec::new(),
        },
        ClientMessage::Open {
            series: series.to_string(),
        },
        input(1, started, Action::Interact { active: true }),
    ];
    for message in &greeting {
        if let Err(error) = send_in_time(&mut socket, message).await {
            tally.detail = Some(format!("{error:#}"));
            return tally;
        }
    }
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / INPUTS_PER_S));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut stalled_since: Option<Instant> = None;
    let mut seq = 2;
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        // While stalled, only wait for the queued message to go (or the socket to fail).
        let step = match stalled_since {
            Some(_) => {
                let wait = until.min(now + SEND_STALL);
                tokio::time::timeout_at(wait.into(), socket.flush()).await
            }
            None => {
                ticker.tick().await;
                let orbit = input(
                    seq,
                    started,
                    Action::Orbit {
                        dx: ORBIT_DEG_PER_INPUT,
                        dy: 0.0,
                    },
                );
                let text = match serde_json::to_string(&orbit) {
                    Ok(text) => text,
                    Err(error) => {
                        tally.detail = Some(error.to_string());
                        return tally;
                    }
                };
                let sent = tokio::time::timeout(SEND_STALL, socket.send(Message::text(text))).await;
                if matches!(sent, Ok(Ok(()))) {
                    seq += 1;
                    tally.inputs_sent += 1;
                }
                sent
            }
        };
        match step {
            Ok(Ok(())) => stalled_since = None,
            Ok(Err(error)) => {
                tally.ending = Ending::Dropped;
                tally.after_s = Some(started.elapsed().as_secs_f64());
                tally.detail = Some(error.to_string());
                return tally;
            }
            Err(_) => {
                stalled_since.get_or_insert_with(Instant::now);
            }
        }
    }
    tally.ending = match stalled_since {
        Some(since) => {
            tally.after_s = Some(since.duration_since(started).as_secs_f64());
            Ending::Stalled
        }
        None => Ending::Open,
    };
    tally
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A WebSocket to `ws://address/ws` over a socket with a [`RECEIVE_BUFFER_BYTES`]
/// receive buffer.
async fn connect(address: SocketAddr) -> anyhow::Result<Socket> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_recv_buffer_size(RECEIVE_BUFFER_BYTES)?;
    let handshake = async {
        let stream = socket.connect(address).await?;
        let (socket, _) =
            tokio_tungstenite::client_async(format!("ws://{address}/ws"), stream).await?;
        anyhow::Ok(socket)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(socket) => socket,
        Err(_) => anyhow::bail!(
            "no WebSocket handshake within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

/// Sends `message`, failing when it does not go within [`SEND_STALL`].
async fn send_in_time(socket: &mut Socket, message: &ClientMessage) -> anyhow::Result<()> {
    let text = serde_json::to_string(message)?;
    match tokio::time::timeout(SEND_STALL, socket.send(Message::text(text))).await {
        Ok(sent) => Ok(sent?),
        Err(_) => anyhow::bail!("a message did not go within {} s", SEND_STALL.as_secs()),
    }
}

/// Input `seq` stamped with the time since `started` (ms).
fn input(seq: u32, started: Instant, action: Action) -> ClientMessage {
    ClientMessage::Input(Input {
        seq,
        t: started.elapsed().as_secs_f64() * 1000.0,
        action,
    })
}
