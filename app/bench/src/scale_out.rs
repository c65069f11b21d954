//! `bench stream --proxy N`: render nodes behind HAProxy as the Kubernetes manifests set
//! it up, all in this process but the proxy. The same drag runs straight to one node,
//! through the proxy to that node (`?node=`), and through the proxy placed by load, side
//! by side: the proxy's added latency is the second against the first, and the third
//! shows how evenly sessions spread.

use std::time::Duration;

use anyhow::Context;
use hounsfield_tls::ServerTls;
use serde::Serialize;

use super::haproxy::{self, Backend};
use super::loopback::{self, LoopbackCertificate, LoopbackServer};
use super::stream::{
    Crowd, SessionRun, StreamReport, Transport, aggregate, drag_runs, print_report,
};
use crate::cli::{StreamArgs, StreamCodec};

/// The runs of a codec: straight to the first node, through the proxy to it, placed.
const DIRECT: usize = 0;
const PROXIED: usize = 1;
const PLACED: usize = 2;

/// What the proxy costs, for one codec: through it to a node against straight to it.
#[derive(Debug, Serialize)]
struct ProxyCost {
    /// The codec granted.
    codec: String,
    /// Median input → frame latency through the proxy minus straight (ms; goal: under 1).
    latency_p50_added_ms: f64,
    /// Median latency through the proxy and straight (ms).
    latency_p50_ms: [f64; 2],
    /// 95th percentile latency through the proxy and straight (ms).
    latency_p95_ms: [f64; 2],
    /// Frames/s through the proxy and straight.
    drag_fps: [f64; 2],
}

/// How the proxy placed the sessions of a run by load.
#[derive(Debug, Serialize)]
struct Spread {
    /// The codec asked for.
    codec: String,
    /// Sessions per node, in the nodes' order.
    sessions_per_node: Vec<(String, usize)>,
    /// The most-loaded node's sessions over the least-loaded's (goal: at most 1.5).
    most_over_least: f64,
}

