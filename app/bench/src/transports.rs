//! `hounsfield bench stream --transport webrtc,websocket [--loss 0,1,5]`: the same H.264
//! drag against one server in this process, its frames over the WebSocket and over WebRTC
//! (RTP from the server's endpoint on loopback UDP, input on the data channel), each
//! transport once at each packet loss asked for. WebRTC loses that share of its media
//! packets on the way to the client in a seeded UDP relay; the WebSocket loses that share
//! of its TCP packets on the way to the client in a seeded lossy link
//! ([`super::lossy_link`]: a network namespace, two TUN devices and the kernel's own TCP,
//! as loopback loses nothing and this kernel has no `netem`). The link needs root: without
//! it the WebSocket's lossy runs are reported as not measured, and why. Prints each run's
//! figures, and for each lossy run its p95 latency against the same transport's lossless
//! run's (the goal, for WebRTC: at most 1.5×).

use std::time::Duration;

use hounsfield_tls::ServerTrust;
use hounsfield_webrtc::WebRtcConfig;
use serde::Serialize;

use super::lossy_link::{LossyLink, PacketCounts};
use super::stream::{
    Crowd, SessionRun, StreamReport, Transport, aggregate, drag_runs, print_report,
};
use crate::cli::{StreamArgs, StreamCodec, StreamTransport};

/// The most loss a run may ask for (percent).
const MOST_LOSS: f64 = 50.0;
/// What the issue asks of WebRTC under 5 % loss: its p95 at most this times the lossless.
const P95_GOAL: f64 = 1.5;
/// Which TCP packets the lossy link drops: the same choices in every run.
const LINK_SEED: u64 = 0x4846_4c4b;

/// What `--transport … --json` prints.
#[derive(Debug, Serialize)]
struct TransportComparison {
    /// One report per run, in the order asked (each transport once per loss).
    runs: Vec<StreamReport>,
    /// Each lossy run against the same transport's lossless one.
    under_loss: Vec<UnderLoss>,
    /// The runs asked for that could not be made, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_measured: Vec<NotMeasured>,
}

/// A lossy run's latency against the lossless run's over the same transport.
#[derive(Debug, Serialize)]
struct UnderLoss {
    /// `webrtc` or `websocket`.
    transport: String,
    loss_percent: f64,
    latency_p95_ms: f64,
    lossless_p95_ms: f64,
    /// `latency_p95_ms / lossless_p95_ms` (decoded latencies).
    p95_ratio: f64,
    /// For WebRTC, whose goal it is: whether the ratio is at most 1.5 (absent for the
    /// WebSocket, whose ratio is only reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    within_goal: Option<bool>,
    /// For the WebSocket: the TCP packets toward the client that the lossy link passed
    /// and dropped (the warm-up drag's among them).
    #[serde(skip_serializing_if = "Option::is_none")]
    packets: Option<PacketCounts>,
}

/// A run asked for that could not be made.
#[derive(Debug, Serialize)]
struct NotMeasured {
    transport: String,
    loss_percent: f64,
    /// Why, and what would make it possible.
    reason: String,
}

