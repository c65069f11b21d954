//! The client's side of a WebRTC connection (the Rust thin client and the benchmark): it
//! offers to receive H.264 video and opens an `input` data channel, unordered and without
//! retransmission (orbit, pan, zoom and window: the latest wins). Full ICE with one host
//! candidate, sans-IO as the server's peer is.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind};
use str0m::{Candidate, Event, Rtc, RtcConfig};

use crate::client::lossy_relay::LossyRelay;
use crate::server::webrtc::peer::{PROFILE_LEVEL_ID, PeerError, crypto};
use crate::server::webrtc::sans_io;

/// The H.264 payload type offered.
const H264_PT: u8 = 102;
/// Its retransmission (RTX) payload type: a lost packet is asked for again (NACK) and
/// comes back on its own stream, as browsers do, before a keyframe is needed.
const H264_RTX_PT: u8 = 103;
/// The label of the input channel.
pub const INPUT_CHANNEL: &str = "input";

/// What the client's peer asks of its caller after a step.
#[derive(Debug, Default)]
pub struct ClientStep {
    /// Datagrams to send, the server's data-channel texts (frames' notes), and when to
    /// step again.
    pub drained: sans_io::Drained,
    /// Access units received whole, in order.
    pub access_units: Vec<ReceivedUnit>,
}

/// An access unit received whole.
#[derive(Debug)]
pub struct ReceivedUnit {
    /// Its RTP time (90 kHz), extended past 32 bits.
    pub rtp: u64,
    /// The access unit (Annex B).
    pub data: Vec<u8>,
    /// Whether it follows the previous one without packets lost between (when not, a
    /// keyframe has been asked for: the decoder may lack a reference).
    pub contiguous: bool,
}

/// The client's side of one WebRTC connection.
pub struct ClientPeer {
    rtc: Rtc,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    input: Option<ChannelId>,
}

impl ClientPeer {
    /// A peer reachable at `local` (its UDP socket's address) and its offer.
    pub fn offer(local: SocketAddr, now: Instant) -> Result<(Self, String), PeerError> {
        let mut config = RtcConfig::new()
            .set_crypto_provider(crypto())
            .clear_codecs();
        config.codec_config().add_h264(
            H264_PT.into(),
            Some(H264_RTX_PT.into()),
            true,
            PROFILE_LEVEL_ID,
        );
        let mut rtc = config.build(now);
        let candidate = Candidate::host(local, "udp").map_err(|_| PeerError::Candidate(local))?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        change.add_channel_with_config(ChannelConfig {
            label: INPUT_CHANNEL.to_string(),
            ordered: false,
            reliability: Reliability::MaxRetransmits { retransmits: 0 },
            ..ChannelConfig::default()
        });
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| PeerError::Rtc("nothing to offer".to_string()))?;
        Ok((
            Self {
                rtc,
                local,
                pending: Some(pending),
                input: None,
            },
            offer.to_sdp_string(),
        ))
    }

    /// Takes the server's answer.
    pub fn accept_answer(&mut self, sdp: &str) -> Result<(), PeerError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| PeerError::Rtc("the answer came twice".to_string()))?;
        let answer = SdpAnswer::from_sdp_string(sdp)
            .map_err(|error| PeerError::Rtc(format!("the answer: {error}")))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|error| PeerError::Rtc(error.to_string()))
    }

    /// Takes a datagram from `source` at `now`; `false` when it is not this peer's.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) -> bool {
        sans_io::receive(&mut self.rtc, self.local, now, source, datagram)
    }

    /// Sends one input message on the input channel; `false` while it is not open or its
    /// buffer is full (the message is dropped: a newer input will follow).
    pub fn send_input(&mut self, json: &str) -> bool {
        sans_io::write_text(&mut self.rtc, self.input, json)
    }

    /// Advances the peer to `now` and drains what it has to say.
    pub fn step(&mut self, now: Instant) -> Result<ClientStep, PeerError> {
        let mut access_units = Vec::new();
        let input = &mut self.input;
        let drained = sans_io::step(&mut self.rtc, now, |rtc, event| match event {
            Event::MediaData(data) => {
                if !data.contiguous {
                    // Packets were lost: ask for a picture that needs no reference.
                    // (Refused only when the answer left out PLI: nothing to ask then.)
                    let _ = rtc
                        .writer(data.mid)
                        .map(|mut writer| writer.request_keyframe(None, KeyframeRequestKind::Pli));
                }
                access_units.push(ReceivedUnit {
                    rtp: data.time.numer(),
                    data: data.data.to_vec(),
                    contiguous: data.contiguous,
                });
            }
            Event::ChannelOpen(id, label) if label == INPUT_CHANNEL => *input = Some(id),
            _ => {}
        })?;
        Ok(ClientStep {
            drained,
            access_units,
        })
    }
}

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
    pub async fn negotiate(
        client: &mut crate::client::Client,
    ) -> Result<Self, crate::client::ClientError> {
        Self::negotiate_through(client, None).await
    }

    /// [`Self::negotiate`], the peer reaching the server through `relay` when given (the
    /// server's candidate in the answer is replaced by the relay's address).
    pub async fn negotiate_through(
        client: &mut crate::client::Client,
        relay: Option<&LossyRelay>,
    ) -> Result<Self, crate::client::ClientError> {
        let failed = |what: String| crate::client::ClientError::Protocol(format!("WebRTC: {what}"));
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
        let mut answer = client.offer_webrtc(offer).await?;
        if let Some(relay) = relay {
            let relay_address = relay.address().map_err(|error| failed(error.to_string()))?;
            let (through, server) = through_relay(&answer, relay_address)
                .ok_or_else(|| failed("the answer has no host candidate".to_string()))?;
            relay.forward_to(server);
            answer = through;
        }
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
                let _ = arrivals.send(Arrival::Closed(error.to_string())).await;
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
    notes: std::collections::HashMap<u32, crate::protocol::FrameNote>,
    /// Access units dropped without their note.
    pub unnamed: usize,
}

impl RtpFrames {
    /// Takes one arrival; the frames now complete, in order.
    pub fn take(&mut self, arrival: Arrival) -> Vec<crate::client::Frame> {
        let now = Instant::now();
        match arrival {
            Arrival::AccessUnit { rtp, data, at, .. } => self.waiting.push_back((rtp, data, at)),
            Arrival::Note(text) => {
                if let Ok(note) = serde_json::from_str::<crate::protocol::FrameNote>(&text) {
                    if self.notes.len() >= MAX_NOTES {
                        self.notes.clear();
                    }
                    self.notes.insert(note.rtp, note);
                }
            }
            Arrival::Closed(_) => {}
        }
        let mut frames = Vec::new();
        while let Some((rtp, _, at)) = self.waiting.front() {
            if let Some(note) = self.notes.remove(rtp) {
                let Some((_, data, at)) = self.waiting.pop_front() else {
                    break;
                };
                frames.push(crate::client::Frame {
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
