//! The client's side of a WebRTC connection, sans-IO as the server's peer is: it offers to
//! receive H.264 video and opens an `input` data channel, unordered and without
//! retransmission (orbit, pan, zoom and window: the latest wins). Full ICE with one host
//! candidate. The Rust client drives it over a socket of its own.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind};
use str0m::{Candidate, Event, Rtc, RtcConfig};

use crate::peer::{PROFILE_LEVEL_ID, crypto};
use crate::sans_io;
use crate::sans_io::PeerError;

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
