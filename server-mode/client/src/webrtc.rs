//! The Rust client's WebRTC: the sans-IO [`ClientPeer`] driven by a task of its own over
//! a UDP socket ([`PeerTask`], negotiated on the client's WebSocket), and the frames put
//! back together from access units and their data-channel notes ([`RtpFrames`]).
//!
//! What the server sends this way is bounded as on the WebSocket: a datagram is at most
//! `MAX_DATAGRAM` bytes, a note is read through
//! [`parse_frame_note`](hounsfield_protocol::parse_frame_note) (at most
//! [`MAX_FRAME_NOTE_BYTES`](hounsfield_protocol::MAX_FRAME_NOTE_BYTES), flat, its picture
//! within [`MAX_FRAME_SIDE`](hounsfield_protocol::MAX_FRAME_SIDE)), at most `MAX_NOTES`
//! are kept, and errors quote at most
//! [`MAX_ERROR_MESSAGE_CHARS`](hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS) characters.

use std::net::SocketAddr;
use std::time::Instant;

pub use hounsfield_webrtc::client_peer::{ClientPeer, ClientStep, INPUT_CHANNEL, ReceivedUnit};

/// What arrives over a client's peer.
#[derive(Debug)]
pub enum Arrival {
    /// An access unit (Annex B), whole, with the low 32 bits of its RTP time (the server's
    /// notes name it by them) and when it was whole.
    AccessUnit {
        /// RTP time on the wire (90 kHz).
        rtp: u32,
        /// The access unit.
        data: Vec<u8>,
        /// When it was whole.
        at: Instant,
        /// Whether no packet was lost since the previous one.
        contiguous: bool,
    },
    /// A text message from the server on the data channel (a frame's note).
    Note(String),
    /// The peer failed; nothing more arrives.
    Closed(String),
}

/// Arrivals waiting to be taken; past it the task waits (and datagrams wait in the
/// socket's buffer).
const ARRIVALS: usize = 256;
/// Inputs waiting to be sent on the input channel; past it an input is dropped.
const INPUTS: usize = 64;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 2048;

/// A client peer driven by a task of its own over a UDP socket: arrivals come out, inputs
/// go in; dropping it stops the task.
pub struct PeerTask {
    arrivals: tokio::sync::mpsc::Receiver<Arrival>,
    inputs: tokio::sync::mpsc::Sender<String>,
    task: tokio::task::JoinHandle<()>,
}

impl PeerTask {
    /// Negotiates over `client`'s WebSocket (its `welcome` offered WebRTC) and starts the
    /// peer on a UDP socket bound to the address the client reaches the server from.
    pub async fn negotiate(client: &mut crate::Client) -> Result<Self, crate::ClientError> {
        Self::negotiate_with(client, Ok).await
    }

    /// [`Self::negotiate`], the server's answer passed through `rewrite` before the peer
    /// takes it (the lossy relay puts its own address in the candidate).
    pub(crate) async fn negotiate_with(
        client: &mut crate::Client,
        rewrite: impl FnOnce(String) -> Result<String, String>,
    ) -> Result<Self, crate::ClientError> {
        // The peer's errors may quote the server's answer: cut short.
        let failed = |what: String| {
            crate::ClientError::Protocol(hounsfield_protocol::bounded_error_message(format!(
                "WebRTC: {what}"
            )))
        };
        let local_ip = client
            .local_addr()
            .map(|address| address.ip())
            .ok_or_else(|| failed("the connection has no local address".to_string()))?;
        let socket = tokio::net::UdpSocket::bind(SocketAddr::new(local_ip, 0))
            .await
            .map_err(|error| failed(format!("no UDP socket: {error}")))?;
        let local = socket
            .local_addr()
            .map_err(|error| failed(error.to_string()))?;
        let (mut peer, offer) =
            ClientPeer::offer(local, Instant::now()).map_err(|error| failed(error.to_string()))?;
        let answer = rewrite(client.offer_webrtc(offer).await?).map_err(failed)?;
        peer.accept_answer(&answer)
            .map_err(|error| failed(error.to_string()))?;
        let (arrivals_tx, arrivals) = tokio::sync::mpsc::channel(ARRIVALS);
        let (inputs, inputs_rx) = tokio::sync::mpsc::channel(INPUTS);
        let task = tokio::spawn(drive(peer, socket, arrivals_tx, inputs_rx));
        Ok(Self {
            arrivals,
            inputs,
            task,
        })
    }

    /// The next arrival; `None` once the task ended.
    pub async fn next(&mut self) -> Option<Arrival> {
        self.arrivals.recv().await
    }

