//! The exact Euclidean distance transform on a box of the grid, in millimetres, of
//! Felzenszwalb and Huttenlocher (squared distances, one axis after the other, each a
//! lower envelope of parabolas scaled by that axis' spacing). It is written here because
//! no maintained Rust crate computes an exact distance transform on a 3D grid with a
//! spacing per axis. The margin, closing and fill-between tools measure with it.

use rayon::prelude::*;

use crate::mask::Grid;

/// A box of the grid: `dims` voxels from `from` on.
pub(crate) struct Region {
    /// The grid the box lies on.
    pub(crate) grid: Grid,
    /// Its first voxel `(i, j, k)`.
    pub(crate) from: [usize; 3],
    /// Its voxel counts along i, j, k.
    pub(crate) dims: [usize; 3],
}

impl Region {
    /// The box from `low` to `high` widened by `reach` voxels, within the grid.
    pub(crate) fn around(grid: Grid, low: [usize; 3], high: [usize; 3], reach: [usize; 3]) -> Self {
        let from = [0, 1, 2].map(|a| low[a].saturating_sub(reach[a]));
        let to = [0, 1, 2].map(|a| (high[a].saturating_add(reach[a])).min(grid.dims[a] - 1));
        Self {
            grid,
            from,
            dims: [0, 1, 2].map(|a| to[a] - from[a] + 1),
        }
    }

    /// The grid's flat indices of the box's voxels, in the box's own order.
    pub(crate) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
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
    pub(crate) fn squared_distances(&self, site: impl Fn(usize) -> bool) -> Vec<f64> {
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
