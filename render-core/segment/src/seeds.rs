//! Grow from seeds (as 3D Slicer's effect of that name is used): two or more segments
//! whose voxels are seeds share out a region around them, each voxel going to the
//! segment whose seeds reach it at the least cost.
//!
//! The region is the seeds' box widened by [`SEEDS_MARGIN_MM`] each side, within the grid.
//! A path's cost is the sum over its face steps (6-connected) of the values' difference,
//! `|v(a) − v(b)|`, plus [`LENGTH_COST_PER_MM`] times the step's length in millimetres:
//! paths that cross an edge of the values cost more, and on flat values the nearer seeds
//! win. Costs come from one Dijkstra search from every seed at once (a binary heap).
//! Where two segments reach a voxel at the same cost, the one whose path was settled first
//! takes it (the heap orders equal costs by the voxel's position in the region). Voxels
//! outside the region keep their segments; a voxel seeded by two segments is refused.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use hounsfield_volume::Volume;
use hounsfield_volume::volume::Slab;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// How far the region reaches beyond the seeds' box, each side (mm).
pub const SEEDS_MARGIN_MM: f64 = 10.0;
/// What a step costs per millimetre walked, beside the values' difference (value units a
/// millimetre: HU for a CT).
pub const LENGTH_COST_PER_MM: f64 = 1.0;
/// The most voxels one region may hold: its search keeps 14 bytes a voxel (value, cost,
/// label, whether settled) and its heap up to 16 bytes a voxel waiting, so a region of
/// this size holds up to about half a gigabyte for a few seconds.
pub const MOST_SEEDS_REGION_VOXELS: usize = 16_000_000;
/// The most segments one search shares a region between.
pub const MOST_SEEDED_SEGMENTS: usize = 32;

/// The region grow from seeds shares out: its first voxel and its voxel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedsRegion {
    /// Its first voxel `(i, j, k)`.
    pub from: [usize; 3],
    /// Its voxel counts along i, j, k.
    pub dims: [usize; 3],
}

/// The region the seeds of `segments` share: their box widened by [`SEEDS_MARGIN_MM`]
/// each side within the grid; `None` when no segment holds a voxel.
pub fn seeds_region(grid: Grid, segments: &[Mask]) -> Option<SeedsRegion> {
    let (low, high) = segments.iter().filter_map(Mask::bounds).reduce(|a, b| {
        (
            [0, 1, 2].map(|axis| a.0[axis].min(b.0[axis])),
            [0, 1, 2].map(|axis| a.1[axis].max(b.1[axis])),
        )
    })?;
    let reach = grid
        .spacing_mm
        .map(|s| (SEEDS_MARGIN_MM / s).round() as usize);
    let from = [0, 1, 2].map(|a| low[a].saturating_sub(reach[a]));
    let to = [0, 1, 2].map(|a| (high[a] + reach[a]).min(grid.dims[a] - 1));
    Some(SeedsRegion {
        from,
        dims: [0, 1, 2].map(|a| to[a] - from[a] + 1),
    })
}

/// Whether grow from seeds may share a region between `count` segments: 2 to
/// [`MOST_SEEDED_SEGMENTS`] (callers check before they gather the segments).
pub fn check_segment_count(count: usize) -> Result<(), SegmentError> {
    if (2..=MOST_SEEDED_SEGMENTS).contains(&count) {
        Ok(())
    } else {
        Err(SegmentError::Seeds(format!(
            "{count} segments given: grow from seeds shares a region between 2 to \
             {MOST_SEEDED_SEGMENTS}"
        )))
    }
}

/// One voxel waiting in the heap: its cost so far and its place in the region.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Waiting {
    cost: f64,
    at: u32,
}

