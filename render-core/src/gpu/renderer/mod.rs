//! The renderer: turns a [`ViewState`] into a frame on the GPU, for the desktop (which
//! shows the frame texture) and the server and CLI (which read it back). Its parts:
//! the per-volume and per-preset caches ([`scene`]), the uniforms and bind groups of each
//! pipeline ([`bind_groups`]), reading frames back ([`readback`]) and the time budget of
//! interactive frames ([`budget`]).

mod banded;
mod bind_groups;
mod budget;
mod cinematic;
mod footprint;
mod readback;
mod scene;
mod target;

pub use banded::{BAND_TAKES, BandedImage, bands_for};
pub use budget::InteractiveBudget;
pub use cinematic::{CinematicPicture, CinematicSettings};
pub use footprint::VolumeFootprint;
pub use readback::FrameImage;

use readback::Readback;
use scene::Scene;
use target::FrameTarget;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::context::{GpuContext, GpuError};
use super::over_volume::GpuOver;
use super::pipelines::{Drawing, Pipelines, RayDispatch};
use super::segment_labels::{GpuLabels, LabelsError, SegmentLabels};
use super::volume_texture::GpuVolume;
use crate::fusion::SeriesOver;
use crate::transfer::{PresetLibrary, PresetRules, RenderMode, VolumeStatistics};
use crate::view::{Quality, ViewState};
use crate::{Volume, Window};

/// Why a frame could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Nothing has been loaded to render.
    #[error("no volume is loaded")]
    NoVolume,
    /// The view names a preset the library does not have.
    #[error("unknown transfer-function preset \"{name}\" (known: {known})")]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The names available, comma-separated.
        known: String,
    },
    /// A zero or oversized frame.
    #[error("frame size {width}×{height} is outside 1..={max} pixels a side")]
    BadSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// The device's largest 2D texture edge.
        max: u32,
    },
    /// The segments to show do not fit the volume.
    #[error(transparent)]
    Segments(#[from] LabelsError),
    /// A cinematic picture that cannot be made here, and why.
    #[error("cinematic rendering: {0}")]
    Cinematic(String),
    /// The GPU failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// What a rendered frame took and how it was made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameInfo {
    /// Output size (width, height).
    pub size: [u32; 2],
    /// Internal resolution as a fraction of the output's (1 at full quality).
    pub scale: f32,
    /// The sample distance along rays (mm).
    pub step_mm: f32,
}

/// Which pipeline draws a frame.
#[derive(Debug, Clone, Copy)]
enum PipelineChoice {
    /// A slice (MPR).
    Slice,
    /// The ray caster, specialised so.
    RayCast(super::pipelines::RaycastVariant),
}

struct Targets {
    size: [u32; 2],
    output: FrameTarget,
    /// Reduced-resolution targets of interactive frames, kept per size.
    reduced: Vec<FrameTarget>,
}

/// The volume renderer: ray casting and reformats on one device.
pub struct Renderer {
    context: GpuContext,
    pipelines: Pipelines,
    presets: PresetLibrary,
    scene: Option<Scene>,
    targets: Option<Targets>,
    /// The interactive-quality controller.
    pub interactive: InteractiveBudget,
    /// The refining image's controller ([`Quality::Refining`]).
    pub refining: InteractiveBudget,
    /// How long the last full-quality frame of the 3D view took.
    full_time: Option<std::time::Duration>,
    /// Time the frame being drawn spent on work done once (the volume's gradients made,
    /// a ray caster compiled): left out of the time its budget is told.
    setting_up: std::time::Duration,
    /// How the ray caster runs over a frame's pixels.
    dispatch: RayDispatch,
    /// The buffer frames are read back through ([`Self::readback_buffer`]).
    readback: Option<wgpu::Buffer>,
    /// Counts the segment uploads ([`Self::show_segments`]).
    segments_generation: u64,
}

/// A full-quality frame of the 3D view slower than this is preceded by a refining one
/// after a drag ([`Renderer::refining_pays`]): a software adapter on a real CT, not a GPU.
pub const REFINE_WHEN_FULL_TAKES: std::time::Duration = std::time::Duration::from_millis(150);

impl Renderer {
    /// A renderer on `context`'s device, with `presets` to choose transfer functions from.
    pub fn new(context: GpuContext, presets: PresetLibrary) -> Self {
        let pipelines = Pipelines::new(&context.device);
        let dispatch = RayDispatch::for_adapter(&context.capabilities);
        Self {
            dispatch,
            readback: None,
            context,
            pipelines,
            presets,
            scene: None,
            targets: None,
            interactive: InteractiveBudget::default(),
            refining: InteractiveBudget::refining(),
            full_time: None,
            setting_up: std::time::Duration::ZERO,
            segments_generation: 0,
        }
    }

