//! The renderer: turns a [`ViewState`] into a frame on the GPU, for the desktop (which
//! shows the frame texture) and the server and CLI (which read it back).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::{DMat4, DVec3};
use wgpu::util::DeviceExt;

use super::bricks::BRICK_SIZE;
use super::context::{GpuContext, GpuError};
use super::gradients::GradientVolume;
use super::pipelines::{FRAME_FORMAT, MprParams, Pipelines, RaycastParams, RaycastVariant};
use super::volume_texture::GpuVolume;
use crate::transfer::{PresetLibrary, RenderMode, TABLE_SIZE, TransferTable, VolumeStatistics};
use crate::view::{Interpolation, Quality, SlabMode, ViewState};
use crate::{Modality, Volume, Window};

/// Rays stop once this opaque (early ray termination).
const EARLY_TERMINATION_ALPHA: f32 = 0.98;

/// Entries in the gradient-opacity row of the transfer texture.
const GRADIENT_TABLE_SIZE: usize = TABLE_SIZE;

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
    /// The GPU failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// An RGBA frame read back from the GPU, rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 4 bytes per pixel, RGBA, row-major from the top-left.
    pub rgba: Vec<u8>,
}

impl FrameImage {
    /// The pixel at column `x`, row `y`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let n = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[n],
            self.rgba[n + 1],
            self.rgba[n + 2],
            self.rgba[n + 3],
        ]
    }

    /// Writes the frame as a PNG file.
    pub fn save_png(&self, path: &std::path::Path) -> Result<(), image::ImageError> {
        image::save_buffer(
            path,
            &self.rgba,
            self.width,
            self.height,
            image::ExtendedColorType::Rgba8,
        )
    }
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

/// Holds interactive frames to a time budget by stepping their internal resolution
/// through a few fixed scales (each size's render target is kept, since a new one costs
/// far more than a frame on software rasterisers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InteractiveBudget {
    /// The frame time aimed for while interacting.
    pub target: Duration,
    /// The current internal resolution scale (one of [`Self::SCALES`]).
    pub scale: f32,
    /// Sample distance multiplier while interacting.
    pub step_factor: f32,
}

impl Default for InteractiveBudget {
    fn default() -> Self {
        Self {
            target: Duration::from_millis(50),
            scale: 0.5,
            step_factor: 2.0,
        }
    }
}

impl InteractiveBudget {
    /// The internal resolution scales interactive frames may use.
    pub const SCALES: [f32; 5] = [0.25, 0.35, 0.5, 0.7, 1.0];

    /// Adjusts the scale after an interactive frame that took `elapsed`: one step down
    /// when over budget, one step up when well under (time goes with the square of the
    /// scale, so a step up roughly doubles it).
    pub fn record(&mut self, elapsed: Duration) {
        let level = Self::SCALES
            .iter()
            .position(|&s| s >= self.scale - 1e-3)
            .unwrap_or(Self::SCALES.len() - 1);
        let level = if elapsed > self.target {
            level.saturating_sub(1)
        } else if elapsed.as_secs_f32() * 2.2 < self.target.as_secs_f32() {
            (level + 1).min(Self::SCALES.len() - 1)
        } else {
            level
        };
        self.scale = Self::SCALES[level];
    }
}

/// Where a frame is read back to: a mappable buffer with rows `padded_row` bytes apart,
/// from the output texture or, `as_drawn`, from the reduced one an interactive frame was
/// drawn into.
struct Readback<'a> {
    buffer: &'a wgpu::Buffer,
    padded_row: u32,
    as_drawn: bool,
}

/// A loaded volume with its GPU resources and per-preset caches.
struct Scene {
    volume: Arc<Volume>,
    gpu: GpuVolume,
    statistics: VolumeStatistics,
    transfer: HashMap<String, CachedTransfer>,
    bricks: Option<CachedBricks>,
    /// Computed on the first render that shades.
    gradients: Option<GradientVolume>,
}

struct CachedTransfer {
    table: TransferTable,
    texture: wgpu::TextureView,
    gradient_max: f32,
}

#[derive(PartialEq)]
struct BrickKey {
    preset: String,
    mode: RenderMode,
    window: [u64; 2],
}

struct CachedBricks {
    key: BrickKey,
    view: wgpu::TextureView,
}

struct Targets {
    size: [u32; 2],
    output: wgpu::Texture,
    output_view: wgpu::TextureView,
    /// Reduced-resolution targets of interactive frames, kept per size.
    reduced: Vec<(wgpu::Texture, wgpu::TextureView)>,
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
}

