//! Fill between slices: a segment drawn on some slices of a grid plane is filled on the
//! slices between them by shape-based interpolation. Each drawn slice gives its signed
//! distance map in millimetres (in its plane, exact with the in-plane spacing): inside, minus
//! the distance to the nearest voxel outside; outside, the distance to the nearest voxel
//! inside. Between two consecutive drawn slices the two maps are mixed linearly by
//! position, and a voxel is inside where the mix is at most 0. Slices before the first
//! drawn one and after the last are left as they are.

mod turned;

pub use turned::{MOST_TURNED_RASTER_BITS, fill_between_across};

use hounsfield_volume::Volume;

use crate::SegmentError;
use crate::distance::Region;
use crate::mask::{Grid, Mask};

/// A plane of the grid, named as on an axial acquisition: axial slices have one `k`,
/// coronal ones one `j`, sagittal ones one `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridPlane {
    /// Constant `k`.
    Axial,
    /// Constant `j`.
    Coronal,
    /// Constant `i`.
    Sagittal,
}

impl GridPlane {
    /// The grid axis across the plane (0 = i, 1 = j, 2 = k).
    pub fn axis(self) -> usize {
        match self {
            Self::Axial => 2,
            Self::Coronal => 1,
            Self::Sagittal => 0,
        }
    }

    /// Its name: `axial`, `coronal` or `sagittal`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Axial => "axial",
            Self::Coronal => "coronal",
            Self::Sagittal => "sagittal",
        }
    }

    /// The plane of a name (`axial`, `coronal`, `sagittal`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "axial" => Some(Self::Axial),
            "coronal" => Some(Self::Coronal),
            "sagittal" => Some(Self::Sagittal),
            _ => None,
        }
    }
}

/// The plane whose slices a fill between joins: a plane of the voxel grid, or any plane
/// by its normal (a turned cell's; one along a grid axis fills on the grid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FillPlane {
    /// A plane of the grid.
    Grid(GridPlane),
    /// The plane across a normal (LPS, any length).
    Across(glam::DVec3),
}

impl FillPlane {
    /// `mask` on `volume` with the slices of the plane between the drawn ones filled.
    pub fn fill(&self, volume: &Volume, mask: &Mask) -> Result<Mask, SegmentError> {
        match *self {
            Self::Grid(plane) => fill_between(mask, Grid::of(volume), plane),
            Self::Across(normal_lps) => fill_between_across(volume, mask, normal_lps),
        }
    }

    /// The tool's name, as a Segmentation names the algorithm: `fill between axial
    /// slices`, or `… slices across (x, y, z)` for a normal.
    pub fn tool_name(&self) -> String {
        match self {
            Self::Grid(plane) => format!("fill between {} slices", plane.name()),
            Self::Across(normal) => {
                let n = normal.normalize_or_zero();
                format!(
                    "fill between slices across ({:.3}, {:.3}, {:.3})",
                    n.x, n.y, n.z
                )
            }
        }
    }
}

/// `mask` with the slices of `plane` between each two consecutive drawn slices (slices
/// holding a voxel) filled by shape-based interpolation.
pub fn fill_between(mask: &Mask, grid: Grid, plane: GridPlane) -> Result<Mask, SegmentError> {
    grid.holding(mask)?;
    let axis = plane.axis();
    // Each drawn slice's box of voxels (within the slice), by slice.
    let mut boxes: Vec<Option<([usize; 3], [usize; 3])>> = vec![None; grid.dims[axis]];
    for index in mask.indices() {
        let at = grid.ijk(index);
        match &mut boxes[at[axis]] {
            Some((low, high)) => {
                for a in 0..3 {
                    low[a] = low[a].min(at[a]);
                    high[a] = high[a].max(at[a]);
                }
            }
            empty => *empty = Some((at, at)),
        }
    }
    let drawn: Vec<(usize, [usize; 3], [usize; 3])> = boxes
        .into_iter()
        .enumerate()
        .filter_map(|(slice, bounds)| bounds.map(|(low, high)| (slice, low, high)))
        .collect();
    let mut filled = mask.clone();
    for pair in drawn.windows(2) {
        let [(first, low_a, high_a), (last, low_b, high_b)] = [pair[0], pair[1]];
        if last - first < 2 {
            continue;
        }
        // In the plane, the box of both slices' voxels widened by one (the nearest voxel
        // outside an inside one lies within it, and every inside one does).
        let mut low = [0, 1, 2].map(|a| low_a[a].min(low_b[a]));
        let mut high = [0, 1, 2].map(|a| high_a[a].max(high_b[a]));
        low[axis] = 0;
        high[axis] = 0;
        let mut reach = [1, 1, 1];
        reach[axis] = 0;
        let at_slice = |slice: usize| {
            let mut region = Region::around(grid, low, high, reach);
            region.from[axis] = slice;
            region
        };
        let (from_map, to_map) = (
            signed_distances(&at_slice(first), mask),
            signed_distances(&at_slice(last), mask),
        );
        let span = (last - first) as f64;
        for slice in first + 1..last {
            let t = (slice - first) as f64 / span;
            let region = at_slice(slice);
            for (index, (a, b)) in region.indices().zip(from_map.iter().zip(&to_map)) {
                if (1.0 - t) * a + t * b <= 0.0 {
                    filled.insert(index);
                }
            }
        }
    }
    Ok(filled)
}

