//! The render pipelines (WGSL shaders compiled once per device) and their uniforms.

use bytemuck::{Pod, Zeroable};

use super::context::Capabilities;
use super::gradients::GRADIENT_FORMAT;
use super::segment_labels::segment_placeholders;
use super::shader_mode::ShaderMode;
use super::transfer_rows::TransferRow;
use crate::transfer::{RenderMode, TransferTable};
use crate::view::{Interpolation, Lighting};

/// The format every frame is drawn in.
pub const FRAME_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// The ray caster's uniforms, laid out as `raycast.wgsl`'s `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct RaycastParams {
    /// Clip space → LPS (mm).
    pub inv_view_proj: [[f32; 4]; 4],
    /// LPS (mm) → texture coordinates.
    pub lps_to_tex: [[f32; 4]; 4],
    /// A direction across the GPU volume's voxel indices → the LPS direction of a surface
    /// normal (the inverse transpose of voxel → LPS): shades the segments.
    pub index_normal_to_lps: [[f32; 4]; 4],
    /// Crop box lower corner (texture coordinates; w unused).
    pub crop_min: [f32; 4],
    /// Crop box upper corner (texture coordinates; w unused).
    pub crop_max: [f32; 4],
    /// Texture coordinate → brick index (w unused).
    pub brick_scale: [f32; 4],
    /// Bricks along each axis (w unused).
    pub brick_count: [f32; 4],
    /// Volume texture coordinate → gradient texture coordinate (w unused).
    pub gradient_coordinate_scale: [f32; 4],
    /// Stored value → transfer-function texture coordinate: scale.
    pub transfer_scale: f32,
    /// Stored value → transfer-function texture coordinate: offset.
    pub transfer_offset: f32,
    /// Stored value → grey level of the projection modes: scale.
    pub grey_scale: f32,
    /// Stored value → grey level of the projection modes: offset.
    pub grey_offset: f32,
    /// Blinn-Phong ambient term.
    pub ambient: f32,
    /// Blinn-Phong diffuse term.
    pub diffuse: f32,
    /// Blinn-Phong specular term.
    pub specular: f32,
    /// Blinn-Phong specular power.
    pub specular_power: f32,
    /// The distance between samples along a ray (mm).
    pub step_mm: f32,
    /// The step over the transfer function's opacity unit distance (opacity correction;
    /// the shader applies it with gradient opacity only, the transfer texture's corrected
    /// row having it applied already otherwise).
    pub step_per_opacity_unit: f32,
    /// The accumulated opacity at which a ray stops.
    pub early_termination_alpha: f32,
    /// How far a ray's start is jittered, in steps (0 or 1).
    pub jitter_steps: f32,
    /// Gradient magnitude (stored units per mm) → gradient-opacity texture coordinate.
    pub gradient_opacity_scale: f32,
    /// The magnitude an encoded gradient of length 1 stands for.
    pub gradient_full_scale: f32,
    /// The rows a dispatch draws: the first, and one past the last.
    pub rows: [f32; 2],
    /// Render target width and height (pixels).
    pub viewport_size: [f32; 2],
    /// Their reciprocals.
    pub viewport_inverse: [f32; 2],
    /// Background colour.
    pub background: [f32; 4],
    /// Towards the light (LPS, unit); w 1 for the headlight (along each ray instead).
    pub light: [f32; 4],
    /// A shadow ray's sample distance over the view ray's.
    pub shadow_step_ratio: f32,
    /// A shadow ray's sample distance (mm).
    pub shadow_step_mm: f32,
    /// How far a shadow ray reaches (mm).
    pub shadow_reach_mm: f32,
    /// How far off a surface (mm), on the eye's side, its shadow ray starts.
    pub surface_offset_mm: f32,
    /// How far (mm) ambient occlusion looks round a point (x; the rest unused).
    pub occlusion_radius_mm: [f32; 4],
    /// The volume's texture coordinates → the series drawn over's (with `over`).
    pub tex_to_over_tex: [[f32; 4]; 4],
    /// The series drawn over: stored value → place in its window (scale, offset), its
    /// opacity, and the distance between its samples along a ray (mm).
    pub over_style: [f32; 4],
}

/// An entry point of `cinematic.wgsl`: what a compute pass over a cinematic picture's
/// rows does.
#[derive(Debug, Clone, Copy)]
pub enum CinematicEntry {
    /// A path a pixel added to the sums, the frame made their mean.
    Trace,
    /// The frame made the sums' mean, no path added.
    Resolve,
}