    /// The device this renderer draws with.
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// How its ray caster runs: the faster on its adapter ([`RayDispatch::for_adapter`]).
    pub fn ray_dispatch(&self) -> RayDispatch {
        self.dispatch
    }

    /// Runs the ray caster as `dispatch` from the next frame on, where the device runs it
    /// ([`RayDispatch::runs_on`]), and says whether it does (a benchmark compares the
    /// two; the picture is the same).
    pub fn set_ray_dispatch(&mut self, dispatch: RayDispatch) -> bool {
        let runs = dispatch.runs_on(&self.context.capabilities);
        if runs {
            self.dispatch = dispatch;
        }
        runs
    }

    /// The transfer-function presets it knows.
    pub fn presets(&self) -> &PresetLibrary {
        &self.presets
    }

    /// Chooses transfer functions from `presets` from now on. What was baked for the
    /// old ones is let go (a preset may have been replaced under its name), and baked
    /// again as frames ask for it.
    pub fn set_presets(&mut self, presets: PresetLibrary) {
        self.presets = presets;
        if let Some(scene) = &mut self.scene {
            scene.transfer.clear();
            scene.bricks = None;
        }
    }

    /// Adds `preset` to those it knows (replacing one of the same name): a preset the
    /// reader saved is offered from then on.
    pub fn add_preset(&mut self, preset: crate::transfer::Preset) {
        self.set_presets(self.presets.clone().with_preset(preset));
    }

    /// How the loaded volume's values are spread, in `bins` equal bins
    /// ([`VolumeStatistics::histogram`]); `None` before a volume is loaded.
    pub fn value_histogram(&self, bins: usize) -> Option<crate::transfer::ValueHistogram> {
        self.scene
            .as_ref()
            .map(|scene| scene.statistics.histogram(bins))
    }

    /// The volume being shown, if any.
    pub fn volume(&self) -> Option<&Arc<Volume>> {
        self.scene.as_ref().map(|scene| &scene.volume)
    }

    /// Uploads `volume` (replacing the previous one) and returns the warnings of the
    /// upload, e.g. downsampling to fit the device. The gradients, when a view needs them,
    /// are made at its first frame.
    pub fn load_volume(&mut self, volume: Arc<Volume>) -> Vec<String> {
        self.load(volume, false)
    }

    /// [`Self::load_volume`] for showing `view` first: when `view` is shaded (composite,
    /// with a preset that lights or weighs opacity by gradient), the gradients are made in
    /// the same pass over the voxels as the upload, so a packed volume is decoded once.
    pub fn load_volume_for(&mut self, volume: Arc<Volume>, view: &ViewState) -> Vec<String> {
        let shaded = view.mode == RenderMode::Composite
            && view.preset_in(&self.presets).is_some_and(|preset| {
                preset.shading.enabled || !preset.gradient_opacity.is_empty()
            });
        self.load(volume, shaded)
    }

    fn load(&mut self, volume: Arc<Volume>, shaded: bool) -> Vec<String> {
        let (gpu, gradients) = GpuVolume::upload_shaded(&self.context, &volume, shaded);
        let warnings = gpu.warnings.clone();
        let statistics = VolumeStatistics::of(&volume);
        self.scene = Some(Scene {
            volume,
            gpu,
            statistics,
            transfer: HashMap::new(),
            bricks: None,
            gradients,
            labels: None,
            over: None,
        });
        self.segments_generation += 1;
        warnings
    }

    /// Shows `segments` (labels on the loaded volume's grid) in the 3D view from the next
    /// frame, as each view's `segments_3d` says; `None` shows none. Labels that do not fit
    /// the volume are refused, and what was shown stays.
    pub fn show_segments(&mut self, segments: Option<&SegmentLabels>) -> Result<(), RenderError> {
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        let generation = self.segments_generation + 1;
        scene.labels = match segments {
            Some(shown) => Some(GpuLabels::upload(
                &self.context,
                &scene.gpu,
                scene.volume.dims,
                shown,
                generation,
            )?),
            None => None,
        };
        self.segments_generation = generation;
        Ok(())
    }

