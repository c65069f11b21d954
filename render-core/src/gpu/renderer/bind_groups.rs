//! The uniforms and bind groups of each pipeline: the ray caster's (camera, crop, brick
//! grid, transfer function, shading, marching) and the reformat's (plane, slab, window).

use std::time::Instant;

use glam::{DMat4, DVec3};
use wgpu::util::DeviceExt;

use super::scene::GRADIENT_TABLE_SIZE;
use super::scene::Scene;
use super::{RenderError, Renderer};
use crate::Window;
use crate::gpu::bricks::BRICK_SIZE;
use crate::gpu::over_volume::GpuOver;
use crate::gpu::pipelines::{MprParams, RaycastParams, RaycastVariant};
use crate::gpu::shader_mode::ShaderMode;
use crate::gpu::volume_texture::GpuVolume;
use crate::transfer::TABLE_SIZE;
use crate::view::{Interpolation, LightDirection, Quality, ViewState};

/// Rays stop once this opaque (early ray termination).
pub(super) const EARLY_TERMINATION_ALPHA: f32 = 0.98;

/// A shadow ray's sample distance over the view ray's: four times as far apart, about a
/// millimetre at a CT's full quality (the light reaching a point varies smoothly, and a
/// millimetre of bone still falls between two samples), each of its samples standing for
/// four of the transfer function's corrected opacities. Twice as far apart as the view
/// ray's cost a third more a frame on ct-head-neck.
pub(super) const SHADOW_STEP_RATIO: f32 = 4.0;

/// How far ambient occlusion looks round a point for what hides it (mm), at least two of
/// the volume's coarsest voxel spacing: the scale of the creases and hollows it darkens
/// (an orbit's rim, the gap between vertebrae), well under a head's.
pub(super) const OCCLUSION_RADIUS_MM: f64 = 6.0;