impl Eq for Waiting {}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        // The least cost first (the heap is a max-heap), then the lower place.
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.at.cmp(&self.at))
    }
}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The segments after grow from seeds: each of `segments` (at least two holding a voxel,
/// at most [`MOST_SEEDED_SEGMENTS`]) with the voxels of the region it reaches at the
/// least cost on `volume`'s values, and its voxels outside the region as they were.
pub fn grow_from_seeds(volume: &Volume, segments: &[Mask]) -> Result<Vec<Mask>, SegmentError> {
    let grid = Grid::of(volume);
    check_segment_count(segments.len())?;
    for mask in segments {
        grid.holding(mask)?;
    }
    let seeded = segments.iter().filter(|m| !m.is_empty()).count();
    if seeded < 2 {
        return Err(SegmentError::Seeds(format!(
            "{seeded} of the segments given holds a voxel: grow from seeds needs two or \
             more segments with seeds"
        )));
    }
    let mut seen = Mask::empty(grid);
    for (b, second) in segments.iter().enumerate() {
        let mut both = second.clone();
        both.intersect(&seen);
        if !both.is_empty() {
            let first = segments[..b]
                .iter()
                .position(|a| both.indices().any(|n| a.contains(n)))
                .unwrap_or(0);
            return Err(SegmentError::SeedsOverlap {
                first,
                second: b,
                voxels: both.count(),
            });
        }
        seen.add(second);
    }
    let Some(region) = seeds_region(grid, segments) else {
        return Ok(segments.to_vec());
    };
    let voxels: usize = region.dims.iter().product();
    if voxels > MOST_SEEDS_REGION_VOXELS {
        return Err(SegmentError::Work(format!(
            "grow from seeds: the seeds' region holds {voxels} voxels, over \
             {MOST_SEEDS_REGION_VOXELS}: place the seeds closer together"
        )));
    }
    let values = region_values(volume, region);
    let labels = search(grid, region, segments, &values);
    // Each segment: its voxels outside the region, and the region's voxels it won.
    let [ni, nj, _] = region.dims;
    let grid_index = |at: usize| {
        let [fi, fj, fk] = region.from;
        let (i, j, k) = (at % ni, (at / ni) % nj, at / (ni * nj));
        (fi + i) + grid.dims[0] * ((fj + j) + grid.dims[1] * (fk + k))
    };
    let mut grown: Vec<Mask> = segments.to_vec();
    for (at, &label) in labels.iter().enumerate() {
        if let Some(mask) = grown.get_mut(usize::from(label)) {
            mask.insert(grid_index(at));
        }
    }
    Ok(grown)
}

/// The label each voxel of the region takes (the index of its segment): one Dijkstra
/// search from every seed at once.
fn search(grid: Grid, region: SeedsRegion, segments: &[Mask], values: &[f32]) -> Vec<u8> {
    const NONE: u8 = u8::MAX;
    let [ni, nj, nk] = region.dims;
    let slice = ni * nj;
    let mut cost = vec![f64::INFINITY; values.len()];
    let mut labels = vec![NONE; values.len()];
    let mut done = vec![false; values.len()];
    let mut heap = BinaryHeap::new();
    let [fi, fj, fk] = region.from;
    for (label, mask) in segments.iter().enumerate() {
        // Every seed lies in the region (its box holds every segment's).
        for index in mask.indices() {
            let [i, j, k] = grid.ijk(index);
            let at = (i - fi) + ni * ((j - fj) + nj * (k - fk));
            cost[at] = 0.0;
            labels[at] = label as u8;
            heap.push(Waiting {
                cost: 0.0,
                at: at as u32,
            });
        }
    }
    let steps_mm = grid.spacing_mm.map(|s| LENGTH_COST_PER_MM * s);
    while let Some(Waiting { cost: reached, at }) = heap.pop() {
        let at = at as usize;
        if done[at] || reached > cost[at] {
            continue;
        }
        done[at] = true;
        let (i, j, k) = (at % ni, (at / ni) % nj, at / slice);
        let neighbours = [
            (i > 0).then(|| (at - 1, 0)),
            (i + 1 < ni).then(|| (at + 1, 0)),
            (j > 0).then(|| (at - ni, 1)),
            (j + 1 < nj).then(|| (at + ni, 1)),
            (k > 0).then(|| (at - slice, 2)),
            (k + 1 < nk).then(|| (at + slice, 2)),
        ];
        for (next, axis) in neighbours.into_iter().flatten() {
            if done[next] {
                continue;
            }
            let step = (f64::from(values[at]) - f64::from(values[next])).abs() + steps_mm[axis];
            let through = reached + step;
            if through < cost[next] {
                cost[next] = through;
                labels[next] = labels[at];
                heap.push(Waiting {
                    cost: through,
                    at: next as u32,
                });
            }
        }
    }
    labels
}

/// The values of the region's voxels, in its own order (`i` fastest), read a slice at a
/// time (every value of a series is exact as an `f32`).
fn region_values(volume: &Volume, region: SeedsRegion) -> Vec<f32> {
    let [ni, nj, nk] = region.dims;
    let [fi, fj, fk] = region.from;
    let [gi, gj, _] = volume.dims;
    let slice_len = gi * gj;
    let mut values = Vec::with_capacity(ni * nj * nk);
    for k in fk..fk + nk {
        let slab = volume.voxels.slab(k..k + 1, slice_len);
        for j in fj..fj + nj {
            let row = j * gi + fi..j * gi + fi + ni;
            match &slab {
                Slab::I16(slice) => values.extend(slice[row].iter().map(|&v| f32::from(v))),
                Slab::F32(slice) => values.extend_from_slice(&slice[row]),
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{volume_of, with_spacing};

    /// Each voxel's least cost from each segment's seeds, by relaxing every step until
    /// nothing changes (Bellman–Ford): the search's reference.
    fn least_costs(grid: Grid, values: &[f64], seeds: &[usize]) -> Vec<f64> {
        let mut cost = vec![f64::INFINITY; grid.len()];
        for &s in seeds {
            cost[s] = 0.0;
        }
        loop {
            let mut changed = false;
            for at in 0..grid.len() {
                for next in grid.face_neighbours(at) {
                    let [a, b] = [grid.ijk(at), grid.ijk(next)];
                    let axis = (0..3).find(|&x| a[x] != b[x]).unwrap_or(0);
                    let step = (values[at] - values[next]).abs() + grid.spacing_mm[axis];
                    if cost[at] + step < cost[next] {
                        cost[next] = cost[at] + step;
                        changed = true;
                    }
                }
            }
            if !changed {
                return cost;
            }
        }
    }

    #[test]
    fn each_voxel_goes_to_the_seeds_that_reach_it_cheapest() {
        // A bright bar across a dark 30 × 9 × 3 volume of 1 × 1 × 2 mm voxels, with
        // values that make every cost different; a seed in the dark and one in the bar.
        let volume = with_spacing(
            volume_of([30, 9, 3], |[i, j, k]| {
                let base = if (12..18).contains(&i) { 400.0 } else { 0.0 };
                base + ((i * 7 + j * 13 + k * 29) % 17) as f64 * 0.37
            }),
            [1.0, 1.0, 2.0],
        );
        let grid = Grid::of(&volume);
        let index = |i, j, k| grid.index([i, j, k]).expect("inside");
        let dark = Mask::from_indices(grid, [index(3, 4, 1)]);
        let bright = Mask::from_indices(grid, [index(15, 4, 1), index(15, 5, 1)]);
        let grown = grow_from_seeds(&volume, &[dark.clone(), bright.clone()]).expect("grown");
        // The region (10 mm beyond the seeds) covers the whole volume here.
        assert_eq!(
            seeds_region(grid, &[dark.clone(), bright.clone()]),
            Some(SeedsRegion {
                from: [0, 0, 0],
                dims: [26, 9, 3]
            })
        );
        let values: Vec<f64> = (0..grid.len())
            .map(|n| volume.voxels.get(n).unwrap_or(f64::NAN))
            .collect();
        let from_dark = least_costs(grid, &values, &[index(3, 4, 1)]);
        let from_bright = least_costs(grid, &values, &[index(15, 4, 1), index(15, 5, 1)]);
        for at in 0..grid.len() {
            if grid.ijk(at)[0] >= 26 {
                assert!(!grown[0].contains(at) && !grown[1].contains(at));
                continue;
            }
            let bright_wins = from_bright[at] < from_dark[at];
            assert_ne!(from_bright[at], from_dark[at]);
            assert_eq!(grown[1].contains(at), bright_wins, "{:?}", grid.ijk(at));
            assert_eq!(grown[0].contains(at), !bright_wins, "{:?}", grid.ijk(at));
        }
        // The bar goes to the bright seeds, the dark beside it to the dark one.
        assert!(grown[1].contains(index(12, 0, 0)) && grown[1].contains(index(17, 8, 2)));
        assert!(grown[0].contains(index(11, 4, 1)));
    }

    #[test]
    fn seeds_that_overlap_or_too_few_are_refused() {
        let volume = volume_of([6, 6, 6], |_| 0.0);
        let grid = Grid::of(&volume);
        let a = Mask::from_indices(grid, [1, 2]);
        let b = Mask::from_indices(grid, [2, 30]);
        assert_eq!(
            grow_from_seeds(&volume, &[a.clone(), b]),
            Err(SegmentError::SeedsOverlap {
                first: 0,
                second: 1,
                voxels: 1
            })
        );
        let empty = Mask::empty(grid);
        assert!(matches!(
            grow_from_seeds(&volume, &[a.clone(), empty]),
            Err(SegmentError::Seeds(_))
        ));
        let many = vec![Mask::empty(grid); MOST_SEEDED_SEGMENTS + 1];
        assert!(matches!(
            grow_from_seeds(&volume, &many),
            Err(SegmentError::Seeds(_))
        ));
    }
}
