//! A session's WebRTC side: its peer (when the client offered one), the choice of the
//! transport carrying its frames, and the RTP clock its frames are stamped with. The
//! connection asks it what to do with each frame and each thing the peer says; it answers
//! with decisions, and the connection sends the messages they call for.

use std::sync::Arc;
use std::time::Instant;

use hounsfield_protocol::{Codec, FrameHeader, FrameNote};

use super::endpoint::{Endpoint, PeerEvent, PeerHandle};
use super::offer::check_offer;
use super::transport::{Carrier, Switch, TransportChoice};

/// The RTP clock rate of video (RFC 6184).
const RTP_HZ: u128 = 90_000;

/// One session's WebRTC side.
#[derive(Default)]
pub struct WebRtcLink {
    choice: TransportChoice,
    peer: Option<PeerHandle>,
    /// When the session's RTP clock read 0.
    epoch: Option<Instant>,
    /// The bitrate last told the peer's congestion control to find room for (kbit/s).
    desired_kbps: Option<u32>,
    /// The congestion control's estimate of the path (kbit/s): where it started, then the
    /// latest it reported. Its pacer sends the video at about this rate, so a frame
    /// encoded for more waits in its queue.
    bandwidth_kbps: Option<u32>,
}

/// Where a frame went.
#[derive(Debug, PartialEq, Eq)]
pub enum Carried {
    /// Over RTP; with the switch to tell the client when it is the first there.
    WebRtc(Option<Switch>),
    /// Not taken: the connection sends it over the WebSocket.
    WebSocket,
}

/// What the session does about something its peer said.
#[derive(Debug, PartialEq, Eq)]
pub enum PeerNews {
    /// Nothing.
    Nothing,
    /// The peer connected: make the next frame a keyframe (the first over RTP), and keep
    /// the video's bitrate under `bandwidth_kbps`, the congestion control's estimate so
    /// far (before its first report, the bitrate it started from).
    Connected {
        /// The estimate of the path (kbit/s).
        bandwidth_kbps: Option<u32>,
    },
    /// The client asked for a keyframe (PLI or FIR): make the next frame one, within the
    /// rate of keyframe requests.
    KeyframeRequested,
    /// Frames went back to the WebSocket: tell the client, and start it on a keyframe.
    Switched(Switch),
    /// A message the client sent on a data channel, to be taken as one from the WebSocket.
    Message(String),
    /// The network's estimate of the bandwidth to the client (kbit/s): the video's
    /// bitrate keeps under it.
    Bandwidth(u32),
}

/// Why an offer was not answered, and the switch it caused, if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    /// What to tell the client.
    pub reason: String,
    /// Frames went back to the WebSocket because of it.
    pub switch: Option<Switch>,
}

impl WebRtcLink {
    /// Answers the client's offer `sdp` at `now` through `endpoint` (replacing any peer the
    /// session had), its video starting at `bitrate_kbps`: the answer's SDP and the switch
    /// it caused, if any.
    pub async fn offer(
        &mut self,
        endpoint: &Endpoint,
        sdp: &str,
        now: Instant,
        bitrate_kbps: u32,
    ) -> Result<(String, Option<Switch>), Refused> {
        let refused = |reason: String| Refused {
            reason,
            switch: None,
        };
        let checked = check_offer(sdp).map_err(|error| refused(error.to_string()))?;
        let switch = self.choice.offered(now).map_err(refused)?;
        self.peer = None;
        self.bandwidth_kbps = None;
        match endpoint.answer(&checked, bitrate_kbps).await {
            Ok((peer, answer)) => {
                self.peer = Some(peer);
                self.desired_kbps = Some(bitrate_kbps);
                self.bandwidth_kbps = Some(bitrate_kbps);
                Ok((answer, switch))
            }
            Err(error) => {
                let reason = error.to_string();
                let failed = self.choice.failed(now, &reason);
                Err(Refused {
                    reason,
                    switch: switch.or(failed),
                })
            }
        }
    }

    /// The client gave up on its peer at `now`, for `reason`.
    pub fn close(&mut self, now: Instant, reason: &str) -> Option<Switch> {
        self.peer = None;
        self.choice.failed(now, reason)
    }

    /// The next thing the peer says; never, while there is no peer.
    pub async fn next_event(&mut self) -> PeerEvent {
        match &mut self.peer {
            Some(peer) => peer
                .next_event()
                .await
                .unwrap_or_else(|| PeerEvent::Closed("the WebRTC endpoint stopped".to_string())),
            None => std::future::pending().await,
        }
    }

    /// What the session does about `event`, at `now`.
    pub fn on_event(&mut self, event: PeerEvent, now: Instant) -> PeerNews {
        match event {
            PeerEvent::Connected => {
                self.choice.connected();
                PeerNews::Connected {
                    bandwidth_kbps: self.bandwidth_kbps,
                }
            }
            PeerEvent::KeyframeRequest if self.choice.carrier() == Carrier::WebRtc => {
                PeerNews::KeyframeRequested
            }
            PeerEvent::KeyframeRequest => PeerNews::Nothing,
            PeerEvent::Message(text) => PeerNews::Message(text),
            PeerEvent::Bandwidth(kbps) => {
                self.bandwidth_kbps = Some(kbps);
                match self.choice.carrier() {
                    Carrier::WebRtc => PeerNews::Bandwidth(kbps),
                    Carrier::WebSocket => PeerNews::Nothing,
                }
            }
            PeerEvent::Closed(reason) => {
                self.peer = None;
                self.choice
                    .failed(now, &reason)
                    .map_or(PeerNews::Nothing, PeerNews::Switched)
            }
        }
    }

