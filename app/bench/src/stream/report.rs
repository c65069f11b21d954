//! What `bench stream` prints: each run's figures, codecs side by side with their ratios to
//! JPEG's, the quality ladder, and what TLS costs.

use serde::Serialize;

use super::{Ratios, StreamReport};
use crate::quality::{LadderRung, QualityReport};

/// What TLS costs: one codec's drag over TLS against the same drag in plain.
#[derive(Debug, Serialize)]
pub(super) struct TlsCost {
    /// The codec granted.
    codec: String,
    /// Frames/s over TLS over frames/s in plain (goal: above 0.95).
    drag_fps_ratio: f64,
    /// Frames/s over TLS and in plain.
    drag_fps: [f64; 2],
    /// Median input → frame latency over TLS minus in plain (ms; goal: under 2).
    latency_p50_added_ms: f64,
    /// Median latency over TLS and in plain (ms).
    latency_p50_ms: [f64; 2],
    /// 95th percentile latency over TLS and in plain (ms).
    latency_p95_ms: [f64; 2],
    /// From `open` to the first frame over TLS and in plain (ms; the handshake is before).
    first_frame_ms: [f64; 2],
}

impl TlsCost {
    /// The TLS run's figures against the plain run's.
    pub(super) fn of(tls: &StreamReport, plain: &StreamReport) -> Self {
        let (a, b) = (&tls.figures, &plain.figures);
        Self {
            codec: tls.granted.clone(),
            drag_fps_ratio: if b.drag_fps > 0.0 {
                a.drag_fps / b.drag_fps
            } else {
                f64::NAN
            },
            drag_fps: [a.drag_fps, b.drag_fps],
            latency_p50_added_ms: a.latency_p50_ms - b.latency_p50_ms,
            latency_p50_ms: [a.latency_p50_ms, b.latency_p50_ms],
            latency_p95_ms: [a.latency_p95_ms, b.latency_p95_ms],
            first_frame_ms: [a.first_frame_ms, b.first_frame_ms],
        }
    }
}

/// What TLS costs, as text.
pub(super) fn print_tls_cost(cost: &TlsCost) {
    println!(
        "tls/plain {}: frames/s {:.1} vs {:.1} ×{:.3} (goal above ×0.95), latency p50 {:.1} vs {:.1} ms ({:+.2} ms, goal under +2), p95 {:.1} vs {:.1} ms, first frame {:.0} vs {:.0} ms",
        cost.codec,
        cost.drag_fps[0],
        cost.drag_fps[1],
        cost.drag_fps_ratio,
        cost.latency_p50_ms[0],
        cost.latency_p50_ms[1],
        cost.latency_p50_added_ms,
        cost.latency_p95_ms[0],
        cost.latency_p95_ms[1],
        cost.first_frame_ms[0],
        cost.first_frame_ms[1]
    );
}