impl Renderer {
    /// A renderer on `context`'s device, with `presets` to choose transfer functions from.
    pub fn new(context: GpuContext, presets: PresetLibrary) -> Self {
        let pipelines = Pipelines::new(&context.device);
        Self {
            context,
            pipelines,
            presets,
            scene: None,
            targets: None,
            interactive: InteractiveBudget::default(),
        }
    }

    /// The device this renderer draws with.
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// The transfer-function presets it knows.
    pub fn presets(&self) -> &PresetLibrary {
        &self.presets
    }

    /// The volume being shown, if any.
    pub fn volume(&self) -> Option<&Arc<Volume>> {
        self.scene.as_ref().map(|scene| &scene.volume)
    }

    /// Uploads `volume` (replacing the previous one) and returns the warnings of the
    /// upload, e.g. downsampling to fit the device.
    pub fn load_volume(&mut self, volume: Arc<Volume>) -> Vec<String> {
        let gpu = GpuVolume::upload(&self.context, &volume);
        let warnings = gpu.warnings.clone();
        let statistics = VolumeStatistics::of(&volume);
        self.scene = Some(Scene {
            volume,
            gpu,
            statistics,
            transfer: HashMap::new(),
            bricks: None,
            gradients: None,
        });
        warnings
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
            && let Some(window) = self
                .presets
                .get(&view.preset)
                .and_then(|preset| preset.resolved_window(&scene.statistics))
        {
            return Some(window);
        }
        Some(default_window(&scene.volume, &scene.statistics))
    }

    /// Renders `view` at `size` into the renderer's frame texture and waits for the GPU.
    pub fn render(&mut self, view: &ViewState, size: [u32; 2]) -> Result<FrameInfo, RenderError> {
        let started = Instant::now();
        let info = self.encode_frame(view, size, None)?;
        self.wait()?;
        if view.quality == Quality::Interactive && view.mpr.is_none() {
            self.interactive.record(started.elapsed());
        }
        Ok(info)
    }

    /// The texture the last frame was drawn into (`Rgba8Unorm`, the frame's size).
    pub fn frame_texture(&self) -> Option<&wgpu::Texture> {
        self.targets.as_ref().map(|targets| &targets.output)
    }

    /// Renders `view` at `size` and reads the frame back.
    pub fn render_image(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        self.read_back(view, size, false)
    }

    /// Renders `view` for `size` and reads the picture back as drawn, before upscaling:
    /// an interactive 3D frame at its internal resolution (even sides), anything else at
    /// `size`. Scaled up bilinearly to `size`, it is what [`Self::render_image`] gives, so
    /// a stream can send fewer pixels and leave the upscaling to whoever shows them.
    pub fn render_image_as_drawn(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        self.read_back(view, size, true)
    }

