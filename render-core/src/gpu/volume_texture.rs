//! `GpuVolume`: a volume uploaded once to a device, as a filterable 3D texture of
//! half floats, with its brick grid.

use std::sync::Arc;

use half::f16;
use rayon::prelude::*;

use super::bricks::{BrickGrid, slices_with_apron};
use super::context::GpuContext;
use super::gradients::{GradientPass, GradientVolume};
use super::slab_upload::{Layers, SLICES_PER_UPLOAD, Texels, write_in_slabs};
use crate::Volume;
use crate::volume::Slab;

/// Largest magnitude stored unscaled in a half float (its maximum is 65504).
const HALF_RANGE: f64 = 60000.0;

/// A volume resident on the GPU.
#[derive(Debug)]
pub struct GpuVolume {
    /// The voxels as an `R16Float` 3D texture (i = x, j = y, k = z).
    pub texture: wgpu::Texture,
    /// A view of `texture`.
    pub view: wgpu::TextureView,
    /// Voxels along i, j, k on the GPU (smaller than the volume's when downsampled).
    pub dims: [u32; 3],
    /// Voxel index (of the texture) → LPS mm.
    pub voxel_to_lps: glam::DMat4,
    /// Voxels of the original volume merged into one GPU voxel along each axis.
    pub downsample: [usize; 3],
    /// Stored value = (value − offset) × scale.
    pub value_scale: f64,
    /// See `value_scale`.
    pub value_offset: f64,
    /// The voxels the texture was made from: the volume itself, or its downsampled copy.
    pub source: Arc<Volume>,
    /// The smallest and largest stored value.
    pub stored_range: [f32; 2],
    /// The brick grid of the voxels as stored on the GPU (in value units).
    pub bricks: BrickGrid,
    /// What was changed on the way, e.g. downsampling to fit the device.
    pub warnings: Vec<String>,
}

impl GpuVolume {
    /// Uploads `volume`, downsampling it (with a warning) when it exceeds the device's
    /// 3D texture limit.
    pub fn upload(context: &GpuContext, volume: &Arc<Volume>) -> Self {
        Self::upload_shaded(context, volume, false).0
    }

