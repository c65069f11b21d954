//! Renderers as the command line, the desktop and the benchmarks make them: on this
//! machine's best adapter with the built-in and the user's presets, a preset and mode
//! chosen by name, and the server's render thread with its encoders.

use std::sync::Arc;

use anyhow::Context;
use hounsfield_server::Scheduler;
use render_core::Volume;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::import::read_transfer_file;
use render_core::transfer::{Preset, PresetLibrary, RenderMode};

/// A renderer on this machine's best adapter, with the built-in and the user's presets.
pub fn new_renderer() -> anyhow::Result<Renderer> {
    new_renderer_with(None)
}

/// A renderer for a command given `--transfer FILE` or `--preset NAME`: it knows the
/// file's transfer function, and the preset to draw with is the file's (else `preset`).
pub fn renderer_for(
    transfer: Option<&std::path::Path>,
    preset: Option<&str>,
) -> anyhow::Result<(Renderer, Option<String>)> {
    let transfer = transfer
        .map(read_transfer_file)
        .transpose()
        .context("--transfer")?;
    let preset = transfer
        .as_ref()
        .map(|transfer| transfer.name.clone())
        .or_else(|| preset.map(str::to_string));
    Ok((new_renderer_with(transfer)?, preset))
}

/// [`new_renderer`] that also knows `extra` (a transfer function given for one command).
pub fn new_renderer_with(extra: Option<Preset>) -> anyhow::Result<Renderer> {
    let context = GpuContext::headless()?;
    let (mut presets, problems) = PresetLibrary::load_default();
    for problem in problems {
        eprintln!("warning: preset skipped: {problem}");
    }
    if let Some(extra) = extra {
        presets = presets.with_preset(extra);
    }
    Ok(Renderer::new(context, presets))
}

/// The preset named (or the volume's modality's) and the mode named (or the preset's),
/// as `render` and `movie` take them.
pub fn preset_and_mode(
    renderer: &Renderer,
    volume: &Volume,
    preset: Option<&str>,
    mode: Option<&str>,
) -> anyhow::Result<(String, RenderMode)> {
    let presets = renderer.presets();
    let preset = match preset {
        Some(name) => presets.get(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown preset \"{name}\" (known: {})",
                presets.names().join(", ")
            )
        })?,
        None => presets.default_for(&volume.modality),
    };
    let mode = match mode {
        Some(name) => RenderMode::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown mode \"{name}\" (known: composite, mip, minip, average)")
        })?,
        None => preset.mode,
    };
    Ok((preset.name.clone(), mode))
}

/// The render thread and encoders, with the built-in and user presets.
pub fn start_renderer() -> anyhow::Result<Arc<Scheduler>> {
    let (presets, problems) = PresetLibrary::load_default();
    for problem in problems {
        eprintln!("warning: preset skipped: {problem}");
    }
    let encoders = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let scheduler = Scheduler::start(presets, encoders).context("starting the renderer")?;
    Ok(Arc::new(scheduler))
}

/// The async runtime the server's sockets run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .context("starting the async runtime")
}
