//! A series over time loaded whole: every volume the headers plan
//! ([`plan_time_points`]), each stacked and decoded as a series of one volume is, within
//! one voxel budget counted for all of them before anything is allocated.

use super::budget::VoxelBudget;
use super::catalog::Series;
use super::error::DicomError;
use super::header::ImageHeader;
use super::loader::{decode_slices, load_plan, load_series_within, narrowed};
use super::pixels::Sample;
use super::predecoded::fits_i16;
use super::skipped::SkippedFile;
use super::stack::{StackPlan, StackWarning, plan_stack};
use super::time_points::plan_time_points;
use crate::progress::{Counter, ProgressFn, Stage};
use crate::volume::{Modality, Volume, Voxels};

/// One volume of a series over time, loaded.
#[derive(Debug)]
pub struct VolumeAtTime {
    /// What tells it from the others (`time point 3`, `echo 2`…); empty in a series of
    /// one volume.
    pub label: String,
    /// Seconds from the first volume, or its cardiac phase; `None` without times.
    pub time_s: Option<f64>,
    /// The volume.
    pub volume: Volume,
}

/// Every volume of a series, in order.
#[derive(Debug)]
pub struct SeriesOverTime {
    /// The volumes (one for a series that is not over time).
    pub volumes: Vec<VolumeAtTime>,
    /// Geometry findings of the first volume's stack.
    pub warnings: Vec<StackWarning>,
    /// Images left out, with reasons (a series of one volume only: in a series over
    /// time an image that fails to decode fails the load, naming its file, since leaving
    /// it out would give one volume a gap the others lack).
    pub skipped: Vec<SkippedFile>,
}

/// Loads every volume of `series` within `budget`, counted for all volumes together and
/// refused, naming the series, the volumes and the budget, before any is decoded.
pub fn load_series_over_time(
    series: &Series,
    budget: VoxelBudget,
    progress: ProgressFn<'_>,
) -> Result<SeriesOverTime, DicomError> {
    let time_points = plan_time_points(&series.images);
    if time_points.len() <= 1 {
        let loaded = load_series_within(series, budget, progress)?;
        return Ok(SeriesOverTime {
            volumes: vec![VolumeAtTime {
                label: String::new(),
                time_s: None,
                volume: loaded.volume,
            }],
            warnings: loaded.warnings,
            skipped: loaded.skipped,
        });
    }
    if let Some(what) = &series.unsupported {
        return Err(DicomError::Unsupported {
            file: series.images[0].file.clone(),
            what: what.clone(),
        });
    }
    let stacks: Vec<(Vec<ImageHeader>, StackPlan)> = time_points
        .iter()
        .map(|time_point| {
            let images: Vec<ImageHeader> = time_point
                .images
                .iter()
                .map(|&image| series.images[image].clone())
                .collect();
            let plan = plan_stack(&series.id, &images)?;
            Ok((images, plan))
        })
        .collect::<Result<_, DicomError>>()?;
    let plans: Vec<&StackPlan> = stacks.iter().map(|(_, plan)| plan).collect();
    budget.check_volumes(&series.id, &plans)?;
    let one_pass = plans
        .iter()
        .all(|plan| plan.resample_at_mm.is_none() && plan.dims == plans[0].dims);
    let loaded: Vec<Volume> = if one_pass {
        load_in_one_pass(&series.id, &stacks, budget, progress)?
    } else {
        stacks
            .iter()
            .map(|(images, plan)| {
                let sources: Vec<&ImageHeader> =
                    plan.slices.iter().map(|s| &images[s.image]).collect();
                match load_plan(&series.id, plan, &sources, budget, progress, None)? {
                    Ok(loaded) => Ok(loaded.volume),
                    Err(mut failures) => Err(failures.swap_remove(0).1),
                }
            })
            .collect::<Result<_, DicomError>>()?
    };
    // Each volume holds one image a position, so its plan tells no time points: the
    // first volume's findings are the series' geometry.
    let warnings = plans[0].warnings.clone();
    let volumes = time_points
        .into_iter()
        .zip(loaded)
        .map(|(time_point, volume)| VolumeAtTime {
            label: time_point.label,
            time_s: time_point.time_s,
            volume,
        })
        .collect();
    Ok(SeriesOverTime {
        volumes,
        warnings,
        skipped: Vec::new(),
    })
}

/// Every volume's slices decoded in one pass (volumes of one grid, none resampled): a file
/// holding several volumes' frames, as an enhanced file does, is opened once, and every
/// volume's files decode in parallel.
fn load_in_one_pass(
    series_id: &str,
    stacks: &[(Vec<ImageHeader>, StackPlan)],
    budget: VoxelBudget,
    progress: ProgressFn<'_>,
) -> Result<Vec<Volume>, DicomError> {
    let sources: Vec<&ImageHeader> = stacks
        .iter()
        .flat_map(|(images, plan)| plan.slices.iter().map(move |s| &images[s.image]))
        .collect();
    let plans: Vec<&StackPlan> = stacks.iter().map(|(_, plan)| plan).collect();
    let [columns, rows, _] = plans[0].dims;
    let slice_len = columns * rows;
    let counter = Counter::new(Stage::Decoding, sources.len(), progress);
    let voxels: Vec<Voxels> = if sources.iter().all(|header| fits_i16(header)) {
        decode_volumes::<i16>(&sources, &plans, slice_len, budget, &counter)?
            .into_iter()
            .map(Voxels::I16)
            .collect()
    } else {
        decode_volumes::<f32>(&sources, &plans, slice_len, budget, &counter)?
            .into_iter()
            .map(|values| narrowed(Voxels::F32(values)))
            .collect()
    };
    let modality = Modality::from_code(&sources[0].identity.modality);
    let window = sources.iter().find_map(|header| header.window);
    voxels
        .into_iter()
        .zip(plans)
        .map(|(voxels, plan)| {
            Volume::new(
                voxels,
                plan.dims,
                plan.voxel_to_lps,
                modality.clone(),
                window,
            )
            .map_err(|e| DicomError::InconsistentSeries {
                series: series_id.to_string(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// The volumes' voxels, each volume's slices from `sources` in order.
fn decode_volumes<T: Sample>(
    sources: &[&ImageHeader],
    plans: &[&StackPlan],
    slice_len: usize,
    budget: VoxelBudget,
    counter: &Counter<'_>,
) -> Result<Vec<Vec<T>>, DicomError> {
    let mut volumes: Vec<Vec<T>> = plans
        .iter()
        .map(|plan| vec![T::default(); slice_len * plan.slices.len()])
        .collect();
    let slots: Vec<&mut [T]> = volumes
        .iter_mut()
        .flat_map(|volume| volume.chunks_mut(slice_len))
        .collect();
    match decode_slices(sources, slots, budget, counter, None)? {
        Ok(_) => Ok(volumes),
        Err(mut failures) => Err(failures.swap_remove(0).1),
    }
}