impl Spread {
    /// How `runs` (one session each) fell on `nodes`.
    fn of(codec: StreamCodec, nodes: &[Node], runs: &[SessionRun]) -> Self {
        let sessions_per_node: Vec<(String, usize)> = nodes
            .iter()
            .map(|node| {
                let count = runs
                    .iter()
                    .filter(|run| run.node.as_deref() == Some(node.name.as_str()))
                    .count();
                (node.name.clone(), count)
            })
            .collect();
        let most = sessions_per_node.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let least = sessions_per_node.iter().map(|(_, n)| *n).min().unwrap_or(0);
        Self {
            codec: super::client::codec_name(codec).to_string(),
            sessions_per_node,
            most_over_least: if least > 0 {
                most as f64 / least as f64
            } else {
                f64::INFINITY
            },
        }
    }
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct ScaleOutReport {
    nodes: usize,
    runs: Vec<StreamReport>,
    proxy: Vec<ProxyCost>,
    spread: Vec<Spread>,
}

/// A render node of the benchmark: a server over TLS with its own render thread.
struct Node {
    name: String,
    server: LoopbackServer,
}

/// Starts render node `name` on the series of `args`, with room for `max_sessions`.
fn start_node(
    args: &StreamArgs,
    name: String,
    certificate: &LoopbackCertificate,
    max_sessions: usize,
) -> anyhow::Result<Node> {
    let tls = ServerTls::from_files(certificate.files.clone())?;
    let node_name = name.clone();
    let server = loopback::start(args.path.as_deref(), move |config| {
        config.tls = Some(tls);
        config.node_name = Some(node_name);
        config.max_sessions = max_sessions;
    })?;
    Ok(Node { name, server })
}

/// Runs the drags of `args` over `node_count` nodes behind HAProxy and prints the figures.
pub(super) fn stream_through_proxy(args: &StreamArgs, node_count: usize) -> anyhow::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!(
            "--seconds must be a positive number of seconds, got {}",
            args.seconds
        );
    }
    let sessions = usize::from(args.sessions).max(1);
    let codecs: Vec<StreamCodec> = if args.codec.is_empty() {
        vec![StreamCodec::H264]
    } else {
        args.codec.clone()
    };
    let runtime = hounsfield_workstation::renderer::runtime()?;
    // One certificate for every node (as a wildcard certificate would be in a cluster); the
    // proxy trusts it as the nodes' CA.
    let certificate = LoopbackCertificate::make("the nodes")?;
    // Room for every session of a run on one node, and for the last run's closing: a full
    // node is not ready, and the proxy would take it out.
    let places = sessions * 2 + 2;
    let nodes = (0..node_count)
        .map(|n| start_node(args, format!("hounsfield-{n}"), &certificate, places))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let proxy_certificate = LoopbackCertificate::make("the proxy")?;
    let folder = tempfile::tempdir().context("a folder for the proxy")?;
    let backends: Vec<Backend<'_>> = nodes
        .iter()
        .map(|node| Backend {
            name: &node.name,
            port: node.server.server.address().port(),
        })
        .collect();
    let proxy = haproxy::start(
        &backends,
        folder.path(),
        &format!("{}{}", proxy_certificate.pem, proxy_certificate.key_pem),
        &certificate.pem,
    )?;
    let proxy_trust = proxy_certificate.trust.clone();
    let first = &nodes[0];
    let transports = [
        Transport {
            name: "direct",
            url: first.server.server.websocket_url(),
            trust: certificate.trust.clone(),
            webrtc: None,
        },
        Transport {
            name: "proxy",
            url: format!("wss://127.0.0.1:{}/ws?node={}", proxy.port, first.name),
            trust: proxy_trust.clone(),
            webrtc: None,
        },
        Transport {
            name: "proxy-placed",
            url: format!("wss://127.0.0.1:{}/ws", proxy.port),
            trust: proxy_trust,
            webrtc: None,
        },
    ];
    let all_metrics: Vec<_> = nodes
        .iter()
        .map(|node| node.server.server.metrics())
        .collect();
    let plan: Vec<(usize, StreamCodec)> = codecs
        .iter()
        .flat_map(|codec| [DIRECT, PROXIED, PLACED].map(|transport| (transport, *codec)))
        .collect();
    let runs = runtime.block_on(drag_runs(
        &transports,
        &plan,
        &all_metrics,
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
    drop(proxy);
    let adapter = first.server.scheduler.adapter().to_string();
    let mut reports = Vec::with_capacity(plan.len());
    let mut spread = Vec::new();
    for (&(transport, codec), runs) in plan.iter().zip(runs) {
        if transport == PLACED {
            spread.push(Spread::of(codec, &nodes, &runs));
        }
        let mut report = aggregate(codec, adapter.clone(), args.seconds, runs)?;
        report.transport = transports[transport].name.to_string();
        reports.push(report);
    }
    for node in nodes {
        node.server.server.stop()?;
    }
    let proxy_costs: Vec<ProxyCost> = reports
        .chunks(3)
        .filter_map(|runs| match runs {
            [direct, proxied, _] => Some(ProxyCost {
                codec: proxied.granted.clone(),
                latency_p50_added_ms: proxied.figures.latency_p50_ms
                    - direct.figures.latency_p50_ms,
                latency_p50_ms: [
                    proxied.figures.latency_p50_ms,
                    direct.figures.latency_p50_ms,
                ],
                latency_p95_ms: [
                    proxied.figures.latency_p95_ms,
                    direct.figures.latency_p95_ms,
                ],
                drag_fps: [proxied.figures.drag_fps, direct.figures.drag_fps],
            }),
            _ => None,
        })
        .collect();
    let report = ScaleOutReport {
        nodes: node_count,
        runs: reports,
        proxy: proxy_costs,
        spread,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, sessions);
    }
    Ok(())
}

/// The figures as text: each run, then the proxy's cost and the placement.
fn print_text(report: &ScaleOutReport, sessions: usize) {
    for run in &report.runs {
        print_report(run);
    }
    for cost in &report.proxy {
        println!(
            "proxy ({}): p50 latency {:+.2} ms ({:.2} through HAProxy, {:.2} straight; goal under +1), p95 {:.2} vs {:.2} ms, {:.1} vs {:.1} frames/s",
            cost.codec,
            cost.latency_p50_added_ms,
            cost.latency_p50_ms[0],
            cost.latency_p50_ms[1],
            cost.latency_p95_ms[0],
            cost.latency_p95_ms[1],
            cost.drag_fps[0],
            cost.drag_fps[1],
        );
    }
    for placed in &report.spread {
        let counts: Vec<String> = placed
            .sessions_per_node
            .iter()
            .map(|(node, n)| format!("{node} {n}"))
            .collect();
        println!(
            "placement ({}): {sessions} sessions over {} nodes: {}; most/least loaded {:.2} (goal at most 1.5)",
            placed.codec,
            report.nodes,
            counts.join(", "),
            placed.most_over_least,
        );
    }
}
