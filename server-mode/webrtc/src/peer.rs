//! One session's WebRTC peer, the server's side: ICE-lite with one host candidate, the
//! answer to the client's checked offer, H.264 constrained baseline (packetization-mode 1)
//! sent, data channels received. Sans-IO: datagrams and time come in, datagrams, events
//! and the next deadline go out; the caller owns the socket.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use str0m::bwe::Bitrate;
use str0m::change::SdpOffer;
use str0m::channel::ChannelId;
use str0m::crypto::{CryptoProvider, from_feature_flags};
use str0m::format::Codec;
use str0m::media::{MediaKind, MediaTime, Mid, Pt};
use str0m::{Candidate, Event, Rtc, RtcConfig};

use super::offer::CheckedOffer;
use super::sans_io::{self, PeerError};

/// The H.264 payload type the server offers back (the client's offer decides the one used).
const H264_PT: u8 = 108;
/// Its retransmission (RTX) payload type.
const H264_RTX_PT: u8 = 109;
/// Constrained baseline, level 3.1: what the session's encoder makes.
pub(crate) const PROFILE_LEVEL_ID: u32 = 0x42e01f;

/// What the peer asks of its caller after a step.
#[derive(Debug, Default)]
pub struct Step {
    /// Datagrams to send, the client's data-channel texts, and when to step again.
    pub drained: sans_io::Drained,
    /// What else happened, as the stack says it.
    pub events: Vec<Event>,
}

/// The server's side of one WebRTC connection.
pub struct Peer {
    rtc: Rtc,
    local: SocketAddr,
    video: Option<(Mid, Pt)>,
    /// The client's first data channel, where the server's notes go.
    channel: Option<ChannelId>,
}

/// The crypto provider of the WebRTC stack (OpenSSL's DTLS), made once.
pub(crate) fn crypto() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(from_feature_flags()))
        .clone()
}

impl Peer {
    /// The answer to `offer` at `now`, the server reachable at `local` (the address its UDP
    /// socket is bound to and the one announced), and the peer. Its congestion control
    /// (TWCC) starts from `bitrate_kbps`, the session's bitrate, and looks for room up to
    /// it.
    pub fn answer(
        offer: &CheckedOffer,
        local: SocketAddr,
        now: Instant,
        bitrate_kbps: u32,
    ) -> Result<(Self, String), PeerError> {
        let bitrate = Bitrate::kbps(u64::from(bitrate_kbps.max(1)));
        let mut config = RtcConfig::new()
            .set_crypto_provider(crypto())
            .set_ice_lite(true)
            .enable_bwe(Some(bitrate))
            .clear_codecs();
        config.codec_config().add_h264(
            H264_PT.into(),
            Some(H264_RTX_PT.into()),
            true,
            PROFILE_LEVEL_ID,
        );
        let mut rtc = config.build(now);
        rtc.bwe().set_desired_bitrate(bitrate);
        let candidate = Candidate::host(local, "udp").map_err(|_| PeerError::Candidate(local))?;
        rtc.add_local_candidate(candidate);
        let offer = SdpOffer::from_sdp_string(&offer.sdp)
            .map_err(|error| PeerError::Rtc(format!("the offer: {error}")))?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|error| PeerError::Rtc(error.to_string()))?;
        Ok((
            Self {
                rtc,
                local,
                video: None,
                channel: None,
            },
            answer.to_sdp_string(),
        ))
    }

    /// Takes a datagram that arrived from `source` at `now`; `false` when it is not this
    /// peer's (for another peer on the same socket, or junk).
    pub fn receive(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) -> bool {
        sans_io::receive(&mut self.rtc, self.local, now, source, datagram)
    }

    /// Writes one H.264 access unit (Annex B) stamped `rtp_time` (90 kHz); `false` before
    /// the video is negotiated and connected.
    pub fn write_access_unit(&mut self, now: Instant, rtp_time: u64, access_unit: &[u8]) -> bool {
        let Some((mid, pt)) = self.video else {
            return false;
        };
        let Some(writer) = self.rtc.writer(mid) else {
            return false;
        };
        writer
            .write(
                pt,
                now,
                MediaTime::from_90khz(rtp_time),
                access_unit.to_vec(),
            )
            .is_ok()
    }

    /// The bitrate the session would stream at with room to spare (kbit/s): the congestion
    /// control probes the path up to it, no further.
    pub fn desire_bitrate(&mut self, kbps: u32) {
        self.rtc
            .bwe()
            .set_desired_bitrate(Bitrate::kbps(u64::from(kbps.max(1))));
    }

    /// Sends `text` on the client's data channel; `false` while none is open or its
    /// buffer is full (the message is dropped).
    pub fn send_text(&mut self, text: &str) -> bool {
        sans_io::write_text(&mut self.rtc, self.channel, text)
    }

    /// Advances the peer to `now` and drains what it has to say.
    pub fn step(&mut self, now: Instant) -> Result<Step, PeerError> {
        let mut events = Vec::new();
        let (channel, video) = (&mut self.channel, &mut self.video);
        let drained = sans_io::step(&mut self.rtc, now, |rtc, event| {
            if let Event::ChannelOpen(id, _) = &event {
                channel.get_or_insert(*id);
            }
            if let Event::MediaAdded(added) = &event
                && added.kind == MediaKind::Video
            {
                *video = h264_pt(rtc, added.mid).map(|pt| (added.mid, pt));
            }
            events.push(event);
        })?;
        Ok(Step { drained, events })
    }

    /// Whether ICE and DTLS are up.
    pub fn is_connected(&self) -> bool {
        self.rtc.is_connected()
    }

    /// Whether the peer is still in use (not closed or failed).
    pub fn is_alive(&self) -> bool {
        self.rtc.is_alive()
    }
}

