//! The client's side of a WebRTC connection (the Rust thin client and the benchmark): it
//! offers to receive H.264 video and opens an `input` data channel, unordered and without
//! retransmission (orbit, pan, zoom and window: the latest wins). Full ICE with one host
//! candidate, sans-IO as the server's peer is.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};

use crate::server::webrtc::peer::{PROFILE_LEVEL_ID, PeerError, crypto};

/// The H.264 payload type offered.
const H264_PT: u8 = 102;
/// The label of the input channel.
pub const INPUT_CHANNEL: &str = "input";

/// What the client's peer asks of its caller after a step.
#[derive(Debug, Default)]
pub struct ClientStep {
    /// Datagrams to send: destination and bytes.
    pub transmit: Vec<(SocketAddr, Vec<u8>)>,
    /// Access units received whole (Annex B), with their RTP time (90 kHz).
    pub access_units: Vec<(u64, Vec<u8>)>,
    /// When to step again if nothing arrives.
    pub deadline: Option<Instant>,
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
        config
            .codec_config()
            .add_h264(H264_PT.into(), None, true, PROFILE_LEVEL_ID);
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
        let Ok(contents) = datagram.try_into() else {
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        self.rtc.accepts(&input) && self.rtc.handle_input(input).is_ok()
    }

    /// Sends one input message on the input channel; `false` while it is not open or its
    /// buffer is full (the message is dropped: a newer input will follow).
    pub fn send_input(&mut self, json: &str) -> bool {
        let Some(id) = self.input else {
            return false;
        };
        self.rtc
            .channel(id)
            .is_some_and(|mut channel| channel.write(false, json.as_bytes()).unwrap_or(false))
    }

    /// Advances the peer to `now` and drains what it has to say.
    pub fn step(&mut self, now: Instant) -> Result<ClientStep, PeerError> {
        self.rtc
            .handle_input(Input::Timeout(now))
            .map_err(|error| PeerError::Rtc(error.to_string()))?;
        let mut step = ClientStep::default();
        loop {
            match self
                .rtc
                .poll_output()
                .map_err(|error| PeerError::Rtc(error.to_string()))?
            {
                Output::Timeout(deadline) => {
                    step.deadline = Some(deadline);
                    return Ok(step);
                }
                Output::Transmit(transmit) => step
                    .transmit
                    .push((transmit.destination, transmit.contents.to_vec())),
                Output::Event(Event::MediaData(data)) => {
                    step.access_units
                        .push((data.time.numer(), data.data.to_vec()));
                }
                Output::Event(Event::ChannelOpen(id, label)) if label == INPUT_CHANNEL => {
                    self.input = Some(id);
                }
                Output::Event(_) => {}
            }
        }
    }
}
