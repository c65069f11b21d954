//! How many voxels hold each whole value: the histogram behind a volume's percentiles,
//! counted in parallel. A packed volume keeps its own, counted while it was packed, so
//! that its percentiles need no pass over its compressed slices.

use rayon::prelude::*;

/// Bins of a whole histogram of whole values: one per `i16` value, value `v` in bin `v + 32768`.
const BINS: usize = 1 << 16;

/// Voxels per parallel task.
const CHUNK: usize = 1 << 20;

/// How many voxels hold each whole value from the smallest there is to the largest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueCounts {
    /// The smallest value: `counts[0]`'s.
    pub smallest: i16,
    /// Voxels of each value from `smallest` on, one after the other; empty for no voxels.
    pub counts: Box<[u64]>,
}

impl ValueCounts {
    /// The counts of `values`, in parallel.
    pub fn of(values: &[i16]) -> Self {
        let histogram = of_whole_values(values);
        let Some(first) = histogram.iter().position(|&c| c > 0) else {
            return Self {
                smallest: 0,
                counts: Box::default(),
            };
        };
        let last = histogram.iter().rposition(|&c| c > 0).unwrap_or(first);
        Self {
            smallest: (first as i32 - 32_768) as i16,
            counts: histogram[first..=last].into(),
        }
    }

    /// The largest value (the smallest when there are no voxels).
    pub fn largest(&self) -> i16 {
        let span = self.counts.len().saturating_sub(1) as i32;
        (i32::from(self.smallest) + span) as i16
    }

    /// Bytes the counts take.
    pub fn bytes(&self) -> usize {
        self.counts.len() * size_of::<u64>()
    }
}

/// How many of `values` hold each whole value ([`BINS`] bins).
fn of_whole_values(values: &[i16]) -> Vec<u64> {
    values
        .par_chunks(CHUNK)
        .fold(
            || vec![0u64; BINS],
            |mut histogram, chunk| {
                count_runs(&mut histogram, chunk);
                histogram
            },
        )
        .reduce(|| vec![0u64; BINS], add)
}

/// Adds `values` to `histogram` (bin `v + 32768`); runs of one value (air around the
/// body) count as one increment.
fn count_runs(histogram: &mut [u64], values: &[i16]) {
    let bin_of = |v: i16| (i32::from(v) + 32_768) as usize;
    let mut iter = values.iter();
    if let Some(&first) = iter.next() {
        let (mut current, mut run) = (first, 1u64);
        for &v in iter {
            if v == current {
                run += 1;
            } else {
                histogram[bin_of(current)] += run;
                (current, run) = (v, 1);
            }
        }
        histogram[bin_of(current)] += run;
    }
}

/// Two histograms of the same bins added, bin by bin.
pub fn add(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_counted_in_its_own_bin_runs_and_all() {
        let values: Vec<i16> = [i16::MIN, -1000, -1000, -1000, 0, 40, 40, i16::MAX, -1000]
            .into_iter()
            .cycle()
            .take(9 * 300_000)
            .collect();
        let counted = ValueCounts::of(&values);
        assert_eq!((counted.smallest, counted.largest()), (i16::MIN, i16::MAX));
        let at = |v: i16| counted.counts[(i32::from(v) - i32::from(i16::MIN)) as usize];
        assert_eq!(counted.counts.iter().sum::<u64>(), values.len() as u64);
        assert_eq!(
            [at(i16::MIN), at(-1000), at(0), at(40), at(i16::MAX), at(1)],
            [300_000, 1_200_000, 300_000, 600_000, 300_000, 0]
        );
        let narrow = ValueCounts::of(&[7, 5, 5, 9]);
        assert_eq!((narrow.smallest, narrow.largest()), (5, 9));
        assert_eq!(*narrow.counts, [2, 0, 1, 0, 1]);
        assert!(ValueCounts::of(&[]).counts.is_empty());
    }
}
