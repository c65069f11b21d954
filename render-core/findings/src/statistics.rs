//! A region's statistics over the volume's voxels on its slice.
//!
//! Where the slice is a plane of the voxel grid (the acquisition plane, or any plane of
//! a grid aligned with the patient's axes) the statistics are over the stored voxels of
//! the grid slice nearest to the region whose centres fall inside the outline, with no
//! interpolation: what a DICOM tool computes from the same pixel data. Where the grid is
//! tilted to the slice, the slice is sampled at the grid's finest spacing and each sample
//! takes its nearest voxel.

use glam::{DVec2, DVec3};
use hounsfield_vocabulary::RegionStatistics;
use hounsfield_volume::{Modality, Volume};

use crate::error::FindingError;
use crate::outline::{Outline, PlaneAxes};

/// How close to parallel a voxel axis and the slice's normal must be (cosine) for the
/// slice to be a plane of the grid: well within a hundredth of a degree.
const PARALLEL_COSINE: f64 = 1.0 - 1e-8;

/// Decimal places the statistics are given to: far below any scanner's precision, and
/// what a DICOM decimal string (16 characters) carries exactly.
const DECIMALS: i32 = 4;

/// The statistics of the voxels inside `outline`, drawn at `depth` mm along `axes`'
/// normal.
pub fn region_statistics(
    volume: &Volume,
    axes: &PlaneAxes,
    outline: &Outline,
    depth: f64,
) -> Result<RegionStatistics, FindingError> {
    let mut tally = Tally::default();
    tally_region(volume, axes, outline, depth, &mut tally)?;
    tally.statistics(outline.area_mm2(), unit_of(&volume.modality))
}

/// The voxels the statistics of the region are over (indices into the volume's voxels,
/// each once, in order): where a PET region's SUVpeak sphere may be centred.
pub fn region_voxels(
    volume: &Volume,
    axes: &PlaneAxes,
    outline: &Outline,
    depth: f64,
) -> Result<Vec<usize>, FindingError> {
    let mut tally = Tally {
        kept: Some(Vec::new()),
        ..Tally::default()
    };
    tally_region(volume, axes, outline, depth, &mut tally)?;
    let mut voxels = tally.kept.unwrap_or_default();
    voxels.sort_unstable();
    voxels.dedup();
    Ok(voxels)
}

/// Tallies the region's voxels: the grid's own where the slice is a plane of it, else
/// samples.
fn tally_region(
    volume: &Volume,
    axes: &PlaneAxes,
    outline: &Outline,
    depth: f64,
    tally: &mut Tally,
) -> Result<(), FindingError> {
    match grid_axis_along(volume, axes.normal) {
        Some(axis) => tally_grid_slice(volume, axes, outline, depth, axis, tally),
        None => {
            tally_samples(volume, axes, outline, depth, tally);
            Ok(())
        }
    }
}

/// The unit of a volume's values: Hounsfield units for CT.
pub fn unit_of(modality: &Modality) -> &'static str {
    match modality {
        Modality::CT => "HU",
        _ => "",
    }
}

/// `value` to the decimals findings are given to.
pub fn rounded(value: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    let rounded = (value * scale).round() / scale;
    // No negative zero in a report.
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// The voxel axis (0 = i, 1 = j, 2 = k) parallel to `normal`, if one is.
pub(crate) fn grid_axis_along(volume: &Volume, normal: DVec3) -> Option<usize> {
    let columns = [
        volume.voxel_to_lps.x_axis,
        volume.voxel_to_lps.y_axis,
        volume.voxel_to_lps.z_axis,
    ];
    columns.iter().position(|column| {
        let direction = column.truncate().normalize_or_zero();
        direction.dot(normal).abs() >= PARALLEL_COSINE
    })
}

/// Tallies the stored voxels of the grid slice across `axis` nearest to the outline.
fn tally_grid_slice(
    volume: &Volume,
    axes: &PlaneAxes,
    outline: &Outline,
    depth: f64,
    axis: usize,
    tally: &mut Tally,
) -> Result<(), FindingError> {
    let (low, high) = outline.bounds();
    let corners = [
        DVec2::new(low.x, low.y),
        DVec2::new(high.x, low.y),
        DVec2::new(low.x, high.y),
        DVec2::new(high.x, high.y),
    ]
    .map(|corner| volume.lps_to_voxel(axes.lift(corner, depth)));
    let slice = corners[0][axis].round();
    let last = volume.dims[axis] as f64 - 1.0;
    if !(0.0..=last).contains(&slice) {
        return Err(FindingError::OutsideVolume);
    }
    let (first_axis, second_axis) = match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    let range = |n: usize| {
        let (from, to) = corners
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
                (a.min(c[n]), b.max(c[n]))
            });
        let top = volume.dims[n] as f64 - 1.0;
        let from = from.ceil().max(0.0);
        let to = to.floor().min(top);
        if to < from {
            0..0
        } else {
            (from as usize)..(to as usize + 1)
        }
    };
    let (first, second) = (range(first_axis), range(second_axis));
    let mut ijk = [0usize; 3];
    ijk[axis] = slice as usize;
    for b in second {
        ijk[second_axis] = b;
        for a in first.clone() {
            ijk[first_axis] = a;
            let centre =
                volume.voxel_to_lps_point(DVec3::new(ijk[0] as f64, ijk[1] as f64, ijk[2] as f64));
            if outline.contains(axes.flatten(centre))
                && let Some(index) = volume.index(ijk)
                && let Some(value) = volume.value(ijk)
            {
                tally.add(value);
                tally.keep(index);
            }
        }
    }
    Ok(())
}

