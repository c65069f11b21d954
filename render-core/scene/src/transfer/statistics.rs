//! Percentiles of a volume's values, from a histogram built once per volume in parallel.
//! MR presets are written in percentiles because MR intensities have no absolute scale.
//!
//! `i16` volumes get one bin per integer value, so their percentiles are exact; `f32`
//! volumes get 65 536 equal bins over `[min, max]` (accurate to one bin). Percentiles
//! interpolate linearly between the two nearest ranks, as numpy's default does.

use rayon::prelude::*;

use hounsfield_vocabulary::{MOST_HISTOGRAM_BINS, ValueHistogram};
use hounsfield_volume::value_counts::{self, ValueCounts};
use hounsfield_volume::volume::{Modality, Window};
use hounsfield_volume::{Volume, Voxels};

/// Bins of the `f32` histogram; `i16` volumes use one bin per value.
const FLOAT_BINS: usize = 65_536;
/// Voxels per parallel task.
const CHUNK: usize = 1 << 20;

/// Percentiles of a volume's values, computed once per volume.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeStatistics {
    /// Smallest finite voxel value.
    pub min: f32,
    /// Largest finite voxel value.
    pub max: f32,
    /// Number of finite voxels counted (NaN and infinities are left out).
    pub count: u64,
    /// Value of bin 0's lower edge (for integer bins: bin 0's value).
    first_value: f64,
    /// Width of a bin in value units.
    bin_width: f64,
    /// One bin per integer value: a bin's voxels all have its value.
    integer_bins: bool,
    /// `cumulative[b]`: voxels in bins `0..=b`.
    cumulative: Vec<u64>,
}

impl VolumeStatistics {
    /// The window used when neither the view nor the preset gives one: the header's, else a
    /// soft-tissue window for CT, else the 1st to 99th percentile.
    pub fn default_window(&self, volume: &Volume) -> Window {
        if let Some(window) = volume.default_window {
            return window;
        }
        match volume.modality {
            Modality::CT => Window {
                width: 400.0,
                center: 40.0,
            },
            _ => {
                let low = f64::from(self.percentile(1.0));
                let high = f64::from(self.percentile(99.0));
                Window {
                    width: (high - low).max(1e-3),
                    center: (high + low) * 0.5,
                }
            }
        }
    }

    /// The statistics of a volume's voxels.
    pub fn of(volume: &Volume) -> VolumeStatistics {
        Self::of_voxels(&volume.voxels)
    }

    /// The statistics of a voxel buffer.
    pub fn of_voxels(voxels: &Voxels) -> VolumeStatistics {
        match voxels {
            Voxels::I16(values) => Self::of_value_counts(&ValueCounts::of(values), values.len()),
            Voxels::F32(values) => Self::of_f32(values),
            // Counted while packing: nothing is decoded.
            Voxels::Packed(packed) => Self::of_value_counts(packed.value_counts(), packed.len()),
        }
    }

    /// The voxels in `bins` equal bins from the smallest value to the largest (at least
    /// one bin, at most [`MOST_HISTOGRAM_BINS`]): what an editor of the transfer function
    /// draws its curve over. Counted from the bins made once per volume, so it costs no
    /// pass over the voxels; a bin's count is exact for whole-valued volumes and within one
    /// fine bin at its edges otherwise.
    pub fn histogram(&self, bins: usize) -> ValueHistogram {
        let bins = bins.clamp(1, MOST_HISTOGRAM_BINS);
        let (low, high) = (f64::from(self.min), f64::from(self.max));
        let width = (high - low) / bins as f64;
        let mut below = 0;
        let counts = (1..=bins)
            .map(|edge| {
                let up_to = if edge == bins {
                    self.count
                } else {
                    self.voxels_below(low + width * edge as f64)
                };
                let count = up_to.saturating_sub(below);
                below = below.max(up_to);
                count
            })
            .collect();
        ValueHistogram {
            low: self.min,
            high: self.max,
            counts,
        }
    }

