//! The brick grid for empty-space skipping: the volume cut into cubes of
//! [`BRICK_SIZE`] voxels, each with the smallest and largest value it (and a one-voxel
//! apron, which trilinear interpolation reaches) holds. Against a transfer function this
//! tells which bricks can contribute nothing, so rays jump over them.

use rayon::prelude::*;

use crate::transfer::{RenderMode, TransferTable};
use crate::{Volume, Window};

/// Edge of a brick, in voxels.
pub const BRICK_SIZE: usize = 16;

/// Smallest and largest value per brick.
#[derive(Debug, Clone)]
pub struct BrickGrid {
    /// Bricks along i, j and k.
    pub counts: [usize; 3],
    /// Smallest value in each brick and its apron, i fastest.
    pub min: Vec<f32>,
    /// Largest value in each brick and its apron, i fastest.
    pub max: Vec<f32>,
}

impl BrickGrid {
    /// Measures every brick of `volume` (in parallel).
    pub fn of(volume: &Volume) -> Self {
        let dims = volume.dims;
        let counts = dims.map(|n| n.div_ceil(BRICK_SIZE));
        let per_layer = counts[0] * counts[1];
        let layers: Vec<(Vec<f32>, Vec<f32>)> = (0..counts[2])
            .into_par_iter()
            .map(|bk| {
                let mut min = vec![f32::INFINITY; per_layer];
                let mut max = vec![f32::NEG_INFINITY; per_layer];
                let (k0, k1) = apron(bk, dims[2]);
                for k in k0..k1 {
                    for j in 0..dims[1] {
                        // A voxel row feeds every brick whose apron covers it.
                        let bj_lo = j.saturating_sub(1) / BRICK_SIZE;
                        let bj_hi = ((j + 1) / BRICK_SIZE).min(counts[1] - 1);
                        let row = (k * dims[1] + j) * dims[0];
                        for bi in 0..counts[0] {
                            let (i0, i1) = apron(bi, dims[0]);
                            let (lo, hi) = row_range(volume, row + i0, row + i1);
                            for bj in bj_lo..=bj_hi {
                                let n = bj * counts[0] + bi;
                                min[n] = min[n].min(lo);
                                max[n] = max[n].max(hi);
                            }
                        }
                    }
                }
                (min, max)
            })
            .collect();
        let (mut min, mut max) = (Vec::new(), Vec::new());
        for (lo, hi) in layers {
            min.extend(lo);
            max.extend(hi);
        }
        Self { counts, min, max }
    }

    /// One byte per brick, 1 where the brick may contribute to the image in `mode`
    /// (composite: some value in it is not transparent; MIP: it reaches into the window;
    /// MinIP: it dips into the window; average: always).
    pub fn visibility(&self, mode: RenderMode, table: &TransferTable, window: Window) -> Vec<u8> {
        let low = (window.center - window.width * 0.5) as f32;
        let high = (window.center + window.width * 0.5) as f32;
        self.min
            .par_iter()
            .zip(self.max.par_iter())
            .map(|(&lo, &hi)| {
                let visible = match mode {
                    RenderMode::Composite => table.any_opaque(lo, hi),
                    RenderMode::Mip => hi >= low,
                    RenderMode::Minip => lo <= high,
                    RenderMode::Average => true,
                };
                u8::from(visible)
            })
            .collect()
    }
}

/// The voxel range `[first, end)` a brick and its one-voxel apron cover along one axis.
fn apron(brick: usize, len: usize) -> (usize, usize) {
    let first = (brick * BRICK_SIZE).saturating_sub(1);
    let end = ((brick + 1) * BRICK_SIZE + 1).min(len);
    (first, end)
}

fn row_range(volume: &Volume, start: usize, end: usize) -> (f32, f32) {
    let fold = |(lo, hi): (f32, f32), v: f32| (lo.min(v), hi.max(v));
    match &volume.voxels {
        crate::Voxels::I16(v) => v[start..end]
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |acc, &x| {
                fold(acc, f32::from(x))
            }),
        crate::Voxels::F32(v) => v[start..end]
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |acc, &x| fold(acc, x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_voxel_lies_within_its_bricks_range_including_the_apron() {
        let volume = crate::phantom::ct_phantom();
        let grid = BrickGrid::of(&volume);
        let [ni, nj, nk] = volume.dims;
        for k in (0..nk).step_by(7) {
            for j in (0..nj).step_by(5) {
                for i in 0..ni {
                    let value = volume.value([i, j, k]).expect("inside") as f32;
                    // The voxel's own brick, and a neighbour whose apron reaches it.
                    let own = [i / BRICK_SIZE, j / BRICK_SIZE, k / BRICK_SIZE];
                    let mut bricks = vec![own];
                    if i % BRICK_SIZE == 0 && i > 0 {
                        bricks.push([own[0] - 1, own[1], own[2]]);
                    }
                    if (i + 1) % BRICK_SIZE == 0 && own[0] + 1 < grid.counts[0] {
                        bricks.push([own[0] + 1, own[1], own[2]]);
                    }
                    for [bi, bj, bk] in bricks {
                        let n = (bk * grid.counts[1] + bj) * grid.counts[0] + bi;
                        assert!(
                            grid.min[n] <= value && value <= grid.max[n],
                            "voxel {i},{j},{k} = {value} outside brick {bi},{bj},{bk}: {}..{}",
                            grid.min[n],
                            grid.max[n]
                        );
                    }
                }
            }
        }
    }
}
