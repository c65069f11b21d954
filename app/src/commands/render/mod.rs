//! `hounsfield render`: one frame of a volume, 3D or a reformatted slice (a standard or
//! an oblique plane, thin or a slab), to a PNG file; with `--json`, what was drawn.

use std::sync::Arc;

use anyhow::Context;
use glam::DVec3;
use render_core::camera::{NamedView, Projection};
use render_core::fusion::{self, Fusion, SeriesOver};
use render_core::gpu::{CinematicSettings, Renderer};
use render_core::view::{
    Interpolation, MprOrientation, MprPlane, Quality, SeriesLink, SlabMode, ViewState,
};
use render_core::{Volume, Window};

use crate::cli::{RenderArgs, SlabModeArg};
use hounsfield_workstation::renderer::{preset_and_mode, renderer_for};
use hounsfield_workstation::source;

mod curved;
mod report;

use report::{Drawn, DrawnPlane};

/// Renders the frame `args` describe and writes it to `args.out`.
pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let opened = source::open_volume(args.path.as_deref(), args.series.as_deref())?;
    for warning in &opened.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(path) = &args.cpr {
        return curved::run(&opened, &path.0, args);
    }
    let over = match &args.over {
        Some(series) => Some(series_over(open_over(&opened, args, series)?, args)),
        None => None,
    };
    let volume = Arc::new(opened.volume);
    let (mut renderer, preset) = renderer_for(args.transfer.as_deref(), args.preset.as_deref())?;
    let view = view_from_args(&renderer, &volume, args, preset.as_deref())?;
    for warning in renderer.load_volume(Arc::clone(&volume)) {
        eprintln!("warning: {warning}");
    }
    // Drawn over the 3D view by the ray caster, over a slice once it is read back.
    if let (Some(over), None) = (&over, &view.mpr) {
        if args.cinematic {
            eprintln!("warning: --over is not drawn over a cinematic picture");
        }
        renderer.show_over(Some(over))?;
    }
    let mut frame = if args.cinematic {
        let settings = CinematicSettings {
            samples: args.samples,
            seed: args.seed,
        };
        renderer.render_cinematic(&view, args.size, settings)?
    } else {
        renderer.render_image(&view, args.size)?
    };
    if let (Some(over), Some(plane)) = (&over, &view.mpr) {
        let covered = over.draw(
            &mut frame.rgba,
            frame.width,
            plane.pixel_to_lps(&volume, args.size),
        );
        if covered == 0 {
            eprintln!("warning: the --over series does not reach this slice");
        }
    }
    frame
        .save_png(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let adapter = renderer.context().capabilities.adapter.to_string();
    if args.json {
        let drawn = Drawn {
            out: args.out.display().to_string(),
            width: frame.width,
            height: frame.height,
            source: opened.label.clone(),
            adapter,
            window: renderer
                .effective_window(&view)
                .map(|window| [window.width, window.center]),
            mpr: view
                .mpr
                .map(|plane| DrawnPlane::of(&volume, &plane, args, args.size)),
            cpr: None,
        };
        println!("{}", serde_json::to_string_pretty(&drawn)?);
        return Ok(());
    }
    println!(
        "{}: {}×{} from {} on {}",
        args.out.display(),
        frame.width,
        frame.height,
        opened.label,
        adapter
    );
    Ok(())
}

/// The `--over` series of the same path: its first volume, refused unless it shares the
/// first series' frame of reference.
fn open_over(
    first: &source::OpenedVolume,
    args: &RenderArgs,
    over: &str,
) -> anyhow::Result<Volume> {
    let opened = source::open_volume(args.path.as_deref(), Some(over))?;
    source::ensure_one_frame_of_reference(
        (&first.label, &first.frame_of_reference),
        (&opened.label, &opened.frame_of_reference),
    )
    .with_context(|| format!("--over {over}"))?;
    Ok(opened.volume)
}

/// `over` drawn as the command line says, in the first series' frame of reference.
fn series_over(over: Volume, args: &RenderArgs) -> SeriesOver {
    let fusion = Fusion {
        colours: args.over_colours,
        opacity: args.over_opacity,
        window: args.over_window.map_or_else(
            || fusion::default_window(&over),
            |[width, center]| Window { width, center },
        ),
        nearest: args.nearest,
    };
    SeriesOver {
        volume: Arc::new(over),
        fusion,
        link: SeriesLink::SameFrame,
    }
}

/// The view the command line describes.
fn view_from_args(
    renderer: &Renderer,
    volume: &Volume,
    args: &RenderArgs,
    preset: Option<&str>,
) -> anyhow::Result<ViewState> {
    let (preset, mode) = preset_and_mode(renderer, volume, preset, args.mode.as_deref())?;
    let named = NamedView::from_name(&args.view).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown view \"{}\" (known: anterior, posterior, left, right, superior, inferior)",
            args.view
        )
    })?;
    let mut view = ViewState::initial(volume, &preset, mode);
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
    view.lighting = args.light.lighting();
    view.window = args.window.map(|[width, center]| Window { width, center });
    if let Some(name) = &args.mpr {
        view.mpr = Some(plane_from_args(volume, name, args)?);
    }
    Ok(view)
}

/// The `--mpr` plane of the command line: a standard one by name, or `oblique` across
/// `--normal` (turned by `--up`), through `--at` or the volume's centre.
fn plane_from_args(volume: &Volume, name: &str, args: &RenderArgs) -> anyhow::Result<MprPlane> {
    let orientation = if name.trim().eq_ignore_ascii_case("oblique") {
        let normal = args
            .normal
            .ok_or_else(|| anyhow::anyhow!("--mpr oblique needs --normal NX,NY,NZ"))?;
        MprOrientation::facing(DVec3::from(normal), args.up.map(DVec3::from))
            .map_err(|why| anyhow::anyhow!("--normal/--up: {why}"))?
    } else {
        if args.normal.is_some() || args.up.is_some() {
            anyhow::bail!("--normal and --up are for --mpr oblique, not --mpr {name}");
        }
        MprOrientation::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown plane \"{name}\" (known: axial, coronal, sagittal, oblique)")
        })?
    };
    if !(args.slab.is_finite() && args.slab >= 0.0) {
        anyhow::bail!("--slab {}: a thickness in mm, 0 or more", args.slab);
    }
    let mut plane = match args.at {
        Some(point) => MprPlane::through(volume, orientation, DVec3::from(point)),
        None => MprPlane::through_centre(volume, orientation),
    };
    plane.zoom = args.zoom;
    plane.slab_mm = args.slab;
    plane.slab_mode = match args.slab_mode {
        SlabModeArg::Mip => SlabMode::Mip,
        SlabModeArg::Minip => SlabMode::Minip,
        SlabModeArg::Average => SlabMode::Average,
    };
    Ok(plane)
}
