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

#[cfg(test)]
mod volume_tests {
    use std::sync::Arc;

    use glam::{DMat4, DVec3};

    use crate::gpu::bricks::BrickGrid;
    use crate::gpu::{GpuContext, Renderer};
    use crate::phantom::ct_phantom;
    use crate::transfer::{PresetLibrary, RenderMode, VolumeStatistics};
    use crate::view::ViewState;
    use crate::{Modality, Volume, Voxels};

    /// A volume over the gradients' per-voxel limit (so shaded from cells of voxels): a
    /// ball of bone in soft tissue, in air.
    fn large_ball() -> Volume {
        let dims = [256, 256, 257];
        let centre = DVec3::new(128.0, 120.0, 130.0);
        let voxels = (0..dims[0] * dims[1] * dims[2])
            .map(|n| {
                let p = DVec3::new(
                    (n % dims[0]) as f64,
                    (n / dims[0] % dims[1]) as f64,
                    (n / (dims[0] * dims[1])) as f64,
                );
                match p.distance(centre) {
                    r if r < 60.0 => 900 + (n % 5) as i16,
                    r if r < 110.0 => 40 + (n % 13) as i16,
                    _ => -1000,
                }
            })
            .collect();
        Volume::new(
            Voxels::I16(voxels),
            dims,
            DMat4::from_scale(DVec3::splat(0.8)),
            Modality::CT,
            None,
        )
        .expect("a volume")
    }

    /// The picture of `volume` in `preset` and `mode`, on the software adapter.
    fn picture(volume: &Arc<Volume>, preset: &str, mode: RenderMode) -> Vec<u8> {
        picture_loaded(volume, preset, mode, |renderer, volume, _| {
            renderer.load_volume(volume);
        })
    }

    /// [`picture`], the volume loaded into the renderer by `load` for the view shown.
    fn picture_loaded(
        volume: &Arc<Volume>,
        preset: &str,
        mode: RenderMode,
        load: impl FnOnce(&mut Renderer, Arc<Volume>, &ViewState),
    ) -> Vec<u8> {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut renderer = Renderer::new(context, PresetLibrary::builtin());
        let mut view = ViewState::initial(volume, preset, mode);
        view.camera.orbit(30.0, 20.0);
        load(&mut renderer, Arc::clone(volume), &view);
        renderer
            .render_image(&view, [96, 72])
            .expect("renders")
            .rgba
    }

    /// Loads `volume` for showing `view` and tells the bytes of gradients made with it.
    fn gradient_bytes_loaded_for(
        renderer: &mut Renderer,
        volume: Arc<Volume>,
        view: &ViewState,
    ) -> u64 {
        renderer.load_volume_for(volume, view);
        renderer.footprint().expect("loaded").gradient_texture
    }

    #[test]
    fn gradients_made_in_the_uploads_pass_draw_as_those_made_at_the_first_frame() {
        // A gradient per voxel (the phantom), and per cell of a packed volume whose
        // slices are not whole upload slabs.
        for volume in [ct_phantom(), large_ball().packed()] {
            let volume = Arc::new(volume);
            let with_upload = picture_loaded(
                &volume,
                "ct-bone",
                RenderMode::Composite,
                |renderer, volume, view| {
                    let made = gradient_bytes_loaded_for(renderer, volume, view);
                    assert!(made > 0, "the gradients come with the upload");
                },
            );
            assert!(
                with_upload == picture(&volume, "ct-bone", RenderMode::Composite),
                "{:?} shades alike",
                volume.dims
            );
            // Nothing shaded to show: no gradients yet.
            picture_loaded(
                &volume,
                "ct-bone",
                RenderMode::Mip,
                |renderer, volume, view| {
                    let made = gradient_bytes_loaded_for(renderer, volume, view);
                    assert_eq!(made, 0, "a MIP needs no gradients");
                },
            );
        }
    }

    #[test]
    fn a_packed_volume_reads_measures_and_draws_as_its_plain_self() {
        for plain in [ct_phantom(), large_ball()] {
            let packed = plain.clone().packed();
            let Voxels::Packed(slices) = &packed.voxels else {
                panic!("whole values are packed")
            };
            assert_eq!(packed.size_bytes(), plain.size_bytes());
            assert!(
                slices.packed_bytes() * 2 < plain.size_bytes(),
                "{} of {} bytes",
                slices.packed_bytes(),
                plain.size_bytes()
            );
            assert_eq!(packed.voxels.value_range(), plain.voxels.value_range());
            let [ni, nj, nk] = plain.dims;
            for ijk in [
                [0, 0, 0],
                [ni - 1, nj - 1, nk - 1],
                [ni / 2, nj / 3, nk / 2],
            ] {
                assert_eq!(packed.value(ijk), plain.value(ijk), "voxel {ijk:?}");
            }
            let inside = DVec3::new(ni as f64 * 0.41, nj as f64 * 0.57, nk as f64 * 0.5);
            assert_eq!(packed.trilinear(inside), plain.trilinear(inside));
            assert_eq!(VolumeStatistics::of(&packed), VolumeStatistics::of(&plain));
            let (bricks, plain_bricks) = (BrickGrid::of(&packed), BrickGrid::of(&plain));
            assert_eq!(
                (bricks.min, bricks.max),
                (plain_bricks.min, plain_bricks.max)
            );
            assert_eq!(
                packed.block_averaged([2, 3, 2]).expect("averaged"),
                plain.block_averaged([2, 3, 2]).expect("averaged")
            );
            let (packed, plain) = (Arc::new(packed), Arc::new(plain));
            for (preset, mode) in [
                ("ct-bone", RenderMode::Composite),
                ("ct-bone", RenderMode::Mip),
            ] {
                assert!(
                    picture(&packed, preset, mode) == picture(&plain, preset, mode),
                    "{preset} {mode:?} of {:?} differs packed",
                    plain.dims
                );
            }
        }
    }
}
