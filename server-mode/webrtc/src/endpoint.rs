//! The task that owns the WebRTC UDP socket and every session's peer: datagrams are handed
//! to the peer that accepts them (one port for all sessions, so a hospital firewall opens
//! one), peers are stepped at their deadlines, and what they say goes back to their
//! sessions. Sessions talk to it through bounded channels only: a frame that finds the
//! queue full is dropped (the next keyframe mends it), never queued without bound.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use str0m::bwe::BweKind;
use str0m::media::KeyframeRequest;
use str0m::{Event, IceConnectionState};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::WebRtcConfig;
use super::offer::CheckedOffer;
use super::peer::Peer;
use super::sans_io::PeerError;

/// Commands waiting for the endpoint task, from all sessions together.
const COMMAND_QUEUE: usize = 256;
/// Events waiting for one session.
const EVENT_QUEUE: usize = 64;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// The longest the task sleeps when no peer has a deadline.
const IDLE_STEP: Duration = Duration::from_millis(100);

/// What a peer tells its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// ICE and DTLS are up: frames may move once a keyframe is written.
    Connected,
    /// The client asked for a keyframe (PLI or FIR).
    KeyframeRequest,
    /// A text message on a data channel (an input, as on the WebSocket).
    Message(String),
    /// The congestion control's estimate of the bandwidth to the client (kbit/s), from
    /// its transport-wide feedback (TWCC) or its REMB.
    Bandwidth(u32),
    /// The peer is gone, for this reason.
    Closed(String),
}

enum Command {
    Add {
        id: u64,
        peer: Box<Peer>,
        events: mpsc::Sender<PeerEvent>,
    },
    Write {
        id: u64,
        rtp_time: u64,
        access_unit: Arc<[u8]>,
    },
    Note {
        id: u64,
        text: String,
    },
    Desire {
        id: u64,
        kbps: u32,
    },
    Remove {
        id: u64,
    },
}

/// The WebRTC endpoint of a server: one UDP socket and the task serving it.
pub struct Endpoint {
    /// The address announced (and given to the stack as the peers' local address).
    local: SocketAddr,
    commands: mpsc::Sender<Command>,
    next_id: AtomicU64,
}

/// A session's hold on its peer: frames go in, events come out; dropping it removes the
/// peer.
pub struct PeerHandle {
    id: u64,
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<PeerEvent>,
}

impl Endpoint {
    /// Binds the configured address and starts the endpoint's task on the current
    /// runtime; an unspecified address (`0.0.0.0`) needs an address to announce.
    pub async fn bind(config: WebRtcConfig) -> std::io::Result<Self> {
        let announced = config.announce.unwrap_or(config.bind.ip());
        if announced.is_unspecified() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "WebRTC on {}: clients need an address to reach, not {announced} (give the one to announce)",
                    config.bind
                ),
            ));
        }
        let socket = UdpSocket::bind(config.bind).await?;
        let local = SocketAddr::new(announced, socket.local_addr()?.port());
        let (commands, intake) = mpsc::channel(COMMAND_QUEUE);
        tokio::spawn(serve(socket, intake));
        Ok(Self {
            local,
            commands,
            next_id: AtomicU64::new(1),
        })
    }

    /// The address peers are reached at (announced in answers).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Answers a session's checked offer, its video starting at `bitrate_kbps`: its peer
    /// joins the endpoint; the answer's SDP.
    pub async fn answer(
        &self,
        offer: &CheckedOffer,
        bitrate_kbps: u32,
    ) -> Result<(PeerHandle, String), PeerError> {
        let (peer, answer) = Peer::answer(offer, self.local, Instant::now(), bitrate_kbps)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        self.commands
            .send(Command::Add {
                id,
                peer: Box::new(peer),
                events: events_tx,
            })
            .await
            .map_err(|_| PeerError::Rtc("the WebRTC endpoint stopped".to_string()))?;
        Ok((
            PeerHandle {
                id,
                commands: self.commands.clone(),
                events,
            },
            answer,
        ))
    }
}

impl PeerHandle {
    /// Hands an access unit (Annex B) stamped `rtp_time` (90 kHz) to the peer; `false`
    /// when the endpoint's queue is full or it stopped (the frame is dropped).
    pub fn write(&self, rtp_time: u64, access_unit: Arc<[u8]>) -> bool {
        self.commands
            .try_send(Command::Write {
                id: self.id,
                rtp_time,
                access_unit,
            })
            .is_ok()
    }

