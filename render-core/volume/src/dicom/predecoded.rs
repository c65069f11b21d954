//! Frames decoded ahead of the loader. While a series is still arriving (over DICOMweb),
//! each file that lands is decoded at once into frames of its own, so that the load that
//! follows copies them into the volume instead of decoding them again: decoding, the
//! longest part of a load, overlaps the network's wait.
//!
//! Frames are decoded by the loader's own [`decode_frames_within`] (every frame checked
//! first, the bound as its budget) into the type the loader would use for them (`i16`
//! when every rescaled value is whole and fits 16 bits, else `f32`), so the voxels are
//! the same either way. A file that is not a grey image, fails to decode
//! (the loader reports it) or would pass the byte bound is left to the loader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::budget::VoxelBudget;
use super::header::{FileKind, ImageHeader, read_file_headers};
use super::pixels::{FrameTarget, Sample, decode_frames_within};

/// One file's frames decoded ahead, each with its index in the file.
#[derive(Debug)]
pub(crate) enum Frames {
    /// Whole values within 16 bits.
    I16(Vec<(u32, Vec<i16>)>),
    /// Any other values.
    F32(Vec<(u32, Vec<f32>)>),
}

impl Frames {
    fn bytes(&self) -> u64 {
        match self {
            Self::I16(frames) => frames.iter().map(|(_, v)| v.len() as u64 * 2).sum(),
            Self::F32(frames) => frames.iter().map(|(_, v)| v.len() as u64 * 4).sum(),
        }
    }

    /// Copies the frames into `targets`; `false` (nothing trusted) when one is missing or
    /// of another size, so that the file is decoded again.
    pub(crate) fn copy_into<T: Sample>(&self, targets: &mut [FrameTarget<'_, T>]) -> bool {
        match self {
            Self::I16(frames) => copy(frames, targets, |v| T::from_whole(i32::from(v))),
            Self::F32(frames) => copy(frames, targets, |v| T::from_rescaled(f64::from(v))),
        }
    }
}

/// Copies `frames` into the targets of the same frame index and size, converting each
/// value with `convert`; `false` when a target has none.
fn copy<V: Copy, T: Sample>(
    frames: &[(u32, Vec<V>)],
    targets: &mut [FrameTarget<'_, T>],
    convert: impl Fn(V) -> T,
) -> bool {
    let found: Option<Vec<&Vec<V>>> = targets
        .iter()
        .map(|target| {
            frames
                .iter()
                .find(|(frame, values)| *frame == target.frame && values.len() == target.out.len())
                .map(|(_, values)| values)
        })
        .collect();
    let Some(found) = found else {
        return false;
    };
    for (target, values) in targets.iter_mut().zip(found) {
        for (out, &value) in target.out.iter_mut().zip(values) {
            *out = convert(value);
        }
    }
    true
}

/// Frames decoded ahead, by file, within a byte bound.
#[derive(Debug, Default)]
pub struct PreDecoded {
    max_bytes: u64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes held by the frames not yet taken (and promised to decodes under way).
    bytes: u64,
    files: HashMap<PathBuf, Frames>,
}

impl PreDecoded {
    /// Frames of at most `max_bytes` in all (a series' voxel budget).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            state: Mutex::default(),
        }
    }

    /// Decodes every frame of `file` ahead; does nothing for a file that is not a grey
    /// image, fails to decode, or would pass the bound. Blocking: call it on a worker
    /// thread.
    pub fn decode(&self, file: &Path) {
        let Ok(FileKind::Images(headers)) = read_file_headers(file) else {
            return;
        };
        let Some(first) = headers.first() else {
            return;
        };
        let (columns, rows) = (first.columns, first.rows);
        let alike = |header: &ImageHeader| {
            header.pixel_format == first.pixel_format
                && (header.columns, header.rows) == (columns, rows)
        };
        if columns == 0
            || rows == 0
            || first.pixel_format.samples_per_pixel != 1
            || !headers.iter().all(alike)
        {
            return;
        }
        let decoded = if headers.iter().all(fits_i16) {
            self.decode_as::<i16>(file, &headers).map(Frames::I16)
        } else {
            self.decode_as::<f32>(file, &headers).map(Frames::F32)
        };
        if let Some(frames) = decoded {
            let mut state = self.lock();
            if let Some(replaced) = state.files.insert(file.to_path_buf(), frames) {
                state.bytes = state.bytes.saturating_sub(replaced.bytes());
            }
        }
    }