/// The most samples a region on a plane the grid is tilted to takes: a 2000 × 2000 grid,
/// beyond any region a CT slice holds at its finest spacing. A volume whose spacings
/// differ a hundredfold would otherwise have a region sampled billions of times.
pub const MAX_REGION_SAMPLES: f64 = 4.0e6;

/// Tallies samples of the slice at the grid's finest spacing (coarser where that would be
/// over [`MAX_REGION_SAMPLES`]), each the value of its nearest voxel.
fn tally_samples(
    volume: &Volume,
    axes: &PlaneAxes,
    outline: &Outline,
    depth: f64,
    tally: &mut Tally,
) {
    let step = volume
        .spacing_mm
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    // Only where the volume is: the region's box cut to the volume's extent in the plane.
    let (mut low, mut high) = outline.bounds();
    let extent = volume
        .corner_centres_lps()
        .map(|corner| axes.flatten(corner));
    let volume_low = extent
        .iter()
        .fold(DVec2::splat(f64::INFINITY), |a, b| a.min(*b));
    let volume_high = extent
        .iter()
        .fold(DVec2::splat(f64::NEG_INFINITY), |a, b| a.max(*b));
    low = low.max(volume_low);
    high = high.min(volume_high);
    if low.cmpgt(high).any() {
        return;
    }
    let span = high - low;
    let step = step.max(((span.x + step) * (span.y + step) / MAX_REGION_SAMPLES).sqrt());
    // A whole number of steps across is not lost to rounding.
    let count = |extent: f64| (extent / step + 1e-9).floor() as usize;
    let (columns, rows) = (count(high.x - low.x), count(high.y - low.y));
    // The voxels first, then their values in the volume's order (see `tally_values`).
    let mut voxels = Vec::new();
    for row in 0..=rows {
        for column in 0..=columns {
            let flat = low + DVec2::new(column as f64, row as f64) * step;
            if outline.contains(flat)
                && let Some(index) = volume.nearest_index(axes.lift(flat, depth))
            {
                voxels.push(index);
            }
        }
    }
    volume.tally_values(&mut voxels, |value| tally.add(value));
    for index in voxels {
        tally.keep(index);
    }
}

/// A running mean and spread (Welford's), with the extremes; and the voxels tallied,
/// where asked to keep them.
#[derive(Debug, Default)]
struct Tally {
    count: u64,
    mean: f64,
    squares: f64,
    min: f64,
    max: f64,
    kept: Option<Vec<usize>>,
}

impl Tally {
    fn keep(&mut self, index: usize) {
        if let Some(kept) = &mut self.kept {
            kept.push(index);
        }
    }

    fn add(&mut self, value: f64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        }
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.squares += delta * (value - self.mean);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    fn statistics(&self, area_mm2: f64, unit: &str) -> Result<RegionStatistics, FindingError> {
        if self.count == 0 {
            return Err(FindingError::NoVoxels);
        }
        Ok(RegionStatistics {
            mean: rounded(self.mean),
            sd: rounded((self.squares / self.count as f64).sqrt()),
            min: rounded(self.min),
            max: rounded(self.max),
            area_mm2: rounded(area_mm2),
            voxels: self.count,
            unit: unit.to_string(),
            suv: None,
        })
    }
}
