//! The margin tool: a segment grown or shrunk by a distance in millimetres, exact on
//! grids whose voxels are not cubes.
//!
//! Growing by `r` takes every voxel whose centre lies within `r` of a voxel centre of the
//! segment; shrinking by `r` keeps the segment's voxels farther than `r` from every voxel
//! of the grid outside it (the grid's edge is no outside). Distances come from the exact
//! Euclidean distance transform of [`crate::distance`].

use crate::SegmentError;
use crate::distance::Region;
use crate::mask::{Grid, Mask};

/// The largest margin a tool takes (mm): beyond, a segment is no longer the structure.
pub const MOST_MARGIN_MM: f64 = 100.0;

/// `mask` grown (`margin_mm` > 0) or shrunk (< 0) by `margin_mm.abs()` millimetres.
pub fn margin(mask: &Mask, grid: Grid, margin_mm: f64) -> Result<Mask, SegmentError> {
    if !margin_mm.is_finite() || margin_mm.abs() > MOST_MARGIN_MM {
        return Err(SegmentError::Distance {
            what: "margin",
            value: margin_mm,
            most: MOST_MARGIN_MM,
        });
    }
    grid.holding(mask)?;
    let Some((low, high)) = mask.bounds() else {
        return Ok(mask.clone());
    };
    Ok(if margin_mm >= 0.0 {
        grow(mask, grid, low, high, margin_mm)
    } else {
        shrink(mask, grid, low, high, -margin_mm)
    })
}

/// `mask` closed by `radius_mm` (smoothing that fills gaps and notches narrower than the
/// radius): grown by it, then shrunk by it, each exact in millimetres (a dilation, then an
/// erosion, by the ball of that radius).
pub fn closing(mask: &Mask, grid: Grid, radius_mm: f64) -> Result<Mask, SegmentError> {
    if !(radius_mm.is_finite() && radius_mm > 0.0) {
        return Err(SegmentError::Distance {
            what: "closing",
            value: radius_mm,
            most: MOST_MARGIN_MM,
        });
    }
    let grown = margin(mask, grid, radius_mm)?;
    margin(&grown, grid, -radius_mm)
}

/// Every voxel within `radius_mm` of the mask: the transform runs over the mask's bounds
/// widened by the radius (no voxel beyond can be that near).
fn grow(mask: &Mask, grid: Grid, low: [usize; 3], high: [usize; 3], radius_mm: f64) -> Mask {
    let reach = grid.spacing_mm.map(|s| (radius_mm / s).floor() as usize);
    let region = Region::around(grid, low, high, reach);
    let distances = region.squared_distances(|index| mask.contains(index));
    let most = radius_mm * radius_mm;
    Mask::from_indices(
        grid,
        region
            .indices()
            .zip(distances)
            .filter_map(|(index, d)| (d <= most).then_some(index)),
    )
}

/// The mask's voxels farther than `radius_mm` from the outside: the transform of the
/// outside runs over the mask's bounds widened by one voxel, which holds the outside
/// voxel nearest each voxel of the mask.
fn shrink(mask: &Mask, grid: Grid, low: [usize; 3], high: [usize; 3], radius_mm: f64) -> Mask {
    let region = Region::around(grid, low, high, [1, 1, 1]);
    let distances = region.squared_distances(|index| !mask.contains(index));
    let most = radius_mm * radius_mm;
    Mask::from_indices(
        grid,
        region
            .indices()
            .zip(distances)
            .filter_map(|(index, d)| (d > most && mask.contains(index)).then_some(index)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Squared distances by looking at every pair: the transform's reference.
    fn brute_force(grid: Grid, mask: &Mask, towards_inside: bool) -> Vec<f64> {
        (0..grid.len())
            .map(|index| {
                let a = grid.ijk(index);
                (0..grid.len())
                    .filter(|&other| mask.contains(other) == towards_inside)
                    .map(|other| {
                        let b = grid.ijk(other);
                        (0..3)
                            .map(|axis| {
                                let d = (a[axis] as f64 - b[axis] as f64) * grid.spacing_mm[axis];
                                d * d
                            })
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    fn grid() -> Grid {
        Grid {
            dims: [9, 7, 5],
            spacing_mm: [0.7, 1.1, 2.5],
        }
    }

    proptest::proptest! {
        #[test]
        fn margins_match_distances_by_brute_force(
            voxels in proptest::collection::vec(0usize..315, 1..12),
            margin_mm in -4.0f64..4.0,
        ) {
            let grid = grid();
            let mask = Mask::from_indices(grid, voxels);
            let grown = margin(&mask, grid, margin_mm).expect("a margin");
            let expected: Vec<usize> = if margin_mm >= 0.0 {
                let d = brute_force(grid, &mask, true);
                (0..grid.len()).filter(|&i| d[i] <= margin_mm * margin_mm).collect()
            } else {
                let d = brute_force(grid, &mask, false);
                (0..grid.len())
                    .filter(|&i| mask.contains(i) && d[i] > margin_mm * margin_mm)
                    .collect()
            };
            proptest::prop_assert_eq!(grown.indices().collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn a_closing_fills_a_gap_narrower_than_its_radius_and_keeps_the_rest() {
        let grid = Grid {
            dims: [20, 9, 9],
            spacing_mm: [1.0; 3],
        };
        // Two 3 × 3 × 3 blocks 2 voxels apart along i.
        let block = |i0: usize| {
            (i0..i0 + 3).flat_map(move |i| {
                (3..6).flat_map(move |j| (3..6).map(move |k| i + 20 * (j + 9 * k)))
            })
        };
        let mask = Mask::from_indices(grid, block(5).chain(block(10)));
        let closed = closing(&mask, grid, 2.0).expect("closed");
        // The gap between them (i = 8, 9 on the middle row) is filled.
        assert!(closed.contains(8 + 20 * (4 + 9 * 4)) && closed.contains(9 + 20 * (4 + 9 * 4)));
        // Every voxel of the blocks stays, and nothing far away is added.
        assert!(mask.indices().all(|index| closed.contains(index)));
        assert!(!closed.contains(1 + 20 * (4 + 9 * 4)));
        assert!(closing(&mask, grid, 0.0).is_err());
    }

    #[test]
    fn a_margin_beyond_the_bound_is_refused() {
        let grid = grid();
        let mask = Mask::from_indices(grid, [10]);
        assert!(margin(&mask, grid, 101.0).is_err());
        assert!(margin(&mask, grid, f64::NAN).is_err());
    }
}