    /// [`Self::upload`], and, when `shaded`, the volume's gradients made from the same
    /// pass over its voxels (a packed volume's slices are decoded once for both).
    pub fn upload_shaded(
        context: &GpuContext,
        volume: &Arc<Volume>,
        shaded: bool,
    ) -> (Self, Option<GradientVolume>) {
        let limit = context.capabilities.max_texture_3d.max(1) as usize;
        let downsample = volume.factors_to_fit(limit);
        let mut warnings = Vec::new();
        let source = if downsample != [1, 1, 1] {
            // The dims and voxel count agree by construction; keep the original if not.
            let reduced = volume
                .block_averaged(downsample)
                .unwrap_or_else(|_| volume.as_ref().clone());
            warnings.push(format!(
                "volume {}×{}×{} exceeds this GPU's 3D texture limit of {limit}: shown \
                 downsampled by {}×{}×{} to {}×{}×{}",
                volume.dims[0],
                volume.dims[1],
                volume.dims[2],
                downsample[0],
                downsample[1],
                downsample[2],
                reduced.dims[0],
                reduced.dims[1],
                reduced.dims[2],
            ));
            Arc::new(reduced)
        } else {
            Arc::clone(volume)
        };
        let magnitude = source
            .value_range
            .min
            .abs()
            .max(source.value_range.max.abs());
        let value_scale = if magnitude > HALF_RANGE {
            HALF_RANGE / magnitude
        } else {
            1.0
        };
        let dims = source.dims.map(|n| n as u32);
        let size = wgpu::Extent3d {
            width: dims[0],
            height: dims[1],
            depth_or_array_layers: dims[2],
        };
        let texture = context.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("volume"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: wgpu::TextureFormat::R16Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let stored_range = [
            (source.value_range.min * value_scale) as f32,
            (source.value_range.max * value_scale) as f32,
        ];
        let started = std::time::Instant::now();
        // One pass over the voxels: each slab, with the slice beyond each end, is read (or
        // decoded, when packed) once for its texels, its layers of bricks and its gradients.
        let mut bricks = BrickGrid::unmeasured(source.dims);
        let gradients =
            shaded.then(|| GradientPass::begin(context, &source, value_scale, stored_range));
        let depth = source.dims[2];
        write_in_slabs(context, depth, SLICES_PER_UPLOAD, |slices| {
            let with_apron = slices_with_apron(&slices, depth);
            let slab = source.slab(with_apron.clone());
            bricks.measure_slices(source.dims, &slab, with_apron.start, &slices);
            let slice_len = source.dims[0] * source.dims[1];
            let own = (slices.start - with_apron.start) * slice_len
                ..(slices.end - with_apron.start) * slice_len;
            let mut layers = vec![Layers {
                texture: &texture,
                first: slices.start,
                texels: Texels::Half(to_half(&slab, own, value_scale)),
            }];
            if let Some(gradients) = &gradients {
                layers.push(gradients.layers(&source, &slab, with_apron.start, &slices));
            }
            layers
        });
        let gradients = gradients.map(GradientPass::finish);
        tracing::debug!(
            elapsed = ?started.elapsed(),
            gradients = shaded,
            "volume texture and brick grid ready"
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let uploaded = Self {
            texture,
            view,
            dims,
            voxel_to_lps: source.voxel_to_lps,
            downsample,
            value_scale,
            value_offset: 0.0,
            source: Arc::clone(&source),
            stored_range,
            bricks,
            warnings,
        };
        (uploaded, gradients)
    }
}

impl GpuVolume {
    /// Computes and uploads the gradients of the voxels as stored on the GPU, a texel per
    /// voxel or per cell of voxels, a few slices at a time (for a view that needs them
    /// after an upload without them).
    pub fn gradients(&self, context: &GpuContext) -> GradientVolume {
        let source = self.source.as_ref();
        let pass = GradientPass::begin(context, source, self.value_scale, self.stored_range);
        // As many voxel slices a slab as the volume's own upload takes.
        let n = pass.cell();
        write_in_slabs(context, pass.depth(), SLICES_PER_UPLOAD / n, |cells| {
            // The voxel slices these cells cover, and one each side for the differences.
            let voxel_slices = cells.start * n..(cells.end * n).min(source.dims[2]);
            let with_apron = slices_with_apron(&voxel_slices, source.dims[2]);
            let slab = source.slab(with_apron.clone());
            vec![pass.layers(source, &slab, with_apron.start, &voxel_slices)]
        });
        pass.finish()
    }

    /// The finest voxel spacing of the volume as stored on the GPU (mm): ray steps and
    /// slab samples are fractions of it.
    pub fn min_spacing_mm(&self) -> f64 {
        (0..3)
            .map(|axis| self.voxel_to_lps.col(axis).truncate().length())
            .fold(f64::INFINITY, f64::min)
    }

    /// The largest voxel spacing (mm): a voxel's reach along its coarsest axis.
    pub fn max_spacing_mm(&self) -> f64 {
        (0..3)
            .map(|axis| self.voxel_to_lps.col(axis).truncate().length())
            .fold(0.0, f64::max)
    }
}

/// Voxels `voxels` of `slab` × `scale`, as half floats.
fn to_half(slab: &Slab<'_>, voxels: std::ops::Range<usize>, scale: f64) -> Vec<f16> {
    match slab {
        Slab::I16(v) => scaled_halves(&v[voxels], scale as f32),
        Slab::F32(v) => scaled_halves(&v[voxels], scale as f32),
    }
}

/// `values × scale` as half floats, converted in parallel runs long enough for the
/// half-float conversion to use SIMD.
fn scaled_halves<T: Copy + Into<f32> + Sync>(values: &[T], scale: f32) -> Vec<f16> {
    use half::slice::HalfFloatSliceExt;
    const RUN: usize = 1 << 14;
    let mut halves = vec![f16::ZERO; values.len()];
    halves
        .par_chunks_mut(RUN)
        .zip(values.par_chunks(RUN))
        .for_each(|(out, run)| {
            let floats: Vec<f32> = run.iter().map(|&v| v.into() * scale).collect();
            out.convert_from_f32_slice(&floats);
        });
    halves
}

#[cfg(test)]
mod tests {
    use glam::DMat4;

    use super::*;
    use crate::gpu::bricks::BRICK_SIZE;
    use crate::{Modality, Voxels};

    /// The smallest and largest value of each brick and its one-voxel apron, counted
    /// voxel by voxel.
    fn brick_ranges(volume: &Volume) -> (Vec<f32>, Vec<f32>) {
        let counts = volume.dims.map(|n| n.div_ceil(BRICK_SIZE));
        let span = |brick: usize, axis: usize| {
            (brick * BRICK_SIZE).saturating_sub(1)
                ..((brick + 1) * BRICK_SIZE + 1).min(volume.dims[axis])
        };
        let (mut min, mut max) = (Vec::new(), Vec::new());
        for bk in 0..counts[2] {
            for bj in 0..counts[1] {
                for bi in 0..counts[0] {
                    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
                    for k in span(bk, 2) {
                        for j in span(bj, 1) {
                            for i in span(bi, 0) {
                                let value = volume.value([i, j, k]).expect("inside") as f32;
                                (lo, hi) = (lo.min(value), hi.max(value));
                            }
                        }
                    }
                    min.push(lo);
                    max.push(hi);
                }
            }
        }
        (min, max)
    }

    #[test]
    fn the_upload_measures_every_brick_exactly_in_the_same_pass() {
        // Sides that are not whole bricks, and slices over several upload slabs that are
        // not whole slabs either; values that jump from voxel to voxel.
        let dims = [23, 18, 2 * SLICES_PER_UPLOAD + 5];
        let voxels = (0..dims.iter().product::<usize>())
            .map(|n| ((n * 7919) % 4001) as i16 - 2000)
            .collect();
        let plain = Volume::new(
            Voxels::I16(voxels),
            dims,
            DMat4::IDENTITY,
            Modality::CT,
            None,
        )
        .expect("a volume");
        let (min, max) = brick_ranges(&plain);
        let whole = BrickGrid::of(&plain);
        assert!(whole.min == min && whole.max == max, "measured whole");
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        for volume in [plain.clone(), plain.packed()] {
            let packed = matches!(volume.voxels, Voxels::Packed(_));
            let uploaded = GpuVolume::upload(&context, &Arc::new(volume));
            assert_eq!(uploaded.dims, dims.map(|n| n as u32));
            assert!(
                uploaded.bricks.min == min && uploaded.bricks.max == max,
                "measured while uploading (packed: {packed})"
            );
        }
    }
}
