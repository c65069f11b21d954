//! The writer task: the only writer of the socket, draining the connection's bounded
//! queue of replies and frames, each write within its time, and counting what it sent.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::mpsc;

use super::{Outgoing, WRITE_TIMEOUT};
use crate::metrics::Metrics;

/// Writes queued messages to the socket, each within [`WRITE_TIMEOUT`].
pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    metrics: Arc<Metrics>,
) {
    while let Some(outgoing) = queue.recv().await {
        let (message, frame) = match outgoing {
            Outgoing::Text(text) => (Message::Text(text.into()), None),
            Outgoing::Frame {
                bytes,
                render_us,
                encode_us,
                h264,
                ticket,
                encoded,
            } => {
                let len = bytes.len() as u64;
                (
                    Message::Binary(bytes.into()),
                    Some((len, render_us, encode_us, h264, ticket, encoded)),
                )
            }
            Outgoing::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                None,
            ),
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "socket write failed");
                return;
            }
            Err(_) => {
                tracing::info!("client stopped reading: connection dropped");
                return;
            }
        }
        if let Some((len, render_us, encode_us, h264, ticket, encoded)) = frame {
            count_frame_sent(&metrics, len, (render_us, encode_us), h264, encoded);
            drop(ticket);
        }
        if closing {
            return;
        }
    }
    // Best effort: the peer may already be gone.
    let _ = sink.close().await;
}

/// Counts a frame of `bytes` (rendered and encoded in these µs, its encoding ended at
/// `encoded`) in the server's metrics, once it is on its way to the client (written to the
/// socket, or handed to RTP).
pub(super) fn count_frame_sent(
    metrics: &Metrics,
    bytes: u64,
    (render_us, encode_us): (u32, u32),
    h264: bool,
    encoded: Instant,
) {
    let send_us = u64::try_from(encoded.elapsed().as_micros()).unwrap_or(u64::MAX);
    Metrics::add(&metrics.send_us_total, send_us);
    Metrics::add(&metrics.frames_total, 1);
    Metrics::add(&metrics.h264_frames_total, u64::from(h264));
    Metrics::add(&metrics.frame_bytes_total, bytes);
    Metrics::add(&metrics.render_us_total, u64::from(render_us));
    Metrics::add(&metrics.encode_us_total, u64::from(encode_us));
}
