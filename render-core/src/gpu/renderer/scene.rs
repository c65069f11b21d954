//! A loaded volume with its GPU resources, and what the renderer caches for it: each
//! preset's transfer function baked into a texture, and which bricks rays must visit
//! for the current preset, mode and window.

use std::collections::HashMap;
use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::{RenderError, Renderer};
use crate::gpu::gradients::GradientVolume;
use crate::gpu::over_volume::GpuOver;
use crate::gpu::pipelines::SegmentsDrawn;
use crate::gpu::segment_labels::GpuLabels;
use crate::gpu::transfer_rows::TransferRow;
use crate::gpu::volume_texture::GpuVolume;
use crate::transfer::{PresetRules, RenderMode, TABLE_SIZE, TransferTable, VolumeStatistics};
use crate::view::{EDITED_MARK, SegmentsIn3d, ViewState};
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
    /// The segments the 3D view shows, when any are.
    pub(super) labels: Option<GpuLabels>,
    /// The series drawn over the 3D view, when one is, or was and is hidden (kept for
    /// showing it again).
    pub(super) over: Option<GpuOver>,
}

impl Scene {
    /// The series drawn over the 3D view, when one is shown.
    pub(super) fn drawn_over(&self) -> Option<&GpuOver> {
        self.over.as_ref().filter(|over| over.shown)
    }

    /// How `view`'s ray caster draws the segments: as the view asks, in composite, when
    /// some are shown.
    pub(super) fn segments_drawn(&self, view: &ViewState) -> SegmentsDrawn {
        if self.labels.is_none() || view.mode != RenderMode::Composite || view.mpr.is_some() {
            return SegmentsDrawn::Not;
        }
        match view.segments_3d {
            SegmentsIn3d::WithVolume => SegmentsDrawn::WithVolume,
            SegmentsIn3d::Alone => SegmentsDrawn::Alone,
            SegmentsIn3d::Hidden => SegmentsDrawn::Not,
        }
    }
}

/// A preset baked for the scene's volume, and its texture: a row of [`TABLE_SIZE`]
/// texels for each [`TransferRow`] (the corrected one for the sample distance of the
/// frame being drawn, [`CachedTransfer::correct_opacity`]).
pub(super) struct CachedTransfer {
    pub(super) table: TransferTable,
    texture: wgpu::Texture,
    pub(super) view: wgpu::TextureView,
    pub(super) gradient_max: f32,
    /// The opacity correction's exponent (sample distance over the opacity unit distance)
    /// the corrected row holds now.
    corrected_for: f32,
}

/// The opacity a sample of opacity `alpha` per opacity unit distance has over a sample
/// distance of `exponent` of those units: 1 − (1 − α)^exponent (α below 1, so that an
/// opaque entry stays short of a wall at a shorter step).
pub(super) fn corrected_opacity(alpha: f32, exponent: f32) -> f32 {
    1.0 - (1.0 - alpha.min(0.9999)).powf(exponent)
}

impl CachedTransfer {
    /// Makes the corrected row hold the opacity for samples `exponent` opacity unit
    /// distances apart (written when the exponent changed: a frame of another quality).
    /// The ray caster reads it instead of raising each sample's opacity to that power,
    /// which a software rasteriser pays for at every sample (on ct-head-neck, a tenth of
    /// a frame's time).
    pub(super) fn correct_opacity(&mut self, queue: &wgpu::Queue, exponent: f32) {
        if self.corrected_for == exponent {
            return;
        }
        let texels = corrected_texels(&self.table, exponent);
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &self.texture,
                mip_level: 0,
                origin: wgpu::Origin3d {
                    x: 0,
                    y: TransferRow::Corrected.index(),
                    z: 0,
                },
                aspect: wgpu::TextureAspect::All,
            },
            bytemuck::cast_slice(&texels),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(
                    TABLE_SIZE as u32 * std::mem::size_of::<[half::f16; 4]>() as u32,
                ),
                rows_per_image: Some(1),
            },
            wgpu::Extent3d {
                width: TABLE_SIZE as u32,
                height: 1,
                depth_or_array_layers: 1,
            },
        );
        self.corrected_for = exponent;
    }
}

/// The corrected row's texels: the table's colour, its opacity corrected by `exponent`.
fn corrected_texels(table: &TransferTable, exponent: f32) -> Vec<half::f16> {
    table
        .rgba
        .iter()
        .flat_map(|&[r, g, b, a]| [r, g, b, corrected_opacity(a, exponent)])
        .map(half::f16::from_f32)
        .collect()
}

#[derive(PartialEq)]
pub(super) struct BrickKey {
    pub(super) preset: String,
    pub(super) mode: RenderMode,
    pub(super) window: [u64; 2],
    /// How segments are drawn, and which upload of them.
    pub(super) segments: (SegmentsDrawn, u64),
}

pub(super) struct CachedBricks {
    pub(super) key: BrickKey,
    pub(super) view: wgpu::TextureView,
}

