//! Server-wide counters, served at `/metrics` in the Prometheus text format, with the
//! render thread's and encode lanes' health.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::scheduler::RenderHealth;

/// Counters shared by every connection.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sessions open now.
    pub sessions_active: AtomicU64,
    /// Sessions opened since start.
    pub sessions_total: AtomicU64,
    /// Connections refused (too many sessions, bad token).
    pub refused_total: AtomicU64,
    /// Frames written to sockets.
    pub frames_total: AtomicU64,
    /// Frame bytes (header and payload) written to sockets.
    pub frame_bytes_total: AtomicU64,
    /// Microseconds spent rendering the frames sent.
    pub render_us_total: AtomicU64,
    /// Microseconds spent encoding the frames sent.
    pub encode_us_total: AtomicU64,
    /// Microseconds the frames sent took from their encoding's end to the socket written
    /// (or handed to RTP): the session's queue and the write.
    pub send_us_total: AtomicU64,
    /// Inputs applied.
    pub inputs_total: AtomicU64,
    /// `error` replies sent.
    pub errors_total: AtomicU64,
    /// H.264 frames written to sockets (also counted in `frames_total`).
    pub h264_frames_total: AtomicU64,
    /// Sessions whose interactive frames are H.264.
    pub h264_sessions_total: AtomicU64,
    /// Sessions that offered H.264 first but got JPEG, or lost H.264 when its encoder failed.
    pub h264_fallbacks_total: AtomicU64,
    /// The H.264 encoder sessions get (FFmpeg's name), or `none`; set once at start.
    pub h264_encoder: OnceLock<String>,
    /// Sessions this node serves at once (its configured limit).
    pub max_sessions: AtomicU64,
    /// This render node's name, when it is one of several.
    pub node_name: OnceLock<String>,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter, of `health` and of whether the
    /// node is `ready` for new sessions. An autoscaler or a placement policy reads the
    /// load from `hounsfield_sessions` / `hounsfield_max_sessions` and the render thread's
    /// busy share from the rate of `hounsfield_render_ms_sum`.
    pub fn render(&self, health: &RenderHealth, ready: bool) -> String {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let frames = load(&self.frames_total);
        let rows: [(&str, &str, &str, u64); 18] = [
            (
                "hounsfield_sessions",
                "gauge",
                "WebSocket sessions open now.",
                load(&self.sessions_active),
            ),
            (
                "hounsfield_max_sessions",
                "gauge",
                "Sessions this node serves at once (its limit).",
                load(&self.max_sessions),
            ),
            (
                "hounsfield_ready",
                "gauge",
                "1 while a new session would be served here (rendering works, not shutting down, a place free).",
                u64::from(ready),
            ),
            (
                "hounsfield_sessions_total",
                "counter",
                "WebSocket sessions opened since start.",
                load(&self.sessions_total),
            ),
            (
                "hounsfield_refused_total",
                "counter",
                "Connections refused (limits, token).",
                load(&self.refused_total),
            ),
            ("hounsfield_frames_total", "counter", "Frames sent.", frames),
            (
                "hounsfield_bytes_sent_total",
                "counter",
                "Frame bytes sent (header and payload).",
                load(&self.frame_bytes_total),
            ),
            (
                "hounsfield_inputs_total",
                "counter",
                "Inputs applied.",
                load(&self.inputs_total),
            ),
            (
                "hounsfield_errors_total",
                "counter",
                "Error replies sent.",
                load(&self.errors_total),
            ),
            (
                "hounsfield_render_ms_sum",
                "counter",
                "Milliseconds spent rendering the frames sent (divide by hounsfield_frames_total for the mean).",
                load(&self.render_us_total) / 1000,
            ),
            (
                "hounsfield_encode_ms_sum",
                "counter",
                "Milliseconds spent encoding the frames sent.",
                load(&self.encode_us_total) / 1000,
            ),
            (
                "hounsfield_send_ms_sum",
                "counter",
                "Milliseconds the frames sent took from their encoding's end to the socket written (the session's queue and the write).",
                load(&self.send_us_total) / 1000,
            ),
            (
                "hounsfield_h264_frames_total",
                "counter",
                "H.264 frames sent (within hounsfield_frames_total).",
                load(&self.h264_frames_total),
            ),
            (
                "hounsfield_h264_sessions_total",
                "counter",
                "Sessions whose interactive frames are H.264.",
                load(&self.h264_sessions_total),
            ),
            (
                "hounsfield_h264_fallbacks_total",
                "counter",
                "Sessions that offered H.264 but got JPEG, or lost H.264 when its encoder failed.",
                load(&self.h264_fallbacks_total),
            ),
            (
                "hounsfield_rendering_up",
                "gauge",
                "1 while frames can be made; 0 while the render thread is down or restarting (or an encode lane gave up).",
                u64::from(health.is_up()),
            ),
            (
                "hounsfield_renderer_restarts_total",
                "counter",
                "Restarts of the render thread (on a new GPU device) after a panic or a lost device.",
                health.renderer_restarts(),
            ),
            (
                "hounsfield_encoder_restarts_total",
                "counter",
                "Restarts of encode lanes after a panic (all lanes).",
                health.encoder_restarts(),
            ),
        ];
        let mut text = String::with_capacity(2048);
        for (name, kind, help, value) in rows {
            // Writing to a String cannot fail.
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        if let Some(node) = self.node_name.get() {
            let _ = writeln!(
                text,
                "# HELP hounsfield_node This render node's name.\n# TYPE hounsfield_node gauge\nhounsfield_node{{node=\"{}\"}} 1",
                node.replace(['"', '\\', '\n'], "_")
            );
        }
        let encoder = self.h264_encoder.get().map_or("none", String::as_str);
        let _ = writeln!(
            text,
            "# HELP hounsfield_h264_encoder The H.264 encoder sessions get (FFmpeg's name; none: JPEG only).\n# TYPE hounsfield_h264_encoder gauge\nhounsfield_h264_encoder{{encoder=\"{}\"}} 1",
            encoder.replace(['"', '\\', '\n'], "_")
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_help_type_and_value_lines() {
        let metrics = Metrics::default();
        Metrics::add(&metrics.frames_total, 3);
        Metrics::add(&metrics.render_us_total, 4_500);
        Metrics::add(&metrics.send_us_total, 2_700);
        metrics
            .h264_encoder
            .set("libx264".to_string())
            .expect("set once");
        metrics.max_sessions.store(16, Ordering::Relaxed);
        metrics
            .node_name
            .set("hounsfield-1".to_string())
            .expect("set once");
        let text = metrics.render(&RenderHealth::default(), true);
        assert!(
            text.contains("# TYPE hounsfield_frames_total counter\nhounsfield_frames_total 3\n")
        );
        assert!(text.contains("\nhounsfield_render_ms_sum 4\n"));
        assert!(text.contains("\nhounsfield_send_ms_sum 2\n"));
        assert!(text.contains("# TYPE hounsfield_sessions gauge\nhounsfield_sessions 0\n"));
        assert!(text.contains("\nhounsfield_h264_encoder{encoder=\"libx264\"} 1\n"));
        assert!(text.contains("# TYPE hounsfield_rendering_up gauge\nhounsfield_rendering_up 1\n"));
        assert!(text.contains("\nhounsfield_renderer_restarts_total 0\n"));
        assert!(text.contains("\nhounsfield_max_sessions 16\n"));
        assert!(text.contains("\nhounsfield_ready 1\n"));
        assert!(text.contains("\nhounsfield_node{node=\"hounsfield-1\"} 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("name value");
            assert!(value.parse::<u64>().is_ok(), "{line}");
        }
    }
}
