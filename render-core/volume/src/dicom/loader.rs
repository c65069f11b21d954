//! The series loader: decodes a catalogued series in parallel (rayon) into a [`Volume`],
//! slice by slice in the order the stack plan gives, applying each image's modality
//! rescale. Whole values that fit 16 bits are kept as `i16`, anything else as `f32`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::budget::VoxelBudget;
use super::catalog::Series;
use super::error::DicomError;
use super::header::ImageHeader;
use super::pixels::{FrameTarget, Sample, decode_frames_within};
use super::predecoded::{PreDecoded, fits_i16};
use super::skipped::SkippedFile;
use super::stack::{SAME_POSITION_MM, SliceSource, StackPlan, StackWarning, plan_stack};
use crate::progress::{Counter, ProgressFn, Stage};
use crate::volume::{Modality, ValueRange, Volume, Voxels};

/// A loaded series: its volume and what the reader should know about it.
#[derive(Debug)]
pub struct LoadedSeries {
    /// The volume.
    pub volume: Volume,
    /// Geometry findings (tilt, spacing, time points…).
    pub warnings: Vec<StackWarning>,
    /// Time points in the series (the first is loaded).
    pub time_points: usize,
    /// Slices decoded.
    pub slices: usize,
    /// Images that could not be decoded and were left out, with reasons.
    pub skipped: Vec<SkippedFile>,
}

/// Loads a catalogued series within the machine's voxel budget
/// ([`VoxelBudget::for_machine`]).
pub fn load_series(series: &Series, progress: ProgressFn<'_>) -> Result<LoadedSeries, DicomError> {
    load_series_within(series, VoxelBudget::for_machine(), progress)
}

/// Loads a catalogued series into a volume, refusing it before anything is allocated
/// when its planned size is over `budget`. Images that fail to decode are left out and
/// reported, and the stack is planned again from the rest, so one broken file does not
/// lose the series (its gap is reported and interpolated like a missing slice).
pub fn load_series_within(
    series: &Series,
    budget: VoxelBudget,
    progress: ProgressFn<'_>,
) -> Result<LoadedSeries, DicomError> {
    load_series_predecoded(series, budget, progress, None)
}

/// [`load_series_within`], taking the frames of `predecoded` where it holds a file's
/// instead of decoding it again (a series decoded while it arrived).
pub fn load_series_predecoded(
    series: &Series,
    budget: VoxelBudget,
    progress: ProgressFn<'_>,
    predecoded: Option<&PreDecoded>,
) -> Result<LoadedSeries, DicomError> {
    let plan = series
        .plan
        .as_ref()
        .map_err(|reason| DicomError::InconsistentSeries {
            series: series.id.clone(),
            reason: reason.clone(),
        })?;
    if let Some(what) = &series.unsupported {
        return Err(DicomError::Unsupported {
            file: series.images[0].file.clone(),
            what: what.clone(),
        });
    }
    budget.check(&series.id, plan)?;
    let sources: Vec<&ImageHeader> = plan
        .slices
        .iter()
        .map(|s| &series.images[s.image])
        .collect();
    match load_plan(&series.id, plan, &sources, budget, progress, predecoded)? {
        Ok(loaded) => Ok(loaded),
        Err(failures) => {
            let good: Vec<ImageHeader> = series
                .images
                .iter()
                .filter(|image| !failures.iter().any(|(file, _)| *file == image.file))
                .cloned()
                .collect();
            let skipped: Vec<SkippedFile> = failures
                .into_iter()
                .map(|(file, error)| SkippedFile {
                    file,
                    reason: error.reason(),
                })
                .collect();
            if good.is_empty() {
                return Err(DicomError::InconsistentSeries {
                    series: series.id.clone(),
                    reason: format!(
                        "no image could be decoded; first failure: {}: {}",
                        skipped[0].file.display(),
                        skipped[0].reason
                    ),
                });
            }
            let plan = plan_stack(&series.id, &good)?;
            budget.check(&series.id, &plan)?;
            let sources: Vec<&ImageHeader> = plan.slices.iter().map(|s| &good[s.image]).collect();
            match load_plan(&series.id, &plan, &sources, budget, progress, predecoded)? {
                Ok(mut loaded) => {
                    loaded.skipped = skipped;
                    Ok(loaded)
                }
                Err(mut more) => Err(more.swap_remove(0).1),
            }
        }
    }
}