/// The quality of each codec's interactive frames, as text.
pub(super) fn print_quality(quality: &QualityReport) {
    let equal = match (
        quality.h264_bytes_per_frame_at_jpeg_psnr,
        quality.equal_quality_ratio,
    ) {
        (Some(bytes), Some(ratio)) => {
            format!("{:.1} kB a frame, ×{ratio:.2} JPEG's bytes", bytes / 1000.0)
        }
        _ => {
            let by_bytes =
                |a: &&LadderRung, b: &&LadderRung| a.bytes_per_frame.total_cmp(&b.bytes_per_frame);
            let lowest = quality.h264_ladder.iter().min_by(by_bytes);
            let highest = quality.h264_ladder.iter().max_by(by_bytes);
            match (lowest, highest) {
                (Some(low), _) if low.psnr_db >= quality.jpeg_psnr_db => format!(
                    "above it at every bitrate tried, down to {} kbit/s ({:.1} dB, {:.1} kB a frame, ×{:.2} JPEG's bytes)",
                    low.kbps,
                    low.psnr_db,
                    low.bytes_per_frame / 1000.0,
                    low.bytes_per_frame / quality.jpeg_bytes_per_frame.max(1.0)
                ),
                (_, Some(high)) => format!(
                    "below it at every bitrate tried, up to {} kbit/s ({:.1} dB, {:.1} kB a frame)",
                    high.kbps,
                    high.psnr_db,
                    high.bytes_per_frame / 1000.0
                ),
                _ => "not measured".to_string(),
            }
        }
    };
    let same_size = quality
        .same_size_equal_quality_ratio
        .map_or("outside the ladder".to_string(), |ratio| {
            format!("×{ratio:.2}")
        });
    let at_h264 = match (
        quality.jpeg_bytes_per_frame_at_h264_psnr,
        quality.ratio_at_h264_psnr,
    ) {
        (Some(bytes), Some(ratio)) => format!(
            "JPEG at H.264's PSNR: {:.1} kB a frame, H.264 ×{ratio:.2} its bytes",
            bytes / 1000.0
        ),
        _ => "JPEG at H.264's PSNR: outside JPEG's ladder".to_string(),
    };
    println!(
        "quality of {} interactive frames of the drag ({:.1}° a frame, drawn at {:.2} of the view's sides, keyframes every {:.0} s), rendered here and encoded as the server does, shown at {}×{}: JPEG q{} {:.1} dB PSNR ({:.1} kB a frame), H.264 ({}, sent at {}×{}, {} kbit/s at {:.1} frames/s) {:.1} dB ({:.1} kB a frame); H.264 at JPEG's PSNR: {equal}; the same with H.264 sent at the view's size: {same_size}; {at_h264}",
        quality.frames,
        quality.orbit_deg_per_frame,
        quality.render_scale,
        quality.keyframe_interval_s,
        quality.size[0],
        quality.size[1],
        quality.jpeg_quality,
        quality.jpeg_psnr_db,
        quality.jpeg_bytes_per_frame / 1000.0,
        quality.h264_encoder,
        quality.h264_size[0],
        quality.h264_size[1],
        quality.h264_kbps,
        quality.fps,
        quality.h264_psnr_db,
        quality.h264_bytes_per_frame / 1000.0
    );
}

/// Run `a` against the reference `b`, as text: the ratios, and the figures they come from.
pub(super) fn print_ratio(
    ratio: &Ratios,
    a: &StreamReport,
    b: &StreamReport,
    quality: Option<&QualityReport>,
) {
    let psnr = match (quality, a.granted.as_str(), b.granted.as_str()) {
        (Some(q), "h264", "jpeg") => {
            format!(", PSNR {:.1} vs {:.1} dB", q.h264_psnr_db, q.jpeg_psnr_db)
        }
        _ => String::new(),
    };
    println!(
        "{}: kbit/s {:.0} vs {:.0} ×{:.2}, latency p50 {:.0} vs {:.0} ms ×{:.2}, p95 {:.0} vs {:.0} ms ×{:.2} (decoded p50 ×{:.2}), frames/s ×{:.2}, encode {:.2} vs {:.2} ms a frame ×{:.2}{psnr}",
        ratio.codecs,
        a.figures.kbit_s,
        b.figures.kbit_s,
        ratio.kbit_s,
        a.figures.latency_p50_ms,
        b.figures.latency_p50_ms,
        ratio.latency_p50_ms,
        a.figures.latency_p95_ms,
        b.figures.latency_p95_ms,
        ratio.latency_p95_ms,
        ratio.decoded_latency_p50_ms,
        ratio.drag_fps,
        a.figures.encode_ms,
        b.figures.encode_ms,
        ratio.encode_ms
    );
}