    /// Queues an input (JSON) for the input channel; `false` when the queue is full (it is
    /// dropped: a newer input follows).
    pub fn send_input(&self, json: String) -> bool {
        self.inputs.try_send(json).is_ok()
    }
}

/// The next arrival of a session's peer, when it has one; without one, never (a branch of
/// a `select!` that waits on the WebSocket too).
pub async fn next_arrival(peer: &mut Option<PeerTask>) -> Option<Arrival> {
    match peer {
        Some(peer) => peer.next().await,
        None => std::future::pending().await,
    }
}

impl Drop for PeerTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Steps `peer` at its deadlines and as datagrams and inputs come, until it fails or the
/// [`PeerTask`] is dropped.
async fn drive(
    mut peer: ClientPeer,
    socket: tokio::net::UdpSocket,
    arrivals: tokio::sync::mpsc::Sender<Arrival>,
    mut inputs: tokio::sync::mpsc::Receiver<String>,
) {
    let mut buffer = vec![0_u8; MAX_DATAGRAM];
    loop {
        let now = Instant::now();
        let step = match peer.step(now) {
            Ok(step) => step,
            Err(error) => {
                let why = hounsfield_protocol::bounded_error_message(error.to_string());
                let _ = arrivals.send(Arrival::Closed(why)).await;
                return;
            }
        };
        for (to, datagram) in step.drained.transmit {
            // A datagram the socket will not take is lost, as on the network.
            let _ = socket.send_to(&datagram, to).await;
        }
        let at = Instant::now();
        let received = step
            .access_units
            .into_iter()
            .map(|unit| Arrival::AccessUnit {
                // The low 32 bits: what the wire carried.
                rtp: (unit.rtp & u64::from(u32::MAX)) as u32,
                data: unit.data,
                at,
                contiguous: unit.contiguous,
            })
            .chain(step.drained.texts.into_iter().map(Arrival::Note));
        for arrival in received {
            if arrivals.send(arrival).await.is_err() {
                return;
            }
        }
        let wake = step
            .drained
            .deadline
            .unwrap_or(now + std::time::Duration::from_millis(100));
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                if let Ok((n, source)) = received {
                    peer.receive(Instant::now(), source, &buffer[..n]);
                }
            }
            Some(input) = inputs.recv() => {
                peer.send_input(&input);
            }
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}

/// Longest an access unit waits for its note before it is dropped.
const NOTE_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
/// Notes kept while their access units are on the way.
const MAX_NOTES: usize = 256;

/// Pairs the access units that come over RTP with the notes that name them, into frames
/// as the WebSocket brings them (header and payload), in the order the units came. A unit
/// whose note does not come within [`NOTE_WAIT`] is dropped (the decoder then asks for a
/// keyframe, as after a lost packet).
#[derive(Debug, Default)]
pub struct RtpFrames {
    waiting: std::collections::VecDeque<(u32, Vec<u8>, Instant)>,
    notes: std::collections::HashMap<u32, hounsfield_protocol::FrameNote>,
    /// Access units dropped without their note.
    pub unnamed: usize,
    /// Notes refused by [`hounsfield_protocol::parse_frame_note`] (their access units go
    /// unnamed).
    pub refused_notes: usize,
    /// Why the last note was refused (at most
    /// [`MAX_ERROR_MESSAGE_CHARS`](hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS)).
    pub last_refusal: Option<String>,
}

impl RtpFrames {
    /// Takes one arrival; the frames now complete, in order.
    pub fn take(&mut self, arrival: Arrival) -> Vec<crate::Frame> {
        let now = Instant::now();
        match arrival {
            Arrival::AccessUnit { rtp, data, at, .. } => self.waiting.push_back((rtp, data, at)),
            Arrival::Note(text) => match hounsfield_protocol::parse_frame_note(&text) {
                Ok(note) => {
                    if self.notes.len() >= MAX_NOTES {
                        self.notes.clear();
                    }
                    self.notes.insert(note.rtp, note);
                }
                // Its access unit goes unnamed, and is dropped as one whose note was lost.
                Err(refused) => {
                    self.refused_notes += 1;
                    self.last_refusal = Some(refused.message);
                }
            },
            Arrival::Closed(_) => {}
        }
        let mut frames = Vec::new();
        while let Some((rtp, _, at)) = self.waiting.front() {
            if let Some(note) = self.notes.remove(rtp) {
                let Some((_, data, at)) = self.waiting.pop_front() else {
                    break;
                };
                frames.push(crate::Frame {
                    header: note.header(),
                    payload: data,
                    received: at,
                });
            } else if now.saturating_duration_since(*at) > NOTE_WAIT {
                self.waiting.pop_front();
                self.unnamed += 1;
            } else {
                break;
            }
        }
        frames
    }
}