/// The cinematic path tracer's uniforms, laid out as `cinematic.wgsl`'s `Cinematic`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct CinematicParams {
    /// The pass (0 for the first).
    pub pass_index: u32,
    /// The seed of the passes' random numbers.
    pub seed: u32,
    /// The scattering events a path may have.
    pub bounces: u32,
    /// The frame's width (pixels).
    pub width: u32,
    /// The reader's light: the radiance from its direction.
    pub light_intensity: f32,
    /// The environment's light from above the patient's head.
    pub sky: f32,
    /// The environment's light from below the feet.
    pub ground: f32,
    /// The phase function's anisotropy (Henyey-Greenstein's g).
    pub anisotropy: f32,
}

/// What a ray-caster pipeline is specialised for (the shader's override constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RaycastVariant {
    /// How samples combine along a ray.
    pub mode: ShaderMode,
    /// Blinn-Phong shading (composite only).
    pub shading: bool,
    /// Gradient-magnitude opacity (composite only).
    pub gradient_opacity: bool,
    /// Whether and how segments are drawn (composite only).
    pub segments: SegmentsDrawn,
    /// Shadows from the light (with shading only).
    pub shadows: bool,
    /// Ambient occlusion (with shading only).
    pub occlusion: bool,
    /// A second series drawn over the picture (any mode).
    pub over: bool,
}

/// How the ray caster draws the series' segments (the shader's `SEGMENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentsDrawn {
    /// Not at all (none shown, or not asked for).
    Not,
    /// Where a ray enters one, inside the volume rendering.
    WithVolume,
    /// Alone, the volume rendering left out.
    Alone,
}

impl SegmentsDrawn {
    /// Its number in the shader.
    pub fn number(self) -> u32 {
        match self {
            Self::Not => 0,
            Self::WithVolume => 1,
            Self::Alone => 2,
        }
    }
}

impl RaycastVariant {
    /// The variant that renders `mode` through `table`, drawing segments as `segments`
    /// says (in composite only), lit as `lighting` says (where it shades), a second
    /// series drawn `over` it or not.
    pub fn of(
        mode: RenderMode,
        table: &TransferTable,
        (segments, over): (SegmentsDrawn, bool),
        lighting: &Lighting,
    ) -> Self {
        let composite = mode == RenderMode::Composite;
        let alone = composite && segments == SegmentsDrawn::Alone;
        let shading = composite && !alone && table.shading.enabled;
        Self {
            mode: mode.into(),
            shading,
            shadows: shading && lighting.shadows,
            occlusion: shading && lighting.occlusion,
            gradient_opacity: composite && !alone && !table.gradient_opacity.is_empty(),
            segments: if composite {
                segments
            } else {
                SegmentsDrawn::Not
            },
            over,
        }
    }

    /// Whether it reads the volume's gradients.
    pub fn needs_gradients(&self) -> bool {
        self.shading || self.gradient_opacity
    }

    /// The shader's override constants that specialise it.
    fn constants(&self) -> [(&'static str, f64); 7] {
        [
            ("MODE", f64::from(self.mode.number())),
            ("SHADING", f64::from(u8::from(self.shading))),
            (
                "GRADIENT_OPACITY",
                f64::from(u8::from(self.gradient_opacity)),
            ),
            ("SEGMENTS", f64::from(self.segments.number())),
            ("SHADOWS", f64::from(u8::from(self.shadows))),
            ("OCCLUSION", f64::from(u8::from(self.occlusion))),
            ("OVER", f64::from(u8::from(self.over))),
        ]
    }
}

/// How the ray caster runs over a frame's pixels. Both give the same picture; which is
/// faster depends on the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RayDispatch {
    /// A fragment shader over a full-screen triangle. A software rasteriser (lavapipe)
    /// runs the ray caster 1.2 to 1.5 times as fast so as in a compute shader.
    Fragment,
    /// A compute shader, one invocation a pixel, writing the frame as a storage texture.
    /// Datacentre GPUs (NVIDIA's H100 and H200) run fragment shaders on a few of their
    /// multiprocessors only and compute shaders on all of them.
    Compute,
}

impl RayDispatch {
    /// The faster on an adapter: fragment on a software rasteriser (or a device without
    /// compute shaders), compute on a GPU.
    pub fn for_adapter(capabilities: &Capabilities) -> Self {
        if capabilities.software || !Self::Compute.runs_on(capabilities) {
            Self::Fragment
        } else {
            Self::Compute
        }
    }

    /// Whether a device of `capabilities` runs it.
    pub fn runs_on(self, capabilities: &Capabilities) -> bool {
        match self {
            Self::Fragment => true,
            Self::Compute => capabilities.compute_shaders,
        }
    }

