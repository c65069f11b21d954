//! `hello` answered with `welcome`: the codec of interactive frames (H.264 when the client
//! offers it first and an encoder opens, else JPEG, with why), and the session's H.264
//! stream opened and closed.

use std::ops::ControlFlow;

use hounsfield_protocol::{Codec, ErrorCode, PROTOCOL_VERSION, ServerMessage, TransportKind};
use hounsfield_video::encode::VideoStream;

use super::Connection;
use crate::metrics::Metrics;

impl Connection {
    /// `hello`: the viewport, the codec of interactive frames, then `welcome`.
    pub(super) async fn hello(
        &mut self,
        codecs: &[Codec],
        viewport: Option<hounsfield_protocol::Viewport>,
        transports: &[TransportKind],
    ) -> ControlFlow<()> {
        if !codecs.is_empty() && !codecs.contains(&Codec::Jpeg) {
            return self
                .error(
                    ErrorCode::BadValue,
                    "stills are JPEG or PNG, and JPEG is the fallback for everything: list \"jpeg\" in codecs",
                )
                .await;
        }
        if let Some(viewport) = viewport {
            self.session.set_viewport(viewport);
        }
        let position = |codec: Codec| codecs.iter().position(|c| *c == codec);
        let h264_first = position(Codec::H264)
            .is_some_and(|h264| position(Codec::Jpeg).is_none_or(|jpeg| h264 < jpeg));
        let (encoder, fallback) = if h264_first {
            match self.start_video().await {
                Ok(encoder) => {
                    Metrics::add(&self.app.metrics.h264_sessions_total, 1);
                    (Some(encoder), None)
                }
                Err(why) => {
                    Metrics::add(&self.app.metrics.h264_fallbacks_total, 1);
                    tracing::info!(session = self.slot.id(), %why, "JPEG instead of H.264");
                    (None, Some(why))
                }
            }
        } else {
            self.stop_video();
            (None, None)
        };
        self.greeted = true;
        // RTP carries H.264 only, and a client that takes WebRTC decodes it there. A client
        // that put JPEG first (it cannot decode H.264 from the WebSocket) gets H.264 only
        // while WebRTC carries the frames, JPEG otherwise.
        let webrtc_taken = self.app.webrtc.is_some() && transports.contains(&TransportKind::Webrtc);
        self.video_over_rtp_only =
            webrtc_taken && !h264_first && !self.app.h264_candidates().is_empty();
        self.webrtc_offered = webrtc_taken && (encoder.is_some() || self.video_over_rtp_only);
        let welcome = ServerMessage::Welcome {
            session: self.slot.id(),
            server: format!("hounsfield {}", env!("CARGO_PKG_VERSION")),
            protocol: PROTOCOL_VERSION,
            viewport: self.session.viewport(),
            codec: self.session.codec(),
            encoder,
            fallback,
            transports: if self.webrtc_offered {
                vec![TransportKind::Webrtc, TransportKind::Websocket]
            } else {
                Vec::new()
            },
            user: self.identity.name.clone(),
            role: Some(self.identity.role.name().to_string()),
            node: self.app.config.node_name.clone(),
        };
        self.send(&welcome).await
    }

    /// Opens an H.264 stream for the session (off the async threads: opening an encoder
    /// takes milliseconds); the encoder's name, or why there is none.
    pub(super) async fn start_video(&mut self) -> Result<String, String> {
        let candidates = self.app.h264_candidates().to_vec();
        if candidates.is_empty() {
            return Err(self
                .app
                .h264
                .why_none()
                .unwrap_or_else(|| "no H.264 encoder".to_string()));
        }
        self.session.stream_video(true);
        let viewport = self.session.viewport();
        let bitrate_kbps = self.session.bitrate_kbps().unwrap_or_default();
        let interval = self.app.config.keyframe_interval;
        let opened = tokio::task::spawn_blocking(move || {
            VideoStream::open(
                &candidates,
                [viewport.width, viewport.height],
                bitrate_kbps,
                interval,
            )
        })
        .await;
        let failure = match opened {
            Ok(Ok(stream)) => {
                let name = stream.encoder_name().to_string();
                self.slot.set_video(Some(stream));
                return Ok(name);
            }
            Ok(Err(error)) => format!("the H.264 encoder did not open: {error}"),
            Err(error) => format!("opening the H.264 encoder failed: {error}"),
        };
        self.stop_video();
        Err(failure)
    }

    /// Interactive frames as JPEG from now on: the session's H.264 stream, if any, closed.
    pub(super) fn stop_video(&mut self) {
        self.slot.set_video(None);
        self.session.stream_video(false);
    }
}
