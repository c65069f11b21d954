//! Smaller copies of a volume: blocks of voxels averaged, with the geometry kept, for a
//! device whose 3D textures are too small and for quick previews of large series.

use std::borrow::Cow;
use std::ops::Range;

use glam::{DMat4, DVec3};
use rayon::prelude::*;

use crate::volume::{Slab, Volume, VolumeError, Voxels};

impl Volume {
    /// A copy with blocks of `factor` voxels (along i, j, k) averaged into one; blocks at
    /// the far edges average the voxels they have. Each new voxel sits at the centre of
    /// its block, so positions in the patient are kept. Integer voxels stay integers
    /// (rounded).
    pub fn block_averaged(&self, factor: [usize; 3]) -> Result<Volume, VolumeError> {
        let factor = factor.map(|f| f.max(1));
        let dims = [0, 1, 2].map(|a| self.dims[a].div_ceil(factor[a]));
        let whole = |mean: f64| mean.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
        let voxels = match &self.voxels {
            Voxels::I16(_) | Voxels::Packed(_) => Voxels::I16(average_blocks(
                |slices| match self.slab(slices) {
                    Slab::I16(values) => values,
                    // Whole values are never read as floats.
                    Slab::F32(_) => Cow::Borrowed(&[]),
                },
                self.dims,
                factor,
                dims,
                whole,
            )),
            Voxels::F32(values) => {
                let slice_len = self.dims[0] * self.dims[1];
                Voxels::F32(average_blocks(
                    |slices| {
                        Cow::Borrowed(&values[slices.start * slice_len..slices.end * slice_len])
                    },
                    self.dims,
                    factor,
                    dims,
                    |mean| mean as f32,
                ))
            }
        };
        let scale = DMat4::from_scale(DVec3::from_array(factor.map(|f| f as f64)));
        let shift =
            DMat4::from_translation(DVec3::from_array(factor.map(|f| (f as f64 - 1.0) * 0.5)));
        Volume::new(
            voxels,
            dims,
            self.voxel_to_lps * shift * scale,
            self.modality.clone(),
            self.default_window,
        )
    }

    /// The smallest whole factors that bring every side to at most `max_side` voxels.
    pub fn factors_to_fit(&self, max_side: usize) -> [usize; 3] {
        self.dims.map(|n| n.div_ceil(max_side.max(1)).max(1))
    }
}

/// Averages `factor` blocks of voxels (dims `from`; `slab` gives those of a run of
/// slices) into a grid of dims `to`, slice by slice in parallel.
fn average_blocks<'a, T, U>(
    slab: impl Fn(Range<usize>) -> Cow<'a, [T]> + Sync,
    from: [usize; 3],
    factor: [usize; 3],
    to: [usize; 3],
    finish: impl Fn(f64) -> U + Sync,
) -> Vec<U>
where
    T: Copy + Into<f64> + Sync + 'a,
    [T]: ToOwned<Owned = Vec<T>>,
    U: Copy + Default + Send,
{
    let mut out = vec![U::default(); to[0] * to[1] * to[2]];
    out.par_chunks_mut(to[0] * to[1])
        .enumerate()
        .for_each(|(k, slice)| {
            let ks = k * factor[2]..((k + 1) * factor[2]).min(from[2]);
            let values = slab(ks.clone());
            for j in 0..to[1] {
                let js = j * factor[1]..((j + 1) * factor[1]).min(from[1]);
                for i in 0..to[0] {
                    let is = i * factor[0]..((i + 1) * factor[0]).min(from[0]);
                    let mut sum = 0.0_f64;
                    let mut count = 0_u32;
                    for kk in ks.clone() {
                        for jj in js.clone() {
                            let row = ((kk - ks.start) * from[1] + jj) * from[0];
                            for value in &values[row + is.start..row + is.end] {
                                sum += (*value).into();
                                count += 1;
                            }
                        }
                    }
                    slice[j * to[0] + i] = finish(sum / f64::from(count.max(1)));
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Modality;

    fn volume(dims: [usize; 3], value: impl Fn(usize, usize, usize) -> i16) -> Volume {
        let mut voxels = Vec::with_capacity(dims[0] * dims[1] * dims[2]);
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    voxels.push(value(i, j, k));
                }
            }
        }
        let affine = DMat4::from_scale(DVec3::new(0.7, 0.7, 1.0));
        Volume::new(Voxels::I16(voxels), dims, affine, Modality::CT, None).expect("a volume")
    }

    #[test]
    fn blocks_are_averaged_and_the_patient_geometry_is_kept() {
        let full = volume([8, 6, 3], |i, j, k| (i % 2 * 100 + j + 10 * k) as i16);
        let half = full.block_averaged([2, 1, 1]).expect("a volume");
        assert_eq!(half.dims, [4, 6, 3]);
        assert_eq!(half.value([0, 0, 0]), Some(50.0));
        assert_eq!(half.value([3, 5, 2]), Some(75.0));
        for (got, want) in half.spacing_mm.iter().zip([1.4, 0.7, 1.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", half.spacing_mm);
        }
        // New voxel 0 sits at the centre of the first block.
        let centre = full.voxel_to_lps_point(DVec3::new(0.5, 0.0, 0.0));
        let at = half.voxel_to_lps_point(DVec3::ZERO);
        assert!((centre - at).length() < 1e-9, "{centre} vs {at}");
    }

    #[test]
    fn blocks_at_the_far_edge_average_what_they_have() {
        // 8 columns in blocks of 3: the last block holds columns 6 and 7.
        let full = volume([8, 2, 2], |i, _, _| i as i16);
        let third = full.block_averaged([3, 1, 1]).expect("a volume");
        assert_eq!(third.dims, [3, 2, 2]);
        assert_eq!(third.value([0, 1, 1]), Some(1.0));
        assert_eq!(third.value([2, 0, 0]), Some(7.0), "(6 + 7) / 2, rounded");
        assert_eq!(full.factors_to_fit(3), [3, 1, 1]);
    }
}