    fn read_back(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        as_drawn: bool,
    ) -> Result<FrameImage, RenderError> {
        let started = Instant::now();
        let read_size = if as_drawn {
            self.internal_size(view, size)
        } else {
            size
        };
        let padded_row = (read_size[0] * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let buffer = self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: u64::from(padded_row) * u64::from(read_size[1].max(1)),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let readback = Readback {
            buffer: &buffer,
            padded_row,
            as_drawn,
        };
        self.encode_frame(view, size, Some(readback))?;
        let slice = buffer.slice(..);
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        slice.map_async(wgpu::MapMode::Read, move |result| {
            // The receiver waits below; a send can only fail if it is gone.
            let _ = sender.send(result);
        });
        self.wait()?;
        receiver
            .recv()
            .map_err(|error| GpuError::Device(error.to_string()))?
            .map_err(|error| GpuError::Device(error.to_string()))?;
        let mapped = slice
            .get_mapped_range()
            .map_err(|error| GpuError::Device(error.to_string()))?;
        let row_bytes = (read_size[0] * 4) as usize;
        let mut rgba = Vec::with_capacity(row_bytes * read_size[1] as usize);
        for row in mapped
            .chunks(padded_row as usize)
            .take(read_size[1] as usize)
        {
            rgba.extend_from_slice(&row[..row_bytes]);
        }
        drop(mapped);
        buffer.unmap();
        if view.quality == Quality::Interactive && view.mpr.is_none() {
            self.interactive.record(started.elapsed());
        }
        Ok(FrameImage {
            width: read_size[0],
            height: read_size[1],
            rgba,
        })
    }

    /// The size `view` is drawn at for an output of `size`: the output's own, or for an
    /// interactive 3D frame the budget's share of it, with even sides (so that a video
    /// encoder takes the picture whole).
    fn internal_size(&self, view: &ViewState, size: [u32; 2]) -> [u32; 2] {
        let interactive = view.quality == Quality::Interactive && view.mpr.is_none();
        let scale = self.interactive.scale;
        if !interactive || scale >= 1.0 {
            return size;
        }
        size.map(|side| (((side as f32 * scale / 2.0).round() as u32) * 2).clamp(2.min(side), side))
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
        let max = self.context.device.limits().max_texture_dimension_2d;
        if size[0] == 0 || size[1] == 0 || size[0] > max || size[1] > max {
            return Err(RenderError::BadSize {
                width: size[0],
                height: size[1],
                max,
            });
        }
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
        let (bind_group, pipeline, step_mm) = match view.mpr {
            Some(_) => {
                let bind_group = self.mpr_bind_group(view, internal, window)?;
                (bind_group, &self.pipelines.mpr, 0.0)
            }
            None => {
                let (bind_group, variant, step) =
                    self.raycast_bind_group(view, internal, window)?;
                self.pipelines
                    .prepare_raycast(&self.context.device, variant);
                let pipeline = self
                    .pipelines
                    .raycast(variant)
                    .ok_or(RenderError::NoVolume)?;
                (bind_group, pipeline, step)
            }
        };
        let targets = self.targets.as_ref().ok_or(RenderError::NoVolume)?;
        let reduced_target = targets
            .reduced
            .iter()
            .find(|(texture, _)| texture.width() == internal[0] && texture.height() == internal[1]);
        let reduced_texture = reduced_target.map(|(texture, _)| texture);
        let reduced_view = reduced_target.map(|(_, view)| view);
        let first_target = match (reduced_view, reduced) {
            (Some(view), true) => view,
            _ => &targets.output_view,
        };
        draw(&mut encoder, first_target, pipeline, &bind_group);
        if reduced
            && !as_drawn
            && let Some(reduced_view) = reduced_view
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
                            resource: wgpu::BindingResource::TextureView(reduced_view),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: wgpu::BindingResource::Sampler(&self.pipelines.linear),
                        },
                    ],
                });
            draw(
                &mut encoder,
                &targets.output_view,
                &self.pipelines.blit,
                &blit,
            );
        }
        if let Some(Readback {
            buffer, padded_row, ..
        }) = readback
        {
            let (source, read_size) = match reduced_texture {
                Some(texture) if as_drawn => (texture, internal),
                _ => (&targets.output, size),
            };
            encoder.copy_texture_to_buffer(
                source.as_image_copy(),
                wgpu::TexelCopyBufferInfo {
                    buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(padded_row),
                        rows_per_image: Some(read_size[1]),
                    },
                },
                wgpu::Extent3d {
                    width: read_size[0],
                    height: read_size[1],
                    depth_or_array_layers: 1,
                },
            );
        }
        self.context.queue.submit([encoder.finish()]);
        Ok(FrameInfo {
            size,
            scale: if reduced { self.interactive.scale } else { 1.0 },
            step_mm,
        })
    }

    fn ensure_targets(&mut self, size: [u32; 2]) {
        if self.targets.as_ref().is_some_and(|t| t.size == size) {
            return;
        }
        let output = frame_texture(&self.context.device, size, "frame");
        let output_view = output.create_view(&wgpu::TextureViewDescriptor::default());
        self.targets = Some(Targets {
            size,
            output,
            output_view,
            reduced: Vec::new(),
        });
    }

    fn ensure_reduced(&mut self, internal: [u32; 2]) {
        let device = &self.context.device;
        if let Some(targets) = &mut self.targets {
            let present = targets.reduced.iter().any(|(texture, _)| {
                texture.width() == internal[0] && texture.height() == internal[1]
            });
            if !present {
                let texture = frame_texture(device, internal, "reduced frame");
                let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
                targets.reduced.push((texture, view));
            }
        }
    }

    /// Bakes (once per preset) the transfer function and its texture.
    fn transfer(&mut self, preset_name: &str) -> Result<(), RenderError> {
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        if scene.transfer.contains_key(preset_name) {
            return Ok(());
        }
        let preset = self
            .presets
            .get(preset_name)
            .ok_or_else(|| RenderError::UnknownPreset {
                name: preset_name.to_string(),
                known: self.presets.names().join(", "),
            })?;
        let table = preset.bake(&scene.statistics);
        let gradient_max = table
            .gradient_opacity
            .last()
            .map(|point| point.gradient)
            .filter(|g| *g > 0.0)
            .unwrap_or(1.0);
        let mut texels: Vec<half::f16> = Vec::with_capacity(TABLE_SIZE * 8);
        for rgba in &table.rgba {
            texels.extend(rgba.iter().map(|&c| half::f16::from_f32(c)));
        }
        for n in 0..GRADIENT_TABLE_SIZE {
            let gradient = gradient_max * n as f32 / (GRADIENT_TABLE_SIZE - 1) as f32;
            let factor = gradient_factor(&table, gradient);
            texels.extend([1.0, 1.0, 1.0, factor].map(half::f16::from_f32));
        }
        let texture = self.context.device.create_texture_with_data(
            &self.context.queue,
            &wgpu::TextureDescriptor {
                label: Some("transfer function"),
                size: wgpu::Extent3d {
                    width: TABLE_SIZE as u32,
                    height: 2,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba16Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&texels),
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        scene.transfer.insert(
            preset_name.to_string(),
            CachedTransfer {
                table,
                texture: view,
                gradient_max,
            },
        );
        Ok(())
    }

    /// Uploads (when the preset, mode or window changed) which bricks rays must visit.
    fn brick_visibility(&mut self, view: &ViewState, window: Window) -> Result<(), RenderError> {
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        let key = BrickKey {
            preset: view.preset.clone(),
            mode: view.mode,
            window: [window.width.to_bits(), window.center.to_bits()],
        };
        if scene
            .bricks
            .as_ref()
            .is_some_and(|cached| cached.key == key)
        {
            return Ok(());
        }
        let cached = scene
            .transfer
            .get(&view.preset)
            .ok_or(RenderError::NoVolume)?;
        let visible = scene
            .gpu
            .bricks
            .visibility(view.mode, &cached.table, window);
        let counts = scene.gpu.bricks.counts;
        let started = std::time::Instant::now();
        let distances = super::bricks::empty_space_distances(&visible, counts);
        tracing::debug!(elapsed = ?started.elapsed(), "empty-space distances");
        let texture = self.context.device.create_texture_with_data(
            &self.context.queue,
            &wgpu::TextureDescriptor {
                label: Some("brick visibility"),
                size: wgpu::Extent3d {
                    width: counts[0] as u32,
                    height: counts[1] as u32,
                    depth_or_array_layers: counts[2] as u32,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D3,
                format: wgpu::TextureFormat::R8Uint,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            &distances,
        );
        scene.bricks = Some(CachedBricks {
            key,
            view: texture.create_view(&wgpu::TextureViewDescriptor::default()),
        });
        Ok(())
    }

    fn uniform_buffer(&self, label: &str, contents: &[u8]) -> wgpu::Buffer {
        self.context
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    fn raycast_bind_group(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        window: Window,
    ) -> Result<(wgpu::BindGroup, RaycastVariant, f32), RenderError> {
        self.transfer(&view.preset)?;
        self.brick_visibility(view, window)?;
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        let variant = RaycastVariant::of(
            view.mode,
            &scene
                .transfer
                .get(&view.preset)
                .ok_or(RenderError::NoVolume)?
                .table,
        );
        if variant.needs_gradients() && scene.gradients.is_none() {
            let started = Instant::now();
            scene.gradients = Some(GradientVolume::compute(&self.context, &scene.gpu));
            tracing::debug!(elapsed = ?started.elapsed(), "gradients computed and uploaded");
        }
        let scene = self.scene.as_ref().ok_or(RenderError::NoVolume)?;
        let cached = scene
            .transfer
            .get(&view.preset)
            .ok_or(RenderError::NoVolume)?;
        let bricks = scene.bricks.as_ref().ok_or(RenderError::NoVolume)?;
        let gpu = &scene.gpu;
        let table = &cached.table;

        let aspect = f64::from(size[0]) / f64::from(size[1]);
        let inv_view_proj = view.camera.view_projection(aspect).inverse();
        let lps_to_tex = lps_to_texture(gpu);
        let crop = view.crop.normalised();
        let dims = gpu.dims.map(f64::from);

        let min_spacing = gpu.min_spacing_mm();
        let interactive = view.quality == Quality::Interactive;
        let step_factor = if interactive {
            self.interactive.step_factor
        } else {
            1.0
        };
        let step = (min_spacing * 0.5 * f64::from(step_factor)) as f32;

        // Stored value → transfer texture coordinate, sampling entry centres.
        let n = TABLE_SIZE as f64;
        let range = f64::from(table.domain_max - table.domain_min).max(1e-9);
        let tf_scale = (n - 1.0) / (n * gpu.value_scale * range);
        let tf_offset =
            (gpu.value_offset - f64::from(table.domain_min)) * (n - 1.0) / (n * range) + 0.5 / n;
        let (grey_scale, grey_offset) = grey_map(gpu, window);
        let g = GRADIENT_TABLE_SIZE as f64;
        // Gradient in stored units per mm → value units per mm → table coordinate.
        let gradient_scale = (g - 1.0) / (g * gpu.value_scale * f64::from(cached.gradient_max));

        let shading = table.shading;
        let params = RaycastParams {
            inv_view_proj: inv_view_proj.as_mat4().to_cols_array_2d(),
            lps_to_tex: lps_to_tex.as_mat4().to_cols_array_2d(),
            crop_min: [crop.min[0], crop.min[1], crop.min[2], 0.0],
            crop_max: [crop.max[0], crop.max[1], crop.max[2], 0.0],
            brick_scale: [
                (dims[0] / BRICK_SIZE as f64) as f32,
                (dims[1] / BRICK_SIZE as f64) as f32,
                (dims[2] / BRICK_SIZE as f64) as f32,
                0.0,
            ],
            brick_count: [
                gpu.bricks.counts[0] as f32,
                gpu.bricks.counts[1] as f32,
                gpu.bricks.counts[2] as f32,
                0.0,
            ],
            value_map: [
                tf_scale as f32,
                tf_offset as f32,
                grey_scale as f32,
                grey_offset as f32,
            ],
            shading: [
                shading.ambient,
                shading.diffuse,
                shading.specular,
                shading.specular_power,
            ],
            march: [
                step,
                step / table.opacity_unit_mm.max(1e-3),
                EARLY_TERMINATION_ALPHA,
                if view.interpolation == Interpolation::Nearest {
                    0.0
                } else {
                    1.0
                },
            ],
            gradient_map: [
                gradient_scale as f32,
                scene.gradients.as_ref().map_or(0.0, |g| g.full_scale),
                0.0,
                0.0,
            ],
            viewport: [
                size[0] as f32,
                size[1] as f32,
                1.0 / size[0] as f32,
                1.0 / size[1] as f32,
            ],
            background: [0.0, 0.0, 0.0, 1.0],
        };
        let uniforms = self.uniform_buffer("raycast params", bytemuck::bytes_of(&params));
        let sampler = self.pipelines.sampler(view.interpolation);
        let bind_group = self
            .context
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("raycast"),
                layout: &self.pipelines.raycast_layout,
                entries: &[
                    buffer_entry(0, &uniforms),
                    view_entry(1, &gpu.view),
                    sampler_entry(2, sampler),
                    view_entry(3, &cached.texture),
                    sampler_entry(4, &self.pipelines.linear),
                    view_entry(5, &bricks.view),
                    view_entry(
                        6,
                        scene
                            .gradients
                            .as_ref()
                            .map_or(&self.pipelines.no_gradients, |g| &g.view),
                    ),
                ],
            });
        Ok((bind_group, variant, step))
    }

    fn mpr_bind_group(
        &self,
        view: &ViewState,
        size: [u32; 2],
        window: Window,
    ) -> Result<wgpu::BindGroup, RenderError> {
        let scene = self.scene.as_ref().ok_or(RenderError::NoVolume)?;
        let plane = view.mpr.ok_or(RenderError::NoVolume)?;
        let gpu = &scene.gpu;
        let (right, down) = plane.orientation.right_and_down();
        let mm = plane.mm_per_pixel(&scene.volume, size);
        let half = DVec3::new(f64::from(size[0]), f64::from(size[1]), 0.0) * 0.5 * mm;
        let origin = plane.centre_lps - right * half.x - down * half.y;
        let normal = right.cross(down).normalize();
        let min_spacing = gpu.min_spacing_mm();
        let (samples, step) = if plane.slab_mm > 0.0 {
            let samples = (plane.slab_mm / (min_spacing * 0.5)).ceil().max(2.0);
            (samples, plane.slab_mm / (samples - 1.0))
        } else {
            (1.0, 0.0)
        };
        let (grey_scale, grey_offset) = grey_map(gpu, window);
        let slab_mode = match plane.slab_mode {
            SlabMode::Mip => 0.0,
            SlabMode::Minip => 1.0,
            SlabMode::Average => 2.0,
        };
        let v4 = |v: DVec3, w: f64| [v.x as f32, v.y as f32, v.z as f32, w as f32];
        let params = MprParams {
            lps_to_tex: lps_to_texture(gpu).as_mat4().to_cols_array_2d(),
            origin: v4(origin, 0.0),
            right: v4(right * mm, 0.0),
            down: v4(down * mm, 0.0),
            slab_step: v4(normal * step, samples),
            window: [
                grey_scale as f32,
                grey_offset as f32,
                slab_mode,
                samples as f32,
            ],
            background: [0.0, 0.0, 0.0, 1.0],
        };
        let uniforms = self.uniform_buffer("mpr params", bytemuck::bytes_of(&params));
        let sampler = self.pipelines.sampler(view.interpolation);
        Ok(self
            .context
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("mpr"),
                layout: &self.pipelines.mpr_layout,
                entries: &[
                    buffer_entry(0, &uniforms),
                    view_entry(1, &gpu.view),
                    sampler_entry(2, sampler),
                ],
            }))
    }
}