    /// Its name in benchmark reports (`fragment`, `compute`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Fragment => "fragment",
            Self::Compute => "compute",
        }
    }
}

/// A pipeline ready to record.
#[derive(Debug, Clone, Copy)]
pub enum Drawing<'a> {
    /// A full-screen triangle of a render pipeline (the reformat, the upscaling blit, the
    /// ray caster as a fragment shader).
    Raster(&'a wgpu::RenderPipeline),
    /// A dispatch of the ray caster as a compute shader, one invocation a pixel.
    Trace(&'a wgpu::ComputePipeline),
}

/// The reformat's uniforms, laid out as `mpr.wgsl`'s `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct MprParams {
    /// LPS (mm) → texture coordinates.
    pub lps_to_tex: [[f32; 4]; 4],
    /// LPS of the image's top-left corner (w unused).
    pub origin: [f32; 4],
    /// One pixel to the right (LPS mm; w unused).
    pub right: [f32; 4],
    /// One pixel down (LPS mm; w unused).
    pub down: [f32; 4],
    /// One slab step along the plane's normal (LPS mm; w unused).
    pub slab_step: [f32; 4],
    /// Stored value → grey level: scale.
    pub grey_scale: f32,
    /// Stored value → grey level: offset.
    pub grey_offset: f32,
    /// How the samples across the slab combine ([`ShaderMode::number`]).
    pub slab_mode: u32,
    /// Samples across the slab (1 for a thin slice).
    pub slab_samples: u32,
    /// Background colour.
    pub background: [f32; 4],
}

/// The compiled pipelines and their layouts.
#[derive(Debug)]
pub struct Pipelines {
    /// Ray caster bind group layout.
    pub raycast_layout: wgpu::BindGroupLayout,
    /// The ray caster's second bind group's layout: the frame it writes.
    pub frame_layout: wgpu::BindGroupLayout,
    /// Ray-caster pipelines as fragment shaders, compiled on first use per variant.
    raycast_raster: std::collections::HashMap<RaycastVariant, wgpu::RenderPipeline>,
    /// Ray-caster pipelines as compute shaders, compiled on first use per variant.
    raycast_trace: std::collections::HashMap<RaycastVariant, wgpu::ComputePipeline>,
    /// The cinematic path tracer's third bind group's layout: its uniforms and the
    /// pixels' running sums.
    pub cinematic_layout: wgpu::BindGroupLayout,
    /// Path-tracer pipelines (compute shaders), compiled on first use per variant.
    cinematic: std::collections::HashMap<RaycastVariant, wgpu::ComputePipeline>,
    /// What makes the frame the path tracer's sums' mean again, per variant.
    cinematic_resolve: std::collections::HashMap<RaycastVariant, wgpu::ComputePipeline>,
    raycast_module: wgpu::ShaderModule,
    /// Reformat bind group layout.
    pub mpr_layout: wgpu::BindGroupLayout,
    /// Reformat.
    pub mpr: wgpu::RenderPipeline,
    /// Upscaling blit bind group layout.
    pub blit_layout: wgpu::BindGroupLayout,
    /// Upscaling blit.
    pub blit: wgpu::RenderPipeline,
    /// A 1×1×1 gradient texture, bound where a render needs no gradients.
    pub no_gradients: wgpu::TextureView,
    /// A 1×1×1 label texture, bound where a render draws no segments.
    pub no_labels: wgpu::TextureView,
    /// A 1×1 palette, bound where a render draws no segments.
    pub no_palette: wgpu::TextureView,
    /// Trilinear sampler, clamped at the edges.
    pub linear: wgpu::Sampler,
    /// Nearest-voxel sampler, clamped at the edges.
    pub nearest: wgpu::Sampler,
}

