//! `hounsfield doctor`: what this machine can do, and where frames should be rendered.

use std::sync::Arc;

use hounsfield_video::encode::{DEFAULT_ENCODERS, EncoderProbe};
use render_core::gpu::{AdapterKind, Capabilities, GpuContext};
use render_core::view::{Quality, ViewState};
use serde::Serialize;

/// The image the render probe draws.
const PROBE_SIZE: [u32; 2] = [512, 384];
/// Frames the render probe times (after one that warms up).
const PROBE_FRAMES: usize = 3;
/// Slower full frames than this (at the probe's size) are not good enough to work on.
const INTERACTIVE_LIMIT_MS: f64 = 66.0;

/// Where frames should come from on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Decision {
    /// A GPU renders locally.
    Local,
    /// Only a software adapter: rendered locally at reduced quality.
    LocalSoftware,
    /// Frames should stream from a server.
    Remote,
}

#[derive(Debug, Serialize)]
struct RenderProbe {
    adapter: String,
    size: [u32; 2],
    /// Median of full-quality frames of the built-in phantom.
    full_ms: f64,
    /// Median of interactive-quality frames.
    interactive_ms: f64,
}

/// The server the settings name first, and whether it answered.
#[derive(Debug, Serialize)]
struct ServerCheck {
    url: String,
    answers: bool,
    /// Why reaching it is unsafe (no TLS off this machine), when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    adapters: Vec<Capabilities>,
    render_probe: Option<RenderProbe>,
    /// The configured server (from the desktop's settings), when there is one.
    server: Option<ServerCheck>,
    /// Encoders frames can be streamed with.
    encoders: Vec<&'static str>,
    /// The H.264 encoders tried (hardware first) and the one that opened.
    h264: EncoderProbe,
    decision: Decision,
    reason: String,
}

