//! The median smoothing tool: each voxel takes the majority of the voxels of the ball of
//! a radius in millimetres around it (a median filter of the 0/1 segment), exact on grids
//! whose voxels are not cubes. Notches and bumps smaller than the ball go; the segment's
//! volume stays about the same.
//!
//! The ball holds the voxel offsets `(di, dj, dk)` whose length `(di·si, dj·sj, dk·sk)`
//! is at most the radius: an odd count, so a majority is always decided. Beyond the
//! grid's edge the ball counts voxels outside the segment (SciPy's `median_filter` with
//! `mode="constant", cval=0`). Counts come from prefix sums along i: each row of the
//! ball is one subtraction.

use rayon::prelude::*;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// The largest median radius (mm): the ball's rows grow with its square.
pub const MOST_MEDIAN_RADIUS_MM: f64 = 10.0;
/// The most row sums one median may take (the voxels it looks at, times its ball's rows
/// along i): a few seconds of work.
pub const MOST_MEDIAN_ROW_SUMS: u64 = 4_000_000_000;

/// One row of the ball along i: at `(dj, dk)` from the centre, `di` from `-half` to `half`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BallRow {
    dj: isize,
    dk: isize,
    half: usize,
}

/// The rows of the ball of `radius_mm` on `grid`'s spacing, and its voxel count.
fn ball_rows(grid: Grid, radius_mm: f64) -> (Vec<BallRow>, usize) {
    let [si, sj, sk] = grid.spacing_mm;
    let reach = |s: f64| (radius_mm / s).floor() as isize;
    let most = radius_mm * radius_mm;
    let mut rows = Vec::new();
    let mut count = 0;
    for dk in -reach(sk)..=reach(sk) {
        for dj in -reach(sj)..=reach(sj) {
            let (k_mm, j_mm) = (dk as f64 * sk, dj as f64 * sj);
            let within = |di: usize| {
                let i_mm = di as f64 * si;
                k_mm * k_mm + j_mm * j_mm + i_mm * i_mm <= most
            };
            if !within(0) {
                continue;
            }
            // The largest di whose offset lies within the radius, by the same test as
            // every other offset (the square root only starts the search).
            let left = (most - k_mm * k_mm - j_mm * j_mm).max(0.0);
            let mut half = (left.sqrt() / si).floor() as usize;
            while within(half + 1) {
                half += 1;
            }
            while half > 0 && !within(half) {
                half -= 1;
            }
            rows.push(BallRow { dj, dk, half });
            count += 2 * half + 1;
        }
    }
    (rows, count)
}