impl Pipelines {
    /// Compiles the shaders for `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        use wgpu::{BindingType as B, ShaderStages as S};
        let uniform = B::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        };
        let float_texture = |dimension| B::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: true },
            view_dimension: dimension,
            multisampled: false,
        };
        let sampler = B::Sampler(wgpu::SamplerBindingType::Filtering);
        let entry_in = |visibility, binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility,
            ty,
            count: None,
        };
        let entry = |binding, ty| entry_in(S::FRAGMENT, binding, ty);
        let compute_entry = |binding, ty| entry_in(S::COMPUTE, binding, ty);
        let raycast_entry = |binding, ty| entry_in(S::FRAGMENT | S::COMPUTE, binding, ty);
        let raycast_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("raycast"),
            entries: &[
                raycast_entry(0, uniform),
                raycast_entry(1, float_texture(wgpu::TextureViewDimension::D3)),
                raycast_entry(2, sampler),
                raycast_entry(3, float_texture(wgpu::TextureViewDimension::D2)),
                raycast_entry(4, sampler),
                raycast_entry(
                    5,
                    B::Texture {
                        sample_type: wgpu::TextureSampleType::Uint,
                        view_dimension: wgpu::TextureViewDimension::D3,
                        multisampled: false,
                    },
                ),
                raycast_entry(6, float_texture(wgpu::TextureViewDimension::D3)),
                raycast_entry(
                    7,
                    B::Texture {
                        sample_type: wgpu::TextureSampleType::Uint,
                        view_dimension: wgpu::TextureViewDimension::D3,
                        multisampled: false,
                    },
                ),
                raycast_entry(8, float_texture(wgpu::TextureViewDimension::D2)),
                raycast_entry(9, float_texture(wgpu::TextureViewDimension::D3)),
                raycast_entry(10, float_texture(wgpu::TextureViewDimension::D2)),
            ],
        });
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("raycast frame"),
            entries: &[compute_entry(
                0,
                B::StorageTexture {
                    access: wgpu::StorageTextureAccess::WriteOnly,
                    format: FRAME_FORMAT,
                    view_dimension: wgpu::TextureViewDimension::D2,
                },
            )],
        });
        let mpr_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("mpr"),
            entries: &[
                entry(0, uniform),
                entry(1, float_texture(wgpu::TextureViewDimension::D3)),
                entry(2, sampler),
            ],
        });
        let blit_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("blit"),
            entries: &[
                entry(0, float_texture(wgpu::TextureViewDimension::D2)),
                entry(1, sampler),
            ],
        });
        let cinematic_layout = cinematic_layout(device);
        let modes = ShaderMode::wgsl_constants();
        let transfer_rows = TransferRow::wgsl_constants();
        let raycast_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("raycast"),
            source: wgpu::ShaderSource::Wgsl(
                [
                    modes.as_str(),
                    transfer_rows.as_str(),
                    include_str!("shaders/fullscreen.wgsl"),
                    include_str!("shaders/raycast.wgsl"),
                    include_str!("shaders/cinematic.wgsl"),
                ]
                .concat()
                .into(),
            ),
        });
        let mpr_source = [
            modes.as_str(),
            include_str!("shaders/fullscreen.wgsl"),
            include_str!("shaders/mpr.wgsl"),
        ]
        .concat();
        let mpr = pipeline(device, "mpr", &mpr_source, &mpr_layout);
        let blit = pipeline(
            device,
            "blit",
            include_str!("shaders/blit.wgsl"),
            &blit_layout,
        );
        let no_gradients = device
            .create_texture(&wgpu::TextureDescriptor {
                label: Some("no gradients"),
                size: wgpu::Extent3d {
                    width: 1,
                    height: 1,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D3,
                format: GRADIENT_FORMAT,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            })
            .create_view(&wgpu::TextureViewDescriptor::default());
        let (no_labels, no_palette) = segment_placeholders(device);
        let make_sampler = |filter| {
            device.create_sampler(&wgpu::SamplerDescriptor {
                label: Some("volume"),
                address_mode_u: wgpu::AddressMode::ClampToEdge,
                address_mode_v: wgpu::AddressMode::ClampToEdge,
                address_mode_w: wgpu::AddressMode::ClampToEdge,
                mag_filter: filter,
                min_filter: filter,
                ..Default::default()
            })
        };
        Self {
            raycast_layout,
            frame_layout,
            raycast_raster: std::collections::HashMap::new(),
            raycast_trace: std::collections::HashMap::new(),
            cinematic_layout,
            cinematic: std::collections::HashMap::new(),
            cinematic_resolve: std::collections::HashMap::new(),
            raycast_module,
            mpr_layout,
            mpr,
            blit_layout,
            blit,
            no_gradients,
            no_labels,
            no_palette,
            linear: make_sampler(wgpu::FilterMode::Linear),
            nearest: make_sampler(wgpu::FilterMode::Nearest),
        }
    }
}

impl Pipelines {
    /// Compiles the ray caster specialised for `variant` to run as `dispatch`, unless it
    /// already is.
    pub fn prepare_raycast(
        &mut self,
        device: &wgpu::Device,
        variant: RaycastVariant,
        dispatch: RayDispatch,
    ) {
        let constants = variant.constants();
        let module = &self.raycast_module;
        match dispatch {
            RayDispatch::Fragment => {
                let layout = &self.raycast_layout;
                self.raycast_raster.entry(variant).or_insert_with(|| {
                    render_pipeline(device, "raycast", module, layout, &constants)
                });
            }
            RayDispatch::Compute => {
                let layouts = [&self.raycast_layout, &self.frame_layout];
                self.raycast_trace.entry(variant).or_insert_with(|| {
                    compute_pipeline(device, "raycast", module, &layouts, &constants, "cs_main")
                });
            }
        }
    }

