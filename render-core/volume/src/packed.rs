//! A volume's 16-bit voxels kept losslessly compressed, slice by slice.
//!
//! A served volume is read from its CPU copy only now and then: to upload it to a renderer,
//! for a measurement, a finding's statistics, a preview. Every frame is drawn from the
//! renderer's texture. Kept plain, the CPU copy is as large as the texture, which a
//! software adapter holds in host memory too. Each slice here is stored as the differences
//! between neighbouring voxels (small numbers in soft tissue and air), compressed with
//! Zstandard at its fastest level: ct-head-neck's 147.5 MiB of voxels take about 67 MiB.
//! Zstandard is used through its crate, not written here.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rayon::prelude::*;

use crate::value_counts::ValueCounts;

/// Zstandard's level: its fastest; higher levels gain a few per cent for twice the time.
const LEVEL: i32 = 1;

/// Decoded slices kept for reads voxel by voxel (a trilinear sample spans two slices,
/// a curved reformat a few).
const RECENT_SLICES: usize = 4;

/// Slices of `i16` voxels, each compressed on its own.
pub struct PackedSlices {
    slice_len: usize,
    slices: Arc<[Box<[u8]>]>,
    /// How many voxels hold each value, counted while packing.
    value_counts: Arc<ValueCounts>,
    recent: Mutex<Vec<(usize, Arc<[i16]>)>>,
    /// Slices decoded for reads voxel by voxel, since packing.
    decoded: AtomicUsize,
}

impl PackedSlices {
    /// Packs `values`, slices of `slice_len` voxels one after the other (in parallel), and
    /// counts them.
    /// `None` when `slice_len` is 0, does not divide the voxels, or Zstandard fails.
    pub fn pack(values: &[i16], slice_len: usize) -> Option<Self> {
        if slice_len == 0 || !values.len().is_multiple_of(slice_len) {
            return None;
        }
        let slices = values
            .par_chunks(slice_len)
            .map(pack_slice)
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            slice_len,
            slices: slices.into(),
            value_counts: Arc::new(ValueCounts::of(values)),
            recent: Mutex::default(),
            decoded: AtomicUsize::new(0),
        })
    }

    /// Voxels in all.
    pub fn len(&self) -> usize {
        self.slices.len() * self.slice_len
    }

    /// Whether there are no voxels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slices.
    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// How many voxels hold each whole value: counted from the plain values while packing.
    pub fn value_counts(&self) -> &ValueCounts {
        &self.value_counts
    }

    /// Bytes the compressed slices and their value counts take.
    pub fn packed_bytes(&self) -> usize {
        self.slices.iter().map(|slice| slice.len()).sum::<usize>() + self.value_counts.bytes()
    }

    /// The voxels of slices `slices` (clamped to those there are), decoded one after the
    /// other.
    pub fn unpack(&self, slices: Range<usize>) -> Vec<i16> {
        let slices = slices.start.min(self.slices.len())..slices.end.min(self.slices.len());
        let mut values = vec![0_i16; slices.len() * self.slice_len];
        values
            .par_chunks_mut(self.slice_len.max(1))
            .zip(slices)
            .for_each(|(out, k)| self.unpack_slice(k, out));
        values
    }

    /// The voxel at flat index `index`, or `None` past the end; the slice it is in is
    /// decoded once for the next few reads nearby.
    pub fn get(&self, index: usize) -> Option<i16> {
        let k = index / self.slice_len.max(1);
        if k >= self.slices.len() {
            return None;
        }
        let slice = self.recent_slice(k);
        slice.get(index % self.slice_len).copied()
    }

    /// Slice `k` decoded, from the recent ones or decoded now (outside the lock).
    fn recent_slice(&self, k: usize) -> Arc<[i16]> {
        {
            let mut recent = lock(&self.recent);
            if let Some(at) = recent.iter().position(|(slice, _)| *slice == k) {
                let entry = recent.remove(at);
                let values = Arc::clone(&entry.1);
                recent.push(entry);
                return values;
            }
        }
        let mut values = vec![0_i16; self.slice_len];
        self.unpack_slice(k, &mut values);
        self.decoded.fetch_add(1, Ordering::Relaxed);
        let values: Arc<[i16]> = values.into();
        let mut recent = lock(&self.recent);
        if recent.len() >= RECENT_SLICES {
            recent.remove(0);
        }
        recent.push((k, Arc::clone(&values)));
        values
    }

    /// How many slices reads voxel by voxel ([`Self::get`]) have decoded: what a reader
    /// that jumps between slices costs.
    pub fn slices_decoded(&self) -> usize {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Decodes slice `k` into `out` (`slice_len` voxels).
    fn unpack_slice(&self, k: usize, out: &mut [i16]) {
        let decoded = zstd::bulk::decompress_to_buffer(
            &self.slices[k],
            bytemuck::cast_slice_mut::<i16, u8>(out),
        );
        // Only this module's own output is decoded, into a buffer of the size it came from.
        assert_eq!(
            decoded.ok(),
            Some(out.len() * 2),
            "packed slice {k} decodes to its own size"
        );
        let mut previous = 0_i16;
        for value in out.iter_mut() {
            previous = previous.wrapping_add(*value);
            *value = previous;
        }
    }
}