/// `mask` smoothed by the median of the ball of `radius_mm`: a voxel is inside when more
/// than half of the ball's voxels around it are (voxels beyond the grid count as outside).
pub fn median(mask: &Mask, grid: Grid, radius_mm: f64) -> Result<Mask, SegmentError> {
    if !(radius_mm.is_finite() && radius_mm > 0.0 && radius_mm <= MOST_MEDIAN_RADIUS_MM) {
        return Err(SegmentError::Distance {
            what: "median radius",
            value: radius_mm,
            most: MOST_MEDIAN_RADIUS_MM,
        });
    }
    grid.holding(mask)?;
    let Some((low, high)) = mask.bounds() else {
        return Ok(mask.clone());
    };
    let (rows, ball) = ball_rows(grid, radius_mm);
    // Beyond the mask's box widened by the ball's reach, no voxel has a voxel of the
    // mask in its ball.
    let reach = [0, 1, 2].map(|a| (radius_mm / grid.spacing_mm[a]).floor() as usize);
    let from = [0, 1, 2].map(|a| low[a].saturating_sub(reach[a]));
    let to = [0, 1, 2].map(|a| (high[a] + reach[a]).min(grid.dims[a] - 1));
    let looked_at: u64 = (0..3).map(|a| (to[a] - from[a] + 1) as u64).product();
    let sums = looked_at.saturating_mul(rows.len() as u64);
    if sums > MOST_MEDIAN_ROW_SUMS {
        return Err(SegmentError::Work(format!(
            "a median of {radius_mm} mm over this segment takes {sums} row sums, over \
             {MOST_MEDIAN_ROW_SUMS}: use a smaller radius"
        )));
    }
    let majority = ball / 2 + 1;
    let [ni, nj, _] = grid.dims;
    let words_per_slice = grid.slice_len().div_ceil(usize::BITS as usize);
    let slices: Vec<Vec<usize>> = (0..grid.dims[2])
        .into_par_iter()
        .map(|k| {
            let mut words = vec![0usize; words_per_slice];
            if k < from[2] || k > to[2] {
                return words;
            }
            let counts = SliceCounts::new(mask, grid, k, reach[2], (from, to));
            let mut count = vec![0u32; ni];
            for j in from[1]..=to[1] {
                count.iter_mut().for_each(|c| *c = 0);
                for row in &rows {
                    let (Some(jj), Some(kk)) = (
                        j.checked_add_signed(row.dj).filter(|&jj| jj < nj),
                        k.checked_add_signed(row.dk).filter(|&kk| kk < grid.dims[2]),
                    ) else {
                        continue;
                    };
                    let Some(prefix) = counts.row(jj, kk) else {
                        continue;
                    };
                    for (i, c) in count.iter_mut().enumerate().take(to[0] + 1).skip(from[0]) {
                        let first = i.saturating_sub(row.half);
                        let last = (i + row.half + 1).min(ni);
                        *c += prefix[last] - prefix[first];
                    }
                }
                for (i, &c) in count.iter().enumerate().take(to[0] + 1).skip(from[0]) {
                    if c as usize >= majority {
                        let offset = i + ni * j;
                        words[offset / usize::BITS as usize] |=
                            1 << (offset % usize::BITS as usize);
                    }
                }
            }
            words
        })
        .collect();
    Ok(Mask::from_slice_words(grid, &slices))
}

/// The prefix sums along i of the mask's rows of the slices a median of slice `k` reads:
/// `row(j, k)[i]` counts the mask's voxels of that row before `i`.
struct SliceCounts {
    /// The first slice held.
    first_k: usize,
    /// The rows held, slice by slice from `first_k`, then by j from `from_j`.
    from_j: usize,
    rows_per_slice: usize,
    prefixes: Vec<Vec<u32>>,
}

impl SliceCounts {
    fn new(
        mask: &Mask,
        grid: Grid,
        k: usize,
        reach_k: usize,
        (from, to): ([usize; 3], [usize; 3]),
    ) -> Self {
        let [ni, nj, nk] = grid.dims;
        let first_k = k.saturating_sub(reach_k).max(from[2]);
        let last_k = (k + reach_k).min(nk - 1).min(to[2]);
        let (from_j, to_j) = (from[1], to[1].min(nj - 1));
        let rows_per_slice = to_j - from_j + 1;
        let mut prefixes = Vec::with_capacity((last_k + 1 - first_k) * rows_per_slice);
        for kk in first_k..=last_k {
            for j in from_j..=to_j {
                let start = ni * (j + nj * kk);
                let mut prefix = Vec::with_capacity(ni + 1);
                let mut total = 0u32;
                prefix.push(0);
                for i in 0..ni {
                    total += u32::from(mask.contains(start + i));
                    prefix.push(total);
                }
                prefixes.push(prefix);
            }
        }
        Self {
            first_k,
            from_j,
            rows_per_slice,
            prefixes,
        }
    }

