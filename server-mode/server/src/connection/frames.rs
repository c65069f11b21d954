//! Frames from the scheduler to the client: over the WebSocket or RTP, counted for the
//! session's `stats` (sent every second while frames flow) and the server's metrics.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_protocol::{Codec, ErrorCode, ServerMessage, Stats};
use hounsfield_webrtc::Carried;
use hounsfield_webrtc::transport::Switch;
use render_core::gpu::CinematicSettings;

use super::writer::count_frame_sent;
use super::{Connection, Outgoing};
use crate::metrics::Metrics;
use crate::scheduler::SchedulerEvent;

impl Connection {
    pub(super) async fn on_event(&mut self, event: SchedulerEvent) -> ControlFlow<()> {
        match event {
            SchedulerEvent::Frame(mut frame) => {
                if let Some(reason) = frame.video_failure.take() {
                    Metrics::add(&self.app.metrics.h264_fallbacks_total, 1);
                    self.session.stream_video(false);
                    let switch = self.webrtc.video_stopped(Instant::now(), &reason);
                    if self.tell_switch(switch).await.is_break() {
                        return ControlFlow::Break(());
                    }
                    let notice = ServerMessage::Codec {
                        codec: Codec::Jpeg,
                        reason: format!("H.264 stopped: {reason}"),
                    };
                    if self.send(&notice).await.is_break() {
                        return ControlFlow::Break(());
                    }
                }
                if self.snapshot.is_some()
                    && frame.header.flags.final_still()
                    && frame.header.codec == Codec::Png
                    && self.take_snapshot(&frame.payload).await.is_break()
                {
                    return ControlFlow::Break(());
                }
                let h264 = frame.header.codec == Codec::H264;
                self.frame_seq = self.frame_seq.wrapping_add(1);
                // A frame of another volume of a series over time is announced with it.
                if self.announce_time_point(frame.time_point).await.is_break() {
                    return ControlFlow::Break(());
                }
                // A cinematic picture is announced with its paths, just before it.
                if let Some(paths) = frame.cinematic_paths {
                    let announced = ServerMessage::Cinematic {
                        frame_seq: self.frame_seq,
                        paths,
                        most: CinematicSettings::RESTING_PASSES,
                    };
                    if self.send(&announced).await.is_break() {
                        return ControlFlow::Break(());
                    }
                }
                let (render_us, encode_us) = (frame.header.render_us, frame.header.encode_us);
                self.last_quality = match frame.quality {
                    render_core::view::Quality::Interactive => "interactive",
                    render_core::view::Quality::Refining => "refining",
                    render_core::view::Quality::Full => "full",
                }
                .to_string();
                let header = &frame.header;
                let picture = [header.width, header.height].map(u32::from);
                let shown = [header.display_width, header.display_height].map(u32::from);
                if h264 && let Some(kbps) = self.session.desired_bitrate_kbps(picture, shown) {
                    self.webrtc.desire_bitrate(kbps);
                }
                let carried = self.webrtc.carry(
                    &frame.header,
                    self.frame_seq,
                    &frame.payload,
                    Instant::now(),
                );
                if let Carried::WebRtc(switch) = carried {
                    return self.sent_over_rtp(frame, switch).await;
                }
                if h264 && self.video_over_rtp_only {
                    // Rendered for RTP just before the frames left it: of no use here.
                    return ControlFlow::Continue(());
                }
                let encoded = frame.encoded;
                let (bytes, ticket) = frame.into_message(self.frame_seq);
                self.count_frame(bytes.len() as u64, (render_us, encode_us));
                self.queue(Outgoing::Frame {
                    bytes,
                    render_us,
                    encode_us,
                    h264,
                    ticket,
                    encoded,
                })
                .await
            }
            SchedulerEvent::Failed { input_seq, message } => {
                self.error(
                    ErrorCode::Internal,
                    format!("the frame for input {input_seq} failed: {message}"),
                )
                .await
            }
        }
    }

    /// Tells the client which volume of a series over time the frame about to go shows,
    /// when it is another than the last frame's (`time_point`).
    async fn announce_time_point(&mut self, index: usize) -> ControlFlow<()> {
        if self.told_time_point == Some(index) {
            return ControlFlow::Continue(());
        }
        let Some(shown) = self.session.time_point(index) else {
            return ControlFlow::Continue(());
        };
        let announced = ServerMessage::TimePoint {
            frame_seq: self.frame_seq,
            index,
            count: self.session.volumes().map_or(0, |volumes| volumes.count()),
            label: shown.label.clone(),
            time_s: shown.time_s,
            cine_fps: self.session.cine_fps(),
        };
        self.told_time_point = Some(index);
        self.send(&announced).await
    }

    /// Counts a frame that went over RTP as the WebSocket's are counted (the frame's
    /// in-flight place is freed as it is dropped), after telling the client of the switch
    /// when it is the first.
    pub(super) async fn sent_over_rtp(
        &mut self,
        frame: crate::scheduler::RenderedFrame,
        switch: Option<Switch>,
    ) -> ControlFlow<()> {
        let times = (frame.header.render_us, frame.header.encode_us);
        let len = frame.payload.len() as u64;
        let encoded = frame.encoded;
        drop(frame);
        self.count_frame(len, times);
        count_frame_sent(&self.app.metrics, len, times, true, encoded);
        self.tell_switch(switch).await
    }

    /// Counts a frame of `bytes` sent to the client in this session's `stats` figures.
    pub(super) fn count_frame(&mut self, bytes: u64, (render_us, encode_us): (u32, u32)) {
        self.window.frames += 1;
        self.window.bytes += bytes;
        self.window.render_us += u64::from(render_us);
        self.window.encode_us += u64::from(encode_us);
        self.frames_sent += 1;
    }

    pub(super) async fn send_stats(&mut self) -> ControlFlow<()> {
        if self.window.frames == 0 {
            return ControlFlow::Continue(());
        }
        let seconds = self.window.since.elapsed().as_secs_f64().max(1e-3);
        let frames = self.window.frames as f64;
        let (input_seq, input_t) = self.session.last_input();
        let stats = Stats {
            frames: self.frames_sent,
            fps: frames / seconds,
            kbit_s: self.window.bytes as f64 * 8.0 / 1000.0 / seconds,
            input_seq,
            input_t,
            render_ms: self.window.render_us as f64 / 1000.0 / frames,
            encode_ms: self.window.encode_us as f64 / 1000.0 / frames,
            quality: self.last_quality.clone(),
            bitrate_kbps: self.session.bitrate_kbps(),
            network_kbps: self.session.network_kbps(),
        };
        self.window = StatsWindow::new();
        self.send(&ServerMessage::Stats(stats)).await
    }
}

/// Figures since the last `stats`.
pub(super) struct StatsWindow {
    since: Instant,
    frames: u64,
    bytes: u64,
    render_us: u64,
    encode_us: u64,
}

impl StatsWindow {
    pub(super) fn new() -> Self {
        Self {
            since: Instant::now(),
            frames: 0,
            bytes: 0,
            render_us: 0,
            encode_us: 0,
        }
    }
}