impl Renderer {
    /// Bakes (once per preset, and once per change of a transfer function being edited)
    /// the transfer function `view` shows and its texture, and says what it is kept under
    /// ([`ViewState::transfer_key`]). One edited function is kept at a time: each change
    /// of a drag replaces the last.
    pub(super) fn transfer(&mut self, view: &ViewState) -> Result<String, RenderError> {
        let key = view.transfer_key();
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        if scene.transfer.contains_key(&key) {
            return Ok(key);
        }
        let preset = view
            .preset_in(&self.presets)
            .ok_or_else(|| RenderError::UnknownPreset {
                name: view.preset.clone(),
                known: self.presets.names().join(", "),
            })?;
        if view.transfer.is_some() {
            scene.transfer.retain(|kept, _| !kept.contains(EDITED_MARK));
        }
        let table = preset.bake(&scene.statistics);
        let gradient_max = table
            .gradient_opacity
            .last()
            .map(|point| point.gradient)
            .filter(|g| *g > 0.0)
            .unwrap_or(1.0);
        let mut texels: Vec<half::f16> =
            Vec::with_capacity(TABLE_SIZE * 4 * TransferRow::COUNT as usize);
        for rgba in &table.rgba {
            texels.extend(rgba.iter().map(|&c| half::f16::from_f32(c)));
        }
        for n in 0..GRADIENT_TABLE_SIZE {
            let gradient = gradient_max * n as f32 / (GRADIENT_TABLE_SIZE - 1) as f32;
            let factor = gradient_factor(&table, gradient);
            texels.extend([1.0, 1.0, 1.0, factor].map(half::f16::from_f32));
        }
        // Corrected for a sample distance of one opacity unit until a frame asks for
        // another.
        let corrected_for = 1.0;
        texels.extend(corrected_texels(&table, corrected_for));
        let texture = self.context.device.create_texture_with_data(
            &self.context.queue,
            &wgpu::TextureDescriptor {
                label: Some("transfer function"),
                size: wgpu::Extent3d {
                    width: TABLE_SIZE as u32,
                    height: TransferRow::COUNT,
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
            key.clone(),
            CachedTransfer {
                table,
                texture,
                view,
                gradient_max,
                corrected_for,
            },
        );
        Ok(key)
    }

    /// Uploads (when the preset, mode or window changed) which bricks rays must visit.
    pub(super) fn brick_visibility(
        &mut self,
        view: &ViewState,
        window: Window,
    ) -> Result<(), RenderError> {
        let scene = self.scene.as_mut().ok_or(RenderError::NoVolume)?;
        let key = BrickKey {
            preset: view.transfer_key(),
            mode: view.mode,
            window: [window.width.to_bits(), window.center.to_bits()],
            segments: (
                scene.segments_drawn(view),
                scene.labels.as_ref().map_or(0, |labels| labels.generation),
            ),
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
            .get(&key.preset)
            .ok_or(RenderError::NoVolume)?;
        let mut visible = match key.segments.0 {
            SegmentsDrawn::Alone => vec![0; scene.gpu.bricks.min.len()],
            _ => scene
                .gpu
                .bricks
                .visibility(view.mode, &cached.table, window),
        };
        if key.segments.0 != SegmentsDrawn::Not
            && let Some(labels) = &scene.labels
        {
            for (brick, labelled) in visible.iter_mut().zip(&labels.bricks) {
                *brick |= labelled;
            }
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use glam::DMat4;

    use super::*;
    use crate::transfer::RenderMode;
    use crate::view::{Quality, ViewState};
    use crate::{Modality, Voxels};

    #[test]
    fn opacity_is_corrected_as_a_power_of_what_is_left() {
        assert_eq!(corrected_opacity(0.0, 2.0), 0.0);
        assert!((corrected_opacity(0.3, 1.0) - 0.3).abs() < 1e-6);
        assert!((corrected_opacity(0.5, 2.0) - 0.75).abs() < 1e-6);
        assert!((corrected_opacity(0.5, 0.5) - (1.0 - 0.5f32.sqrt())).abs() < 1e-6);
        assert!(
            corrected_opacity(1.0, 0.5) < 1.0,
            "an opaque entry short of a wall"
        );
    }

    /// The mean red level of the `side`-pixel square at the middle of `frame`.
    fn middle_red(frame: &crate::gpu::FrameImage, side: u32) -> f64 {
        let (x0, y0) = ((frame.width - side) / 2, (frame.height - side) / 2);
        let mut sum = 0.0;
        for y in y0..y0 + side {
            for x in x0..x0 + side {
                sum += f64::from(frame.rgba[((y * frame.width + x) * 4) as usize]);
            }
        }
        sum / f64::from(side * side)
    }

    #[test]
    fn a_faint_block_is_as_opaque_at_twice_the_step_as_at_the_step_and_back() {
        // 1 mm voxels: air round a 32 mm block at 160 HU, which ct-bone makes 0.01 opaque
        // a millimetre (about a third over the block: far from saturated).
        let side = 48;
        let voxels: Vec<i16> = (0..side * side * side)
            .map(|n| {
                let inside = |c: usize| (8..40).contains(&c);
                let (i, j, k) = (n % side, n / side % side, n / (side * side));
                if inside(i) && inside(j) && inside(k) {
                    160
                } else {
                    -1000
                }
            })
            .collect();
        let volume = Arc::new(
            crate::Volume::new(
                Voxels::I16(voxels),
                [side; 3],
                DMat4::IDENTITY,
                Modality::CT,
                None,
            )
            .expect("a volume"),
        );
        let mut renderer = crate::gpu::testing::renderer_with(Arc::clone(&volume));
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let mut draw = |quality| {
            let mut shown = view.clone();
            shown.quality = quality;
            renderer.interactive.scale = 1.0;
            let frame = renderer.render_image(&shown, [64, 64]).expect("drawn");
            middle_red(&frame, 8)
        };
        let full = draw(Quality::Full);
        let interactive = draw(Quality::Interactive);
        let full_again = draw(Quality::Full);
        assert!(full > 20.0, "the block shows: {full}");
        assert!(
            (interactive - full).abs() < full * 0.04,
            "twice the step, the same opacity: {interactive} against {full}"
        );
        assert_eq!(full_again, full, "the step's own correction again");
    }
}
