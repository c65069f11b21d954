//! The volume's gradients, computed once per volume: shading then reads one texel of this
//! texture per lit sample instead of six samples of the volume.
//!
//! A texel holds the central-difference gradient of one voxel, in stored units per
//! millimetre of LPS, or, in a volume of over [`PER_VOXEL_UP_TO`] voxels, the mean gradient
//! of a cell of 2×2×2 voxels (the gradient of the volume smoothed over the cell): an
//! eighth of the texels. At 4 bytes a texel, gradients per voxel would take twice the
//! voxels' own bytes, the largest share of a served CT's memory. The opacity, which draws
//! the edges, still comes from every voxel; on the CT of `bench stream` (0.54 mm voxels)
//! the full image shaded per cell comes within 28–36 dB (PSNR over the volume) of one
//! shaded per voxel, the fine speckle of bone surfaces a little smoother. Small volumes,
//! whose thin structures are only a few voxels across, keep a gradient per voxel.
//!
//! Encoded for an `Rgba8Snorm` texture as the unit direction scaled by
//! `sqrt(magnitude / full scale)`. The square root keeps the direction of weak gradients
//! while strong edges still dominate where neighbouring voxels are blended.
//!
//! They are computed on the CPU (rayon), a few slices at a time: on a software adapter
//! that is several times faster than a compute shader, and every adapter gets the same
//! texels.

use glam::DMat3;
use rayon::prelude::*;

use std::ops::Range;

use super::context::GpuContext;
use super::slab_upload::{Layers, Texels};
use crate::Volume;
use crate::volume::Slab;

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
    /// Volume texture coordinate → gradient texture coordinate, per axis.
    pub coordinate_scale: [f32; 3],
}

/// Gradients made a slab of voxel slices at a time, by the volume's own upload (in the
/// same pass over its voxels) or afterwards (`GpuVolume::gradients`).
pub(crate) struct GradientPass {
    texture: wgpu::Texture,
    encoder: Encoder,
    /// Texels along each axis.
    dims: [u32; 3],
    full_scale: f32,
    coordinate_scale: [f32; 3],
}

impl GradientPass {
    /// The empty gradient texture of `source`, the voxels as the GPU stores them (values
    /// × `value_scale`, from `stored_range[0]` to `stored_range[1]`).
    pub(crate) fn begin(
        context: &GpuContext,
        source: &Volume,
        value_scale: f64,
        stored_range: [f32; 2],
    ) -> Self {
        let volume_dims = source.dims.map(|n| n as u32);
        let cell = cell_for(volume_dims);
        let dims = gradient_dims(volume_dims, cell);
        let texture = context.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("gradients"),
            size: wgpu::Extent3d {
                width: dims[0],
                height: dims[1],
                depth_or_array_layers: dims[2],
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: GRADIENT_FORMAT,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        // A central difference is at most half the stored range per voxel along each axis.
        let range = f64::from(stored_range[1] - stored_range[0]).max(1e-6);
        let min_spacing_mm = source.spacing_mm.into_iter().fold(f64::INFINITY, f64::min);
        let full_scale = 3.0_f64.sqrt() * range / (2.0 * min_spacing_mm);
        let encoder = Encoder {
            cell: cell as usize,
            index_to_lps: (DMat3::from_mat4(source.voxel_to_lps).inverse().transpose()
                * value_scale)
                .as_mat3(),
            inverse_full_scale: (1.0 / full_scale) as f32,
        };
        Self {
            texture,
            encoder,
            dims,
            full_scale: full_scale as f32,
            coordinate_scale: coordinate_scale(volume_dims, cell),
        }
    }

    /// Voxels along each axis of a cell.
    pub(crate) fn cell(&self) -> usize {
        self.encoder.cell
    }

    /// Slices of cells: the texture's depth.
    pub(crate) fn depth(&self) -> usize {
        self.dims[2] as usize
    }

    /// The texels of the cells whose voxel slices are `slices` (which start at a cell's
    /// first slice), from `slab`: the voxels of `source`'s slices from `slab_first` on,
    /// [`slices_with_apron`] at least.
    pub(crate) fn layers(
        &self,
        source: &Volume,
        slab: &Slab<'_>,
        slab_first: usize,
        slices: &Range<usize>,
    ) -> Layers<'_> {
        let n = self.encoder.cell;
        let cells = slices.start / n..slices.end.div_ceil(n).min(self.dims[2] as usize);
        let (cells_i, cells_j) = (self.dims[0] as usize, self.dims[1] as usize);
        let row_len = cells_i * 4;
        let mut texels = vec![0_i8; row_len * cells_j * cells.len()];
        texels
            .par_chunks_mut(row_len)
            .enumerate()
            .for_each(|(m, row)| {
                let cell = [m % cells_j, cells.start + m / cells_j];
                match slab {
                    Slab::I16(v) => self.encoder.cell_row((v, slab_first), source, cell, row),
                    Slab::F32(v) => self.encoder.cell_row((v, slab_first), source, cell, row),
                }
            });
        Layers {
            texture: &self.texture,
            first: cells.start,
            texels: Texels::Snorm(texels),
        }
    }

