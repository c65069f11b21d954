//! The islands tool: a segment's face-connected parts kept, dropped by size, or split into
//! segments of their own.

use crate::grow::for_each_island;
use crate::mask::{Grid, Mask};

/// The most segments a split makes: the largest islands, the rest left out.
pub const MOST_SPLIT_ISLANDS: usize = 64;

/// The largest island of `mask` (the first found among equals); empty for an empty mask.
pub fn keep_largest(mask: &Mask, grid: Grid) -> Mask {
    let mut largest: Vec<usize> = Vec::new();
    for_each_island(mask, grid, |island| {
        if island.len() > largest.len() {
            largest = island.to_vec();
        }
    });
    Mask::from_indices(grid, largest)
}

/// `mask` without its islands smaller than `min_mm3`.
pub fn remove_smaller_than(mask: &Mask, grid: Grid, min_mm3: f64) -> Mask {
    let voxel_mm3 = grid.voxel_volume_mm3();
    let mut kept = mask.clone();
    for_each_island(mask, grid, |island| {
        if (island.len() as f64) * voxel_mm3 < min_mm3 {
            for &index in island {
                kept.remove(index);
            }
        }
    });
    kept
}

/// The islands of `mask`, largest first, at most [`MOST_SPLIT_ISLANDS`] of them.
pub fn split(mask: &Mask, grid: Grid) -> Vec<Mask> {
    let mut sizes: Vec<(usize, usize)> = Vec::new();
    for_each_island(mask, grid, |island| sizes.push((island.len(), island[0])));
    // Largest first; among equals, the one whose first voxel comes first.
    sizes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    sizes.truncate(MOST_SPLIT_ISLANDS);
    let firsts: std::collections::HashMap<usize, usize> = sizes
        .iter()
        .enumerate()
        .map(|(rank, &(_, first))| (first, rank))
        .collect();
    let mut parts = vec![Mask::empty(grid); sizes.len()];
    for_each_island(mask, grid, |island| {
        if let Some(&rank) = firsts.get(&island[0]) {
            parts[rank] = Mask::from_indices(grid, island.iter().copied());
        }
    });
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            dims: [10, 1, 1],
            spacing_mm: [2.0, 1.0, 1.0],
        }
    }

    #[test]
    fn the_largest_island_is_kept() {
        let mask = Mask::from_indices(grid(), [0, 2, 3, 4, 6, 7]);
        let largest = keep_largest(&mask, grid());
        assert_eq!(largest.indices().collect::<Vec<_>>(), vec![2, 3, 4]);
    }

    #[test]
    fn islands_under_a_volume_are_removed() {
        // Islands of 2, 6 and 4 mm³.
        let mask = Mask::from_indices(grid(), [0, 2, 3, 4, 6, 7]);
        let kept = remove_smaller_than(&mask, grid(), 4.0);
        assert_eq!(kept.indices().collect::<Vec<_>>(), vec![2, 3, 4, 6, 7]);
    }

    #[test]
    fn a_split_lists_islands_largest_first() {
        let mask = Mask::from_indices(grid(), [0, 2, 3, 4, 6, 7]);
        let parts = split(&mask, grid());
        let counts: Vec<usize> = parts.iter().map(Mask::count).collect();
        assert_eq!(counts, vec![3, 2, 1]);
        assert!(parts[2].contains(0));
    }
}
