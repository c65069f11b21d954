//! `hounsfield-bench` (also run as `hounsfield bench`): figures, never pass/fail. `bench load` times scanning and decoding;
//! `bench render` times frames while the camera turns; `bench quantify` ([`quantify`])
//! times a CT's calcium score; `bench segment` ([`segment`]) times the segmentation tools
//! beside SimpleITK; `bench dimse` ([`dimse`]) times a series received over DICOM
//! networking beside DCMTK's storescp; `bench planes` ([`planes`]) times
//! the slice cells while the planes turn and slabs beside thin slices; `bench findings` ([`findings`])
//! times a region's statistics and a save beside `measure`; `bench together` ([`together`])
//! times a shared session's pointers beside its frames; `bench movie` ([`movie`]) times a
//! movie's frames, written here and made by a server, beside `render`'s; `bench stream` ([`stream`]) drags
//! through the streaming server, and compares codecs with the quality of their frames
//! ([`quality`]). The developer build (`--features test-bench`) adds the test bench:
//! `bench soak` (`soak`) keeps that server busy for minutes with well-behaved, slow and
//! reconnecting clients and render-thread panics; `bench stream --proxy` (`scale_out`,
//! `haproxy`) drags through HAProxy; `--loss` loses packets on the way ([`lossy_link`]).

mod brush_stroke;
mod cine;
mod cinematic;
mod cli;
mod client;
mod dicomweb_load;
mod dimse;
mod findings;
#[cfg(feature = "test-bench")]
mod haproxy;
mod lighting;
mod loopback;
mod lossy_link;
mod memory;
mod movie;
mod over_time;
mod planes;
mod quality;
mod quantify;
#[cfg(feature = "test-bench")]
mod scale_out;
mod segment;
#[cfg(feature = "test-bench")]
mod soak;
mod stream;
mod together;
mod transfer_edit;
mod transports;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use render_core::dicom::load_series;
use render_core::progress::no_progress;
use serde::Serialize;

use crate::cli::{BenchCli, BenchCommand, StreamArgs};
use hounsfield_workstation::source;
use hounsfield_workstation::timing::{median, turning_frames};

