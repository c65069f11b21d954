//! `hounsfield render`: one frame of a volume, 3D or a reformatted slice, to a PNG file.

use std::sync::Arc;

use anyhow::Context;
use render_core::camera::{NamedView, Projection};
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::{PresetLibrary, RenderMode};
use render_core::view::{Interpolation, MprOrientation, MprPlane, Quality, SlabMode, ViewState};
use render_core::{Volume, Window};

use crate::cli::RenderArgs;
use crate::source;

/// Renders the frame `args` describe and writes it to `args.out`.
pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let opened = source::open_volume(args.path.as_deref(), args.series.as_deref())?;
    for warning in &opened.warnings {
        eprintln!("warning: {warning}");
    }
    let volume = Arc::new(opened.volume);
    let mut renderer = new_renderer()?;
    let view = view_from_args(&renderer, &volume, args)?;
    for warning in renderer.load_volume(volume) {
        eprintln!("warning: {warning}");
    }
    let frame = renderer.render_image(&view, args.size)?;
    frame
        .save_png(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{}: {}×{} from {} on {}",
        args.out.display(),
        frame.width,
        frame.height,
        opened.label,
        renderer.context().capabilities.adapter
    );
    Ok(())
}

/// A renderer on this machine's best adapter, with the built-in and the user's presets.
pub fn new_renderer() -> anyhow::Result<Renderer> {
    let context = GpuContext::headless()?;
    let (presets, problems) = PresetLibrary::load_default();
    for problem in problems {
        eprintln!("warning: preset skipped: {problem}");
    }
    Ok(Renderer::new(context, presets))
}

/// The view the command line describes.
fn view_from_args(
    renderer: &Renderer,
    volume: &Volume,
    args: &RenderArgs,
) -> anyhow::Result<ViewState> {
    let presets = renderer.presets();
    let preset = match &args.preset {
        Some(name) => presets.get(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown preset \"{name}\" (known: {})",
                presets.names().join(", ")
            )
        })?,
        None => presets.default_for(&volume.modality),
    };
    let mode = match &args.mode {
        Some(name) => RenderMode::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown mode \"{name}\" (known: composite, mip, minip, average)")
        })?,
        None => preset.mode,
    };
    let named = NamedView::from_name(&args.view).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown view \"{}\" (known: anterior, posterior, left, right, superior, inferior)",
            args.view
        )
    })?;
    let mut view = ViewState::initial(volume, &preset.name, mode);
    view.camera.set_view(named);
    view.camera.orbit(args.azimuth, args.elevation);
    view.camera.zoom_by(args.zoom);
    if args.orthographic {
        view.camera.projection = Projection::Orthographic;
    }
    if args.interactive {
        view.quality = Quality::Interactive;
    }
    if args.nearest {
        view.interpolation = Interpolation::Nearest;
    }
    view.window = args.window.map(|[width, center]| Window { width, center });
    if let Some(name) = &args.mpr {
        let orientation = MprOrientation::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown plane \"{name}\" (known: axial, coronal, sagittal)")
        })?;
        let mut plane = MprPlane::through_centre(volume, orientation);
        plane.zoom = args.zoom;
        plane.slab_mm = args.slab.max(0.0);
        plane.slab_mode = SlabMode::Mip;
        view.mpr = Some(plane);
    }
    Ok(view)
}