    /// Sends a text message to the client on its data channel (a frame's note); `false`
    /// when the endpoint's queue is full or it stopped (the note is dropped).
    pub fn note(&self, text: String) -> bool {
        self.commands
            .try_send(Command::Note { id: self.id, text })
            .is_ok()
    }

    /// Tells the peer's congestion control the bitrate worth finding room for (kbit/s);
    /// `false` when the endpoint's queue is full or it stopped (the next frame tells again).
    pub fn desire(&self, kbps: u32) -> bool {
        self.commands
            .try_send(Command::Desire { id: self.id, kbps })
            .is_ok()
    }

    /// The next thing the peer says; `None` once it is gone.
    pub async fn next_event(&mut self) -> Option<PeerEvent> {
        self.events.recv().await
    }
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        // Best effort: a full queue leaves the peer to time out on its own.
        let _ = self.commands.try_send(Command::Remove { id: self.id });
    }
}

/// One peer and where its events go.
struct Served {
    peer: Box<Peer>,
    events: mpsc::Sender<PeerEvent>,
    deadline: Option<Instant>,
}

/// The endpoint's task: until every handle and the endpoint are gone.
async fn serve(socket: UdpSocket, mut intake: mpsc::Receiver<Command>) {
    let mut peers: HashMap<u64, Served> = HashMap::new();
    let mut buffer = vec![0_u8; MAX_DATAGRAM];
    loop {
        let wake = peers
            .values()
            .filter_map(|served| served.deadline)
            .min()
            .unwrap_or_else(|| Instant::now() + IDLE_STEP);
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let Ok((n, source)) = received else { continue };
                let now = Instant::now();
                // A datagram no peer accepts (a stranger's) gets no answer.
                let taker = peers.iter_mut().find_map(|(id, served)| {
                    served.peer.receive(now, source, &buffer[..n]).then_some(*id)
                });
                if let Some(id) = taker {
                    step(&socket, &mut peers, id, now);
                }
            }
            command = intake.recv() => {
                let Some(command) = command else { return };
                let now = Instant::now();
                let touched = match command {
                    Command::Add { id, peer, events } => {
                        peers.insert(id, Served { peer, events, deadline: Some(now) });
                        Some(id)
                    }
                    Command::Write { id, rtp_time, access_unit } => {
                        if let Some(served) = peers.get_mut(&id) {
                            served.peer.write_access_unit(now, rtp_time, &access_unit);
                        }
                        Some(id)
                    }
                    Command::Note { id, text } => {
                        if let Some(served) = peers.get_mut(&id) {
                            served.peer.send_text(&text);
                        }
                        Some(id)
                    }
                    Command::Desire { id, kbps } => {
                        if let Some(served) = peers.get_mut(&id) {
                            served.peer.desire_bitrate(kbps);
                        }
                        Some(id)
                    }
                    Command::Remove { id } => {
                        peers.remove(&id);
                        None
                    }
                };
                if let Some(id) = touched {
                    step(&socket, &mut peers, id, now);
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                let due: Vec<u64> = peers
                    .iter()
                    .filter(|(_, served)| served.deadline.is_none_or(|deadline| deadline <= now))
                    .map(|(id, _)| *id)
                    .collect();
                for id in due {
                    step(&socket, &mut peers, id, now);
                }
            }
        }
    }
}