/// Prints the adapters, a short render probe, the encoders and the decision.
pub fn run(json: bool) -> anyhow::Result<()> {
    let adapters = GpuContext::adapters();
    let probe = render_probe();
    let server = configured_server();
    let (decision, reason) = decide(
        probe.as_ref().map_err(|e| e.to_string()),
        &adapters,
        server.as_ref(),
    );
    let h264 = hounsfield_video::encode::probe(&DEFAULT_ENCODERS.map(str::to_string));
    let mut encoders = vec!["jpeg", "png"];
    if h264.chosen.is_some() {
        encoders.push("h264");
    }
    let report = Report {
        adapters,
        render_probe: probe.ok().map(|(probe, _, _)| probe),
        server,
        encoders,
        h264,
        decision,
        reason,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for adapter in &report.adapters {
        println!(
            "adapter: {} ({:?}, {}{}), 3D textures up to {}",
            adapter.adapter,
            adapter.kind,
            adapter.backend,
            if adapter.software { ", software" } else { "" },
            adapter.max_texture_3d
        );
    }
    if let Some(probe) = &report.render_probe {
        println!(
            "render probe on {}: {}×{} full {:.1} ms, interactive {:.1} ms",
            probe.adapter, probe.size[0], probe.size[1], probe.full_ms, probe.interactive_ms
        );
    }
    println!("encoders: {}", report.encoders.join(", "));
    if let Some(server) = &report.server {
        println!(
            "server: {} ({})",
            server.url,
            if server.answers {
                "answers"
            } else {
                "does not answer"
            }
        );
        if let Some(warning) = &server.warning {
            println!("WARNING: {warning}");
        }
    }
    let tried: Vec<String> = report
        .h264
        .tried
        .iter()
        .filter_map(|attempt| {
            let error = attempt.error.as_deref()?;
            Some(format!("{}: {error}", attempt.encoder))
        })
        .collect();
    let not_opened = if tried.is_empty() {
        String::new()
    } else {
        format!(" (not opened: {})", tried.join("; "))
    };
    match &report.h264.chosen {
        Some(encoder) => println!("H.264: {encoder}{not_opened}"),
        None => println!("H.264: none, JPEG only{not_opened}"),
    }
    println!("decision: {:?}: {}", report.decision, report.reason);
    Ok(())
}

/// The first server in the desktop's settings, tried for a second.
fn configured_server() -> Option<ServerCheck> {
    let path = hounsfield_desktop::settings::Settings::default_path()?;
    let (settings, _) = hounsfield_desktop::settings::Settings::load(&path);
    let url = settings.servers.first()?.url.clone();
    let answers = hounsfield_desktop::accepts_connections(&url, std::time::Duration::from_secs(1));
    let warning = cleartext_warning(&url);
    Some(ServerCheck {
        url,
        answers,
        warning,
    })
}

/// A warning when `url` reaches a server on another machine without TLS.
fn cleartext_warning(url: &str) -> Option<String> {
    let websocket = hounsfield_desktop::websocket_url(url).ok()?;
    let parsed = url::Url::parse(&websocket).ok()?;
    let loopback = match parsed.host()? {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    (parsed.scheme() == "ws" && !loopback).then(|| {
        format!(
            "{url} is reached without TLS: patient images and the access token cross the network in clear text; serve it with --tls-cert/--tls-key or --tls-self-signed and connect with https://"
        )
    })
}

/// Renders the built-in phantom on the adapter the renderer picks, a few frames each at
/// full and interactive quality.
fn render_probe() -> anyhow::Result<(RenderProbe, AdapterKind, bool)> {
    let mut renderer = hounsfield_workstation::renderer::new_renderer()?;
    let volume = Arc::new(render_core::phantom::ct_phantom());
    let preset = renderer.presets().default_for(&volume.modality).clone();
    renderer.load_volume(volume.clone());
    let mut view = ViewState::initial(&volume, &preset.name, preset.mode);
    let mut median_ms = |quality: Quality| -> anyhow::Result<f64> {
        view.quality = quality;
        // One frame first: it makes the render targets and compiles the pipeline.
        renderer.render(&view, PROBE_SIZE)?;
        Ok(hounsfield_workstation::timing::turning_frames(
            &mut renderer,
            &mut view,
            PROBE_SIZE,
            PROBE_FRAMES,
        )?
        .0)
    };
    let full_ms = median_ms(Quality::Full)?;
    let interactive_ms = median_ms(Quality::Interactive)?;
    let capabilities = renderer.context().capabilities.clone();
    Ok((
        RenderProbe {
            adapter: capabilities.adapter,
            size: PROBE_SIZE,
            full_ms,
            interactive_ms,
        },
        capabilities.kind,
        capabilities.software,
    ))
}

/// Local on a fast hardware GPU; remote when only a software adapter (or nothing) renders
/// here and the configured server answers; otherwise local at reduced quality, or remote
/// when nothing here can render.
fn decide(
    probe: Result<&(RenderProbe, AdapterKind, bool), String>,
    adapters: &[Capabilities],
    server: Option<&ServerCheck>,
) -> (Decision, String) {
    let answering = server.filter(|server| server.answers);
    match (&probe, answering) {
        (Ok((probe, _, true)), Some(server)) => {
            return (
                Decision::Remote,
                format!(
                    "only a software adapter ({}, {:.0} ms a full frame) and the server {} answers: stream from it",
                    probe.adapter, probe.full_ms, server.url
                ),
            );
        }
        (Err(error), Some(server)) => {
            return (
                Decision::Remote,
                format!(
                    "no adapter here could render ({error}): stream from {}",
                    server.url
                ),
            );
        }
        _ => {}
    }
    match probe {
        Err(error) => (
            Decision::Remote,
            format!(
                "no adapter here could render ({error}; {} adapters listed): connect to a server",
                adapters.len()
            ),
        ),
        Ok((probe, _, true)) => (
            Decision::LocalSoftware,
            format!(
                "only a software adapter ({}), {:.0} ms a full frame: rendering locally at reduced \
                 quality while interacting; a server with a GPU would be faster",
                probe.adapter, probe.full_ms
            ),
        ),
        Ok((probe, kind, false)) if probe.full_ms > INTERACTIVE_LIMIT_MS => (
            Decision::LocalSoftware,
            format!(
                "{:?} GPU {} is slow here ({:.0} ms a full frame): rendering locally at reduced quality",
                kind, probe.adapter, probe.full_ms
            ),
        ),
        Ok((probe, kind, false)) => (
            Decision::Local,
            format!("{kind:?} GPU {} renders locally", probe.adapter),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clear_text_off_this_machine_is_warned_of() {
        assert!(cleartext_warning("http://pacs-viewer.hospital.example:8080").is_some());
        assert!(cleartext_warning("10.1.2.3:8080").is_some());
        assert!(cleartext_warning("https://pacs-viewer.hospital.example:8443").is_none());
        assert!(cleartext_warning("http://127.0.0.1:8080").is_none());
        assert!(cleartext_warning("http://localhost:8080").is_none());
        assert!(cleartext_warning("ws://[::1]:8080/ws").is_none());
    }
}