impl Renderer {
    pub(super) fn uniform_buffer(&self, label: &str, contents: &[u8]) -> wgpu::Buffer {
        self.context
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    pub(super) fn raycast_bind_group(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        window: Window,
        rows: [u32; 2],
    ) -> Result<(wgpu::BindGroup, RaycastVariant, f32), RenderError> {
        let transfer_key = self.transfer(view)?;
        self.brick_visibility(view, window)?;
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        let variant = RaycastVariant::of(
            view.mode,
            &scene
                .transfer
                .get(&transfer_key)
                .ok_or(RenderError::NoVolume)?
                .table,
            (scene.segments_drawn(view), scene.drawn_over().is_some()),
            &view.lighting,
        );
        if variant.needs_gradients() && scene.gradients.is_none() {
            let started = Instant::now();
            scene.gradients = Some(scene.gpu.gradients(&self.context));
            self.setting_up += started.elapsed();
            tracing::debug!(elapsed = ?started.elapsed(), "gradients computed and uploaded");
        }
        let step_factor = match view.quality {
            Quality::Interactive => self.interactive.step_factor,
            Quality::Refining => self.refining.step_factor,
            Quality::Full => 1.0,
        };
        let step = (scene.gpu.min_spacing_mm() * 0.5 * f64::from(step_factor)) as f32;
        let cached = scene
            .transfer
            .get_mut(&transfer_key)
            .ok_or(RenderError::NoVolume)?;
        let step_per_opacity_unit = step / cached.table.opacity_unit_mm.max(1e-3);
        cached.correct_opacity(&self.context.queue, step_per_opacity_unit);
        let scene = self.scene.as_ref().ok_or(RenderError::NoVolume)?;
        let cached = scene
            .transfer
            .get(&transfer_key)
            .ok_or(RenderError::NoVolume)?;
        let bricks = scene.bricks.as_ref().ok_or(RenderError::NoVolume)?;
        let gpu = &scene.gpu;
        let table = &cached.table;

        let aspect = f64::from(size[0]) / f64::from(size[1]);
        let inv_view_proj = view.camera.view_projection(aspect).inverse();
        let lps_to_tex = lps_to_texture(gpu);
        let crop = view.crop.normalised();
        let dims = gpu.dims.map(f64::from);

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

        let over = scene
            .drawn_over()
            .map(|over| over_uniforms(over, lps_to_tex, step_factor));
        let shading = table.shading;
        let params = RaycastParams {
            inv_view_proj: inv_view_proj.as_mat4().to_cols_array_2d(),
            lps_to_tex: lps_to_tex.as_mat4().to_cols_array_2d(),
            index_normal_to_lps: DMat4::from_mat3(
                glam::DMat3::from_mat4(gpu.voxel_to_lps)
                    .inverse()
                    .transpose(),
            )
            .as_mat4()
            .to_cols_array_2d(),
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
            gradient_coordinate_scale: scene.gradients.as_ref().map_or([1.0; 4], |g| {
                let [x, y, z] = g.coordinate_scale;
                [x, y, z, 0.0]
            }),
            transfer_scale: tf_scale as f32,
            transfer_offset: tf_offset as f32,
            grey_scale: grey_scale as f32,
            grey_offset: grey_offset as f32,
            ambient: shading.ambient,
            diffuse: shading.diffuse,
            specular: shading.specular,
            specular_power: shading.specular_power,
            step_mm: step,
            step_per_opacity_unit,
            early_termination_alpha: EARLY_TERMINATION_ALPHA,
            jitter_steps: if view.interpolation == Interpolation::Nearest {
                0.0
            } else {
                1.0
            },
            gradient_opacity_scale: gradient_scale as f32,
            gradient_full_scale: scene.gradients.as_ref().map_or(0.0, |g| g.full_scale),
            rows: rows.map(|row| row as f32),
            viewport_size: [size[0] as f32, size[1] as f32],
            viewport_inverse: [1.0 / size[0] as f32, 1.0 / size[1] as f32],
            background: [0.0, 0.0, 0.0, 1.0],
            light: match view.lighting.direction {
                LightDirection::Head => [0.0, 0.0, 0.0, 1.0],
                LightDirection::Toward([x, y, z]) => [x as f32, y as f32, z as f32, 0.0],
            },
            shadow_step_ratio: SHADOW_STEP_RATIO,
            shadow_step_mm: step * SHADOW_STEP_RATIO,
            // To the crop box's edge.
            shadow_reach_mm: f32::MAX,
            surface_offset_mm: gpu.max_spacing_mm() as f32,
            occlusion_radius_mm: [
                OCCLUSION_RADIUS_MM.max(2.0 * gpu.max_spacing_mm()) as f32,
                0.0,
                0.0,
                0.0,
            ],
            tex_to_over_tex: over
                .map_or(DMat4::IDENTITY, |(matrix, _)| matrix)
                .as_mat4()
                .to_cols_array_2d(),
            over_style: over.map_or([0.0, 0.0, 0.0, 1.0], |(_, style)| style),
        };
        let uniforms = self.uniform_buffer("raycast params", bytemuck::bytes_of(&params));
        let sampler = self.pipelines.sampler(view.interpolation);
        let bind_group =
            self.raycast_group(&uniforms, sampler, (&cached.view, &bricks.view), scene);
        Ok((bind_group, variant, step))
    }

    /// The ray caster's bind group: its `uniforms`, the volume through `sampler`, the
    /// transfer function's and the visible bricks' textures, and
    /// what `scene` holds besides (gradients, segments, the series drawn over) or their
    /// placeholders.
    fn raycast_group(
        &self,
        uniforms: &wgpu::Buffer,
        sampler: &wgpu::Sampler,
        (transfer, bricks): (&wgpu::TextureView, &wgpu::TextureView),
        scene: &Scene,
    ) -> wgpu::BindGroup {
        self.context
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("raycast"),
                layout: &self.pipelines.raycast_layout,
                entries: &[
                    buffer_entry(0, uniforms),
                    view_entry(1, &scene.gpu.view),
                    sampler_entry(2, sampler),
                    view_entry(3, transfer),
                    sampler_entry(4, &self.pipelines.linear),
                    view_entry(5, bricks),
                    view_entry(
                        6,
                        scene
                            .gradients
                            .as_ref()
                            .map_or(&self.pipelines.no_gradients, |g| &g.view),
                    ),
                    view_entry(
                        7,
                        scene
                            .labels
                            .as_ref()
                            .map_or(&self.pipelines.no_labels, |l| &l.labels),
                    ),
                    view_entry(
                        8,
                        scene
                            .labels
                            .as_ref()
                            .map_or(&self.pipelines.no_palette, |l| &l.palette),
                    ),
                    view_entry(
                        9,
                        scene
                            .drawn_over()
                            .map_or(&self.pipelines.no_gradients, |o| &o.gpu.view),
                    ),
                    view_entry(
                        10,
                        scene
                            .drawn_over()
                            .map_or(&self.pipelines.no_palette, |o| &o.colours),
                    ),
                ],
            })
    }

    pub(super) fn mpr_bind_group(
        &self,
        view: &ViewState,
        size: [u32; 2],
        window: Window,
    ) -> Result<wgpu::BindGroup, RenderError> {
        let scene = self.scene.as_ref().ok_or(RenderError::NoVolume)?;
        let plane = view.mpr.ok_or(RenderError::NoVolume)?;
        let gpu = &scene.gpu;
        let pixel_to_lps = plane.pixel_to_lps(&scene.volume, size);
        // The shader's positions are pixel edges: the top-left pixel's centre is at (½, ½).
        let origin = pixel_to_lps.transform_point3(DVec3::new(-0.5, -0.5, 0.0));
        let right = pixel_to_lps.col(0).truncate();
        let down = pixel_to_lps.col(1).truncate();
        let normal = pixel_to_lps.col(2).truncate();
        let min_spacing = gpu.min_spacing_mm();
        let (samples, step) = if plane.slab_mm > 0.0 {
            let samples = (plane.slab_mm / (min_spacing * 0.5)).ceil().max(2.0);
            (samples, plane.slab_mm / (samples - 1.0))
        } else {
            (1.0, 0.0)
        };
        let (grey_scale, grey_offset) = grey_map(gpu, window);
        let v4 = |v: DVec3| [v.x as f32, v.y as f32, v.z as f32, 0.0];
        let params = MprParams {
            lps_to_tex: lps_to_texture(gpu).as_mat4().to_cols_array_2d(),
            origin: v4(origin),
            right: v4(right),
            down: v4(down),
            slab_step: v4(normal * step),
            grey_scale: grey_scale as f32,
            grey_offset: grey_offset as f32,
            slab_mode: ShaderMode::from(plane.slab_mode).number(),
            slab_samples: samples as u32,
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

/// The ray caster's uniforms for the series drawn `over` a volume whose LPS → texture
/// matrix is `lps_to_tex`: its texture coordinates of the volume's, and its style (see
/// `RaycastParams::over_style`), its samples half its finest voxel apart, coarser as the
/// view's are by `step_factor`.
fn over_uniforms(over: &GpuOver, lps_to_tex: DMat4, step_factor: f32) -> (DMat4, [f32; 4]) {
    let fusion = over.fusion();
    let (scale, offset) = grey_map(&over.gpu, fusion.window);
    let step = over.gpu.min_spacing_mm() * 0.5 * f64::from(step_factor);
    (
        lps_to_texture(&over.gpu) * over.follow() * lps_to_tex.inverse(),
        [
            scale as f32,
            offset as f32,
            fusion.drawn_opacity() as f32,
            step as f32,
        ],
    )
}

/// Stored value → grey level (scale, offset), as `Window::grey` computes it.
pub(super) fn grey_map(gpu: &GpuVolume, window: Window) -> (f64, f64) {
    let width = window.width.max(1e-6);
    let scale = 1.0 / (gpu.value_scale * width);
    let offset = (gpu.value_offset - (window.center - width * 0.5)) / width;
    (scale, offset)
}

/// LPS (mm) → texture coordinates of the GPU volume (voxel centres at (i + ½) / n).
pub(super) fn lps_to_texture(gpu: &GpuVolume) -> DMat4 {
    let dims = DVec3::new(
        f64::from(gpu.dims[0]),
        f64::from(gpu.dims[1]),
        f64::from(gpu.dims[2]),
    );
    DMat4::from_scale(dims.recip())
        * DMat4::from_translation(DVec3::splat(0.5))
        * gpu.voxel_to_lps.inverse()
}

pub(super) fn buffer_entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

pub(super) fn view_entry(binding: u32, view: &wgpu::TextureView) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::TextureView(view),
    }
}

pub(super) fn sampler_entry(binding: u32, sampler: &wgpu::Sampler) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Sampler(sampler),
    }
}