fn main() -> ExitCode {
    hounsfield_workstation::startup::begin();
    let cli = BenchCli::parse();
    // Every benchmark prints its figures and ends.
    hounsfield_workstation::startup::end_quietly_when_output_closes();
    match run(cli.which) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hounsfield-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the manual page (roff) to standard output, generated from the command line
/// clap parses, so that it never drifts from `--help`.
fn manual() -> anyhow::Result<()> {
    use std::io::Write;

    let mut page = Vec::new();
    clap_mangen::Man::new(<BenchCli as clap::CommandFactory>::command()).render(&mut page)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()?;
    Ok(())
}

/// Runs the benchmark the command line names.
fn run(which: BenchCommand) -> anyhow::Result<()> {
    match which {
        BenchCommand::Manual => manual(),
        BenchCommand::Load {
            path,
            series,
            runs,
            json,
        } => load(&path, series.as_deref(), runs, json),
        BenchCommand::Stream(args) => stream(&args),
        BenchCommand::Quantify {
            path,
            series,
            roi,
            runs,
            over_time,
            dcm2niix,
            json,
        } => quantify::quantify(
            quantify::Quantified {
                path: path.as_deref(),
                series: series.as_deref(),
                roi,
                over_time: over_time.as_deref(),
                dcm2niix: dcm2niix.as_deref(),
            },
            runs,
            json,
        ),
        BenchCommand::Segment {
            path,
            series,
            threshold,
            margin,
            median,
            runs,
            peer_python,
            no_peer,
            json,
        } => {
            let peer_python = match (no_peer, peer_python) {
                (true, _) => None,
                (false, Some(python)) => Some(python),
                (false, None) => imaging_python().filter(|python| python.exists()),
            };
            segment::segment(&segment::SegmentBench {
                path: &path,
                series: series.as_deref(),
                threshold,
                margin_mm: margin,
                median_mm: median,
                runs,
                peer_python: peer_python.as_deref(),
                json,
            })
        }
        BenchCommand::Findings {
            path,
            series,
            runs,
            json,
        } => findings::findings(&path, series.as_deref(), runs, json),
        BenchCommand::Dimse {
            path,
            runs,
            json,
            pacs,
            dicomweb,
            series,
            dicom_port,
            ae_title,
        } => {
            let retrieval = match (&pacs, &dicomweb, &series, dicom_port) {
                (Some(pacs), Some(dicomweb), Some(series), Some(port)) => Some(dimse::Retrieval {
                    pacs,
                    dicomweb,
                    series,
                    ae_title: &ae_title,
                    port,
                }),
                _ => None,
            };
            dimse::dimse(&dimse::DimseBench {
                path: &path,
                runs,
                json,
                retrieval,
            })
        }
        BenchCommand::Movie {
            path,
            series,
            size,
            frames,
            json,
        } => movie::movie(path.as_deref(), series.as_deref(), size, frames, json),
        BenchCommand::Together {
            path,
            series,
            size,
            seconds,
            codec,
            json,
        } => together::together(
            path.as_deref(),
            series.as_deref(),
            size,
            seconds,
            codec,
            json,
        ),
        #[cfg(feature = "test-bench")]
        BenchCommand::Soak(args) => soak::soak(&args),
        BenchCommand::Planes {
            path,
            series,
            size,
            frames,
            slab,
            json,
        } => planes::planes(path.as_deref(), series.as_deref(), size, frames, slab, json),
        BenchCommand::Render {
            path,
            series,
            preset,
            size,
            frames,
            ladder,
            lighting,
            lighting_peer,
            cinematic,
            transfer_edit,
            reference_samples,
            json,
        } => render(
            path.as_deref(),
            series.as_deref(),
            preset.as_deref(),
            size,
            frames,
            RenderExtras {
                ladder,
                lighting,
                lighting_peer,
                cinematic: cinematic.then_some(reference_samples),
                transfer_edit,
            },
            json,
        ),
    }
}

/// `bench stream`: through HAProxy in front of render nodes (`--proxy`), over each
/// transport in turn (`--transport`), or the drag of [`stream::run`].
pub fn stream(args: &StreamArgs) -> anyhow::Result<()> {
    #[cfg(feature = "test-bench")]
    if let Some(nodes) = args.proxy {
        return scale_out::stream_through_proxy(args, usize::from(nodes));
    }
    if !args.transport.is_empty() {
        return transports::stream_over_transports(args);
    }
    stream::run(args)
}

/// What `bench load --json` prints.
#[derive(Debug, Serialize)]
struct LoadReport {
    series: String,
    slices: usize,
    dims: [usize; 3],
    runs: usize,
    /// Median of scan + decode, per run.
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    /// Median header scan alone.
    scan_median_ms: f64,
    /// Decoded voxel megabytes per second at the median.
    mb_per_s: f64,
    /// File megabytes read per second at the median.
    file_mb_per_s: f64,
    threads: usize,
}

/// Scans and loads the series `runs` times and prints the figures; from a DICOMweb URL,
/// retrieves it into an empty cache each run first ([`dicomweb_load`]).
pub fn load(path: &Path, series: Option<&str>, runs: usize, json: bool) -> anyhow::Result<()> {
    if let Some(url) = source::dicomweb_url(path) {
        return dicomweb_load::run(url, series, runs, json);
    }
    let runs = runs.max(1);
    let mut totals = Vec::with_capacity(runs);
    let mut scans = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let catalog = source::scan(&[path.to_path_buf()])?;
        let scanned = start.elapsed();
        let chosen = source::choose(&catalog, series)?;
        let loaded = load_series(chosen, &no_progress)
            .with_context(|| format!("loading series {}", chosen.id))?;
        totals.push(start.elapsed().as_secs_f64() * 1000.0);
        scans.push(scanned.as_secs_f64() * 1000.0);
        let file_bytes: u64 = loaded_files_bytes(chosen);
        last = Some((chosen.id.clone(), loaded, file_bytes));
    }
    let Some((id, loaded, file_bytes)) = last else {
        anyhow::bail!("no run completed");
    };
    let median_ms = median(&mut totals.clone());
    let report = LoadReport {
        series: id,
        slices: loaded.slices,
        dims: loaded.volume.dims,
        runs,
        median_ms,
        min_ms: totals.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: totals.iter().copied().fold(0.0, f64::max),
        scan_median_ms: median(&mut scans),
        mb_per_s: loaded.volume.size_bytes() as f64 / 1e6 / (median_ms / 1000.0),
        file_mb_per_s: file_bytes as f64 / 1e6 / (median_ms / 1000.0),
        threads: rayon::current_num_threads(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "load {}: {} slices {:?}, median {:.1} ms (min {:.1}, max {:.1}; scan {:.1}) over {} runs, {:.1} MB/s voxels, {:.1} MB/s files, {} threads",
            report.series,
            report.slices,
            report.dims,
            report.median_ms,
            report.min_ms,
            report.max_ms,
            report.scan_median_ms,
            report.runs,
            report.mb_per_s,
            report.file_mb_per_s,
            report.threads
        );
    }
    Ok(())
}

