//! WebRTC beside the WebSocket, end to end on loopback: a server with a WebRTC endpoint, the
//! Rust client's peer on its own UDP socket. A drag's H.264 frames move to RTP once the
//! peer connects, decode in order from the keyframe that starts them, and each is named by
//! a note on the data channel (which frame, which input it answers); input goes over the
//! data channel. A peer that never connects leaves the frames on the WebSocket, with the
//! reason; a server without WebRTC offers none and refuses an offer. A client that decodes
//! H.264 only over RTP (JPEG first) gets it there and JPEG on the WebSocket; the bitrate
//! keeps under the network's estimate, which falls under heavy loss.

use hounsfield_test_support as support;

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hounsfield_client::lossy_relay::LossyRelay;
use hounsfield_client::webrtc::{Arrival, ClientPeer, PeerTask};
use hounsfield_client::{Client, ClientError, Event, H264Decoder, VIDEO_CODECS, Welcome};
use hounsfield_protocol::{
    Action, ClientMessage, Codec, ErrorCode, FrameNote, ServerMessage, Stats, TransportKind,
    Viewport,
};
use hounsfield_server::library::PHANTOM_ID;
use hounsfield_webrtc::WebRtcConfig;

const VIEWPORT: Viewport = Viewport {
    width: 256,
    height: 192,
};
/// Longest a test may run (a hung test, not a slow one).
const TEST_LIMIT: Duration = Duration::from_secs(120);
/// Access units wanted over RTP before the drag stops.
const WANTED: usize = 15;
/// Time between inputs of a drag.
const INPUT_EVERY: Duration = Duration::from_millis(40);

/// The server on loopback the tests share; with a WebRTC endpoint on loopback UDP when
/// `webrtc` (each session has its own peer, so the tests do not see each other).
fn server(webrtc: bool) -> SocketAddr {
    static WITH_WEBRTC: OnceLock<SocketAddr> = OnceLock::new();
    static WITHOUT: OnceLock<SocketAddr> = OnceLock::new();
    let slot = if webrtc { &WITH_WEBRTC } else { &WITHOUT };
    support::server::shared(slot, || {
        let mut config = support::server::loopback_config();
        if webrtc {
            config.webrtc = Some(WebRtcConfig::loopback());
        }
        config
    })
}

/// A client that offered H.264 and WebRTC, opened the phantom and had its first frame;
/// with the transports `welcome` offered.
async fn opened(address: SocketAddr) -> (Client, Vec<TransportKind>) {
    let (client, welcome) = opened_offering(address, &VIDEO_CODECS).await;
    (client, welcome.transports)
}

/// A client that offered `codecs` and WebRTC, opened the phantom and had its first frame;
/// with its `welcome`.
async fn opened_offering(address: SocketAddr, codecs: &[Codec]) -> (Client, Welcome) {
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    let welcome = client
        .hello_with_transports(
            None,
            VIEWPORT,
            codecs,
            &[TransportKind::Webrtc, TransportKind::Websocket],
        )
        .await
        .expect("welcome");
    client.open(PHANTOM_ID).await.expect("opened");
    client.next_frame().await.expect("the opening still");
    (client, welcome)
}

/// What a drag over WebRTC brought.
#[derive(Default)]
struct Dragged {
    /// `transport` messages, in order.
    transports: Vec<(TransportKind, Option<String>)>,
    /// Access units over RTP after the switch: RTP time, bytes, and whether no packet was
    /// lost before it.
    units: Vec<(u32, Vec<u8>, bool)>,
    /// Notes over the data channel.
    notes: Vec<FrameNote>,
    /// The seqs of the inputs sent.
    inputs: Vec<u32>,
    /// The session's figures, as the server sent them after the switch.
    stats: Vec<Stats>,
    /// The codecs of the frames that came over the WebSocket during the drag, in order.
    websocket_codecs: Vec<Codec>,
}

/// Enough for a drag: `wanted` access units over RTP.
fn units(wanted: usize) -> impl Fn(&Dragged) -> bool {
    move |dragged| dragged.units.len() >= wanted
}