    /// When [`Self::tick`] has something to decide.
    pub fn deadline(&self) -> Option<Instant> {
        self.choice.deadline()
    }

    /// The clock at `now`: a peer that did not connect in time is given up.
    pub fn tick(&mut self, now: Instant) -> Option<Switch> {
        let switch = self.choice.tick(now);
        if switch.is_some() {
            self.peer = None;
        }
        switch
    }

    /// The session's H.264 stream stopped (frames are JPEG from now on): the peer, which
    /// carries only H.264, is given up.
    pub fn video_stopped(&mut self, now: Instant, reason: &str) -> Option<Switch> {
        self.peer = None;
        self.choice
            .failed(now, &format!("the H.264 stream stopped: {reason}"))
    }

    /// The bitrate the session's video would take with room to spare (kbit/s): the peer's
    /// congestion control looks for room up to it (told again only when it changes).
    pub fn desire_bitrate(&mut self, kbps: u32) {
        let Some(peer) = &self.peer else {
            return;
        };
        if self.desired_kbps != Some(kbps) && peer.desire(kbps) {
            self.desired_kbps = Some(kbps);
        }
    }

    /// Sends frame `frame_seq` (`header`, `payload`) over RTP when it belongs there: an
    /// interactive H.264 frame while WebRTC carries the frames, or the first keyframe once
    /// the peer connected. With a note on the data channel saying which frame it is and
    /// which input it answers, keyed by its RTP time.
    pub fn carry(
        &mut self,
        header: &FrameHeader,
        frame_seq: u32,
        payload: &[u8],
        now: Instant,
    ) -> Carried {
        if header.codec != Codec::H264 || header.flags.final_still() {
            return Carried::WebSocket;
        }
        let Some(peer) = &self.peer else {
            return Carried::WebSocket;
        };
        let switch = match self.choice.carrier() {
            Carrier::WebRtc => None,
            Carrier::WebSocket if self.choice.wants_keyframe() && header.flags.keyframe() => {
                self.choice.keyframe_sent()
            }
            Carrier::WebSocket => return Carried::WebSocket,
        };
        let epoch = *self.epoch.get_or_insert(now);
        let ticks = now.saturating_duration_since(epoch).as_micros() * RTP_HZ / 1_000_000;
        let rtp = u64::try_from(ticks).unwrap_or(u64::MAX);
        // The note goes first: the page draws a frame with its note, and a frame presented
        // before its note has to wait for it.
        let note = FrameNote::of(header, frame_seq, rtp);
        match serde_json::to_string(&note) {
            Ok(text) => {
                peer.note(text);
            }
            Err(error) => tracing::error!(%error, "a frame note did not serialise"),
        }
        // A full queue drops the frame (and its note): the next keyframe mends the picture.
        peer.write(rtp, Arc::from(payload));
        Carried::WebRtc(switch)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::WebRtcConfig;
    use crate::endpoint::tests::client_thread;

    #[test]
    fn an_estimate_heard_while_frames_are_on_the_websocket_is_kept_for_the_connection() {
        let mut link = WebRtcLink::default();
        let now = Instant::now();
        assert_eq!(
            link.on_event(PeerEvent::Bandwidth(700), now),
            PeerNews::Nothing
        );
        assert_eq!(
            link.on_event(PeerEvent::Connected, now),
            PeerNews::Connected {
                bandwidth_kbps: Some(700)
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_peer_connects_with_the_bitrate_its_congestion_control_started_from() {
        const STARTED_KBPS: u32 = 777;
        let endpoint = Endpoint::bind(WebRtcConfig::loopback())
            .await
            .expect("bound");
        let (offer_tx, offer_rx) = std::sync::mpsc::sync_channel(1);
        let (answer_tx, answer_rx) = std::sync::mpsc::sync_channel(1);
        let client = client_thread(offer_tx, answer_rx, 1);
        let offer = tokio::task::spawn_blocking(move || offer_rx.recv().expect("an offer"))
            .await
            .expect("joined");
        let mut link = WebRtcLink::default();
        let (answer, _) = link
            .offer(&endpoint, &offer, Instant::now(), STARTED_KBPS)
            .await
            .expect("answered");
        answer_tx.send(answer).expect("answer sent");
        let news = tokio::time::timeout(Duration::from_secs(20), async {
            let mut heard = None;
            loop {
                let event = link.next_event().await;
                if let PeerEvent::Bandwidth(kbps) = event {
                    heard = Some(kbps);
                }
                match link.on_event(event, Instant::now()) {
                    connected @ PeerNews::Connected { .. } => return (connected, heard),
                    PeerNews::Switched(switch) => panic!("the peer failed: {switch:?}"),
                    _ => {}
                }
            }
        })
        .await;
        let (connected, heard) = news.expect("connected within 20 s");
        // Before its first report, the estimate is where the congestion control started.
        assert_eq!(
            connected,
            PeerNews::Connected {
                bandwidth_kbps: Some(heard.unwrap_or(STARTED_KBPS))
            }
        );
        // One access unit lets the client go.
        let peer = link.peer.as_ref().expect("a peer");
        peer.write(0, Arc::from(&[0_u8, 0, 0, 1, 0x65, 0x11][..]));
        tokio::task::spawn_blocking(move || client.join().expect("the client"))
            .await
            .expect("joined");
    }
}
