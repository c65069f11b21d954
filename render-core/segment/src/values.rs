//! Value ranges and which voxels of a volume hold a value inside one: the threshold tool,
//! and the test the growing tools make at each voxel.

use hounsfield_volume::volume::Slab;
use hounsfield_volume::{Volume, Voxels};
use rayon::prelude::*;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// Values from `low` to `high`, both inside (HU for a CT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueInterval {
    /// The lowest value inside.
    pub low: f64,
    /// The highest value inside.
    pub high: f64,
}

impl ValueInterval {
    /// The values from `low` to `high`; an error when they are not finite or `low` is the
    /// higher.
    pub fn new(low: f64, high: f64) -> Result<Self, SegmentError> {
        if low.is_finite() && high.is_finite() && low <= high {
            Ok(Self { low, high })
        } else {
            Err(SegmentError::EmptyRange { low, high })
        }
    }

    /// Whether `value` lies inside.
    pub fn holds(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// The voxels of `volume` whose value lies in `interval` (the threshold tool): slices
/// in parallel, each into words of bits that join the mask whole.
pub fn threshold(volume: &Volume, interval: ValueInterval) -> Mask {
    let grid = Grid::of(volume);
    let slice_len = grid.slice_len();
    let slices: Vec<Vec<usize>> = (0..grid.dims[2])
        .into_par_iter()
        .map(|k| match volume.voxels.slab(k..k + 1, slice_len) {
            Slab::I16(values) => words(&values, f64::from, interval),
            Slab::F32(values) => words(values, f64::from, interval),
        })
        .collect();
    Mask::from_slice_words(grid, &slices)
}

/// The bits of one slice's values in `interval`, a word at a time (the first value in
/// the lowest bit).
fn words<T: Copy>(values: &[T], to_f64: impl Fn(T) -> f64, interval: ValueInterval) -> Vec<usize> {
    values
        .chunks(usize::BITS as usize)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .fold(0usize, |word, (bit, &value)| {
                    word | (usize::from(interval.holds(to_f64(value))) << bit)
                })
        })
        .collect()
}

/// Which voxels a growing tool may enter: a test on the volume's values where they are
/// kept plain, a thresholded mask where they are packed (decoding them voxel by voxel
/// would cost more than thresholding once).
pub(crate) enum Admits<'a> {
    /// Whole values.
    I16(&'a [i16], ValueInterval),
    /// Float values.
    F32(&'a [f32], ValueInterval),
    /// The threshold, made beforehand.
    Mask(Mask),
}

impl<'a> Admits<'a> {
    /// The test for `interval` on `volume`.
    pub(crate) fn of(volume: &'a Volume, interval: ValueInterval) -> Self {
        match &volume.voxels {
            Voxels::I16(values) => Self::I16(values, interval),
            Voxels::F32(values) => Self::F32(values, interval),
            Voxels::Packed(_) => Self::Mask(threshold(volume, interval)),
        }
    }

    /// Whether the voxel at a flat index may be entered.
    pub(crate) fn admits(&self, index: usize) -> bool {
        match self {
            Self::I16(values, interval) => values
                .get(index)
                .is_some_and(|&v| interval.holds(f64::from(v))),
            Self::F32(values, interval) => values
                .get(index)
                .is_some_and(|&v| interval.holds(f64::from(v))),
            Self::Mask(mask) => mask.contains(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::volume_of;

    #[test]
    fn a_threshold_takes_both_ends_on_grids_that_end_on_a_word_or_not() {
        for dims in [[64, 2, 3], [7, 5, 3]] {
            let volume = volume_of(dims, |[i, j, k]| (i + 3 * j + 5 * k) as f64 % 11.0);
            let interval = ValueInterval::new(3.0, 6.0).expect("a range");
            let mask = threshold(&volume, interval);
            let expected: Vec<usize> = (0..volume.voxels.len())
                .filter(|&n| volume.voxels.get(n).is_some_and(|v| interval.holds(v)))
                .collect();
            assert_eq!(mask.indices().collect::<Vec<_>>(), expected, "{dims:?}");
        }
        assert!(ValueInterval::new(2.0, 1.0).is_err());
        assert!(ValueInterval::new(f64::NAN, 1.0).is_err());
    }
}