    /// Draws `over` (a second series, with how it is drawn and linked) over every frame
    /// of the 3D view from the next one; `None` draws none. Its volume is uploaded once
    /// and kept while the volume shown stays and no other series is drawn over it:
    /// hiding it, or showing it again with another colour map, opacity, window or link,
    /// uploads nothing, and showing it as it is drawn already changes nothing.
    pub fn show_over(&mut self, over: Option<&SeriesOver>) -> Result<(), RenderError> {
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        match (&mut scene.over, over) {
            (None, None) => return Ok(()),
            (Some(kept), None) => {
                if !kept.shown {
                    return Ok(());
                }
                kept.shown = false;
            }
            (Some(kept), Some(over)) if kept.holds(over) => {
                if kept.shown && kept.draws(over) {
                    return Ok(());
                }
                kept.restyle(&self.context, over);
            }
            (kept, Some(over)) => *kept = Some(GpuOver::upload(&self.context, over)),
        }
        self.segments_generation += 1;
        Ok(())
    }

    /// Counts the changes of the segments shown, of the series drawn over and of the
    /// volume: a 3D picture kept from another count may show other segments or another
    /// series over it.
    pub fn segments_generation(&self) -> u64 {
        self.segments_generation
    }

    /// Lets go of the volume and what was uploaded for it (its texture, brick grid and
    /// gradients), keeping the pipelines for the next one.
    pub fn unload_volume(&mut self) {
        self.scene = None;
    }

    /// The grey window a view is shown with: the view's own, else the preset's (for
    /// projection modes), else the header's, else one that spans the values.
    pub fn effective_window(&self, view: &ViewState) -> Option<Window> {
        let scene = self.scene.as_ref()?;
        if let Some(window) = view.window {
            return Some(window);
        }
        if view.mpr.is_none()
            && view.mode != RenderMode::Composite
            && let Some(window) = view
                .preset_in(&self.presets)
                .and_then(|preset| preset.resolved_window(&scene.statistics))
        {
            return Some(window);
        }
        Some(scene.statistics.default_window(&scene.volume))
    }

    /// Renders `view` at `size` into the renderer's frame texture and waits for the GPU.
    pub fn render(&mut self, view: &ViewState, size: [u32; 2]) -> Result<FrameInfo, RenderError> {
        let started = Instant::now();
        self.settle_budget(view, size);
        let info = self.encode_frame(view, size, None)?;
        self.wait()?;
        self.record_time(view, size, started.elapsed());
        Ok(info)
    }

    /// The budget that holds `view`'s frames to a time, if any: a 3D view's interactive
    /// or refining frames.
    fn budget(&self, view: &ViewState) -> Option<&InteractiveBudget> {
        match (view.quality, view.mpr) {
            (Quality::Interactive, None) => Some(&self.interactive),
            (Quality::Refining, None) => Some(&self.refining),
            _ => None,
        }
    }

    /// [`Self::budget`], to change.
    fn budget_mut(&mut self, view: &ViewState) -> Option<&mut InteractiveBudget> {
        match (view.quality, view.mpr) {
            (Quality::Interactive, None) => Some(&mut self.interactive),
            (Quality::Refining, None) => Some(&mut self.refining),
            _ => None,
        }
    }

    /// Stands `view`'s budget, if any, on its rung for an output of `size`
    /// ([`InteractiveBudget::settle`]), before the frame is drawn.
    fn settle_budget(&mut self, view: &ViewState, size: [u32; 2]) {
        if let Some(budget) = self.budget_mut(view) {
            budget.settle(size);
        }
    }

    /// Tells `view`'s budget how long its frame of an output of `size` took.
    fn record_time(&mut self, view: &ViewState, size: [u32; 2], elapsed: std::time::Duration) {
        let elapsed = elapsed.saturating_sub(std::mem::take(&mut self.setting_up));
        if let Some(budget) = self.budget_mut(view) {
            budget.record(elapsed, size);
        } else if matches!((view.quality, view.mpr), (Quality::Full, None)) {
            self.full_time = Some(elapsed);
        }
    }

    /// Whether a refining picture is worth drawing before the next full one of the 3D
    /// view: the last full one took over [`REFINE_WHEN_FULL_TAKES`] (none drawn yet: no).
    /// Where full frames come fast, the refining one would only delay them.
    pub fn refining_pays(&self) -> bool {
        self.full_time
            .is_some_and(|full| full > REFINE_WHEN_FULL_TAKES)
    }

    /// How long the last full-quality frame of the 3D view took (none drawn yet: `None`).
    pub fn last_full_time(&self) -> Option<std::time::Duration> {
        self.full_time
    }