/// The window used when neither the view nor the preset gives one: the header's, else a
/// soft-tissue window for CT, else the 1st to 99th percentile.
pub fn default_window(volume: &Volume, statistics: &VolumeStatistics) -> Window {
    if let Some(window) = volume.default_window {
        return window;
    }
    match volume.modality {
        Modality::CT => Window {
            width: 400.0,
            center: 40.0,
        },
        _ => {
            let low = f64::from(statistics.percentile(1.0));
            let high = f64::from(statistics.percentile(99.0));
            Window {
                width: (high - low).max(1e-3),
                center: (high + low) * 0.5,
            }
        }
    }
}

/// Stored value → grey level (scale, offset), as `Window::grey` computes it.
fn grey_map(gpu: &GpuVolume, window: Window) -> (f64, f64) {
    let width = window.width.max(1e-6);
    let scale = 1.0 / (gpu.value_scale * width);
    let offset = (gpu.value_offset - (window.center - width * 0.5)) / width;
    (scale, offset)
}

/// LPS (mm) → texture coordinates of the GPU volume (voxel centres at (i + ½) / n).
fn lps_to_texture(gpu: &GpuVolume) -> DMat4 {
    let dims = DVec3::new(
        f64::from(gpu.dims[0]),
        f64::from(gpu.dims[1]),
        f64::from(gpu.dims[2]),
    );
    DMat4::from_scale(dims.recip())
        * DMat4::from_translation(DVec3::splat(0.5))
        * gpu.voxel_to_lps.inverse()
}

