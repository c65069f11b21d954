//! The status line: the session, the codec and what carries the frames (and why not
//! WebRTC), frames per second, latency, and the last frame's size and render time.

use hounsfield_protocol::TransportKind;

use super::RemoteView;
use crate::thin_client::connection::LinkStatus;

/// How the frames come, for the status line: the codec and, once connected, the transport,
/// with why it is not WebRTC when WebRTC was tried (`H.264 over WebSocket (WebRTC: …)`).
pub(super) fn frames_carried(
    codec: &str,
    transport: Option<TransportKind>,
    fallback: Option<&str>,
) -> String {
    let codec = match codec {
        "h264" => "H.264",
        "jpeg" => "JPEG",
        "png" => "PNG",
        other => other,
    };
    match (transport, fallback) {
        (None, _) => codec.to_string(),
        (Some(TransportKind::Webrtc), _) => format!("{codec} over WebRTC"),
        (Some(TransportKind::Websocket), None) => format!("{codec} over WebSocket"),
        (Some(TransportKind::Websocket), Some(why)) => {
            format!("{codec} over WebSocket (WebRTC: {why})")
        }
    }
}

impl RemoteView {
    /// The link's status line: state, latency, frame rate, bit rate, and the codec and
    /// transport of the frames, and the paths a pixel of a cinematic picture.
    pub fn status_text(&self) -> String {
        let state = self.link.state();
        let status = match &state.status {
            None => "connecting".to_string(),
            Some(LinkStatus::Connecting { attempt: 0, .. }) => "connecting".to_string(),
            Some(LinkStatus::Connecting {
                attempt,
                reason: Some(reason),
            }) => format!("reconnecting (attempt {attempt}): {reason}"),
            Some(LinkStatus::Connecting { attempt, .. }) => {
                format!("reconnecting (attempt {attempt})")
            }
            Some(LinkStatus::Connected) => "connected".to_string(),
            Some(LinkStatus::Closed(reason)) => format!("closed: {reason}"),
            Some(LinkStatus::Untrusted { .. }) => {
                "waiting: the certificate is not trusted".to_string()
            }
        };
        let latency = state
            .latency_ms
            .map_or_else(String::new, |ms| format!(" · latency {ms:.0} ms"));
        let codec = if state.codec.is_empty() {
            String::new()
        } else {
            format!(
                " · {}",
                frames_carried(
                    &state.codec,
                    state.transport,
                    state.webrtc_fallback.as_deref()
                )
            )
        };
        let user = state
            .user
            .as_ref()
            .map_or_else(String::new, |user| format!(" as {user}"));
        let cinematic = state.cinematic_paths.map_or_else(String::new, |paths| {
            format!(" · cinematic · {paths} paths a pixel")
        });
        format!(
            "remote · {}{user} · {status}{latency} · {:.0} fps · {:.0} kbit/s{codec}{cinematic}",
            self.link.target.url, state.fps, state.kbit_s
        )
    }
}