    /// The texture the last frame was drawn into (`Rgba8Unorm`, the frame's size).
    pub fn frame_texture(&self) -> Option<&wgpu::Texture> {
        self.targets.as_ref().map(|targets| &targets.output.texture)
    }

    fn wait(&self) -> Result<(), GpuError> {
        self.context
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|error| GpuError::Device(error.to_string()))
    }

    /// Records and submits one frame; copies it into `readback` when given.
    fn encode_frame(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        readback: Option<Readback<'_>>,
    ) -> Result<FrameInfo, RenderError> {
        self.check_size(size)?;
        let window = self.effective_window(view).ok_or(RenderError::NoVolume)?;
        self.ensure_targets(size);
        let internal = self.internal_size(view, size);
        let reduced = internal != size;
        let as_drawn = readback.as_ref().is_some_and(|readback| readback.as_drawn);
        if reduced {
            self.ensure_reduced(internal);
        }
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("frame"),
                });
        let (bind_group, choice, step_mm) =
            self.prepare_draw(view, internal, window, [0, internal[1]])?;
        let drawing = self.drawing(choice)?;
        let targets = self.targets.as_ref().ok_or(RenderError::NoVolume)?;
        let reduced_target = targets
            .reduced
            .iter()
            .find(|target| target.size() == internal);
        let first_target = match reduced_target {
            Some(target) if reduced => target,
            _ => &targets.output,
        };
        self.record(
            &mut encoder,
            drawing,
            &bind_group,
            first_target,
            internal,
            None,
        );
        if reduced
            && !as_drawn
            && let Some(reduced_target) = reduced_target
        {
            let blit = self
                .context
                .device
                .create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("blit"),
                    layout: &self.pipelines.blit_layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: wgpu::BindingResource::TextureView(&reduced_target.view),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Sampler(&self.pipelines.linear),
                        },
                    ],
                });
            self.record(
                &mut encoder,
                Drawing::Raster(&self.pipelines.blit),
                &blit,
                &targets.output,
                size,
                None,
            );
        }
        if let Some(Readback {
            buffer, padded_row, ..
        }) = readback
        {
            let (source, read_size) = match reduced_target {
                Some(target) if as_drawn => (&target.texture, internal),
                _ => (&targets.output.texture, size),
            };
            copy_to_buffer(&mut encoder, source, buffer, padded_row, read_size);
        }
        self.context.queue.submit([encoder.finish()]);
        Ok(FrameInfo {
            size,
            scale: match self.budget(view) {
                Some(budget) if reduced => budget.scale,
                _ => 1.0,
            },
            step_mm,
        })
    }

    /// The bind group that draws `rows` (first, one past the last) of `view` at
    /// `internal` pixels through `window`, which pipeline draws it ([`Self::drawing`]),
    /// and the sample distance along rays (0 for a slice).
    fn prepare_draw(
        &mut self,
        view: &ViewState,
        internal: [u32; 2],
        window: Window,
        rows: [u32; 2],
    ) -> Result<(wgpu::BindGroup, PipelineChoice, f32), RenderError> {
        match view.mpr {
            Some(_) => {
                let bind_group = self.mpr_bind_group(view, internal, window)?;
                Ok((bind_group, PipelineChoice::Slice, 0.0))
            }
            None => {
                let (bind_group, variant, step) =
                    self.raycast_bind_group(view, internal, window, rows)?;
                let started = Instant::now();
                self.pipelines
                    .prepare_raycast(&self.context.device, variant, self.dispatch);
                self.setting_up += started.elapsed();
                Ok((bind_group, PipelineChoice::RayCast(variant), step))
            }
        }
    }

    /// The pipeline [`Self::prepare_draw`] chose.
    fn drawing(&self, choice: PipelineChoice) -> Result<Drawing<'_>, RenderError> {
        match choice {
            PipelineChoice::Slice => Ok(Drawing::Raster(&self.pipelines.mpr)),
            PipelineChoice::RayCast(variant) => self
                .pipelines
                .raycast(variant, self.dispatch)
                .ok_or(RenderError::NoVolume),
        }
    }

    /// Records `drawing` with `bind_group` into `target`, a texture of `size`: the whole
    /// target, or only the rows of `band`, leaving the rest as it was.
    fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        drawing: Drawing<'_>,
        bind_group: &wgpu::BindGroup,
        target: &FrameTarget,
        size: [u32; 2],
        band: Option<Band>,
    ) {
        match drawing {
            Drawing::Raster(pipeline) => draw(encoder, &target.view, pipeline, bind_group, band),
            Drawing::Trace(pipeline) => {
                let frame = target.traced(&self.context.device, &self.pipelines);
                let rows = band.map_or(size[1], |band| band.rows);
                trace(encoder, pipeline, [bind_group, &frame], [size[0], rows]);
            }
        }
    }

    /// Checks an output size against the device's largest texture.
    fn check_size(&self, size: [u32; 2]) -> Result<(), RenderError> {
        let max = self.context.device.limits().max_texture_dimension_2d;
        if size[0] == 0 || size[1] == 0 || size[0] > max || size[1] > max {
            return Err(RenderError::BadSize {
                width: size[0],
                height: size[1],
                max,
            });
        }
        Ok(())
    }

    fn ensure_targets(&mut self, size: [u32; 2]) {
        if self.targets.as_ref().is_some_and(|t| t.size == size) {
            return;
        }
        let output = FrameTarget::new(&self.context, &self.pipelines, size, "frame");
        self.targets = Some(Targets {
            size,
            output,
            reduced: Vec::new(),
        });
    }

    fn ensure_reduced(&mut self, internal: [u32; 2]) {
        if let Some(targets) = &mut self.targets
            && !targets
                .reduced
                .iter()
                .any(|target| target.size() == internal)
        {
            let target =
                FrameTarget::new(&self.context, &self.pipelines, internal, "reduced frame");
            targets.reduced.push(target);
        }
    }
}