/// One codec's figures, as text.
pub(crate) fn print_report(report: &StreamReport) {
    let codec = match (&report.encoder, &report.fallback) {
        (Some(encoder), _) => format!("{} ({encoder})", report.granted),
        (None, Some(why)) => format!("{} ({} asked: {why})", report.granted, report.codec),
        (None, None) => report.granted.clone(),
    };
    println!(
        "stream {codec}{} {}×{} of {:?} on {}, {} session{}, {:.0} s drag: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms p99 {:.0} ms (decoded p50 {:.0} p95 {:.0} p99 {:.0}), {:.0} kbit/s ({:.1} kB a frame, {} keyframes), render {:.1} ms, encode {:.2} ms, decode {:.2} ms a frame, final still {:.0} ms after the last input",
        match (report.transport.as_str(), report.loss_percent) {
            ("plain", _) => String::new(),
            ("tls", _) => " over TLS".to_string(),
            ("webrtc", Some(loss)) if loss > 0.0 =>
                format!(" over WebRTC, {loss:.0} % of media packets lost"),
            ("webrtc", _) => " over WebRTC".to_string(),
            ("websocket", Some(loss)) if loss > 0.0 =>
                format!(" over the WebSocket, {loss:.0} % of TCP packets lost"),
            ("websocket", _) => " over the WebSocket".to_string(),
            (other, _) => format!(" ({other})"),
        },
        report.size[0],
        report.size[1],
        report.volume,
        report.adapter,
        report.sessions,
        if report.sessions == 1 { "" } else { "s" },
        report.seconds,
        report.figures.first_frame_ms,
        report.figures.first_still_ms,
        report.figures.drag_fps,
        report.figures.latency_p50_ms,
        report.figures.latency_p95_ms,
        report.figures.latency_p99_ms,
        report.figures.decoded_latency_p50_ms,
        report.figures.decoded_latency_p95_ms,
        report.figures.decoded_latency_p99_ms,
        report.figures.kbit_s,
        report.figures.mean_frame_bytes / 1000.0,
        report.figures.keyframes,
        report.figures.render_ms,
        report.figures.encode_ms,
        report.figures.decode_ms,
        report.figures.still_after_drag_ms
    );
    let figures = &report.figures;
    println!(
        "  sharp picture {:.0} ms after the last input: waiting {:.0} ms, rendering {:.0} ms, encoding {:.1} ms, sending {:.1} ms",
        figures.sharp_after_drag_ms,
        figures.sharp_waiting_ms,
        figures.sharp_render_ms,
        figures.sharp_encode_ms,
        figures.sharp_sending_ms
    );
    if let Some(fidelity) = &report.fidelity {
        println!(
            "  fidelity while dragging: {:.1} dB PSNR over the volume at the median, {:.1} dB at the 5th percentile ({} frames as shown against the sharp image of the same view)",
            fidelity.fidelity_psnr_db_p50, fidelity.fidelity_psnr_db_p05, fidelity.fidelity_frames
        );
    }
    if report.sessions > 1 {
        for (n, session) in report.per_session.iter().enumerate() {
            println!(
                "  session {}: first image {:.0} ms (final still {:.0}), {:.1} frames/s, latency p50 {:.0} ms p95 {:.0} ms, {:.0} kbit/s, final still {:.0} ms after the last input",
                n + 1,
                session.figures.first_frame_ms,
                session.figures.first_still_ms,
                session.figures.drag_fps,
                session.figures.latency_p50_ms,
                session.figures.latency_p95_ms,
                session.figures.kbit_s,
                session.figures.still_after_drag_ms
            );
        }
    }
    let memory = &report.memory;
    if let (Some(rss), Some(peak)) = (memory.rss_mib, memory.peak_rss_mib) {
        println!(
            "  memory: {rss:.0} MiB resident at the end of the drag ({:.1}× the {:.0} MiB of voxels), peak {peak:.0} MiB ({:.1}×)",
            memory.rss_over_voxels.unwrap_or(0.0),
            memory.voxel_mib,
            memory.peak_rss_over_voxels.unwrap_or(0.0),
        );
    }
}

/// The run the others are compared with: the first that streamed JPEG, else the first.
pub(super) fn reference(reports: &[StreamReport]) -> Option<usize> {
    reports
        .iter()
        .position(|report| report.granted == "jpeg")
        .or((!reports.is_empty()).then_some(0))
}

/// The runs other than the reference, in order, each with the reference.
pub(super) fn against_reference(reports: &[StreamReport]) -> Vec<(&StreamReport, &StreamReport)> {
    let Some(reference) = reference(reports) else {
        return Vec::new();
    };
    reports
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != reference)
        .map(|(_, report)| (report, &reports[reference]))
        .collect()
}

/// Each run's figures over the reference's (see [`reference`]).
pub(super) fn compare(reports: &[StreamReport]) -> Vec<Ratios> {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    against_reference(reports)
        .into_iter()
        .map(|(report, base)| Ratios {
            codecs: format!("{}/{}", report.granted, base.granted),
            kbit_s: ratio(report.figures.kbit_s, base.figures.kbit_s),
            latency_p50_ms: ratio(report.figures.latency_p50_ms, base.figures.latency_p50_ms),
            latency_p95_ms: ratio(report.figures.latency_p95_ms, base.figures.latency_p95_ms),
            decoded_latency_p50_ms: ratio(
                report.figures.decoded_latency_p50_ms,
                base.figures.decoded_latency_p50_ms,
            ),
            drag_fps: ratio(report.figures.drag_fps, base.figures.drag_fps),
            encode_ms: ratio(report.figures.encode_ms, base.figures.encode_ms),
        })
        .collect()
}