    /// The gradients, every slab written.
    pub(crate) fn finish(self) -> GradientVolume {
        let view = self
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        GradientVolume {
            texture: self.texture,
            view,
            full_scale: self.full_scale,
            coordinate_scale: self.coordinate_scale,
        }
    }
}

/// The most voxels a volume may have and keep a gradient per voxel (64 MiB of texels);
/// a larger one gets one per cell of 2×2×2 voxels.
pub const PER_VOXEL_UP_TO: u64 = 16 << 20;

/// Voxels along each axis whose gradients one texel holds (their mean), for a volume of
/// `dims` voxels.
pub fn cell_for(dims: [u32; 3]) -> u32 {
    let voxels = dims.iter().map(|&n| u64::from(n)).product::<u64>();
    if voxels > PER_VOXEL_UP_TO { 2 } else { 1 }
}

/// Texels along each axis of the gradients of a volume of `dims` voxels, `cell` voxels
/// a texel along each axis.
pub fn gradient_dims(dims: [u32; 3], cell: u32) -> [u32; 3] {
    dims.map(|n| n.div_ceil(cell).max(1))
}

/// Volume texture coordinate → gradient texture coordinate, per axis: texel `c` holds the
/// cell of voxels `cell·c ..` to `cell·(c + 1) − 1`, whose centre is at `cell·(c + ½) / n`
/// across the volume and at `(c + ½) / m` across the `m` texels; where `n` is not a whole
/// number of cells the last cell is partly empty and the two differ by this factor.
fn coordinate_scale(dims: [u32; 3], cell: u32) -> [f32; 3] {
    let cells = gradient_dims(dims, cell);
    [0, 1, 2].map(|axis| dims[axis] as f32 / (cell * cells[axis]) as f32)
}

/// Turns central differences into encoded texels.
struct Encoder {
    /// Voxels along each axis of a cell.
    cell: usize,
    /// Voxel-index difference (value units) → LPS gradient (stored units per mm).
    index_to_lps: glam::Mat3,
    inverse_full_scale: f32,
}

impl Encoder {
    /// Encodes the mean gradients of the cells of row `cell = [j, k]` (in cells) into
    /// `out` (4 bytes a texel): the mean of each cell's voxels' gradients, the gradient of
    /// the volume smoothed over the cell. Cells past the volume's faces hold what voxels
    /// of theirs there are. `voxels` are whole slices from slice `first` on, covering the
    /// cells' slices and one each side where the volume has it.
    fn cell_row<T: Copy + Into<f32>>(
        &self,
        voxels: (&[T], usize),
        volume: &Volume,
        cell: [usize; 2],
        out: &mut [i8],
    ) {
        let [ni, nj, nk] = volume.dims;
        let n = self.cell;
        let mut sum = [vec![0.0_f32; ni], vec![0.0_f32; ni], vec![0.0_f32; ni]];
        let mut rows = 0.0_f32;
        for k in (cell[1] * n..(cell[1] + 1) * n).filter(|&k| k < nk) {
            for j in (cell[0] * n..(cell[0] + 1) * n).filter(|&j| j < nj) {
                self.add_row(voxels, volume, j, k, &mut sum);
                rows += 1.0;
            }
        }
        let [sx, sy, sz] = &sum;
        for (c, texel) in out.chunks_exact_mut(4).enumerate() {
            let along = c * n..((c + 1) * n).min(ni);
            let share = 1.0 / (rows.max(1.0) * along.len().max(1) as f32);
            let mean = along.fold([0.0_f32; 3], |m, i| {
                [m[0] + sx[i], m[1] + sy[i], m[2] + sz[i]]
            });
            let encoded = self.encode(mean.map(|g| g * share));
            texel[0] = snorm8(encoded[0]);
            texel[1] = snorm8(encoded[1]);
            texel[2] = snorm8(encoded[2]);
            texel[3] = 0;
        }
    }