/// The side of the ray caster's square workgroups, in pixels (`raycast.wgsl`'s
/// `@workgroup_size`).
const WORKGROUP_SIDE: u32 = 8;

/// Dispatches the ray caster over `pixels` (width, rows) with its two bind groups (the
/// view's, the frame's): the rows drawn start at the first of the uniforms' `rows`.
fn trace(
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    bind_groups: [&wgpu::BindGroup; 2],
    pixels: [u32; 2],
) {
    trace_with(encoder, pipeline, &bind_groups, pixels);
}

/// Dispatches a compute pipeline one invocation a pixel of `pixels` (width, rows) in the
/// ray caster's workgroups, with `bind_groups` as its groups 0, 1, …
fn trace_with(
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    bind_groups: &[&wgpu::BindGroup],
    pixels: [u32; 2],
) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("raycast"),
        timestamp_writes: None,
    });
    pass.set_pipeline(pipeline);
    for (index, bind_group) in (0..).zip(bind_groups) {
        pass.set_bind_group(index, *bind_group, &[]);
    }
    pass.dispatch_workgroups(
        pixels[0].div_ceil(WORKGROUP_SIDE),
        pixels[1].div_ceil(WORKGROUP_SIDE),
        1,
    );
}

/// Draws one full-screen triangle of `pipeline` into `target`: the whole target, cleared
/// first, or only the rows of `band`, leaving the rest as it was.
fn draw(
    encoder: &mut wgpu::CommandEncoder,
    target: &wgpu::TextureView,
    pipeline: &wgpu::RenderPipeline,
    bind_group: &wgpu::BindGroup,
    band: Option<Band>,
) {
    let load = match band {
        Some(_) => wgpu::LoadOp::Load,
        None => wgpu::LoadOp::Clear(wgpu::Color::BLACK),
    };
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("frame"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    if let Some(band) = band {
        pass.set_scissor_rect(0, band.first_row, band.width, band.rows);
    }
    pass.draw(0..3, 0..1);
}

/// Rows of a target drawn by themselves ([`banded`]).
#[derive(Debug, Clone, Copy)]
struct Band {
    first_row: u32,
    rows: u32,
    width: u32,
}

impl Band {
    /// Its first row and the row after its last.
    fn span(&self) -> [u32; 2] {
        [self.first_row, self.first_row + self.rows]
    }
}

/// Copies `source`'s top-left `size` pixels into `buffer`, rows `padded_row` bytes apart.
fn copy_to_buffer(
    encoder: &mut wgpu::CommandEncoder,
    source: &wgpu::Texture,
    buffer: &wgpu::Buffer,
    padded_row: u32,
    size: [u32; 2],
) {
    encoder.copy_texture_to_buffer(
        source.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row),
                rows_per_image: Some(size[1]),
            },
        },
        wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_first_frame_is_timed_without_the_gradients_and_the_ray_caster_it_made() {
        let (mut renderer, volume) = crate::gpu::testing::phantom_renderer();
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        // A tiny frame: drawing it costs far less than what its first drawing sets up.
        let started = Instant::now();
        renderer.render(&view, [16, 12]).expect("drawn");
        let wall = started.elapsed();
        let recorded = renderer.last_full_time().expect("a full frame");
        assert!(
            recorded * 2 < wall,
            "recorded {recorded:?} of the first frame's {wall:?}"
        );
        assert_eq!(renderer.setting_up, Duration::ZERO, "taken by the frame");
    }

    /// The largest difference of any channel of any pixel, and the mean over all.
    fn differences(a: &FrameImage, b: &FrameImage) -> (u8, f64) {
        assert_eq!((a.width, a.height), (b.width, b.height), "same size");
        let differences: Vec<u8> = a
            .rgba
            .iter()
            .zip(&b.rgba)
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let mean =
            differences.iter().map(|&d| f64::from(d)).sum::<f64>() / differences.len() as f64;
        (differences.into_iter().max().unwrap_or(0), mean)
    }

    #[test]
    fn the_ray_caster_draws_the_same_picture_as_a_compute_or_a_fragment_shader() {
        let (mut renderer, volume) = crate::gpu::testing::phantom_renderer();
        assert_eq!(
            renderer.ray_dispatch(),
            RayDispatch::Fragment,
            "lavapipe is a software rasteriser"
        );
        let shaded = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let mut mip = ViewState::initial(&volume, "ct-bone", RenderMode::Mip);
        mip.camera.orbit(40.0, 20.0);
        let mut dragged = shaded.clone();
        dragged.quality = Quality::Interactive;
        let size = [90, 70];
        // Half of each side and twice the step, whatever the last frame's time made of the
        // budget.
        let at_half = |renderer: &mut Renderer| renderer.interactive = InteractiveBudget::default();
        let draw_all = |renderer: &mut Renderer| {
            let mut banded = renderer.begin_banded(size, 3).expect("a banded image");
            while !banded.is_complete() {
                renderer.draw_band(&shaded, &mut banded).expect("a band");
            }
            [
                renderer.render_image(&shaded, size).expect("shaded"),
                renderer.render_image(&mip, size).expect("MIP"),
                {
                    at_half(renderer);
                    renderer
                        .render_image(&dragged, size)
                        .expect("reduced, upscaled")
                },
                {
                    at_half(renderer);
                    renderer
                        .render_image_as_drawn(&dragged, size)
                        .expect("reduced, as drawn")
                },
                renderer.read_banded(&shaded, &banded).expect("banded"),
            ]
        };
        let fragment = draw_all(&mut renderer);
        assert!(
            renderer.set_ray_dispatch(RayDispatch::Compute),
            "lavapipe runs compute shaders"
        );
        let compute = draw_all(&mut renderer);
        let names = ["shaded", "MIP", "reduced", "as drawn", "banded"];
        for ((name, fragment), compute) in names.iter().zip(&fragment).zip(&compute) {
            let (largest, mean) = differences(fragment, compute);
            // The two compile the same arithmetic apart; a rounding may differ.
            assert!(
                largest <= 2 && mean < 0.01,
                "{name}: a channel differs by {largest}, {mean} on average"
            );
        }
        assert_eq!(
            fragment[4], fragment[0],
            "fragment bands make the whole frame"
        );
        assert_eq!(compute[4], compute[0], "compute bands make the whole frame");
        let (_, apart) = differences(&compute[0], &compute[1]);
        assert!(apart > 1.0, "shaded and MIP are other pictures");
    }

    #[test]
    fn a_refining_picture_pays_only_after_a_slow_full_frame_of_the_3d_view() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut renderer = Renderer::new(context, PresetLibrary::builtin());
        assert!(!renderer.refining_pays(), "no full frame drawn yet");
        let volume = crate::phantom::ct_phantom();
        let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        renderer.record_time(&view, [1024, 768], REFINE_WHEN_FULL_TAKES * 3);
        assert!(renderer.refining_pays(), "a slow full frame");
        view.quality = Quality::Interactive;
        renderer.record_time(&view, [1024, 768], Duration::from_millis(10));
        assert!(
            renderer.refining_pays(),
            "interactive frames say nothing of full ones"
        );
        view.quality = Quality::Full;
        renderer.record_time(&view, [1024, 768], REFINE_WHEN_FULL_TAKES / 3);
        assert!(!renderer.refining_pays(), "a fast full frame");
    }
}