/// One slice as the differences between neighbours, compressed.
fn pack_slice(values: &[i16]) -> Option<Box<[u8]>> {
    let mut previous = 0_i16;
    let differences: Vec<i16> = values
        .iter()
        .map(|&value| {
            let difference = value.wrapping_sub(previous);
            previous = value;
            difference
        })
        .collect();
    zstd::bulk::compress(bytemuck::cast_slice(&differences), LEVEL)
        .ok()
        .map(Vec::into_boxed_slice)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The recent slices are a cache: whatever a panic left in it is still whole.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Clone for PackedSlices {
    fn clone(&self) -> Self {
        Self {
            slice_len: self.slice_len,
            slices: Arc::clone(&self.slices),
            value_counts: Arc::clone(&self.value_counts),
            recent: Mutex::default(),
            decoded: AtomicUsize::new(0),
        }
    }
}

impl PartialEq for PackedSlices {
    fn eq(&self, other: &Self) -> bool {
        self.slice_len == other.slice_len && self.slices == other.slices
    }
}

impl std::fmt::Debug for PackedSlices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedSlices")
            .field("slice_len", &self.slice_len)
            .field("slices", &self.slices.len())
            .field("packed_bytes", &self.packed_bytes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_unpack_to_the_values_packed_whatever_their_jumps() {
        let slice_len = 96;
        let values: Vec<i16> = (0..slice_len * 5)
            .map(|n| match n % 7 {
                0 => i16::MIN,
                1 => i16::MAX,
                _ => ((n * 37) % 4096) as i16 - 1024,
            })
            .collect();
        let packed = PackedSlices::pack(&values, slice_len).expect("packs");
        assert_eq!((packed.len(), packed.slice_count()), (values.len(), 5));
        assert_eq!(packed.unpack(0..5), values);
        assert_eq!(packed.unpack(2..4), values[2 * slice_len..4 * slice_len]);
        assert_eq!(packed.unpack(4..9), values[4 * slice_len..], "clamped");
        for index in [0, 1, 95, 96, 300, 479, 2, 200, 450, 10] {
            assert_eq!(packed.get(index), Some(values[index]), "voxel {index}");
        }
        assert_eq!(packed.get(values.len()), None);
        assert_eq!(packed.clone(), packed);
    }

    #[test]
    fn smooth_slices_take_far_fewer_bytes_and_bad_shapes_are_refused() {
        let values: Vec<i16> = (0..64 * 64 * 4).map(|n| (n % 64) as i16 - 1000).collect();
        let packed = PackedSlices::pack(&values, 64 * 64).expect("packs");
        assert!(
            packed.packed_bytes() * 20 < values.len() * 2,
            "{} bytes",
            packed.packed_bytes()
        );
        assert!(PackedSlices::pack(&values, 0).is_none());
        assert!(PackedSlices::pack(&values, 1000).is_none());
    }
}
