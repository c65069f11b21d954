//! The volume's gradients, computed once per volume: shading then reads one texel of this
//! texture per lit sample instead of six samples of the volume.
//!
//! Each voxel holds its central-difference gradient in stored units per millimetre of
//! LPS, encoded for an `Rgba8Snorm` texture as the unit direction scaled by
//! `sqrt(magnitude / full scale)`. The square root keeps the direction of weak gradients
//! while strong edges still dominate where neighbouring voxels are blended.
//!
//! They are computed on the CPU (rayon), a few slices at a time: on a software adapter
//! that is several times faster than a compute shader, and every adapter gets the same
//! texels.

use glam::DMat3;
use rayon::prelude::*;

use super::context::GpuContext;
use super::volume_texture::{GpuVolume, write_in_slabs};
use crate::{Volume, Voxels};

/// The format gradients are stored in.
pub const GRADIENT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Snorm;

/// The gradient texture of one [`GpuVolume`].
#[derive(Debug)]
pub struct GradientVolume {
    /// The texture, with the volume's dims.
    pub texture: wgpu::Texture,
    /// Its view, for sampling.
    pub view: wgpu::TextureView,
    /// The gradient magnitude (stored units per mm) that encodes as length 1.
    pub full_scale: f32,
}

impl GradientVolume {
    /// Computes and uploads the gradients of `volume`'s voxels as stored on the GPU.
    pub fn compute(context: &GpuContext, volume: &GpuVolume) -> Self {
        let source = volume.source.as_ref();
        let [ni, nj, _] = source.dims;
        let size = wgpu::Extent3d {
            width: volume.dims[0],
            height: volume.dims[1],
            depth_or_array_layers: volume.dims[2],
        };
        let texture = context.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("gradients"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: GRADIENT_FORMAT,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        // A central difference is at most half the stored range per voxel along each axis.
        let range = f64::from(volume.stored_range[1] - volume.stored_range[0]).max(1e-6);
        let full_scale = 3.0_f64.sqrt() * range / (2.0 * volume.min_spacing_mm());
        let encoder = Encoder {
            index_to_lps: (DMat3::from_mat4(source.voxel_to_lps).inverse().transpose()
                * volume.value_scale)
                .as_mat3(),
            inverse_full_scale: (1.0 / full_scale) as f32,
        };
        let row_len = ni * 4;
        write_in_slabs(context, &texture, |slices| {
            let mut texels = vec![0_i8; row_len * nj * slices.len()];
            texels
                .par_chunks_mut(row_len)
                .enumerate()
                .for_each(|(n, row)| {
                    let (j, k) = (n % nj, slices.start + n / nj);
                    match &source.voxels {
                        Voxels::I16(v) => encoder.row(v.as_slice(), source, j, k, row),
                        Voxels::F32(v) => encoder.row(v.as_slice(), source, j, k, row),
                    }
                });
            texels
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Self {
            texture,
            view,
            full_scale: full_scale as f32,
        }
    }
}

/// Turns central differences into encoded texels.
struct Encoder {
    /// Voxel-index difference (value units) → LPS gradient (stored units per mm).
    index_to_lps: glam::Mat3,
    inverse_full_scale: f32,
}

impl Encoder {
    /// Encodes the gradients of voxel row `j` of slice `k` into `out` (4 bytes a voxel).
    /// Differences at the volume's faces repeat the edge voxel, as the sampler does.
    fn row<T: Copy + Into<f32>>(
        &self,
        voxels: &[T],
        volume: &Volume,
        j: usize,
        k: usize,
        out: &mut [i8],
    ) {
        let [ni, nj, nk] = volume.dims;
        let row = |j: usize, k: usize| &voxels[(k * nj + j) * ni..(k * nj + j + 1) * ni];
        let here = row(j, k);
        let (back, front) = (row(j.saturating_sub(1), k), row((j + 1).min(nj - 1), k));
        let (below, above) = (row(j, k.saturating_sub(1)), row(j, (k + 1).min(nk - 1)));
        // Along the row: neighbours two apart inside, the edge voxel repeated at the ends.
        let mut along = vec![0.0_f32; ni];
        if ni > 1 {
            along[0] = here[1].into() - here[0].into();
            along[ni - 1] = here[ni - 1].into() - here[ni - 2].into();
            for ((d, &next), &previous) in along[1..ni - 1].iter_mut().zip(&here[2..]).zip(here) {
                *d = next.into() - previous.into();
            }
        }
        // Plain loops over whole rows, so the compiler can vectorise them.
        let across: Vec<f32> = front
            .iter()
            .zip(back)
            .map(|(&f, &b)| f.into() - b.into())
            .collect();
        let up: Vec<f32> = above
            .iter()
            .zip(below)
            .map(|(&a, &b)| a.into() - b.into())
            .collect();
        let m = self.index_to_lps.to_cols_array();
        let inverse_full_scale = self.inverse_full_scale;
        let (along, across, up) = (&along[..ni], &across[..ni], &up[..ni]);
        let mut encoded = [vec![0.0_f32; ni], vec![0.0_f32; ni], vec![0.0_f32; ni]];
        let [ex, ey, ez] = &mut encoded;
        let (ex, ey, ez) = (&mut ex[..ni], &mut ey[..ni], &mut ez[..ni]);
        for i in 0..ni {
            let (dx, dy, dz) = (0.5 * along[i], 0.5 * across[i], 0.5 * up[i]);
            let gx = m[0] * dx + m[3] * dy + m[6] * dz;
            let gy = m[1] * dx + m[4] * dy + m[7] * dz;
            let gz = m[2] * dx + m[5] * dy + m[8] * dz;
            let magnitude = (gx * gx + gy * gy + gz * gz).sqrt();
            // A zero gradient stays zero whatever the scale.
            let scale = (magnitude * inverse_full_scale).min(1.0).sqrt() / magnitude.max(1e-30);
            ex[i] = gx * scale;
            ey[i] = gy * scale;
            ez[i] = gz * scale;
        }
        for (i, texel) in out.chunks_exact_mut(4).enumerate().take(ni) {
            texel[0] = snorm8(ex[i]);
            texel[1] = snorm8(ey[i]);
            texel[2] = snorm8(ez[i]);
            texel[3] = 0;
        }
    }
}

/// A value in −1..=1 as an 8-bit signed normalised integer.
fn snorm8(x: f32) -> i8 {
    // Round half away from zero; `as` truncates towards zero.
    let scaled = x.clamp(-1.0, 1.0) * 127.0;
    (scaled + 0.5_f32.copysign(scaled)) as i32 as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_along_lps_x_encodes_as_plus_x_with_its_relative_magnitude() {
        // Values rise 10 per voxel along i; spacing 2 mm: 5 units per mm along +x.
        let dims = [6, 4, 3];
        let values: Vec<f32> = (0..dims[0] * dims[1] * dims[2])
            .map(|n| (n % dims[0]) as f32 * 10.0)
            .collect();
        let affine = glam::DMat4::from_scale(glam::DVec3::new(2.0, 1.0, 1.0));
        let volume = Volume::new(
            Voxels::F32(values),
            dims,
            affine,
            crate::Modality::Other("OT".into()),
            None,
        )
        .expect("consistent volume");
        let encoder = Encoder {
            index_to_lps: DMat3::from_mat4(affine).inverse().transpose().as_mat3(),
            inverse_full_scale: 1.0 / 20.0,
        };
        let Voxels::F32(voxels) = &volume.voxels else {
            unreachable!("built as f32")
        };
        let mut row = vec![0_i8; dims[0] * 4];
        encoder.row(voxels, &volume, 1, 1, &mut row);
        // Inside: direction +x, length sqrt(5 / 20) = 0.5.
        assert_eq!(&row[8..12], &[snorm8(0.5), 0, 0, 0]);
        // At the faces the difference spans one voxel, not two: half the gradient.
        assert_eq!(row[0], snorm8((2.5_f32 / 20.0).sqrt()));
    }
}