    /// Voxels whose (fine) bin starts below `value`.
    fn voxels_below(&self, value: f64) -> u64 {
        let bins = ((value - self.first_value) / self.bin_width).ceil();
        if bins.is_nan() || bins <= 0.0 {
            return 0;
        }
        let bins = (bins as usize).min(self.cumulative.len());
        bins.checked_sub(1).map_or(0, |last| self.cumulative[last])
    }

    /// The value below which `p` per cent of the voxels lie; `p` is clamped to 0..=100.
    /// Monotonic in `p`; `percentile(0)` is `min` and `percentile(100)` is `max`.
    pub fn percentile(&self, p: f32) -> f32 {
        if self.count == 0 {
            return self.min;
        }
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        let rank = f64::from(p) / 100.0 * (self.count - 1) as f64;
        let low_rank = (rank.floor() as u64).min(self.count - 1);
        let high_rank = (low_rank + 1).min(self.count - 1);
        let low = self.value_at_rank(low_rank);
        let high = self.value_at_rank(high_rank);
        let value = low + (high - low) * (rank - low_rank as f64);
        (value as f32).clamp(self.min, self.max)
    }

    /// The value of the voxel at `rank` (0-based) in ascending order.
    fn value_at_rank(&self, rank: u64) -> f64 {
        if rank == 0 {
            return f64::from(self.min);
        }
        if rank + 1 >= self.count {
            return f64::from(self.max);
        }
        let bin = self.cumulative.partition_point(|&c| c <= rank);
        if self.integer_bins {
            return self.first_value + bin as f64;
        }
        // Spread a bin's voxels evenly across it.
        let before = bin.checked_sub(1).map_or(0, |b| self.cumulative[b]);
        let in_bin = self.cumulative.get(bin).map_or(1, |&c| (c - before).max(1));
        let within = ((rank - before) as f64 + 0.5) / in_bin as f64;
        self.first_value + (bin as f64 + within) * self.bin_width
    }

    /// The statistics of `count` whole values counted in `counted`.
    fn of_value_counts(counted: &ValueCounts, count: usize) -> VolumeStatistics {
        if counted.counts.is_empty() {
            return Self::empty();
        }
        Self {
            min: f32::from(counted.smallest),
            max: f32::from(counted.largest()),
            count: count as u64,
            first_value: f64::from(counted.smallest),
            bin_width: 1.0,
            integer_bins: true,
            cumulative: cumulate(&counted.counts),
        }
    }

    fn of_f32(values: &[f32]) -> VolumeStatistics {
        let (min, max, count) = values
            .par_chunks(CHUNK)
            .map(|chunk| {
                chunk.iter().filter(|v| v.is_finite()).fold(
                    (f32::INFINITY, f32::NEG_INFINITY, 0u64),
                    |(lo, hi, n), &v| (lo.min(v), hi.max(v), n + 1),
                )
            })
            .reduce(
                || (f32::INFINITY, f32::NEG_INFINITY, 0),
                |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 + b.2),
            );
        if count == 0 {
            return Self::empty();
        }
        let bins = if max > min { FLOAT_BINS } else { 1 };
        let first_value = f64::from(min);
        let bin_width = (f64::from(max) - first_value) / bins as f64;
        let scale = if bin_width > 0.0 {
            1.0 / bin_width
        } else {
            0.0
        };
        let histogram = values
            .par_chunks(CHUNK)
            .fold(
                || vec![0u64; bins],
                |mut histogram, chunk| {
                    for &v in chunk.iter().filter(|v| v.is_finite()) {
                        let bin = ((f64::from(v) - first_value) * scale) as usize;
                        histogram[bin.min(bins - 1)] += 1;
                    }
                    histogram
                },
            )
            .reduce(|| vec![0u64; bins], value_counts::add);
        Self {
            min,
            max,
            count,
            first_value,
            bin_width,
            integer_bins: false,
            cumulative: cumulate(&histogram),
        }
    }

    fn empty() -> VolumeStatistics {
        Self {
            min: 0.0,
            max: 0.0,
            count: 0,
            first_value: 0.0,
            bin_width: 1.0,
            integer_bins: true,
            cumulative: Vec::new(),
        }
    }
}

