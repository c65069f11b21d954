//! Grow from a click: the voxels joined to a seed through face neighbours (6-connected)
//! whose values all lie in a range, as 3D Slicer's and ITK's connected threshold make it.

use hounsfield_volume::Volume;

use crate::SegmentError;
use crate::mask::{Grid, Mask};
use crate::values::{Admits, ValueInterval};

/// The connected region of `seed` (a voxel of `volume`) within `interval`.
pub fn grow_from_seed(
    volume: &Volume,
    seed: [usize; 3],
    interval: ValueInterval,
) -> Result<Mask, SegmentError> {
    let grid = Grid::of(volume);
    let start = grid
        .index(seed)
        .ok_or(SegmentError::SeedOutside(seed.map(|n| n as f64)))?;
    let admits = Admits::of(volume, interval);
    if !admits.admits(start) {
        let value = volume.voxels.get(start).unwrap_or(f64::NAN);
        return Err(SegmentError::SeedOutsideRange {
            value,
            low: interval.low,
            high: interval.high,
        });
    }
    let mut region = Mask::empty(grid);
    region.insert(start);
    // Each voxel is pushed once (it joins the region as it is pushed), so the stack never
    // holds more than the grid's voxels.
    let mut stack = vec![start];
    while let Some(index) = stack.pop() {
        for neighbour in grid.face_neighbours(index) {
            if !region.contains(neighbour) && admits.admits(neighbour) {
                region.insert(neighbour);
                stack.push(neighbour);
            }
        }
    }
    Ok(region)
}

/// The face-connected parts of `mask`, each as its flat indices, handed to `visit` one at
/// a time (largest or smallest first is not promised).
pub fn for_each_island(mask: &Mask, grid: Grid, mut visit: impl FnMut(&[usize])) {
    let mut seen = Mask::empty(grid);
    let mut island = Vec::new();
    for start in mask.indices() {
        if seen.contains(start) {
            continue;
        }
        island.clear();
        seen.insert(start);
        island.push(start);
        // The island's own list is the work list: voxels from `next` on are still to be
        // looked around.
        let mut next = 0;
        while let Some(&index) = island.get(next) {
            next += 1;
            for neighbour in grid.face_neighbours(index) {
                if mask.contains(neighbour) && !seen.contains(neighbour) {
                    seen.insert(neighbour);
                    island.push(neighbour);
                }
            }
        }
        visit(&island);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::volume_of;

    #[test]
    fn grows_through_faces_but_not_corners() {
        // Two bright voxels touching at an edge, and one face neighbour of the first.
        let volume = volume_of([3, 3, 1], |[i, j, _]| match (i, j) {
            (0, 0) | (1, 1) | (1, 0) => 100.0,
            _ => 0.0,
        });
        let interval = ValueInterval::new(50.0, 150.0).expect("a range");
        let region = grow_from_seed(&volume, [0, 0, 0], interval).expect("grown");
        assert_eq!(region.indices().collect::<Vec<_>>(), vec![0, 1, 4]);
        let corner_only = volume_of([2, 2, 1], |[i, j, _]| if i == j { 100.0 } else { 0.0 });
        let region = grow_from_seed(&corner_only, [0, 0, 0], interval).expect("grown");
        assert_eq!(region.count(), 1);
    }

    #[test]
    fn a_seed_outside_the_range_or_the_volume_is_refused() {
        let volume = volume_of([2, 2, 2], |_| 10.0);
        let interval = ValueInterval::new(50.0, 150.0).expect("a range");
        assert!(matches!(
            grow_from_seed(&volume, [0, 0, 0], interval),
            Err(SegmentError::SeedOutsideRange { .. })
        ));
        assert!(matches!(
            grow_from_seed(&volume, [2, 0, 0], interval),
            Err(SegmentError::SeedOutside(_))
        ));
    }

    #[test]
    fn a_packed_volume_grows_as_the_plain_one() {
        use glam::DMat4;
        use hounsfield_volume::{Modality, Voxels};
        let dims = [9, 8, 7];
        let voxels = (0..9 * 8 * 7)
            .map(|n: i32| ((n * 37) % 11) as i16)
            .collect();
        let plain = Volume::new(
            Voxels::I16(voxels),
            dims,
            DMat4::IDENTITY,
            Modality::CT,
            None,
        )
        .expect("a volume");
        let packed = plain.clone().packed();
        assert!(matches!(
            packed.voxels,
            hounsfield_volume::Voxels::Packed(_)
        ));
        let interval = ValueInterval::new(2.0, 9.0).expect("a range");
        let seed = (0..plain.voxels.len())
            .find(|&n| plain.voxels.get(n).is_some_and(|v| interval.holds(v)))
            .map(|n| Grid::of(&plain).ijk(n))
            .expect("a voxel in range");
        let a = grow_from_seed(&plain, seed, interval).expect("grown");
        let b = grow_from_seed(&packed, seed, interval).expect("grown");
        assert!(a.count() > 1);
        assert_eq!(a, b);
    }

    #[test]
    fn islands_are_found_once_each() {
        let grid = Grid {
            dims: [5, 1, 1],
            spacing_mm: [1.0; 3],
        };
        let mask = Mask::from_indices(grid, [0, 1, 3]);
        let mut sizes = Vec::new();
        for_each_island(&mask, grid, |island| sizes.push(island.len()));
        sizes.sort_unstable();
        assert_eq!(sizes, vec![1, 2]);
    }
}