/// Each voxel of `region`'s signed distance (mm) to the edge of `mask` within it: inside,
/// minus the distance to the nearest voxel outside; outside, the distance to the nearest
/// voxel inside.
fn signed_distances(region: &Region, mask: &Mask) -> Vec<f64> {
    let inside = region.squared_distances(|index| !mask.contains(index));
    let outside = region.squared_distances(|index| mask.contains(index));
    region
        .indices()
        .zip(inside.iter().zip(&outside))
        .map(|(index, (to_outside, to_inside))| {
            if mask.contains(index) {
                -to_outside.sqrt()
            } else {
                to_inside.sqrt()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_and_a_larger_one_are_joined_by_the_squares_between() {
        // 1 mm voxels: a 3 × 3 square on slice 0 and a 7 × 7 one on slice 4, both
        // centred on (10, 10).
        let grid = Grid {
            dims: [21, 21, 6],
            spacing_mm: [1.0; 3],
        };
        let square = |k: usize, half: usize| {
            (10 - half..=10 + half).flat_map(move |j| {
                (10 - half..=10 + half).map(move |i| grid.index([i, j, k]).expect("inside"))
            })
        };
        let mask = Mask::from_indices(grid, square(0, 1).chain(square(4, 3)));
        let filled = fill_between(&mask, grid, GridPlane::Axial).expect("filled");
        // Along the middle row, at d = |i − 10|, slice 0's map is d − 1 outside (d ≥ 2)
        // and slice 4's −1 at d = 3, −2 at d = 2: d = 2 comes in from t = 1/3 (slice
        // 2), d = 3 from t = 2/3 (slice 3).
        let row = |k: usize| {
            (0..21)
                .filter(|&i| filled.contains(grid.index([i, 10, k]).expect("inside")))
                .count()
        };
        assert_eq!(
            [row(0), row(1), row(2), row(3), row(4), row(5)],
            [3, 3, 5, 7, 7, 0]
        );
        // A corner near the small square and deep in the large one comes in; one far
        // from the small square and at the large one's edge does not.
        assert!(filled.contains(grid.index([8, 8, 2]).expect("inside")));
        assert!(!filled.contains(grid.index([13, 13, 2]).expect("inside")));
        // Nothing beyond the last drawn slice; the drawn ones kept.
        assert!(mask.indices().all(|n| filled.contains(n)));
        assert_eq!(
            fill_between(&mask, grid, GridPlane::Coronal).expect("filled"),
            {
                // Along j, rows 7 to 13 are drawn (no gap of a row between): nothing changes.
                mask.clone()
            }
        );
    }

    #[test]
    fn sagittal_slices_fill_along_i_with_the_in_plane_spacing() {
        // Voxels 0.5 mm along j: a line of 4 voxels (j 2..=5) on i = 0 and on i = 2 the
        // same: i = 1 gets the same line.
        let grid = Grid {
            dims: [3, 8, 1],
            spacing_mm: [2.0, 0.5, 1.0],
        };
        let line = |i: usize| (2..=5).map(move |j| grid.index([i, j, 0]).expect("inside"));
        let mask = Mask::from_indices(grid, line(0).chain(line(2)));
        let filled = fill_between(&mask, grid, GridPlane::Sagittal).expect("filled");
        assert_eq!(filled.indices().collect::<Vec<_>>(), {
            let mut all: Vec<usize> = line(0).chain(line(1)).chain(line(2)).collect();
            all.sort_unstable();
            all
        });
        assert_eq!(GridPlane::from_name("coronal"), Some(GridPlane::Coronal));
        assert_eq!(GridPlane::from_name("oblique"), None);
    }
}