    /// The frames of `file` (described by `headers`, alike) decoded as `T`, within the
    /// bound; `None` when over it or the decoder fails.
    fn decode_as<T: Sample>(
        &self,
        file: &Path,
        headers: &[ImageHeader],
    ) -> Option<Vec<(u32, Vec<T>)>> {
        // A mosaic's slices share a frame: decoded when the series loads, not ahead.
        if headers.iter().any(|header| header.tile.is_some()) {
            return None;
        }
        let slice_len = headers[0].columns as usize * headers[0].rows as usize;
        let bytes = (slice_len * std::mem::size_of::<T>() * headers.len()) as u64;
        if !self.reserve(bytes) {
            return None;
        }
        let mut frames: Vec<(u32, Vec<T>)> = headers
            .iter()
            .map(|header| (header.frame, vec![T::default(); slice_len]))
            .collect();
        let mut targets: Vec<FrameTarget<'_, T>> = headers
            .iter()
            .zip(frames.iter_mut())
            .map(|(header, (frame, out))| FrameTarget {
                frame: *frame,
                rescale: header.rescale,
                out,
                tile: None,
            })
            .collect();
        let budget = VoxelBudget::new(self.max_bytes);
        let decoded =
            decode_frames_within(file, headers[0].pixel_format, &mut targets, budget).is_ok();
        drop(targets);
        if decoded {
            Some(frames)
        } else {
            let mut state = self.lock();
            state.bytes = state.bytes.saturating_sub(bytes);
            None
        }
    }

    /// Takes the frames decoded ahead for `file`, if any.
    pub(crate) fn take(&self, file: &Path) -> Option<Frames> {
        let mut state = self.lock();
        let frames = state.files.remove(file)?;
        state.bytes = state.bytes.saturating_sub(frames.bytes());
        Some(frames)
    }

    /// How many files have frames waiting.
    pub fn files(&self) -> usize {
        self.lock().files.len()
    }

    /// Promises `bytes` to a decode; `false` when the bound would be passed.
    fn reserve(&self, bytes: u64) -> bool {
        let mut state = self.lock();
        if state.bytes.saturating_add(bytes) > self.max_bytes {
            return false;
        }
        state.bytes += bytes;
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Plain values: a panic elsewhere cannot leave them half written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether every rescaled value of this image is a whole number within `i16`.
pub(crate) fn fits_i16(header: &ImageHeader) -> bool {
    let (lo, hi) = header.pixel_format.stored_range();
    let (a, b) = (header.rescale.apply(lo), header.rescale.apply(hi));
    header.rescale.is_integral()
        && a.min(b) >= f64::from(i16::MIN)
        && a.max(b) <= f64::from(i16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::budget::VoxelBudget;
    use crate::dicom::{Catalog, load_series_predecoded, load_series_within};
    use crate::progress::no_progress;

    /// A folder of the shared data.
    fn data(name: &str) -> PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(name)
    }

    /// Loads every volume series of `folder` plainly and with all of its files decoded
    /// ahead; returns how many files were decoded ahead and taken.
    fn same_volumes_either_way(folder: &str) -> usize {
        let catalog = Catalog::scan(&[data(folder)], &no_progress);
        let budget = VoxelBudget::new(4 << 30);
        let mut taken = 0;
        for series in catalog.series().filter(|series| series.plan.is_ok()) {
            let plain = load_series_within(series, budget, &no_progress).expect("loads");
            let ahead = PreDecoded::new(4 << 30);
            for image in &series.images {
                ahead.decode(&image.file);
            }
            let waiting = ahead.files();
            let loaded =
                load_series_predecoded(series, budget, &no_progress, Some(&ahead)).expect("loads");
            taken += waiting - ahead.files();
            assert!(
                loaded.volume == plain.volume,
                "{}: the voxels decoded ahead differ",
                series.id
            );
            assert_eq!(loaded.warnings, plain.warnings);
        }
        taken
    }

    #[test]
    fn a_series_decoded_ahead_is_the_volume_decoded_by_the_loader() {
        // JPEG 2000 CT (i16), and the lumbar MR whose tilted series is resampled (f32).
        assert!(same_volumes_either_way("ct-head-neck") >= 295);
        assert!(same_volumes_either_way("mr-lumbar") > 0);
    }

    #[test]
    fn past_its_bound_a_file_is_left_to_the_loader() {
        let catalog = Catalog::scan(&[data("mr-sag-oblique")], &no_progress);
        let series = catalog.series().next().expect("a series");
        let slice_bytes = u64::from(series.images[0].rows * series.images[0].columns) * 2;
        let ahead = PreDecoded::new(slice_bytes * 3);
        for image in &series.images {
            ahead.decode(&image.file);
        }
        assert_eq!(ahead.files(), 3, "three slices fit the bound");
        let plain =
            load_series_within(series, VoxelBudget::new(4 << 30), &no_progress).expect("loads");
        let loaded = load_series_predecoded(
            series,
            VoxelBudget::new(4 << 30),
            &no_progress,
            Some(&ahead),
        )
        .expect("loads");
        assert!(loaded.volume == plain.volume);
        assert_eq!(ahead.files(), 0, "the three were taken");
    }
}
