//! `hounsfield bench stream --transport webrtc,websocket [--loss 0,1,5]`: the same H.264
//! drag against one server in this process, its frames over the WebSocket and over WebRTC
//! (RTP from the server's endpoint on loopback UDP, input on the data channel), WebRTC
//! once at each packet loss asked for (a seeded relay losing that share of the media
//! packets on the way to the client). Prints each run's figures, and for each lossy
//! WebRTC run its p95 latency against the lossless run's (the goal: at most 1.5×).
//!
//! Loss is injected on the WebRTC path only: on loopback TCP nothing is lost, and this
//! kernel has no `netem` to make it so.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use server_mode::server::webrtc::WebRtcConfig;
use server_mode::tls::ServerTrust;

use super::stream::{StreamReport, Transport, aggregate, drag_runs, print_report};
use crate::cli::{StreamArgs, StreamCodec, StreamTransport};

/// The most loss a run may ask for (percent).
const MOST_LOSS: f64 = 50.0;
/// What the issue asks of WebRTC under 5 % loss: its p95 at most this times the lossless.
const P95_GOAL: f64 = 1.5;

/// What `--transport … --json` prints.
#[derive(Debug, Serialize)]
struct TransportComparison {
    /// One report per run, in the order asked (WebRTC once per loss).
    runs: Vec<StreamReport>,
    /// Each lossy WebRTC run against the lossless one.
    under_loss: Vec<UnderLoss>,
}

/// A lossy WebRTC run's latency against the lossless run's.
#[derive(Debug, Serialize)]
struct UnderLoss {
    loss_percent: f64,
    latency_p95_ms: f64,
    lossless_p95_ms: f64,
    /// `latency_p95_ms / lossless_p95_ms` (decoded latencies).
    p95_ratio: f64,
    /// Whether the ratio is within the goal (at most 1.5).
    within_goal: bool,
}

/// Runs the drags and prints the figures.
pub fn stream_over_transports(args: &StreamArgs) -> anyhow::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!(
            "--seconds must be a positive number of seconds, got {}",
            args.seconds
        );
    }
    if args.codec.iter().any(|codec| *codec != StreamCodec::H264) {
        anyhow::bail!("--transport compares H.264 (RTP carries H.264 only): leave out --codec");
    }
    if let Some(bad) = args
        .loss
        .iter()
        .find(|loss| !(loss.is_finite() && (0.0..=MOST_LOSS).contains(*loss)))
    {
        anyhow::bail!("--loss {bad}: a share of packets from 0 to {MOST_LOSS} percent");
    }
    let sessions = usize::from(args.sessions).max(1);
    let runtime = crate::commands::serve::runtime()?;
    let loopback = super::loopback::start(args.path.as_deref(), |config| {
        config.max_sessions = sessions;
        config.webrtc = Some(WebRtcConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            announce: None,
        });
    })?;
    let url = loopback.server.websocket_url();
    let mut transports = Vec::new();
    for transport in &args.transport {
        match transport {
            StreamTransport::Websocket => transports.push(Transport {
                name: "websocket",
                url: url.clone(),
                trust: ServerTrust::system(),
                webrtc: None,
            }),
            StreamTransport::Webrtc => {
                transports.extend(args.loss.iter().map(|loss| Transport {
                    name: "webrtc",
                    url: url.clone(),
                    trust: ServerTrust::system(),
                    webrtc: Some(loss / 100.0),
                }));
            }
        }
    }
    let plan: Vec<(usize, StreamCodec)> = (0..transports.len())
        .map(|transport| (transport, StreamCodec::H264))
        .collect();
    let adapter = loopback.scheduler.adapter().to_string();
    let runs = runtime.block_on(drag_runs(
        &transports,
        &plan,
        &[loopback.server.metrics()],
        args.series.as_deref(),
        args.size,
        Duration::from_secs_f64(args.seconds),
        sessions,
    ))?;
    loopback.server.stop()?;
    let reports = transports
        .iter()
        .zip(runs)
        .map(|(transport, runs)| {
            let mut report = aggregate(StreamCodec::H264, adapter.clone(), args.seconds, runs)?;
            report.transport = transport.name.to_string();
            report.loss_percent = transport.webrtc.map(|share| share * 100.0);
            Ok(report)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let under_loss = under_loss(&reports);
    if args.json {
        let comparison = TransportComparison {
            runs: reports,
            under_loss,
        };
        println!("{}", serde_json::to_string_pretty(&comparison)?);
        return Ok(());
    }
    for report in &reports {
        print_report(report);
    }
    for run in &under_loss {
        println!(
            "webrtc at {:.0} % loss: decoded latency p95 {:.0} ms = {:.2}× the lossless run's {:.0} ms ({} the goal of at most {P95_GOAL}×)",
            run.loss_percent,
            run.latency_p95_ms,
            run.p95_ratio,
            run.lossless_p95_ms,
            if run.within_goal { "within" } else { "over" },
        );
    }
    Ok(())
}

/// Each lossy WebRTC run against the lossless WebRTC run, when there is one.
fn under_loss(reports: &[StreamReport]) -> Vec<UnderLoss> {
    let lossless = reports
        .iter()
        .find(|report| report.loss_percent == Some(0.0));
    let Some(lossless) = lossless else {
        return Vec::new();
    };
    let base = lossless.figures.decoded_latency_p95_ms;
    reports
        .iter()
        .filter_map(|report| {
            let loss = report.loss_percent.filter(|loss| *loss > 0.0)?;
            let p95 = report.figures.decoded_latency_p95_ms;
            let ratio = if base > 0.0 { p95 / base } else { f64::NAN };
            Some(UnderLoss {
                loss_percent: loss,
                latency_p95_ms: p95,
                lossless_p95_ms: base,
                p95_ratio: ratio,
                within_goal: ratio <= P95_GOAL,
            })
        })
        .collect()
}
