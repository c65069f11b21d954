//! The brick grid for empty-space skipping: the volume cut into cubes of
//! [`BRICK_SIZE`] voxels, each with the smallest and largest value it (and a one-voxel
//! apron, which trilinear interpolation reaches) holds. Against a transfer function this
//! tells which bricks can contribute nothing, so rays jump over them.

use std::ops::Range;

use rayon::prelude::*;

use crate::transfer::{RenderMode, TransferTable};
use crate::volume::Slab;
use crate::{Volume, Window};

/// Edge of a brick, in voxels.
pub const BRICK_SIZE: usize = 4;

/// Slices [`BrickGrid::of`] measures at a time (whole layers of bricks): what a packed
/// volume decodes at once.
const SLICES_A_PASS: usize = 16 * BRICK_SIZE;

/// Slices `slices` and the one beyond each end that the aprons of their bricks reach,
/// within a volume of `depth` slices.
pub fn slices_with_apron(slices: &Range<usize>, depth: usize) -> Range<usize> {
    slices.start.saturating_sub(1)..(slices.end + 1).min(depth)
}

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
    /// Measures every brick of `volume`, a few layers of bricks at a time (each in
    /// parallel).
    pub fn of(volume: &Volume) -> Self {
        let mut grid = Self::unmeasured(volume.dims);
        for first in (0..volume.dims[2]).step_by(SLICES_A_PASS) {
            let slices = first..(first + SLICES_A_PASS).min(volume.dims[2]);
            let with_apron = slices_with_apron(&slices, volume.dims[2]);
            let slab = volume.slab(with_apron.clone());
            grid.measure_slices(volume.dims, &slab, with_apron.start, &slices);
        }
        grid
    }

    /// The grid of a volume of `dims` voxels with no brick measured yet: each holds
    /// nothing (smallest +∞, largest −∞) until [`Self::measure_slices`] reaches it.
    pub fn unmeasured(dims: [usize; 3]) -> Self {
        let counts = dims.map(|n| n.div_ceil(BRICK_SIZE));
        let bricks = counts.iter().product::<usize>();
        Self {
            counts,
            min: vec![f32::INFINITY; bricks],
            max: vec![f32::NEG_INFINITY; bricks],
        }
    }

    /// Measures the layers of bricks that start in `slices` (which start at a layer's
    /// first slice), of a volume of `dims` voxels, from `slab`: the voxels of the slices
    /// from `slab_first` on, [`slices_with_apron`] at least. Layers in parallel.
    pub fn measure_slices(
        &mut self,
        dims: [usize; 3],
        slab: &Slab<'_>,
        slab_first: usize,
        slices: &Range<usize>,
    ) {
        let counts = self.counts;
        let per_layer = (counts[0] * counts[1]).max(1);
        let layers = slices.start / BRICK_SIZE..slices.end.div_ceil(BRICK_SIZE).min(counts[2]);
        let span = layers.start * per_layer..layers.end * per_layer;
        // Each layer of bricks fills its own part of the two grids, in place.
        self.min[span.clone()]
            .par_chunks_mut(per_layer)
            .zip(self.max[span].par_chunks_mut(per_layer))
            .zip(layers)
            .for_each(|((min, max), bk)| {
                let (k0, k1) = apron(bk, dims[2]);
                for k in k0..k1 {
                    for j in 0..dims[1] {
                        // A voxel row feeds every brick whose apron covers it.
                        let bj_lo = j.saturating_sub(1) / BRICK_SIZE;
                        let bj_hi = ((j + 1) / BRICK_SIZE).min(counts[1] - 1);
                        let row = ((k - slab_first) * dims[1] + j) * dims[0];
                        for bi in 0..counts[0] {
                            let (i0, i1) = apron(bi, dims[0]);
                            let (lo, hi) = row_range(slab, row + i0, row + i1);
                            for bj in bj_lo..=bj_hi {
                                let n = bj * counts[0] + bi;
                                min[n] = min[n].min(lo);
                                max[n] = max[n].max(hi);
                            }
                        }
                    }
                }
            });
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

/// The Chebyshev distance, in bricks, from each brick to the nearest visible one (0 for a
/// visible brick, at most 255): a ray in a brick at distance `d` can leap to the far side of
/// the cube of `2d − 1` bricks around it without passing anything visible.
pub fn empty_space_distances(visible: &[u8], counts: [usize; 3]) -> Vec<u8> {
    let [ni, nj, nk] = counts;
    let layer = ni * nj;
    let mut distance: Vec<u8> = visible
        .iter()
        .map(|&v| if v != 0 { 0 } else { u8::MAX })
        .collect();
    if ni == 0 || nj == 0 || nk == 0 {
        return distance;
    }
    // The L∞ distance is separable: one pass per axis. Along i it is the 1D distance (two
    // sweeps); along j and k each line of cells takes the smallest max(|offset|, distance)
    // over the lines `offset` away.
    distance.par_chunks_mut(ni).for_each(|line| {
        for n in 1..line.len() {
            line[n] = line[n].min(line[n - 1].saturating_add(1));
        }
        for n in (0..line.len() - 1).rev() {
            line[n] = line[n].min(line[n + 1].saturating_add(1));
        }
    });
    distance.par_chunks_mut(layer).for_each(|slab| {
        let rows: Vec<&[u8]> = slab.chunks(ni).collect();
        let merged = merge_lines(&rows);
        slab.copy_from_slice(&merged);
    });
    let layers: Vec<&[u8]> = distance.chunks(layer).collect();
    merge_lines(&layers)
}

/// For each line n of `lines` (equal lengths), the cell-wise smallest
/// max(|offset|, line[n + offset][cell]) over all offsets: one separable pass of
/// [`empty_space_distances`].
fn merge_lines(lines: &[&[u8]]) -> Vec<u8> {
    let merged: Vec<Vec<u8>> = (0..lines.len())
        .into_par_iter()
        .map(|n| {
            let mut best = lines[n].to_vec();
            let mut offset = 1usize;
            loop {
                let reach = u8::try_from(offset).unwrap_or(u8::MAX);
                // Offsets at or beyond every cell's best can improve nothing.
                if best.iter().all(|&d| d <= reach) {
                    break;
                }
                let neighbours = [n.checked_sub(offset), Some(n + offset)];
                let mut any = false;
                for m in neighbours.into_iter().flatten() {
                    if let Some(line) = lines.get(m) {
                        any = true;
                        for (b, &d) in best.iter_mut().zip(line.iter()) {
                            *b = (*b).min(d.max(reach));
                        }
                    }
                }
                if !any {
                    break;
                }
                offset += 1;
            }
            best
        })
        .collect();
    merged.concat()
}

/// The voxel range `[first, end)` a brick and its one-voxel apron cover along one axis.
fn apron(brick: usize, len: usize) -> (usize, usize) {
    let first = (brick * BRICK_SIZE).saturating_sub(1);
    let end = ((brick + 1) * BRICK_SIZE + 1).min(len);
    (first, end)
}

/// The smallest and largest of voxels `start..end` of a slab.
fn row_range(slab: &Slab<'_>, start: usize, end: usize) -> (f32, f32) {
    let fold = |(lo, hi): (f32, f32), v: f32| (lo.min(v), hi.max(v));
    match slab {
        Slab::I16(v) => v[start..end]
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |acc, &x| {
                fold(acc, f32::from(x))
            }),
        Slab::F32(v) => v[start..end]
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |acc, &x| fold(acc, x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_space_distances_are_chebyshev_distances_to_the_nearest_visible_brick() {
        let counts = [7, 5, 6];
        let index = |i: usize, j: usize, k: usize| (k * counts[1] + j) * counts[0] + i;
        let mut visible = vec![0u8; 7 * 5 * 6];
        let seeds = [[1, 1, 1], [6, 4, 5], [3, 0, 4]];
        for [i, j, k] in seeds {
            visible[index(i, j, k)] = 1;
        }
        let distance = empty_space_distances(&visible, counts);
        for k in 0..counts[2] {
            for j in 0..counts[1] {
                for i in 0..counts[0] {
                    let expected = seeds
                        .iter()
                        .map(|s| s[0].abs_diff(i).max(s[1].abs_diff(j)).max(s[2].abs_diff(k)))
                        .min()
                        .unwrap_or(usize::MAX);
                    assert_eq!(
                        usize::from(distance[index(i, j, k)]),
                        expected,
                        "brick {i},{j},{k}"
                    );
                }
            }
        }
        let nothing = empty_space_distances(&vec![0u8; 7 * 5 * 6], counts);
        assert!(nothing.iter().all(|&d| d == u8::MAX));
    }

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
