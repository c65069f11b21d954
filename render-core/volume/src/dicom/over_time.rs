//! A series over time loaded whole: every volume the headers plan
//! ([`plan_time_points`]), each stacked and decoded as a series of one volume is, within
//! one voxel budget counted for all of them before anything is allocated.

use super::budget::VoxelBudget;
use super::catalog::Series;
use super::error::DicomError;
use super::header::ImageHeader;
use super::loader::{load_plan, load_series_within};
use super::skipped::SkippedFile;
use super::stack::{StackPlan, StackWarning, plan_stack};
use super::time_points::plan_time_points;
use crate::progress::ProgressFn;
use crate::volume::Volume;

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
    let plans: Vec<StackPlan> = stacks.iter().map(|(_, plan)| plan.clone()).collect();
    budget.check_volumes(&series.id, &plans)?;
    let mut volumes = Vec::with_capacity(stacks.len());
    for (time_point, (images, plan)) in time_points.into_iter().zip(&stacks) {
        let sources: Vec<&ImageHeader> = plan.slices.iter().map(|s| &images[s.image]).collect();
        let loaded = match load_plan(&series.id, plan, &sources, budget, progress, None)? {
            Ok(loaded) => loaded,
            Err(mut failures) => return Err(failures.swap_remove(0).1),
        };
        volumes.push(VolumeAtTime {
            label: time_point.label,
            time_s: time_point.time_s,
            volume: loaded.volume,
        });
    }
    Ok(SeriesOverTime {
        volumes,
        warnings: plans[0]
            .warnings
            .iter()
            .filter(|w| !matches!(w, StackWarning::TimePoints { .. }))
            .cloned()
            .collect(),
        skipped: Vec::new(),
    })
}