fn gradient_factor(table: &TransferTable, gradient: f32) -> f32 {
    let points = &table.gradient_opacity;
    match points.iter().position(|p| p.gradient >= gradient) {
        None => points.last().map_or(1.0, |p| p.factor),
        Some(0) => points.first().map_or(1.0, |p| p.factor),
        Some(n) => {
            let (a, b) = (&points[n - 1], &points[n]);
            let t = (gradient - a.gradient) / (b.gradient - a.gradient).max(1e-9);
            a.factor + (b.factor - a.factor) * t
        }
    }
}

fn frame_texture(device: &wgpu::Device, size: [u32; 2], label: &str) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: FRAME_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    })
}

fn draw(
    encoder: &mut wgpu::CommandEncoder,
    target: &wgpu::TextureView,
    pipeline: &wgpu::RenderPipeline,
    bind_group: &wgpu::BindGroup,
) {
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("frame"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
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
    pass.draw(0..3, 0..1);
}

fn buffer_entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

fn view_entry(binding: u32, view: &wgpu::TextureView) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::TextureView(view),
    }
}

fn sampler_entry(binding: u32, sampler: &wgpu::Sampler) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Sampler(sampler),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interactive_budget_steps_down_when_slow_and_up_when_fast() {
        let mut budget = InteractiveBudget::default();
        assert_eq!(budget.scale, 0.5);
        budget.record(Duration::from_millis(120));
        assert_eq!(budget.scale, 0.35);
        budget.record(Duration::from_millis(120));
        budget.record(Duration::from_millis(120));
        assert_eq!(budget.scale, 0.25, "never below the smallest scale");
        budget.record(Duration::from_millis(40));
        assert_eq!(budget.scale, 0.25, "within budget: stays");
        for _ in 0..10 {
            budget.record(Duration::from_millis(5));
        }
        assert_eq!(budget.scale, 1.0, "never above full resolution");
    }
}