/// One run of the comparison: where its clients connect, at which loss, and the lossy
/// link a lossy WebSocket run goes through.
struct Leg {
    transport: Transport,
    loss_percent: f64,
    link: Option<LossyLink>,
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
        .losses()
        .iter()
        .find(|loss| !(loss.is_finite() && (0.0..=MOST_LOSS).contains(*loss)))
    {
        anyhow::bail!("--loss {bad}: a share of packets from 0 to {MOST_LOSS} percent");
    }
    let sessions = usize::from(args.sessions).max(1);
    let runtime = hounsfield_workstation::renderer::runtime()?;
    let (links, not_measured) = lossy_links(args, runtime.handle());
    let loopback = super::loopback::start(args.path.as_deref(), |config| {
        config.max_sessions = sessions;
        config.webrtc = Some(WebRtcConfig::loopback());
        // A server on loopback answers only requests addressed to a loopback name, and
        // the hosts of the origins it allows: the links' addresses.
        config.allowed_origins.extend(
            links
                .iter()
                .map(|(_, link)| format!("http://{}", link.address().ip())),
        );
    })?;
    let legs = legs(args, &loopback.server, links);
    let transports: Vec<Transport> = legs.iter().map(|leg| leg.transport.clone()).collect();
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
        Crowd {
            sessions,
            still_readers: 0,
        },
        false,
    ))?;
    let runs: Vec<Vec<SessionRun>> = runs.into_iter().map(|run| run.sessions).collect();
    // The links' counts once the runs are over; then the links go down.
    let measured: Vec<(f64, Option<PacketCounts>)> = legs
        .iter()
        .map(|leg| (leg.loss_percent, leg.link.as_ref().map(LossyLink::counts)))
        .collect();
    drop(legs);
    loopback.server.stop()?;
    let reports = transports
        .iter()
        .zip(&measured)
        .zip(runs)
        .map(|((transport, (loss_percent, _)), runs)| {
            let mut report = aggregate(StreamCodec::H264, adapter.clone(), args.seconds, runs)?;
            report.transport = transport.name.to_string();
            report.loss_percent = Some(*loss_percent);
            Ok(report)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let packets: Vec<Option<PacketCounts>> = measured.iter().map(|(_, packets)| *packets).collect();
    let under_loss = under_loss(&reports, &packets);
    if args.json {
        let comparison = TransportComparison {
            runs: reports,
            under_loss,
            not_measured,
        };
        println!("{}", serde_json::to_string_pretty(&comparison)?);
        return Ok(());
    }
    for report in &reports {
        print_report(report);
    }
    for run in &under_loss {
        print_under_loss(run);
    }
    for run in &not_measured {
        println!(
            "{} at {:.0} % loss: not measured: {}",
            run.transport, run.loss_percent, run.reason
        );
    }
    Ok(())
}

/// A lossy link for each lossy WebSocket run `args` asks for, with its loss (percent);
/// those that cannot be made (without root), as runs not measured. Their connections are
/// served on `runtime`.
fn lossy_links(
    args: &StreamArgs,
    runtime: &tokio::runtime::Handle,
) -> (Vec<(f64, LossyLink)>, Vec<NotMeasured>) {
    let mut links = Vec::new();
    let mut not_measured = Vec::new();
    if !args.transport.contains(&StreamTransport::Websocket) {
        return (links, not_measured);
    }
    for &loss_percent in args.losses().iter().filter(|loss| **loss > 0.0) {
        match LossyLink::open(loss_percent / 100.0, LINK_SEED, runtime) {
            Ok(link) => {
                tracing::debug!(
                    namespace = link.namespace(),
                    address = %link.address(),
                    loss_percent,
                    "a lossy link for the WebSocket"
                );
                links.push((loss_percent, link));
            }
            Err(error) => not_measured.push(NotMeasured {
                transport: "websocket".to_string(),
                loss_percent,
                reason: format!("{error:#}"),
            }),
        }
    }
    (links, not_measured)
}

/// The runs `args` asks for against `server`, each transport at each loss, in that order;
/// a lossy WebSocket run through the link `links` has for its loss (none: not measured).
/// The packaged build has no lossy link: there `links` is empty, of a type with no value.
#[cfg_attr(not(feature = "test-bench"), allow(unreachable_code))]
fn legs(
    args: &StreamArgs,
    server: &hounsfield_server::BackgroundServer,
    mut links: Vec<(f64, LossyLink)>,
) -> Vec<Leg> {
    let transport = |name, url, webrtc| Transport {
        name,
        url,
        trust: ServerTrust::system(),
        webrtc,
    };
    let mut legs = Vec::new();
    for kind in &args.transport {
        for &loss_percent in args.losses() {
            let share = loss_percent / 100.0;
            let (over, link) = match kind {
                StreamTransport::Webrtc => (
                    transport("webrtc", server.websocket_url(), Some(share)),
                    None,
                ),
                StreamTransport::Websocket if loss_percent == 0.0 => {
                    (transport("websocket", server.websocket_url(), None), None)
                }
                StreamTransport::Websocket => {
                    let Some(at) = links.iter().position(|(loss, _)| *loss == loss_percent) else {
                        continue;
                    };
                    let (_, link) = links.swap_remove(at);
                    link.forward_to(server.address());
                    let url = format!("ws://{}/ws", link.address());
                    (transport("websocket", url, None), Some(link))
                }
            };
            legs.push(Leg {
                transport: over,
                loss_percent,
                link,
            });
        }
    }
    legs
}

/// Each lossy run against the lossless run over the same transport, when there is one;
/// `packets`: what each run's lossy link did, run by run.
fn under_loss(reports: &[StreamReport], packets: &[Option<PacketCounts>]) -> Vec<UnderLoss> {
    reports
        .iter()
        .zip(packets)
        .filter_map(|(report, packets)| {
            let loss = report.loss_percent.filter(|loss| *loss > 0.0)?;
            let lossless = reports.iter().find(|other| {
                other.transport == report.transport && other.loss_percent == Some(0.0)
            })?;
            let base = lossless.figures.decoded_latency_p95_ms;
            let p95 = report.figures.decoded_latency_p95_ms;
            let ratio = if base > 0.0 { p95 / base } else { f64::NAN };
            Some(UnderLoss {
                transport: report.transport.clone(),
                loss_percent: loss,
                latency_p95_ms: p95,
                lossless_p95_ms: base,
                p95_ratio: ratio,
                within_goal: (report.transport == "webrtc").then_some(ratio <= P95_GOAL),
                packets: *packets,
            })
        })
        .collect()
}

/// A lossy run against the lossless one, as text.
fn print_under_loss(run: &UnderLoss) {
    let verdict = match (run.within_goal, run.packets) {
        (Some(within), _) => format!(
            "{} the goal of at most {P95_GOAL}×",
            if within { "within" } else { "over" }
        ),
        (None, Some(packets)) => format!(
            "the link dropped {} of {} TCP packets toward the client, {:.1} %",
            packets.dropped,
            packets.passed + packets.dropped,
            packets.dropped_share() * 100.0
        ),
        (None, None) => "no goal".to_string(),
    };
    println!(
        "{} at {:.0} % loss: decoded latency p95 {:.0} ms = {:.2}× the lossless run's {:.0} ms ({verdict})",
        run.transport, run.loss_percent, run.latency_p95_ms, run.p95_ratio, run.lossless_p95_ms,
    );
}
