//! The desktop window: egui through eframe, the 3D view rendered locally by render-core on
//! eframe's own wgpu device, or streamed from a server by the thin client's view
//! (`connect`, the window's Server mode). The `hounsfield` binary opens it with [`run`];
//! what it is started with is [`launch`]'s.

mod app;
mod beside;
mod browser;
mod calcium;
mod crop_control;
mod curved_view;
mod findings;
mod gestures;
pub mod launch;
mod layer_texture;
mod loading;
mod local_frame_rate;
mod movie_export;
mod open_choice;
mod over;
mod pacs_search;
mod plane_lines;
mod pointer_spots;
mod screenshot;
mod segments;
mod session_share;
pub mod settings;
mod share_room;
mod sign_in;
mod slab_control;
mod slice_view;
mod study_hanging;
pub mod study_link;
pub(crate) mod thin_client;
mod time_curve;
mod transfer_editor;
mod ui_thread;
mod view3d;
mod viewport_texture;
mod workspace;

use std::sync::Arc;

use anyhow::Context;

pub use thin_client::connection::{accepts_connections, websocket_url};

use crate::launch::{ConnectArgs, OpenArgs};

/// What the window starts with.
pub enum Launch {
    /// A volume rendered here (or streamed, as `--render` says).
    Open(OpenArgs),
    /// A series streamed from a server.
    Connect(ConnectArgs),
}

/// Opens the desktop window on what `launch` names (the built-in sample without a path)
/// and returns when it is closed.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let model = match &launch {
        Launch::Open(OpenArgs {
            model: Some(path), ..
        }) => Some(Arc::new(
            hounsfield_model::SegmentationModel::load(path)
                .with_context(|| format!("--model {}", path.display()))?,
        )),
        _ => None,
    };
    ensure_display()?;
    let launch = match launch {
        Launch::Connect(args) => Launch::Connect(sign_in::before_connecting(args)?),
        open => open,
    };
    let outcome = screenshot::Outcome::default();
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Hounsfield")
            .with_inner_size([1024.0, 768.0]),
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: wgpu_options(),
        ..Default::default()
    };
    let screenshot = match &launch {
        Launch::Open(args) => args.screenshot.clone(),
        Launch::Connect(args) => args.screenshot.clone(),
    };
    let wants_screenshot = screenshot.is_some();
    let request = app::OpenRequest {
        model,
        launch,
        screenshot: screenshot.map(|path| (path, outcome.clone())),
        settings_path: settings::Settings::default_path(),
    };
    eframe::run_native(
        "Hounsfield",
        options,
        Box::new(move |creation| Ok(Box::new(app::DesktopApp::new(creation, request)?))),
    )
    .map_err(|error| anyhow::anyhow!("{error}"))
    .context("the desktop window could not open (on a machine without a display, try `hounsfield --serve`)")?;
    if wants_screenshot && !outcome.is_set() {
        anyhow::bail!("the window closed before the screenshot was taken");
    }
    outcome.result()
}

/// eframe's wgpu setup, asking for the adapter's own limits (large 3D textures) as the
/// headless renderer does.
fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
    let mut setup = eframe::egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.device_descriptor = Arc::new(|adapter| eframe::wgpu::DeviceDescriptor {
        label: Some("hounsfield desktop"),
        required_limits: adapter.limits(),
        ..Default::default()
    });
    eframe::egui_wgpu::WgpuConfiguration {
        wgpu_setup: eframe::egui_wgpu::WgpuSetup::CreateNew(setup),
        ..Default::default()
    }
}

/// An error that says what to do when there is no display to open a window on.
fn ensure_display() -> anyhow::Result<()> {
    if cfg!(all(unix, not(target_os = "macos"))) {
        let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            anyhow::bail!(
                "no display to open the desktop window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
                 to use Hounsfield from a browser or a thin client, run `hounsfield --serve`"
            );
        }
    }
    Ok(())
}
