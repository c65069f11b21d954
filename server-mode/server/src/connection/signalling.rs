//! WebRTC signalling on the session's socket: the client's offer answered, the peer's
//! events, and the client told when frames move between WebRTC and the WebSocket.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_protocol::{Codec, ErrorCode, ServerMessage, TransportKind};
use hounsfield_webrtc::transport::Switch;
use hounsfield_webrtc::{PeerEvent, PeerNews};

use super::{Connection, Path};
use crate::session::{Admission, MessageKind};

impl Connection {
    /// `webrtc_offer`: answered when `welcome` offered WebRTC, else refused.
    pub(super) async fn webrtc_offer(&mut self, sdp: &str) -> ControlFlow<()> {
        let app = self.app.clone();
        let Some(endpoint) = app.webrtc.as_ref().filter(|_| self.webrtc_offered) else {
            return self
                .error(
                    ErrorCode::BadValue,
                    "this session's frames go over the WebSocket only (welcome.transports)",
                )
                .await;
        };
        let bitrate_kbps = self
            .session
            .bitrate_kbps()
            .unwrap_or(crate::rate::NOMINAL_KBPS.0 as u32);
        match self
            .webrtc
            .offer(endpoint, sdp, Instant::now(), bitrate_kbps)
            .await
        {
            Ok((answer, switch)) => {
                if self.tell_switch(switch).await.is_break() {
                    return ControlFlow::Break(());
                }
                tracing::info!(session = self.slot.id(), "WebRTC offer answered");
                self.send(&ServerMessage::WebrtcAnswer { sdp: answer })
                    .await
            }
            Err(refused) => {
                if self.tell_switch(refused.switch).await.is_break() {
                    return ControlFlow::Break(());
                }
                self.error(
                    ErrorCode::BadValue,
                    format!("webrtc_offer: {}", refused.reason),
                )
                .await
            }
        }
    }

    /// Acts on what the session's WebRTC peer said.
    pub(super) async fn on_peer_event(&mut self, event: PeerEvent) -> ControlFlow<()> {
        match self.webrtc.on_event(event, Instant::now()) {
            PeerNews::Nothing => ControlFlow::Continue(()),
            PeerNews::Connected { bandwidth_kbps } => {
                if self.video_over_rtp_only && self.session.codec() == Codec::Jpeg {
                    // The peer is up: H.264 starts, for RTP only.
                    if let Err(why) = self.start_video().await {
                        tracing::info!(session = self.slot.id(), %why, "no H.264 for WebRTC");
                        let switch = self.webrtc.close(Instant::now(), &why);
                        return self.tell_switch(switch).await;
                    }
                }
                // RTP's pacer sends at about the estimate: a frame encoded for more would
                // wait in its queue, behind its data channel note.
                if let Some(kbps) = bandwidth_kbps {
                    self.session.network_estimate(Some(f64::from(kbps)));
                }
                // Refused only without a video stream, when there is nothing to mend.
                let _ = self.session.keyframe();
                ControlFlow::Continue(())
            }
            PeerNews::KeyframeRequested => {
                // Held to the rate of `keyframe` messages; past it dropped without a word
                // (the stack asks again while the picture stays broken).
                if matches!(
                    self.rates.admit(MessageKind::Keyframe, Instant::now()),
                    Admission::Admitted
                ) {
                    let _ = self.session.keyframe();
                }
                ControlFlow::Continue(())
            }
            PeerNews::Switched(switch) => self.tell_switch(Some(switch)).await,
            PeerNews::Message(text) => self.on_text(&text, Path::DataChannel).await,
            PeerNews::Bandwidth(kbps) => {
                self.session.network_estimate(Some(f64::from(kbps)));
                ControlFlow::Continue(())
            }
        }
    }

    /// Tells the client where frames go from now on; back on the WebSocket, the next frame
    /// is a keyframe (its decoder there missed what went over RTP).
    pub(super) async fn tell_switch(&mut self, switch: Option<Switch>) -> ControlFlow<()> {
        let message = match switch {
            None => return ControlFlow::Continue(()),
            Some(Switch::ToWebRtc) => {
                tracing::info!(session = self.slot.id(), "frames over WebRTC");
                ServerMessage::Transport {
                    transport: TransportKind::Webrtc,
                    reason: None,
                }
            }
            Some(Switch::ToWebSocket(reason)) => {
                tracing::info!(session = self.slot.id(), %reason, "frames over the WebSocket");
                if self.video_over_rtp_only {
                    // The client cannot decode H.264 from the WebSocket: JPEG again.
                    self.stop_video();
                }
                let _ = self.session.keyframe();
                // The network's estimate was of the path the frames left.
                self.session.network_estimate(None);
                ServerMessage::Transport {
                    transport: TransportKind::Websocket,
                    reason: Some(reason),
                }
            }
        };
        self.send(&message).await
    }
}