/// Bins of a histogram of whole 16-bit values, one a value.
fn cumulate(histogram: &[u64]) -> Vec<u64> {
    histogram
        .iter()
        .scan(0u64, |total, &c| {
            *total += c;
            Some(*total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use glam::DMat4;
    use proptest::prelude::*;

    use super::*;
    use hounsfield_volume::Modality;

    fn volume(voxels: Voxels) -> Volume {
        let n = voxels.len();
        Volume::new(voxels, [n, 1, 1], DMat4::IDENTITY, Modality::MR, None)
            .expect("dims match the voxel count")
    }

    /// Counts each value's bin directly, as the histogram defines its bins.
    fn counted(values: &[f32], bins: usize) -> Vec<u64> {
        let (low, high) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let width = (f64::from(high) - f64::from(low)) / bins as f64;
        let mut counts = vec![0; bins];
        for &v in values {
            let bin = ((f64::from(v) - f64::from(low)) / width).floor() as usize;
            counts[bin.min(bins - 1)] += 1;
        }
        counts
    }

    #[test]
    fn a_whole_valued_histogram_counts_every_voxel_in_its_bin() {
        let values: Vec<i16> = (0..20_000)
            .map(|n: i32| ((n * 7919) % 3000 - 1024) as i16)
            .collect();
        let floats: Vec<f32> = values.iter().map(|&v| f32::from(v)).collect();
        let stats = VolumeStatistics::of(&volume(Voxels::I16(values)));
        for bins in [1, 7, 64, 256] {
            let histogram = stats.histogram(bins);
            assert_eq!(histogram.low, -1024.0);
            assert_eq!(histogram.high, 1975.0);
            assert_eq!(histogram.counts, counted(&floats, bins), "{bins} bins");
        }
        assert_eq!(stats.histogram(0).counts.len(), 1);
        assert_eq!(
            stats.histogram(usize::MAX).counts.len(),
            MOST_HISTOGRAM_BINS
        );
    }

    /// numpy's default percentile of sorted values: linear between the nearest ranks.
    fn reference_percentile(sorted: &[f64], p: f64) -> f64 {
        let rank = p / 100.0 * (sorted.len() - 1) as f64;
        let low = rank.floor() as usize;
        let high = (low + 1).min(sorted.len() - 1);
        sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
    }

    /// A scrambled, skewed set of i16 values (mostly dark, a bright tail, one outlier).
    fn skewed_i16() -> Vec<i16> {
        (0..20_011u32)
            .map(|n| {
                let x = (n.wrapping_mul(7_919) % 20_011) as i32;
                let v = if x < 8_000 { x % 13 } else { 100 + x / 7 };
                if n == 5 { 31_000 } else { v as i16 }
            })
            .collect()
    }

    #[test]
    fn median_of_known_i16_values() {
        // 1..=101 in scrambled order: the median is 51 exactly.
        let values: Vec<i16> = (0..101i16).map(|n| (n * 37) % 101 + 1).collect();
        let stats = VolumeStatistics::of(&volume(Voxels::I16(values)));
        assert_eq!(stats.percentile(50.0), 51.0);
        assert_eq!((stats.min, stats.max, stats.count), (1.0, 101.0, 101));
        assert_eq!(stats.percentile(0.0), 1.0);
        assert_eq!(stats.percentile(100.0), 101.0);
        assert_eq!(stats.percentile(25.0), 26.0);
    }

    #[test]
    fn i16_percentiles_are_exact() {
        let values = skewed_i16();
        let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        sorted.sort_by(f64::total_cmp);
        let stats = VolumeStatistics::of(&volume(Voxels::I16(values)));
        for p in [
            0.0, 0.5, 1.0, 20.0, 39.99, 40.0, 50.0, 73.3, 99.0, 99.9, 100.0,
        ] {
            let expected = reference_percentile(&sorted, f64::from(p));
            let found = f64::from(stats.percentile(p));
            assert!(
                (found - expected).abs() < 1e-3 * expected.abs().max(1.0),
                "p{p}: {found} ≠ {expected}"
            );
        }
    }

    #[test]
    fn f32_percentiles_are_within_one_bin() {
        let values: Vec<f32> = skewed_i16()
            .iter()
            .enumerate()
            .map(|(n, &v)| f32::from(v) * 0.37 + (n % 7) as f32 * 0.01)
            .chain([f32::NAN, f32::INFINITY])
            .collect();
        let mut sorted: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| f64::from(v))
            .collect();
        sorted.sort_by(f64::total_cmp);
        let stats = VolumeStatistics::of(&volume(Voxels::F32(values)));
        assert_eq!(stats.count, sorted.len() as u64);
        let bin = (sorted[sorted.len() - 1] - sorted[0]) / FLOAT_BINS as f64;
        for p in [0.0, 1.0, 20.0, 50.0, 75.0, 99.0, 100.0] {
            let expected = reference_percentile(&sorted, f64::from(p));
            let found = f64::from(stats.percentile(p));
            assert!(
                (found - expected).abs() <= bin * 1.001,
                "p{p}: {found} vs {expected}, bin {bin}"
            );
        }
    }

    #[test]
    fn phantom_range_and_flat_volumes() {
        let stats = VolumeStatistics::of(&hounsfield_volume::phantom::ct_phantom());
        assert_eq!((stats.min, stats.max), (-1000.0, 2000.0));
        assert_eq!(stats.percentile(0.0), -1000.0);
        assert_eq!(stats.percentile(100.0), 2000.0);
        let flat = VolumeStatistics::of(&volume(Voxels::F32(vec![3.5; 10])));
        assert_eq!(flat.percentile(50.0), 3.5);
        let nothing = VolumeStatistics::of(&volume(Voxels::F32(vec![f32::NAN; 4])));
        assert_eq!((nothing.count, nothing.percentile(50.0)), (0, 0.0));
    }

    /// Run by hand: `cargo test -p hounsfield-scene --release -- --ignored large_volume`.
    #[test]
    #[ignore = "timing; run by hand in release"]
    fn large_volume_statistics_are_fast() {
        let phantom = hounsfield_volume::phantom::ct_phantom();
        let Voxels::I16(small) = &phantom.voxels else {
            panic!("the phantom is i16")
        };
        // Scanner-like noise (±10 HU) so that runs of equal values are rare.
        let values: Vec<i16> = small
            .iter()
            .cycle()
            .take(512 * 512 * 400)
            .enumerate()
            .map(|(n, &v)| v + (((n as u32).wrapping_mul(2_654_435_761) >> 16) % 21) as i16 - 10)
            .collect();
        let voxels = Voxels::I16(values);
        let start = std::time::Instant::now();
        let stats = VolumeStatistics::of_voxels(&voxels);
        let elapsed = start.elapsed();
        eprintln!(
            "512x512x400 i16: {elapsed:?}, median {}",
            stats.percentile(50.0)
        );
        assert!(elapsed.as_millis() < 200, "{elapsed:?}");
    }

    proptest! {
        #[test]
        fn percentile_is_monotonic(
            values in prop::collection::vec(-2000i16..3000, 1..400),
            floats in prop::collection::vec(-1e3f32..1e4, 1..400),
            a in 0f32..=100.0,
            b in 0f32..=100.0,
        ) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            for stats in [
                VolumeStatistics::of(&volume(Voxels::I16(values))),
                VolumeStatistics::of(&volume(Voxels::F32(floats))),
            ] {
                prop_assert!(stats.percentile(low) <= stats.percentile(high));
                prop_assert!(stats.percentile(low) >= stats.min);
                prop_assert!(stats.percentile(high) <= stats.max);
            }
        }
    }
}