    /// The prefix sums of row `(j, k)`; `None` where the mask holds nothing (beyond the
    /// rows held).
    fn row(&self, j: usize, k: usize) -> Option<&[u32]> {
        let (dk, dj) = (k.checked_sub(self.first_k)?, j.checked_sub(self.from_j)?);
        if dj >= self.rows_per_slice {
            return None;
        }
        self.prefixes
            .get(dk * self.rows_per_slice + dj)
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The median by looking at every offset of the ball: the tool's reference.
    fn brute_force(grid: Grid, mask: &Mask, radius_mm: f64) -> Vec<usize> {
        let [ni, nj, nk] = grid.dims.map(|n| n as isize);
        let [si, sj, sk] = grid.spacing_mm;
        let r = |s: f64| (radius_mm / s).floor() as isize;
        (0..grid.len())
            .filter(|&index| {
                let [i, j, k] = grid.ijk(index).map(|n| n as isize);
                let (mut inside, mut ball) = (0, 0);
                for dk in -r(sk)..=r(sk) {
                    for dj in -r(sj)..=r(sj) {
                        for di in -r(si)..=r(si) {
                            let (x, y, z) = (di as f64 * si, dj as f64 * sj, dk as f64 * sk);
                            if x * x + y * y + z * z > radius_mm * radius_mm {
                                continue;
                            }
                            ball += 1;
                            let (a, b, c) = (i + di, j + dj, k + dk);
                            if (0..ni).contains(&a) && (0..nj).contains(&b) && (0..nk).contains(&c)
                            {
                                let at = (a + ni * (b + nj * c)) as usize;
                                inside += usize::from(mask.contains(at));
                            }
                        }
                    }
                }
                2 * inside > ball
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
        fn medians_match_a_count_of_every_ball(
            voxels in proptest::collection::vec(0usize..315, 1..120),
            radius_mm in 0.5f64..4.0,
        ) {
            let grid = grid();
            let mask = Mask::from_indices(grid, voxels);
            let smoothed = median(&mask, grid, radius_mm).expect("a median");
            proptest::prop_assert_eq!(
                smoothed.indices().collect::<Vec<_>>(),
                brute_force(grid, &mask, radius_mm)
            );
        }
    }

    #[test]
    fn a_median_takes_a_spike_off_and_fills_a_pit() {
        let grid = Grid {
            dims: [12, 12, 12],
            spacing_mm: [1.0; 3],
        };
        // A 6 × 6 × 6 cube with one voxel missing at its centre and one stuck on a face.
        let inside = |[i, j, k]: [usize; 3]| {
            (3..9).contains(&i) && (3..9).contains(&j) && (3..9).contains(&k)
        };
        let hole = grid.index([5, 5, 5]).expect("inside");
        let spike = grid.index([9, 5, 5]).expect("inside");
        let mask = Mask::from_indices(
            grid,
            (0..grid.len())
                .filter(|&n| inside(grid.ijk(n)) && n != hole)
                .chain([spike]),
        );
        // The ball of 1 mm: the voxel and its 6 face neighbours.
        assert_eq!(ball_rows(grid, 1.0).1, 7);
        let smoothed = median(&mask, grid, 1.0).expect("a median");
        assert!(smoothed.contains(hole) && !smoothed.contains(spike));
        // A cube's corner sees 4 of 7 inside (itself and three), so it stays, as the
        // faces do.
        assert!(smoothed.contains(grid.index([3, 3, 3]).expect("inside")));
        assert!(smoothed.contains(grid.index([3, 5, 5]).expect("inside")));
        assert!(median(&mask, grid, 0.0).is_err());
        assert!(median(&mask, grid, MOST_MEDIAN_RADIUS_MM + 1.0).is_err());
        assert!(median(&mask, grid, f64::NAN).is_err());
    }

    #[test]
    fn the_edge_of_the_grid_counts_as_outside() {
        // A full grid: its corners see 4 of the 7 voxels of the 1 mm ball (3 beyond the
        // edge), its edges 5: all stay.
        let grid = Grid {
            dims: [4, 4, 4],
            spacing_mm: [1.0; 3],
        };
        let full = Mask::full(grid);
        assert_eq!(median(&full, grid, 1.0).expect("a median"), full);
        let thin = Grid {
            dims: [4, 4, 1],
            spacing_mm: [1.0; 3],
        };
        // On a single slice the ball's two voxels across it lie beyond the edge: a corner
        // sees 3 of 7 and goes, the rest see 4 or 5 and stay.
        let slab = Mask::full(thin);
        assert_eq!(median(&slab, thin, 1.0).expect("a median").count(), 12);
    }
}
