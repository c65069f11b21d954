//! A loaded volume with its GPU resources, and what the renderer caches for it: each
//! preset's transfer function baked into a texture, and which bricks rays must visit
//! for the current preset, mode and window.

use std::collections::HashMap;
use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::{RenderError, Renderer};
use crate::gpu::gradients::GradientVolume;
use crate::gpu::volume_texture::GpuVolume;
use crate::transfer::{RenderMode, TABLE_SIZE, TransferTable, VolumeStatistics};
use crate::view::ViewState;
use crate::{Volume, Window};

/// Entries in the gradient-opacity row of the transfer texture.
pub(super) const GRADIENT_TABLE_SIZE: usize = TABLE_SIZE;

/// A loaded volume with its GPU resources and per-preset caches.
pub(super) struct Scene {
    pub(super) volume: Arc<Volume>,
    pub(super) gpu: GpuVolume,
    pub(super) statistics: VolumeStatistics,
    pub(super) transfer: HashMap<String, CachedTransfer>,
    pub(super) bricks: Option<CachedBricks>,
    /// Computed on the first render that shades.
    pub(super) gradients: Option<GradientVolume>,
}

pub(super) struct CachedTransfer {
    pub(super) table: TransferTable,
    pub(super) texture: wgpu::TextureView,
    pub(super) gradient_max: f32,
}

#[derive(PartialEq)]
pub(super) struct BrickKey {
    pub(super) preset: String,
    pub(super) mode: RenderMode,
    pub(super) window: [u64; 2],
}

pub(super) struct CachedBricks {
    pub(super) key: BrickKey,
    pub(super) view: wgpu::TextureView,
}

impl Renderer {
    /// Bakes (once per preset) the transfer function and its texture.
    pub(super) fn transfer(&mut self, preset_name: &str) -> Result<(), RenderError> {
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
    pub(super) fn brick_visibility(
        &mut self,
        view: &ViewState,
        window: Window,
    ) -> Result<(), RenderError> {
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
        let distances = crate::gpu::bricks::empty_space_distances(&visible, counts);
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
}

pub(super) fn gradient_factor(table: &TransferTable, gradient: f32) -> f32 {
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