    /// `cinematic.wgsl`'s `entry` specialised for `variant` (a compute shader), compiled
    /// on its first use.
    pub fn cinematic(
        &mut self,
        device: &wgpu::Device,
        variant: RaycastVariant,
        entry: CinematicEntry,
    ) -> &wgpu::ComputePipeline {
        let constants = variant.constants();
        let module = &self.raycast_module;
        let layouts = [
            &self.raycast_layout,
            &self.frame_layout,
            &self.cinematic_layout,
        ];
        let (pipelines, label, entry_point) = match entry {
            CinematicEntry::Trace => (&mut self.cinematic, "cinematic", "cs_cinematic"),
            CinematicEntry::Resolve => (
                &mut self.cinematic_resolve,
                "cinematic resolve",
                "cs_cinematic_resolve",
            ),
        };
        pipelines.entry(variant).or_insert_with(|| {
            compute_pipeline(device, label, module, &layouts, &constants, entry_point)
        })
    }

    /// The ray caster specialised for `variant` running as `dispatch`, once prepared.
    pub fn raycast(&self, variant: RaycastVariant, dispatch: RayDispatch) -> Option<Drawing<'_>> {
        match dispatch {
            RayDispatch::Fragment => self.raycast_raster.get(&variant).map(Drawing::Raster),
            RayDispatch::Compute => self.raycast_trace.get(&variant).map(Drawing::Trace),
        }
    }

    /// The volume sampler for an interpolation.
    pub fn sampler(&self, interpolation: Interpolation) -> &wgpu::Sampler {
        match interpolation {
            Interpolation::Linear => &self.linear,
            Interpolation::Nearest => &self.nearest,
        }
    }
}

fn pipeline(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    layout: &wgpu::BindGroupLayout,
) -> wgpu::RenderPipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    render_pipeline(device, label, &module, layout, &[])
}

/// The cinematic path tracer's third bind group's layout: its uniforms and the pixels'
/// running sums (a storage buffer).
fn cinematic_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    };
    let buffer = |ty| wgpu::BindingType::Buffer {
        ty,
        has_dynamic_offset: false,
        min_binding_size: None,
    };
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("cinematic"),
        entries: &[
            entry(0, buffer(wgpu::BufferBindingType::Uniform)),
            entry(
                1,
                buffer(wgpu::BufferBindingType::Storage { read_only: false }),
            ),
        ],
    })
}

fn compute_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layouts: &[&wgpu::BindGroupLayout],
    constants: &[(&str, f64)],
    entry_point: &str,
) -> wgpu::ComputePipeline {
    let layouts: Vec<Option<&wgpu::BindGroupLayout>> = layouts.iter().copied().map(Some).collect();
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &layouts,
        immediate_size: 0,
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(&layout),
        module,
        entry_point: Some(entry_point),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants,
            ..Default::default()
        },
        cache: None,
    })
}

fn render_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::BindGroupLayout,
    constants: &[(&str, f64)],
) -> wgpu::RenderPipeline {
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some("fs_main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                ..Default::default()
            },
            targets: &[Some(wgpu::ColorTargetState {
                format: FRAME_FORMAT,
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::AdapterKind;

    fn adapter(software: bool, compute_shaders: bool) -> Capabilities {
        Capabilities {
            adapter: "an adapter".into(),
            kind: if software {
                AdapterKind::Cpu
            } else {
                AdapterKind::Discrete
            },
            backend: "vulkan".into(),
            driver: String::new(),
            software,
            max_texture_3d: 2048,
            max_buffer_bytes: 1 << 30,
            compute_shaders,
        }
    }

    #[test]
    fn the_ray_caster_computes_on_a_gpu_and_rasterises_in_software_or_without_compute() {
        assert_eq!(
            RayDispatch::for_adapter(&adapter(false, true)),
            RayDispatch::Compute
        );
        assert_eq!(
            RayDispatch::for_adapter(&adapter(true, true)),
            RayDispatch::Fragment
        );
        let no_compute = adapter(false, false);
        assert_eq!(RayDispatch::for_adapter(&no_compute), RayDispatch::Fragment);
        assert!(!RayDispatch::Compute.runs_on(&no_compute));
        assert!(RayDispatch::Fragment.runs_on(&no_compute));
    }
}