    /// Adds the LPS gradients of voxel row `j` of slice `k` to `sum` (x, y, z apart).
    /// Differences at the volume's faces repeat the edge voxel, as the sampler does.
    fn add_row<T: Copy + Into<f32>>(
        &self,
        (voxels, first): (&[T], usize),
        volume: &Volume,
        j: usize,
        k: usize,
        sum: &mut [Vec<f32>; 3],
    ) {
        let [ni, nj, nk] = volume.dims;
        let row = |j: usize, k: usize| {
            let start = ((k - first) * nj + j) * ni;
            &voxels[start..start + ni]
        };
        let here = row(j, k);
        let (back, front) = (row(j.saturating_sub(1), k), row((j + 1).min(nj - 1), k));
        let (below, above) = (row(j, k.saturating_sub(1)), row(j, (k + 1).min(nk - 1)));
        let difference = |i: usize, lo: &[T], hi: &[T]| hi[i].into() - lo[i].into();
        let m = self.index_to_lps.to_cols_array();
        let [gx, gy, gz] = sum;
        for i in 0..ni {
            // Along the row: neighbours two apart inside, the edge voxel repeated at the ends.
            let along = here[(i + 1).min(ni - 1)].into() - here[i.saturating_sub(1)].into();
            let (dx, dy, dz) = (
                0.5 * along,
                0.5 * difference(i, back, front),
                0.5 * difference(i, below, above),
            );
            gx[i] += m[0] * dx + m[3] * dy + m[6] * dz;
            gy[i] += m[1] * dx + m[4] * dy + m[7] * dz;
            gz[i] += m[2] * dx + m[5] * dy + m[8] * dz;
        }
    }

    /// A gradient (stored units per mm) as encoded: its direction scaled by the square
    /// root of its share of the full scale.
    fn encode(&self, g: [f32; 3]) -> [f32; 3] {
        let magnitude = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt();
        // A zero gradient stays zero whatever the scale.
        let scale = (magnitude * self.inverse_full_scale).min(1.0).sqrt() / magnitude.max(1e-30);
        g.map(|c| c * scale)
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
    use crate::Voxels;

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
            cell: 2,
            index_to_lps: DMat3::from_mat4(affine).inverse().transpose().as_mat3(),
            inverse_full_scale: 1.0 / 20.0,
        };
        let Voxels::F32(voxels) = &volume.voxels else {
            unreachable!("built as f32")
        };
        // Cells of 2×2×2 voxels: three along i.
        let mut row = vec![0_i8; 3 * 4];
        encoder.cell_row((voxels, 0), &volume, [1, 0], &mut row);
        // Inside: direction +x, length sqrt(5 / 20) = 0.5.
        assert_eq!(&row[4..8], &[snorm8(0.5), 0, 0, 0]);
        // At the faces the difference spans one voxel, not two: half the gradient, and the
        // cell there holds the mean of that half and a whole one.
        assert_eq!(row[0], snorm8((3.75_f32 / 20.0).sqrt()));
        assert_eq!(row[8], row[0], "the far face alike");
        // A texel per voxel: the face holds the half gradient alone.
        let encoder = Encoder { cell: 1, ..encoder };
        let mut row = vec![0_i8; dims[0] * 4];
        encoder.cell_row((voxels, 0), &volume, [1, 1], &mut row);
        assert_eq!(&row[4..8], &[snorm8(0.5), 0, 0, 0]);
        assert_eq!(row[0], snorm8((2.5_f32 / 20.0).sqrt()));
    }

    #[test]
    fn a_cell_texel_sits_at_the_centre_of_its_voxels() {
        assert_eq!(gradient_dims([6, 4, 3], 2), [3, 2, 2]);
        assert_eq!(gradient_dims([1, 1, 1], 2), [1, 1, 1]);
        // Along k, 3 voxels in 2 cells: voxels 0 and 1 centre at 1/3 of the volume, which
        // is texel 0's centre (1/4) once scaled by 3/4.
        assert_eq!(coordinate_scale([6, 4, 3], 2), [1.0, 1.0, 0.75]);
        assert_eq!(coordinate_scale([6, 4, 3], 1), [1.0; 3]);
    }

    #[test]
    fn small_volumes_keep_a_gradient_per_voxel_and_large_ones_a_cell_of_eight() {
        assert_eq!(cell_for([208, 160, 120]), 1, "the phantom");
        assert_eq!(cell_for([256, 256, 256]), 1, "exactly the limit");
        assert_eq!(cell_for([256, 256, 257]), 2);
        assert_eq!(cell_for([512, 512, 295]), 2, "the CT of bench stream");
    }
}