/// The payload type negotiated for H.264 on `mid`.
fn h264_pt(rtc: &mut Rtc, mid: Mid) -> Option<Pt> {
    let writer = rtc.writer(mid)?;
    writer
        .payload_params()
        .find(|params| params.spec().codec == Codec::H264)
        .map(|params| params.pt())
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Duration;

    use super::*;
    use crate::client_peer::ClientPeer;
    use crate::offer::check_offer;

    /// An access unit as the encoder writes it: SPS, PPS and an IDR slice of `size` bytes.
    fn access_unit(size: usize, mark: u8) -> Vec<u8> {
        let mut unit = vec![0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0x8c, 0x8d, 0x40];
        unit.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        unit.extend_from_slice(&[0, 0, 0, 1, 0x65]);
        unit.extend((0..size).map(|n| mark.wrapping_add(n as u8) | 1));
        unit
    }

    /// A non-blocking UDP socket on loopback and its address.
    fn loopback_socket() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a socket");
        socket.set_nonblocking(true).expect("non-blocking");
        let address = socket.local_addr().expect("bound");
        (socket, address)
    }

    #[test]
    fn a_client_gets_the_access_units_and_its_input_arrives_over_the_data_channel() {
        let started = Instant::now();
        let (server_socket, server_addr) = loopback_socket();
        let (client_socket, client_addr) = loopback_socket();
        let (mut client, offer) = ClientPeer::offer(client_addr, started).expect("an offer");
        let checked = check_offer(&offer).expect("the offer passes the checks");
        assert!(checked.data_channel);
        let (mut server, answer) =
            Peer::answer(&checked, server_addr, started, 2000).expect("answered");
        assert!(answer.contains("a=ice-lite"), "{answer}");
        client.accept_answer(&answer).expect("accepted");

        let mut received: Vec<Vec<u8>> = Vec::new();
        let mut messages: Vec<String> = Vec::new();
        let mut written = 0_u8;
        let mut input_sent = false;
        let mut buffer = vec![0_u8; 2048];
        while received.len() < 5 || messages.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} access units and {} messages arrived",
                received.len(),
                messages.len()
            );
            let now = Instant::now();
            while let Ok((n, source)) = server_socket.recv_from(&mut buffer) {
                server.receive(now, source, &buffer[..n]);
            }
            if server.is_connected()
                && written < 20
                && server.write_access_unit(
                    now,
                    u64::from(written) * 3000,
                    &access_unit(3000, written),
                )
            {
                written += 1;
            }
            let step = server.step(now).expect("the server steps");
            messages.extend(step.drained.texts);
            for (to, datagram) in step.drained.transmit {
                let _ = server_socket.send_to(&datagram, to);
            }
            while let Ok((n, source)) = client_socket.recv_from(&mut buffer) {
                client.receive(now, source, &buffer[..n]);
            }
            if !input_sent {
                input_sent =
                    client.send_input(r#"{"type":"input","seq":1,"action":"orbit","dx":3,"dy":0}"#);
            }
            let step = client.step(now).expect("the client steps");
            received.extend(step.access_units.into_iter().map(|unit| unit.data));
            for (to, datagram) in step.drained.transmit {
                let _ = client_socket.send_to(&datagram, to);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // Whole access units arrive, in order, their IDR slices intact.
        for (n, unit) in received.iter().enumerate() {
            let sent = access_unit(3000, n as u8);
            let idr = &sent[sent.len() - 3000..];
            assert!(
                unit.windows(idr.len()).any(|window| window == idr),
                "access unit {n} arrived whole ({} bytes)",
                unit.len()
            );
        }
        assert_eq!(
            messages,
            [r#"{"type":"input","seq":1,"action":"orbit","dx":3,"dy":0}"#]
        );
    }
}
