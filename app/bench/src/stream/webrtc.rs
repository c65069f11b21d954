//! A benchmark session's frames over WebRTC: negotiated on its socket, through a seeded
//! lossy relay when the run loses packets, keyframes asked for after a gap.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[cfg(feature = "test-bench")]
use hounsfield_client::lossy_relay::LossyRelay;
use hounsfield_client::webrtc::{PeerTask, RtpFrames};
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, ServerMessage, TransportKind};

use super::RtpArrival;
use super::receiver::Receiver;
use crate::client::in_time;

/// Longest wait for the frames to move to WebRTC before the measured drag.
pub(super) const SWITCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Moves the session's frames to WebRTC before the measured drag: the offer answered
/// (through a relay losing `loss` of the media packets, when above 0), then small orbits
/// over the WebSocket until the server says the frames go over RTP. The frames on the way
/// are decoded (not measured). The peer, the relay (kept while the peer needs it) and the
/// pairing of access units with their notes.
pub(super) async fn over_webrtc(
    client: &mut Client,
    receiver: &mut Receiver,
    loss: f64,
) -> anyhow::Result<(PeerTask, Option<LossyRelay>, RtpFrames)> {
    let (mut peer, relay) = in_time("the WebRTC answer", negotiate(client, loss)).await?;
    let mut rtp = RtpFrames::default();
    let unmeasured = HashMap::new();
    let deadline = Instant::now() + SWITCH_TIMEOUT;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if Instant::now() > deadline {
                    anyhow::bail!("the frames did not move to WebRTC within {SWITCH_TIMEOUT:?}");
                }
                client.input(Action::Orbit { dx: 0.5, dy: 0.0 }).await?;
            }
            event = client.next_event() => match event? {
                Event::Frame(frame) => receiver.take(client, frame, &unmeasured).await?,
                Event::Message(ServerMessage::Transport { transport: TransportKind::Webrtc, .. }) => {
                    return Ok((peer, relay, rtp));
                }
                Event::Message(ServerMessage::Transport { reason, .. }) => {
                    anyhow::bail!("WebRTC did not take the frames: {}", reason.unwrap_or_default());
                }
                Event::Message(ServerMessage::Error { code, message }) => {
                    anyhow::bail!("server error {code:?} while moving to WebRTC: {message}");
                }
                Event::Message(_) => {}
            },
            arrival = peer.next() => match arrival {
                Some(RtpArrival::Closed(why)) => anyhow::bail!("the WebRTC peer failed: {why}"),
                Some(arrival) => {
                    for frame in rtp.take(arrival) {
                        receiver.take(client, frame, &unmeasured).await?;
                    }
                }
                None => anyhow::bail!("the WebRTC peer stopped"),
            },
        }
    }
}

/// Which media packets the lossy relay drops: the same in every run.
#[cfg(feature = "test-bench")]
const RELAY_SEED: u64 = 0x4846_5244;

/// The session's peer, through a relay losing `loss` of the media packets when above 0
/// (the developer build's test bench), and the relay.
#[cfg(feature = "test-bench")]
async fn negotiate(
    client: &mut Client,
    loss: f64,
) -> Result<(PeerTask, Option<LossyRelay>), hounsfield_client::ClientError> {
    let relay = if loss > 0.0 {
        let relay = LossyRelay::bind(std::net::Ipv4Addr::LOCALHOST.into(), loss, RELAY_SEED)
            .await
            .map_err(|error| {
                hounsfield_client::ClientError::Protocol(format!("the lossy relay: {error}"))
            })?;
        Some(relay)
    } else {
        None
    };
    let peer = PeerTask::negotiate_through(client, relay.as_ref()).await?;
    Ok((peer, relay))
}

/// The session's peer: the packaged build has no lossy relay, and its runs lose nothing.
#[cfg(not(feature = "test-bench"))]
async fn negotiate(
    client: &mut Client,
    _loss: f64,
) -> Result<(PeerTask, Option<LossyRelay>), hounsfield_client::ClientError> {
    Ok((PeerTask::negotiate(client).await?, None))
}

/// No relay in the packaged build (this type has no value).
#[cfg(not(feature = "test-bench"))]
pub(super) enum LossyRelay {}