/// Drags over the data channel until what came (after the switch to WebRTC) is `enough`
/// (or the time runs out).
async fn drag_over_webrtc(
    client: &mut Client,
    peer: &mut PeerTask,
    enough: impl Fn(&Dragged) -> bool,
    limit: Duration,
) -> Dragged {
    let mut dragged = Dragged::default();
    let mut switched = false;
    let mut ticker = tokio::time::interval(INPUT_EVERY);
    let deadline = Instant::now() + limit;
    while !enough(&dragged) && Instant::now() < deadline {
        tokio::select! {
            _ = ticker.tick() => {
                let (seq, json) = client
                    .input_json(Action::Orbit { dx: 3.0, dy: 0.5 })
                    .expect("an input");
                if peer.send_input(json) {
                    dragged.inputs.push(seq);
                }
            }
            event = client.next_event() => match event.expect("the WebSocket stays up") {
                Event::Message(ServerMessage::Transport { transport, reason }) => {
                    switched = transport == TransportKind::Webrtc;
                    dragged.transports.push((transport, reason));
                }
                Event::Message(ServerMessage::Error { code, message }) => {
                    panic!("error {code:?}: {message}");
                }
                Event::Message(ServerMessage::Stats(stats)) if switched => dragged.stats.push(stats),
                Event::Frame(frame) => dragged.websocket_codecs.push(frame.header.codec),
                Event::Message(_) => {}
            },
            arrival = peer.next() => match arrival.expect("the peer runs") {
                Arrival::AccessUnit { rtp, data, contiguous, .. } => {
                    if switched {
                        dragged.units.push((rtp, data, contiguous));
                    }
                }
                Arrival::Note(text) => {
                    let note: FrameNote = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("a note: {e}: {text}"));
                    dragged.notes.push(note);
                }
                Arrival::Closed(why) => panic!("the peer failed: {why}"),
            },
        }
    }
    // A note follows its frame: wait a little for the last ones.
    let named = |dragged: &Dragged| {
        dragged
            .units
            .iter()
            .all(|(rtp, _, _)| note_of(dragged, *rtp).is_some())
    };
    let drained = Instant::now() + Duration::from_secs(2);
    while !named(&dragged) && Instant::now() < drained {
        match tokio::time::timeout_at(drained.into(), peer.next()).await {
            Ok(Some(Arrival::Note(text))) => {
                if let Ok(note) = serde_json::from_str(&text) {
                    dragged.notes.push(note);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    dragged
}

#[test]
fn over_webrtc_a_drags_frames_come_as_rtp_decode_in_order_and_name_their_input() {
    let address = server(true);
    support::server::run_within(TEST_LIMIT, async move {
        let (mut client, transports) = opened(address).await;
        assert_eq!(
            transports,
            [TransportKind::Webrtc, TransportKind::Websocket],
            "welcome offers WebRTC"
        );
        let mut peer = PeerTask::negotiate(&mut client)
            .await
            .expect("the offer is answered");
        let dragged = drag_over_webrtc(
            &mut client,
            &mut peer,
            units(WANTED),
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(
            dragged.transports,
            [(TransportKind::Webrtc, None)],
            "frames moved to WebRTC once"
        );
        assert!(
            dragged.units.len() >= WANTED,
            "{} access units over RTP",
            dragged.units.len()
        );
        // Every access unit decodes, in order, from the keyframe that starts them.
        let mut decoder = H264Decoder::new().expect("FFmpeg's H.264 decoder");
        let mut pictures = Vec::new();
        for (n, (rtp, unit, _)) in dragged.units.iter().enumerate() {
            let picture = decoder
                .decode(unit)
                .unwrap_or_else(|e| panic!("access unit {n} (RTP {rtp}): {e}"));
            pictures.push(picture);
        }
        let lit = |rgba: &[u8]| rgba.chunks(4).filter(|p| p[0] > 30).count();
        assert!(
            pictures.iter().all(|p| lit(&p.rgba) > 100),
            "every picture shows the phantom"
        );
        assert!(
            pictures.first().map(|p| &p.rgba) != pictures.last().map(|p| &p.rgba),
            "the drag turns the picture"
        );
        // Each access unit is named by a note: its frame and the input it answers.
        let named: Vec<&FrameNote> = dragged
            .units
            .iter()
            .map(|(rtp, _, _)| {
                note_of(&dragged, *rtp)
                    .unwrap_or_else(|| panic!("no note for RTP {rtp}: {:?}", dragged.notes))
            })
            .collect();
        assert!(named[0].keyframe, "the first frame over RTP is a keyframe");
        assert!(
            named
                .windows(2)
                .all(|pair| pair[0].frame_seq < pair[1].frame_seq),
            "frames in order: {named:?}"
        );
        assert!(
            named
                .windows(2)
                .all(|pair| pair[0].input_seq <= pair[1].input_seq),
            "inputs answered in order: {named:?}"
        );
        // The inputs went over the data channel only: the frames answer them.
        let answered = named.last().map_or(0, |note| note.input_seq);
        assert!(
            dragged.inputs.contains(&answered),
            "the last frame answers input {answered}, one of those sent: {:?}",
            dragged.inputs
        );
    });
}

/// The note of the frame sent at RTP time `rtp`.
fn note_of(dragged: &Dragged, rtp: u32) -> Option<&FrameNote> {
    dragged.notes.iter().find(|note| note.rtp == rtp)
}

/// Where each gap of a drag's access units (a unit after lost packets: not contiguous)
/// was mended, in order: the gap's unit, and the keyframe at or after it that mended it
/// (`None` for a gap not mended yet). A gap that opens before the last one is mended
/// waits for the same keyframe.
fn gaps_and_mends(dragged: &Dragged) -> Vec<(usize, Option<usize>)> {
    let keyframe = |rtp: u32| note_of(dragged, rtp).is_some_and(|note| note.keyframe);
    let mut gaps: Vec<(usize, Option<usize>)> = Vec::new();
    for (n, (rtp, _, contiguous)) in dragged.units.iter().enumerate() {
        if !contiguous {
            gaps.push((n, None));
        }
        if keyframe(*rtp) {
            for (_, mend) in gaps.iter_mut().rev().take_while(|(_, mend)| mend.is_none()) {
                *mend = Some(n);
            }
        }
    }
    gaps
}

#[test]
fn with_packets_lost_the_picture_mends_itself_and_frames_keep_coming() {
    const LOSS: f64 = 0.05;
    const UNITS: usize = 60;
    /// Most access units from a gap to the keyframe that mends it.
    const MENDED_WITHIN: usize = 10;
    let address = server(true);
    support::server::run_within(TEST_LIMIT, async move {
        let (mut client, _) = opened(address).await;
        let relay = LossyRelay::bind(IpAddr::from([127, 0, 0, 1]), LOSS, 7)
            .await
            .expect("a relay");
        let mut peer = PeerTask::negotiate_through(&mut client, Some(&relay))
            .await
            .expect("the offer is answered");
        let lost_before = relay.lost();
        // UNITS at least, and on until the last gap is mended.
        let enough = |dragged: &Dragged| {
            dragged.units.len() >= UNITS
                && gaps_and_mends(dragged)
                    .last()
                    .is_none_or(|(_, mend)| mend.is_some())
        };
        let dragged =
            drag_over_webrtc(&mut client, &mut peer, enough, Duration::from_secs(90)).await;
        assert!(
            dragged.units.len() >= UNITS,
            "frames kept coming through the loss: {} access units",
            dragged.units.len()
        );
        let gaps = gaps_and_mends(&dragged);
        eprintln!(
            "{} media packets lost ({} before the drag); (gap, keyframe that mended it) in {} \
             access units: {gaps:?}",
            relay.lost(),
            lost_before,
            dragged.units.len()
        );
        // Packets were lost during the drag itself. A loss that the server's retransmission
        // (NACK) repaired leaves no gap; each one that left a gap must be mended below.
        let lost = relay.lost() - lost_before;
        assert!(lost > 0, "the relay lost packets during the drag");
        // Each gap was mended: the server's keyframe (the client's PLI) came within a few
        // units.
        for (gap, mend) in &gaps {
            let mend = mend
                .unwrap_or_else(|| panic!("the gap at access unit {gap} was not mended: {gaps:?}"));
            assert!(
                mend - gap < MENDED_WITHIN,
                "the gap at access unit {gap} was mended only at {mend}: {gaps:?}"
            );
        }
        // Fed in order to one decoder, as a player does: from each mending keyframe on
        // (and before the first gap) every unit decodes.
        let mut decoder = H264Decoder::new().expect("FFmpeg's H.264 decoder");
        for (n, (_, unit, _)) in dragged.units.iter().enumerate() {
            let decoded = decoder.decode(unit);
            let broken = gaps
                .iter()
                .any(|(gap, mend)| (*gap..mend.unwrap_or(usize::MAX)).contains(&n));
            if !broken {
                decoded.unwrap_or_else(|e| {
                    panic!("access unit {n}, with the picture whole or mended: {e} ({gaps:?})")
                });
            }
        }
    });
}

/// The network's estimates (kbit/s) the server reported during a drag, with the bitrate
/// it aimed at then.
fn estimates(dragged: &Dragged) -> Vec<(u32, u32)> {
    dragged
        .stats
        .iter()
        .filter_map(|stats| Some((stats.network_kbps?, stats.bitrate_kbps?)))
        .collect()
}

#[test]
fn over_webrtc_the_bitrate_keeps_under_the_networks_estimate_which_falls_under_heavy_loss() {
    const HEAVY_LOSS: f64 = 0.3;
    const DRAG: Duration = Duration::from_secs(8);
    let address = server(true);
    support::server::run_within(TEST_LIMIT, async move {
        let (mut client, _) = opened(address).await;
        let mut peer = PeerTask::negotiate(&mut client)
            .await
            .expect("the offer is answered");
        let clean = drag_over_webrtc(&mut client, &mut peer, units(usize::MAX), DRAG).await;
        drop(peer);
        let (mut client, _) = opened(address).await;
        let relay = LossyRelay::bind(IpAddr::from([127, 0, 0, 1]), HEAVY_LOSS, 11)
            .await
            .expect("a relay");
        let mut peer = PeerTask::negotiate_through(&mut client, Some(&relay))
            .await
            .expect("the offer is answered");
        let lossy = drag_over_webrtc(&mut client, &mut peer, units(usize::MAX), DRAG).await;
        let (clean, lossy) = (estimates(&clean), estimates(&lossy));
        eprintln!("(estimate, bitrate) kbit/s: lossless {clean:?}; at {HEAVY_LOSS} loss {lossy:?}");
        assert!(
            !clean.is_empty(),
            "the server reports the network's estimate over WebRTC"
        );
        for (network, bitrate) in clean.iter().chain(&lossy) {
            assert!(
                f64::from(*bitrate) <= (f64::from(*network) * 0.85).max(150.0) + 1.0,
                "the bitrate {bitrate} keeps under the estimate {network}"
            );
        }
        let clean_best = clean.iter().map(|(network, _)| *network).max().unwrap_or(0);
        let lossy_last = lossy.last().map_or(u32::MAX, |(network, _)| *network);
        assert!(
            lossy_last < clean_best,
            "losing {HEAVY_LOSS} of the packets brings the estimate down ({lossy_last} against {clean_best} kbit/s lossless)"
        );
    });
}

#[test]
fn a_client_that_decodes_h264_only_over_rtp_gets_it_there_and_jpeg_on_the_websocket() {
    let address = server(true);
    support::server::run_within(TEST_LIMIT, async move {
        // As a page without WebCodecs: JPEG first, WebRTC offered.
        let (mut client, welcome) = opened_offering(address, &[Codec::Jpeg, Codec::Png]).await;
        assert_eq!(welcome.codec, Codec::Jpeg);
        assert_eq!(
            welcome.transports,
            [TransportKind::Webrtc, TransportKind::Websocket],
            "WebRTC is offered all the same"
        );
        let mut peer = PeerTask::negotiate(&mut client)
            .await
            .expect("the offer is answered");
        let dragged = drag_over_webrtc(
            &mut client,
            &mut peer,
            units(WANTED),
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(dragged.transports, [(TransportKind::Webrtc, None)]);
        assert!(
            dragged.units.len() >= WANTED,
            "{} access units",
            dragged.units.len()
        );
        let mut decoder = H264Decoder::new().expect("FFmpeg's H.264 decoder");
        for (n, (_, unit, _)) in dragged.units.iter().enumerate() {
            decoder
                .decode(unit)
                .unwrap_or_else(|e| panic!("access unit {n} over RTP: {e}"));
        }
        assert!(
            !dragged.websocket_codecs.contains(&Codec::H264),
            "no H.264 on the WebSocket: {:?}",
            dragged.websocket_codecs
        );
        // The client gives up its peer: JPEG again on the WebSocket.
        drop(peer);
        client
            .send(&ClientMessage::WebrtcClose {
                reason: "the test closes its peer".to_string(),
            })
            .await
            .expect("sent");
        let mut interactive = Vec::new();
        let mut moved_back = false;
        let deadline = Instant::now() + Duration::from_secs(30);
        while interactive.len() < 3 {
            assert!(
                Instant::now() < deadline,
                "frames after the peer closed: {interactive:?}"
            );
            client
                .input(Action::Orbit { dx: 3.0, dy: 0.5 })
                .await
                .expect("sent");
            match client.next_event().await.expect("the WebSocket stays up") {
                Event::Message(ServerMessage::Transport { transport, .. }) => {
                    moved_back = transport == TransportKind::Websocket;
                }
                Event::Frame(frame) if moved_back && !frame.header.flags.final_still() => {
                    interactive.push(frame.header.codec);
                }
                _ => {}
            }
        }
        assert!(
            interactive.iter().all(|codec| *codec == Codec::Jpeg),
            "interactive frames back on the WebSocket are JPEG: {interactive:?}"
        );
    });
}

#[test]
fn a_peer_that_never_connects_leaves_the_frames_on_the_websocket_with_the_reason() {
    let address = server(true);
    support::server::run_within(TEST_LIMIT, async move {
        let (mut client, _) = opened(address).await;
        // An offer from a peer that then never answers (UDP blocked on its side).
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("a socket");
        let (_peer, offer) = ClientPeer::offer(silent.local_addr().expect("bound"), Instant::now())
            .expect("an offer");
        client.offer_webrtc(offer.clone()).await.expect("answered");
        let asked = Instant::now();
        let mut frames_after = 0;
        let mut reason = None;
        let mut ticker = tokio::time::interval(INPUT_EVERY);
        while frames_after < 5 {
            assert!(
                asked.elapsed() < Duration::from_secs(30),
                "no fallback: {reason:?}, {frames_after} frames after it"
            );
            tokio::select! {
                _ = ticker.tick() => {
                    client.input(Action::Orbit { dx: 3.0, dy: 0.5 }).await.expect("sent");
                }
                event = client.next_event() => match event.expect("the WebSocket stays up") {
                    Event::Message(ServerMessage::Transport { transport, reason: why }) => {
                        assert_eq!(transport, TransportKind::Websocket);
                        reason = why;
                    }
                    Event::Frame(_) if reason.is_some() => frames_after += 1,
                    _ => {}
                },
            }
        }
        let reason = reason.expect("a reason");
        assert!(reason.contains("did not connect"), "{reason}");
        assert!(
            asked.elapsed() >= Duration::from_secs(4),
            "given its time to connect"
        );
        // Offers are held off for a while after the failure.
        match client.offer_webrtc(offer).await {
            Err(ClientError::Server { code, message }) => {
                assert_eq!(code, ErrorCode::BadValue);
                assert!(message.contains("try again"), "{message}");
            }
            other => panic!("a second offer so soon is refused: {other:?}"),
        }
    });
}

#[test]
fn a_server_without_webrtc_offers_none_and_refuses_an_offer() {
    let address = server(false);
    support::server::run_within(TEST_LIMIT, async move {
        let (mut client, transports) = opened(address).await;
        assert_eq!(transports, [], "welcome offers no other transport");
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("a socket");
        let (_peer, offer) = ClientPeer::offer(socket.local_addr().expect("bound"), Instant::now())
            .expect("an offer");
        match client.offer_webrtc(offer).await {
            Err(ClientError::Server { code, message }) => {
                assert_eq!(code, ErrorCode::BadValue);
                assert!(message.contains("WebSocket only"), "{message}");
            }
            other => panic!("the offer is refused: {other:?}"),
        }
    });
}