/// Steps peer `id` to `now`: its datagrams sent (dropped when the socket's buffer is
/// full), its events to its session; a peer that failed, closed or panicked is removed
/// with the reason told.
fn step(socket: &UdpSocket, peers: &mut HashMap<u64, Served>, id: u64, now: Instant) {
    let Some(served) = peers.get_mut(&id) else {
        return;
    };
    let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| served.peer.step(now)));
    let closed = match stepped {
        Ok(Ok(stepped)) => {
            served.deadline = stepped.drained.deadline;
            for (to, datagram) in stepped.drained.transmit {
                let _ = socket.try_send_to(&datagram, to);
            }
            for message in stepped.drained.texts {
                let _ = served.events.try_send(PeerEvent::Message(message));
            }
            let mut closed = None;
            for event in stepped.events {
                match event {
                    Event::Connected => {
                        let _ = served.events.try_send(PeerEvent::Connected);
                    }
                    Event::KeyframeRequest(KeyframeRequest { .. }) => {
                        let _ = served.events.try_send(PeerEvent::KeyframeRequest);
                    }
                    Event::EgressBitrateEstimate(
                        BweKind::Twcc(bitrate) | BweKind::Remb(_, bitrate),
                    ) => {
                        let kbps = u32::try_from(bitrate.as_u64() / 1000).unwrap_or(u32::MAX);
                        let _ = served.events.try_send(PeerEvent::Bandwidth(kbps));
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        closed =
                            Some("the client stopped answering (ICE disconnected)".to_string());
                    }
                    _ => {}
                }
            }
            closed.or_else(|| (!served.peer.is_alive()).then(|| "the peer closed".to_string()))
        }
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => {
            tracing::error!(peer = id, "the WebRTC stack panicked; the peer is dropped");
            Some("the WebRTC stack failed".to_string())
        }
    };
    if let Some(reason) = closed
        && let Some(served) = peers.remove(&id)
    {
        let _ = served.events.try_send(PeerEvent::Closed(reason));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::UdpSocket as StdSocket;

    use super::*;
    use crate::client_peer::ClientPeer;
    use crate::offer::check_offer;

    /// A client on its own loopback socket, driven on a thread until it has `wanted`
    /// access units (or 20 s pass); their RTP times.
    pub(crate) fn client_thread(
        offer_tx: std::sync::mpsc::SyncSender<String>,
        answer_rx: std::sync::mpsc::Receiver<String>,
        wanted: usize,
    ) -> std::thread::JoinHandle<Vec<u64>> {
        std::thread::spawn(move || {
            let socket = StdSocket::bind("127.0.0.1:0").expect("a socket");
            socket.set_nonblocking(true).expect("non-blocking");
            let local = socket.local_addr().expect("bound");
            let started = Instant::now();
            let (mut client, offer) = ClientPeer::offer(local, started).expect("an offer");
            offer_tx.send(offer).expect("offer sent");
            let answer = answer_rx.recv().expect("an answer");
            client.accept_answer(&answer).expect("accepted");
            let mut times = Vec::new();
            let mut buffer = vec![0_u8; MAX_DATAGRAM];
            while times.len() < wanted && started.elapsed() < Duration::from_secs(20) {
                let now = Instant::now();
                while let Ok((n, source)) = socket.recv_from(&mut buffer) {
                    client.receive(now, source, &buffer[..n]);
                }
                let step = client.step(now).expect("the client steps");
                times.extend(step.access_units.iter().map(|unit| unit.rtp));
                for (to, datagram) in step.drained.transmit {
                    let _ = socket.send_to(&datagram, to);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            times
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_sessions_share_one_port_and_each_gets_its_own_frames() {
        let endpoint = Endpoint::bind(WebRtcConfig::loopback())
            .await
            .expect("bound");
        let mut sessions = Vec::new();
        for stamp in [0_u64, 1_000_000] {
            let (offer_tx, offer_rx) = std::sync::mpsc::sync_channel(1);
            let (answer_tx, answer_rx) = std::sync::mpsc::sync_channel(1);
            let client = client_thread(offer_tx, answer_rx, 5);
            let offer = tokio::task::spawn_blocking(move || offer_rx.recv().expect("an offer"))
                .await
                .expect("joined");
            let checked = check_offer(&offer).expect("checked");
            let (handle, answer) = endpoint.answer(&checked, 2000).await.expect("answered");
            answer_tx.send(answer).expect("answer sent");
            sessions.push((stamp, handle, client));
        }
        // Each session waits for its peer, then writes access units stamped its own way.
        let mut clients = Vec::new();
        for (stamp, mut handle, client) in sessions {
            let connected = tokio::time::timeout(Duration::from_secs(20), async {
                loop {
                    match handle.next_event().await {
                        Some(PeerEvent::Connected) => return true,
                        Some(PeerEvent::Closed(_)) | None => return false,
                        Some(_) => {}
                    }
                }
            })
            .await;
            assert_eq!(connected, Ok(true), "session {stamp} connected");
            clients.push((stamp, handle, client));
        }
        for n in 0..40_u64 {
            for (stamp, handle, _) in &clients {
                let mut unit = vec![0, 0, 0, 1, 0x65];
                unit.extend(std::iter::repeat_n(0x11, 2000));
                handle.write(stamp + n * 3000, unit.into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for (stamp, handle, client) in clients {
            let times = tokio::task::spawn_blocking(move || client.join().expect("the client"))
                .await
                .expect("joined");
            assert!(
                times.len() >= 5,
                "session {stamp}: {} access units",
                times.len()
            );
            // The RTP clock starts where the stack puts it: a session's own frames are
            // 3000 ticks apart, never the other session's.
            assert!(
                times
                    .windows(2)
                    .all(|pair| (pair[1].wrapping_sub(pair[0])) % 3000 == 0),
                "session {stamp}: {times:?}"
            );
            drop(handle);
        }
    }
}