fn loaded_files_bytes(series: &render_core::dicom::Series) -> u64 {
    let mut files: Vec<&Path> = series.images.iter().map(|i| i.file.as_path()).collect();
    files.sort();
    files.dedup();
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// The series at `path` (the phantom without one; `series` among several) uploaded to a
/// renderer of its own, and the view it opens with, as the server opens it: from
/// anterior, with its modality's default preset.
fn opened_scene(
    path: Option<&Path>,
    series: Option<&str>,
) -> anyhow::Result<(
    render_core::gpu::Renderer,
    std::sync::Arc<render_core::Volume>,
    render_core::view::ViewState,
)> {
    let volume = std::sync::Arc::new(source::open_volume(path, series)?.volume);
    let mut renderer = hounsfield_workstation::renderer::new_renderer()?;
    renderer.load_volume(volume.clone());
    let preset = renderer.presets().default_for(&volume.modality).clone();
    let view = render_core::view::ViewState::initial(&volume, &preset.name, preset.mode);
    Ok((renderer, volume, view))
}

/// What `bench render --json` prints.
#[derive(Debug, Serialize)]
struct RenderReport {
    adapter: String,
    backend: String,
    software: bool,
    volume: [usize; 3],
    size: [u32; 2],
    preset: String,
    frames: usize,
    /// Median ms per full-quality frame (rendered, GPU finished).
    full_ms: f64,
    /// How the ray caster runs on this adapter (`fragment` or `compute`).
    ray_dispatch: &'static str,
    /// `full_ms` with the ray caster run each way, timed one after the other on the same
    /// frames: what the adapter's choice gains.
    full_ms_by_dispatch: std::collections::BTreeMap<&'static str, f64>,
    /// Median ms per interactive frame.
    interactive_ms: f64,
    /// Internal resolution scale the interactive budget settled on.
    interactive_scale: f32,
    /// Sample distance at full quality (mm).
    full_step_mm: f32,
    /// Median ms to render the sharp image that comes first after a drag (full
    /// resolution, a coarser step).
    refining_ms: f64,
    /// Its sample distance (mm).
    refining_step_mm: f32,
    /// Median ms to render a full frame and read it back to memory.
    full_readback_ms: f64,
    /// Median ms to draw the same frame in bands (as a server does between other
    /// sessions' frames while they drag) and read it back: all its bands together.
    banded_ms: f64,
    /// The bands that frame is cut into (each about 30 ms of the full frame's time).
    banded_bands: u32,
    /// Uploading the volume and building its brick grid.
    upload_ms: f64,
    /// PSNR of the refining image against the full one of the same view, over the
    /// pixels that show the volume (dB, the median of a few views).
    refining_psnr_db: f64,
    /// The same of an interactive image as shown (scaled up to the view's size), before
    /// any codec.
    interactive_psnr_db: f64,
    /// Where the volume's bytes go (MiB): its voxels on the CPU, and what the renderer
    /// made of them (on the GPU, or in this process on a software adapter).
    voxel_mib: f64,
    /// The voxels' 3D texture.
    volume_texture_mib: f64,
    /// The gradient texture.
    gradient_texture_mib: f64,
    /// The brick grid and its visibility map.
    bricks_mib: f64,
    /// The voxels on the CPU as a server keeps them, compressed slice by slice (whole
    /// values only; the plain size for float voxels), and the time packing them took.
    packed_voxel_mib: f64,
    /// See `packed_voxel_mib`.
    pack_ms: f64,
    /// Decoding every packed slice once: what each pass over a packed volume costs.
    unpack_ms: f64,
    /// `upload_ms` from the packed voxels, as a server opens a volume.
    packed_upload_ms: f64,
    /// With `--lighting`: full frames with a placed light, its shadows and ambient
    /// occlusion, against the headlight's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lighting: Vec<lighting::LightingCost>,
    /// With `--lighting-peer`: what VTK's GPU ray caster pays for its shadows.
    lighting_peer: Option<lighting::PeerShadows>,
    /// With `--transfer-edit`: a drag of an opacity point against an orbit, a frame each.
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_edit: Option<transfer_edit::TransferEditCost>,
    /// With `--cinematic`: the path tracer's convergence.
    #[serde(skip_serializing_if = "Option::is_none")]
    cinematic: Option<cinematic::CinematicConvergence>,
    /// With `--ladder`: interactive frames at each scale and sample distance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ladder: Vec<LadderStep>,
}

/// Interactive frames at one internal scale and sample distance ([`interactive_ladder`]).
#[derive(Debug, Serialize)]
struct LadderStep {
    /// Internal resolution as a fraction of each side.
    scale: f32,
    /// The sample distance over the preset's.
    step_factor: f32,
    /// Median ms a frame, drawn and read back as drawn (as a stream sends it).
    ms: f64,
    /// PSNR over the volume of the frame scaled up to the view's size against the full
    /// image of the same view (median over a few views).
    psnr_db: f64,
}

/// Step factors the ladder tries at each scale.
const LADDER_STEPS: [f32; 3] = [1.0, 2.0, 3.0];

/// Interactive frames at each scale of [`InteractiveBudget::SCALES`] below full size and
/// each of [`LADDER_STEPS`]: what each costs and how close it comes to the full image,
/// for choosing what a drag trades.
///
/// [`InteractiveBudget::SCALES`]: render_core::gpu::InteractiveBudget::SCALES
fn interactive_ladder(
    renderer: &mut render_core::gpu::Renderer,
    view: &mut render_core::view::ViewState,
    size: [u32; 2],
) -> anyhow::Result<Vec<LadderStep>> {
    use hounsfield_client::psnr_over_volume;
    use render_core::gpu::InteractiveBudget;
    use render_core::view::Quality;
    let saved = renderer.interactive;
    let mut steps = Vec::new();
    for scale in InteractiveBudget::SCALES.into_iter().filter(|&s| s < 1.0) {
        for step_factor in LADDER_STEPS {
            let (mut times, mut psnrs) = (Vec::new(), Vec::new());
            for _ in 0..FIDELITY_VIEWS {
                view.camera.orbit(17.0, 0.0);
                let mut shown = view.clone();
                shown.quality = Quality::Full;
                let full = renderer.render_image(&shown, size)?;
                shown.quality = Quality::Interactive;
                renderer.interactive = InteractiveBudget::pinned(scale, step_factor);
                let start = Instant::now();
                renderer.render_image_as_drawn(&shown, size)?;
                times.push(start.elapsed().as_secs_f64() * 1000.0);
                let scaled_up = renderer.render_image(&shown, size)?;
                psnrs.push(psnr_over_volume(&scaled_up.rgba, &full.rgba));
            }
            steps.push(LadderStep {
                scale,
                step_factor,
                ms: median(&mut times),
                psnr_db: median(&mut psnrs),
            });
        }
    }
    renderer.interactive = saved;
    Ok(steps)
}

/// Views compared with their full-quality image in [`fidelity_against_full`].
const FIDELITY_VIEWS: usize = 5;

/// How close the faster qualities come to the full one.
struct Fidelity {
    refining_db: f64,
    interactive_db: f64,
}

/// The median PSNR over the volume of refining and interactive images against the full
/// image of the same view, over a few views of an orbit.
fn fidelity_against_full(
    renderer: &mut render_core::gpu::Renderer,
    view: &mut render_core::view::ViewState,
    size: [u32; 2],
) -> anyhow::Result<Fidelity> {
    use hounsfield_client::psnr_over_volume;
    use render_core::view::Quality;
    let (mut refining, mut interactive) = (Vec::new(), Vec::new());
    for _ in 0..FIDELITY_VIEWS {
        view.camera.orbit(23.0, 0.0);
        let mut at = |quality| {
            let mut shown = view.clone();
            shown.quality = quality;
            renderer.render_image(&shown, size)
        };
        let full = at(Quality::Full)?;
        refining.push(psnr_over_volume(&at(Quality::Refining)?.rgba, &full.rgba));
        interactive.push(psnr_over_volume(
            &at(Quality::Interactive)?.rgba,
            &full.rgba,
        ));
    }
    Ok(Fidelity {
        refining_db: median(&mut refining),
        interactive_db: median(&mut interactive),
    })
}

/// What keeping a volume's voxels packed costs, as a server keeps them: the bytes, the
/// packing, one decoding of every slice, and the upload with the first frame.
struct PackedOpen {
    bytes: usize,
    pack_ms: f64,
    unpack_ms: f64,
    upload_ms: f64,
}

impl PackedOpen {
    /// Packs `volume` (whole values; float voxels stay plain and cost nothing here) and
    /// loads it into `renderer` for the first frame of the peers' view; `renderer` holds the
    /// packed volume afterwards.
    fn measure(
        renderer: &mut render_core::gpu::Renderer,
        volume: &render_core::Volume,
        preset: &render_core::transfer::Preset,
        size: [u32; 2],
    ) -> anyhow::Result<Self> {
        use render_core::Voxels;
        use render_core::view::ViewState;
        let ms = |started: Instant| started.elapsed().as_secs_f64() * 1000.0;
        let plain = volume.clone();
        let started = Instant::now();
        let packed = std::sync::Arc::new(plain.packed());
        let pack_ms = ms(started);
        let (bytes, unpack_ms) = match &packed.voxels {
            Voxels::Packed(slices) => {
                let started = Instant::now();
                let decoded = slices.unpack(0..slices.slice_count());
                let unpack_ms = ms(started);
                drop(decoded);
                (slices.packed_bytes(), unpack_ms)
            }
            voxels => (voxels.held_bytes(), 0.0),
        };
        let mut view = ViewState::initial(&packed, &preset.name, preset.mode);
        view.camera.zoom_by(1.3);
        let started = Instant::now();
        renderer.load_volume_for(packed.clone(), &view);
        renderer.render(&view, size)?;
        Ok(Self {
            bytes,
            pack_ms: if bytes < volume.size_bytes() {
                pack_ms
            } else {
                0.0
            },
            unpack_ms,
            upload_ms: ms(started),
        })
    }
}

/// Full frames with the ray caster run each way the device runs it ([`RayDispatch`]),
/// the renderer's own choice last, so that it is back in place after: median ms of each.
///
/// [`RayDispatch`]: render_core::gpu::RayDispatch
fn full_by_dispatch(
    renderer: &mut render_core::gpu::Renderer,
    view: &mut render_core::view::ViewState,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<std::collections::BTreeMap<&'static str, f64>> {
    use render_core::gpu::RayDispatch;
    let chosen = renderer.ray_dispatch();
    let mut times = std::collections::BTreeMap::new();
    for dispatch in [RayDispatch::Fragment, RayDispatch::Compute]
        .into_iter()
        .filter(|&dispatch| dispatch != chosen)
        .chain([chosen])
    {
        if !renderer.set_ray_dispatch(dispatch) {
            continue;
        }
        // The first frame compiles this dispatch's ray caster: left out.
        renderer.render(view, size)?;
        let (ms, _) = turning_frames(renderer, view, size, frames)?;
        times.insert(dispatch.name(), ms);
    }
    Ok(times)
}

/// What `bench render` times besides its frames.
pub struct RenderExtras {
    /// Interactive frames at each scale and sample distance the budget could choose.
    pub ladder: bool,
    /// Full frames with a placed light, shadows and ambient occlusion.
    pub lighting: bool,
    /// The Python to run the peer's shadows with (VTK's GPU ray caster).
    pub lighting_peer: Option<std::path::PathBuf>,
    /// The path tracer's convergence against a reference of this many paths a pixel.
    pub cinematic: Option<u32>,
    /// Interactive frames of a drag in the transfer-function editor against an orbit's.
    pub transfer_edit: bool,
}

/// Renders frames while rotating 5° of azimuth a frame, at full then interactive
/// quality, and prints the medians.
pub fn render(
    path: Option<&Path>,
    series: Option<&str>,
    preset: Option<&str>,
    size: [u32; 2],
    frames: usize,
    extras: RenderExtras,
    json: bool,
) -> anyhow::Result<()> {
    use render_core::view::{Quality, ViewState};
    let frames = frames.max(10);
    let opened = source::open_volume(path, series)?;
    let volume = std::sync::Arc::new(opened.volume);
    let mut renderer = hounsfield_workstation::renderer::new_renderer()?;
    let preset = match preset {
        Some(name) => renderer
            .presets()
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("unknown preset \"{name}\""))?
            .clone(),
        None => renderer.presets().default_for(&volume.modality).clone(),
    };
    let mut view = ViewState::initial(&volume, &preset.name, preset.mode);
    // The peers' view: from anterior, zoom 1.3.
    view.camera.zoom_by(1.3);
    let started = Instant::now();
    renderer.load_volume_for(volume.clone(), &view);
    renderer.render(&view, size)?;
    let upload_ms = started.elapsed().as_secs_f64() * 1000.0;

    let time_frames = |view: &mut ViewState, renderer: &mut render_core::gpu::Renderer| {
        turning_frames(renderer, view, size, frames)
    };
    let (full_ms, full_step_mm) = time_frames(&mut view, &mut renderer)?;
    let full_ms_by_dispatch = full_by_dispatch(&mut renderer, &mut view, size, frames)?;
    let mut readbacks = Vec::new();
    for _ in 0..3 {
        view.camera.orbit(5.0, 0.0);
        let start = Instant::now();
        renderer.render_image(&view, size)?;
        readbacks.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let banded_bands = render_core::gpu::bands_for(Duration::from_secs_f64(full_ms / 1000.0));
    let mut banded = Vec::new();
    for _ in 0..3 {
        view.camera.orbit(5.0, 0.0);
        let start = Instant::now();
        let mut image = renderer.begin_banded(size, banded_bands)?;
        while !image.is_complete() {
            renderer.draw_band(&view, &mut image)?;
        }
        renderer.read_banded(&view, &image)?;
        banded.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    view.quality = Quality::Refining;
    let (refining_ms, refining_step_mm) = time_frames(&mut view, &mut renderer)?;
    view.quality = Quality::Interactive;
    // Let the budget settle before timing.
    for _ in 0..5 {
        view.camera.orbit(5.0, 0.0);
        renderer.render(&view, size)?;
    }
    let (interactive_ms, _) = time_frames(&mut view, &mut renderer)?;
    let fidelity = fidelity_against_full(&mut renderer, &mut view, size)?;
    let ladder = if extras.ladder {
        interactive_ladder(&mut renderer, &mut view, size)?
    } else {
        Vec::new()
    };
    view.quality = Quality::Full;
    let lighting = if extras.lighting {
        lighting::lighting_costs(&mut renderer, &view, size, frames)?
    } else {
        Vec::new()
    };
    // VTK on the CPU's OpenGL takes seconds a frame: three views a variant.
    let lighting_peer = match &extras.lighting_peer {
        Some(python) => Some(lighting::vtk_shadows(python, &volume, &preset, size, 3)?),
        None => None,
    };
    let cinematic = match extras.cinematic {
        Some(reference_samples) => Some(cinematic::convergence(
            &mut renderer,
            &view,
            size,
            reference_samples,
        )?),
        None => None,
    };
    let transfer_edit = if extras.transfer_edit {
        Some(transfer_edit::transfer_edit_cost(
            &mut renderer,
            &view,
            &preset,
            size,
            frames,
        )?)
    } else {
        None
    };
    let footprint = renderer.footprint().unwrap_or_default();
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    let packed = PackedOpen::measure(&mut renderer, &volume, &preset, size)?;
    let capabilities = &renderer.context().capabilities;
    let report = RenderReport {
        adapter: capabilities.adapter.clone(),
        backend: capabilities.backend.clone(),
        software: capabilities.software,
        volume: volume.dims,
        size,
        preset: preset.name.clone(),
        frames,
        full_ms,
        ray_dispatch: renderer.ray_dispatch().name(),
        full_ms_by_dispatch,
        interactive_ms,
        interactive_scale: renderer.interactive.scale,
        full_step_mm,
        refining_ms,
        refining_step_mm,
        full_readback_ms: median(&mut readbacks),
        banded_ms: median(&mut banded),
        banded_bands,
        upload_ms,
        refining_psnr_db: fidelity.refining_db,
        interactive_psnr_db: fidelity.interactive_db,
        voxel_mib: mib(volume.size_bytes() as u64),
        volume_texture_mib: mib(footprint.volume_texture),
        gradient_texture_mib: mib(footprint.gradient_texture),
        bricks_mib: mib(footprint.bricks),
        packed_voxel_mib: mib(packed.bytes as u64),
        pack_ms: packed.pack_ms,
        unpack_ms: packed.unpack_ms,
        packed_upload_ms: packed.upload_ms,
        lighting,
        lighting_peer,
        transfer_edit,
        cinematic,
        ladder,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_render(&report);
    }
    Ok(())
}

/// `bench render`'s report as text.
fn print_render(report: &RenderReport) {
    println!(
        "render {}×{} of {:?} with {} on {} ({}): full {:.1} ms/frame (step {:.2} mm, ray caster as a {} shader, {}; with readback {:.1}, in {} bands {:.1}), refining {:.1} ms/frame (step {:.2} mm, {:.1} dB), interactive {:.1} ms/frame (scale {:.2}, {:.1} dB), upload {:.0} ms; voxels {:.1} MiB ({:.1} packed in {:.0} ms, decoded in {:.0} ms, uploaded in {:.0} ms), volume texture {:.1}, gradients {:.1}, bricks {:.1}",
        report.size[0],
        report.size[1],
        report.volume,
        report.preset,
        report.adapter,
        report.backend,
        report.full_ms,
        report.full_step_mm,
        report.ray_dispatch,
        report
            .full_ms_by_dispatch
            .iter()
            .map(|(dispatch, ms)| format!("{dispatch} {ms:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        report.full_readback_ms,
        report.banded_bands,
        report.banded_ms,
        report.refining_ms,
        report.refining_step_mm,
        report.refining_psnr_db,
        report.interactive_ms,
        report.interactive_scale,
        report.interactive_psnr_db,
        report.upload_ms,
        report.voxel_mib,
        report.packed_voxel_mib,
        report.pack_ms,
        report.unpack_ms,
        report.packed_upload_ms,
        report.volume_texture_mib,
        report.gradient_texture_mib,
        report.bricks_mib
    );
    for cost in &report.lighting {
        println!(
            "  {}: full {:.1} ms/frame, ×{:.2} the headlight's",
            cost.lighting, cost.full_ms, cost.ratio
        );
    }
    if let Some(peer) = &report.lighting_peer {
        println!(
            "  peer: VTK {} GPU ray caster on {}, {} views: shading {:.1} ms/frame, volumetric shadows {:.1} ms/frame (×{:.2})",
            peer.vtk, peer.gl, peer.frames, peer.shading_ms, peer.shadows_ms, peer.ratio
        );
    }
    if let Some(cost) = &report.transfer_edit {
        println!(
            "  transfer-function edit: {:.1} ms an interactive frame against an orbit's {:.1} (×{:.2})",
            cost.edit_ms, cost.orbit_ms, cost.ratio
        );
    }
    if let Some(convergence) = &report.cinematic {
        println!(
            "  cinematic: reference of {} paths a pixel in {:.0} ms, {:.1} ms a pass",
            convergence.reference_samples, convergence.reference_ms, convergence.ms_a_pass
        );
        for checkpoint in &convergence.checkpoints {
            println!(
                "    after {:.1} s: {} paths a pixel (at {:.2} s), {:.1} dB",
                checkpoint.seconds, checkpoint.samples, checkpoint.at_s, checkpoint.psnr_db
            );
        }
    }
    for step in &report.ladder {
        println!(
            "  interactive at scale {:.3}, step ×{:.0}: {:.1} ms/frame, {:.1} dB",
            step.scale, step.step_factor, step.ms, step.psnr_db
        );
    }
}

/// The imaging tests' Python (`scripts/setup-debian.sh` makes it under the cache folder).
fn imaging_python() -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cache"))
        })?;
    Some(cache.join("hounsfield/imaging-python/bin/python"))
}
