//! The margin tool: a segment grown or shrunk by a distance in millimetres, exact on
//! grids whose voxels are not cubes.
//!
//! Growing by `r` takes every voxel whose centre lies within `r` of a voxel centre of the
//! segment; shrinking by `r` keeps the segment's voxels farther than `r` from every voxel
//! of the grid outside it (the grid's edge is no outside). Distances come from the exact
//! Euclidean distance transform of Felzenszwalb and Huttenlocher (squared distances, one
//! axis after the other, each a lower envelope of parabolas scaled by that axis' spacing).
//! It is written here because no maintained Rust crate computes an exact distance
//! transform on a 3D grid with a spacing per axis.

use rayon::prelude::*;

use crate::SegmentError;
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
    if mask.dims() != grid.dims {
        return Err(SegmentError::OtherGrid {
            expected: grid.dims,
            found: mask.dims(),
        });
    }
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

/// A box of the grid, `from` to `to` inclusive.
struct Region {
    grid: Grid,
    from: [usize; 3],
    dims: [usize; 3],
}

impl Region {
    /// The box from `low` to `high` widened by `reach` voxels, within the grid.
    fn around(grid: Grid, low: [usize; 3], high: [usize; 3], reach: [usize; 3]) -> Self {
        let from = [0, 1, 2].map(|a| low[a].saturating_sub(reach[a]));
        let to = [0, 1, 2].map(|a| (high[a].saturating_add(reach[a])).min(grid.dims[a] - 1));
        Self {
            grid,
            from,
            dims: [0, 1, 2].map(|a| to[a] - from[a] + 1),
        }
    }

    /// The grid's flat indices of the box's voxels, in the box's own order.
    fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        let [ni, nj, nk] = self.dims;
        (0..nk).flat_map(move |k| {
            (0..nj).flat_map(move |j| {
                (0..ni).map(move |i| {
                    let [fi, fj, fk] = self.from;
                    (fi + i) + self.grid.dims[0] * ((fj + j) + self.grid.dims[1] * (fk + k))
                })
            })
        })
    }

    /// Each box voxel's squared distance (mm²) to the nearest voxel of the box that is a
    /// `site` (infinite when there is none).
    fn squared_distances(&self, site: impl Fn(usize) -> bool) -> Vec<f64> {
        let mut distances: Vec<f64> = self
            .indices()
            .map(|index| if site(index) { 0.0 } else { f64::INFINITY })
            .collect();
        let [ni, nj, nk] = self.dims;
        let spacing = self.grid.spacing_mm;
        // Along i: rows are contiguous.
        distances
            .par_chunks_mut(ni)
            .for_each_init(Envelope::default, |envelope, row| {
                envelope.transform(row, spacing[0] * spacing[0]);
            });
        // Along j and k, each line gathered, transformed and put back.
        let slice = ni * nj;
        along(&mut distances, nj, ni, spacing[1], |line| {
            let (k, i) = (line / ni, line % ni);
            k * slice + i
        });
        along(&mut distances, nk, slice, spacing[2], |line| line);
        distances
    }
}

/// Transforms every line of `distances` along an axis of `length` voxels `stride` apart;
/// `start` gives the flat index of each line's first voxel (lines are numbered 0..).
fn along(
    distances: &mut [f64],
    length: usize,
    stride: usize,
    spacing_mm: f64,
    start: impl Fn(usize) -> usize + Sync,
) {
    let lines = distances.len() / length;
    let transformed: Vec<Vec<f64>> = (0..lines)
        .into_par_iter()
        .map_init(Envelope::default, |envelope, line| {
            let first = start(line);
            let mut values: Vec<f64> = (0..length).map(|n| distances[first + n * stride]).collect();
            envelope.transform(&mut values, spacing_mm * spacing_mm);
            values
        })
        .collect();
    for (line, values) in transformed.into_iter().enumerate() {
        let first = start(line);
        for (n, value) in values.into_iter().enumerate() {
            distances[first + n * stride] = value;
        }
    }
}

/// The lower envelope of the parabolas `spacing² (x − p)² + f(p)` of a line's sites,
/// with its working space kept between lines.
#[derive(Default)]
struct Envelope {
    /// The sites whose parabolas make the envelope, left to right.
    sites: Vec<usize>,
    /// Where each of those parabolas starts to be the lowest.
    starts: Vec<f64>,
    /// The line's values before the transform.
    values: Vec<f64>,
}

impl Envelope {
    /// Replaces each value of `line` by the smallest `spacing² (q − p)² + line[p]`.
    fn transform(&mut self, line: &mut [f64], spacing_squared: f64) {
        self.values.clear();
        self.values.extend_from_slice(line);
        self.sites.clear();
        self.starts.clear();
        let f = &self.values;
        let meet = |p: usize, q: usize| {
            let (p_mm, q_mm) = (p as f64, q as f64);
            ((f[q] + spacing_squared * q_mm * q_mm) - (f[p] + spacing_squared * p_mm * p_mm))
                / (2.0 * spacing_squared * (q_mm - p_mm))
        };
        for (q, value) in f.iter().enumerate() {
            if value.is_infinite() {
                continue;
            }
            loop {
                match self.sites.last() {
                    Some(&p) => {
                        let s = meet(p, q);
                        if self.starts.last().is_some_and(|&start| s <= start) {
                            self.sites.pop();
                            self.starts.pop();
                        } else {
                            self.sites.push(q);
                            self.starts.push(s);
                            break;
                        }
                    }
                    None => {
                        self.sites.push(q);
                        self.starts.push(f64::NEG_INFINITY);
                        break;
                    }
                }
            }
        }
        if self.sites.is_empty() {
            return;
        }
        let mut parabola = 0;
        for (q, out) in line.iter_mut().enumerate() {
            let x = q as f64;
            while parabola + 1 < self.sites.len() && self.starts[parabola + 1] < x {
                parabola += 1;
            }
            let p = self.sites[parabola];
            let d = x - p as f64;
            *out = spacing_squared * d * d + f[p];
        }
    }
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