/// Decodes the planned slices; the outer error is fatal, the inner lists failed files.
#[allow(clippy::type_complexity)]
pub(super) fn load_plan(
    series_id: &str,
    plan: &StackPlan,
    sources: &[&ImageHeader],
    budget: VoxelBudget,
    progress: ProgressFn<'_>,
    predecoded: Option<&PreDecoded>,
) -> Result<Result<LoadedSeries, Vec<(PathBuf, DicomError)>>, DicomError> {
    let [columns, rows, _] = plan.dims;
    let slice_len = columns * rows;
    let counter = Counter::new(Stage::Decoding, sources.len(), progress);
    let fits_i16 = plan.resample_at_mm.is_none() && sources.iter().all(|h| fits_i16(h));
    // The value range measured while decoding, when the voxels stay as decoded.
    let (mut voxels, measured_range) = if fits_i16 {
        match decode_stack::<i16>(sources, slice_len, budget, &counter, predecoded)? {
            Ok((stack, range)) => (Voxels::I16(stack), range),
            Err(failures) => return Ok(Err(failures)),
        }
    } else {
        let (stack, range) =
            match decode_stack::<f32>(sources, slice_len, budget, &counter, predecoded)? {
                Ok(decoded) => decoded,
                Err(failures) => return Ok(Err(failures)),
            };
        match &plan.resample_at_mm {
            Some(at) => (
                Voxels::F32(resample_along_normal(&stack, &plan.slices, at, slice_len)),
                None,
            ),
            None => (Voxels::F32(stack), range),
        }
    };
    if plan.resample_at_mm.is_none() {
        voxels = narrowed(voxels);
    }
    let first = sources[0];
    let window = sources.iter().find_map(|h| h.window);
    let modality = Modality::from_code(&first.identity.modality);
    let volume = match measured_range {
        Some(range) => Volume::with_value_range(
            voxels,
            plan.dims,
            plan.voxel_to_lps,
            modality,
            window,
            range,
        ),
        None => Volume::new(voxels, plan.dims, plan.voxel_to_lps, modality, window),
    }
    .map_err(|e| DicomError::InconsistentSeries {
        series: series_id.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Ok(LoadedSeries {
        volume,
        warnings: plan.warnings.clone(),
        time_points: plan.time_points,
        slices: sources.len(),
        skipped: Vec::new(),
    }))
}

/// Decodes the slices in order; each file is opened once, its frames checked within
/// `budget` before any is decoded, files in parallel (a file `predecoded` holds is copied
/// from there instead). Returns the voxels and their value range, measured slice by slice
/// while each is still in cache.
#[allow(clippy::type_complexity)]
fn decode_stack<T: Sample>(
    sources: &[&ImageHeader],
    slice_len: usize,
    budget: VoxelBudget,
    counter: &Counter<'_>,
    predecoded: Option<&PreDecoded>,
) -> Result<Result<(Vec<T>, Option<ValueRange>), Vec<(PathBuf, DicomError)>>, DicomError> {
    let mut voxels = vec![T::default(); slice_len * sources.len()];
    let slots: Vec<&mut [T]> = voxels.chunks_mut(slice_len).collect();
    match decode_slices(sources, slots, budget, counter, predecoded)? {
        Ok(range) => Ok(Ok((voxels, range))),
        Err(failures) => Ok(Err(failures)),
    }
}

/// Decodes each source into its slot (the two in the same order): each file opened once,
/// its frames checked within `budget` before any is decoded, files in parallel (a file
/// `predecoded` holds is copied from there instead). Returns the value range of every
/// slot, measured slice by slice while each is still in cache.
#[allow(clippy::type_complexity)]
pub(super) fn decode_slices<T: Sample>(
    sources: &[&ImageHeader],
    slots: Vec<&mut [T]>,
    budget: VoxelBudget,
    counter: &Counter<'_>,
    predecoded: Option<&PreDecoded>,
) -> Result<Result<Option<ValueRange>, Vec<(PathBuf, DicomError)>>, DicomError> {
    let mut slots: Vec<Option<&mut [T]>> = slots.into_iter().map(Some).collect();
    let mut jobs: Vec<(&Path, &ImageHeader, Vec<FrameTarget<'_, T>>)> = Vec::new();
    let mut job_of_file: HashMap<&Path, usize> = HashMap::new();
    for (k, header) in sources.iter().enumerate() {
        let out = slots[k].take().ok_or_else(|| internal(&header.file))?;
        let target = FrameTarget {
            frame: header.frame,
            rescale: header.rescale,
            out,
            tile: header.tile,
        };
        match job_of_file.get(header.file.as_path()) {
            Some(&job) => jobs[job].2.push(target),
            None => {
                job_of_file.insert(header.file.as_path(), jobs.len());
                jobs.push((header.file.as_path(), header, vec![target]));
            }
        }
    }
    let results: Vec<Result<Option<ValueRange>, (PathBuf, DicomError)>> = jobs
        .into_par_iter()
        .map(|(file, header, mut targets)| {
            let count = targets.len();
            let ahead = predecoded.and_then(|frames| frames.take(file));
            let copied = ahead.is_some_and(|frames| frames.copy_into(&mut targets));
            let result = if copied {
                Ok(())
            } else {
                decode_frames_within(file, header.pixel_format, &mut targets, budget)
            };
            counter.add(count);
            result.map_err(|error| (file.to_path_buf(), error))?;
            Ok(targets
                .iter()
                .filter_map(|target| T::value_range(target.out))
                .reduce(ValueRange::union))
        })
        .collect();
    let mut range: Option<ValueRange> = None;
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(Some(part)) => range = Some(range.map_or(part, |r| r.union(part))),
            Ok(None) => {}
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() {
        Ok(Ok(range))
    } else {
        Ok(Err(failures))
    }
}

/// Values decoded as `f32` kept as `i16` when every one is a whole number that fits.
pub(super) fn narrowed(voxels: Voxels) -> Voxels {
    match voxels {
        Voxels::F32(values)
            if values
                .iter()
                .all(|v| v.fract() == 0.0 && (-32768.0..=32767.0).contains(v)) =>
        {
            Voxels::I16(values.iter().map(|&v| v as i16).collect())
        }
        other => other,
    }
}

fn internal(file: &Path) -> DicomError {
    DicomError::Decode {
        file: PathBuf::from(file),
        reason: "internal error: slice assigned twice".to_string(),
    }
}

/// Resamples an irregular stack onto uniform positions along the normal, linearly.
fn resample_along_normal(
    stack: &[f32],
    slices: &[SliceSource],
    at_mm: &[f64],
    slice_len: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; slice_len * at_mm.len()];
    out.par_chunks_mut(slice_len)
        .zip(at_mm.par_iter())
        .for_each(|(target, &d)| {
            let upper = slices
                .iter()
                .position(|s| s.normal_mm >= d - 1e-6)
                .unwrap_or(slices.len() - 1);
            let lower = upper.saturating_sub(1);
            let (d0, d1) = (slices[lower].normal_mm, slices[upper].normal_mm);
            // A grid position within the same-position tolerance of a slice takes that
            // slice as it is, so resampling changes no acquired slice.
            let t = if (d1 - d).abs() < SAME_POSITION_MM || d1 <= d0 {
                1.0
            } else if (d - d0).abs() < SAME_POSITION_MM {
                0.0
            } else {
                ((d - d0) / (d1 - d0)).clamp(0.0, 1.0) as f32
            };
            let a = &stack[lower * slice_len..(lower + 1) * slice_len];
            let b = &stack[upper * slice_len..(upper + 1) * slice_len];
            for ((o, &x), &y) in target.iter_mut().zip(a).zip(b) {
                *o = x + (y - x) * t;
            }
        });
    out
}
