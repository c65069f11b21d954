//! A segment's numbers: its volume, the statistics of the image values inside it, its
//! surface area and its extent.

use std::ops::Range;

use hounsfield_volume::Volume;
use hounsfield_volume::volume::Slab;
use rayon::prelude::*;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// What a segment measures.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMeasures {
    /// Voxels inside.
    pub voxels: usize,
    /// Voxels times one voxel's volume (mL).
    pub volume_ml: f64,
    /// Mean of the values inside (HU for a CT); `None` when empty, as are the others.
    pub mean: Option<f64>,
    /// Their standard deviation (of the population: divided by the count).
    pub sd: Option<f64>,
    /// The smallest value inside.
    pub min: Option<f64>,
    /// The largest value inside.
    pub max: Option<f64>,
    /// The median (the mean of the two middle values for an even count).
    pub median: Option<f64>,
    /// The area of the faces between voxels inside and voxels (or the grid's edge)
    /// outside (mm²).
    pub surface_mm2: f64,
    /// First and last voxel `(i, j, k)` of the box holding the segment.
    pub bounds: Option<([usize; 3], [usize; 3])>,
    /// That box's size along i, j, k (mm, whole voxels).
    pub extent_mm: [f64; 3],
}

/// The measures of `mask` on `volume`.
pub fn measure(volume: &Volume, mask: &Mask) -> Result<SegmentMeasures, SegmentError> {
    let grid = Grid::of(volume);
    grid.holding(mask)?;
    let voxels = mask.count();
    let bounds = mask.bounds();
    // Only the slices the segment touches are read (none for an empty one).
    let slices = bounds.map_or(0..0, |(low, high)| low[2]..high[2] + 1);
    let mut values = values_inside(volume, grid, mask, slices.clone());
    let statistics = Statistics::of(&mut values);
    let extent_mm = bounds.map_or([0.0; 3], |(low, high)| {
        [0, 1, 2].map(|a| (high[a] - low[a] + 1) as f64 * grid.spacing_mm[a])
    });
    Ok(SegmentMeasures {
        voxels,
        volume_ml: voxels as f64 * grid.voxel_volume_mm3() / 1000.0,
        mean: statistics.as_ref().map(|s| s.mean),
        sd: statistics.as_ref().map(|s| s.sd),
        min: statistics.as_ref().map(|s| s.min),
        max: statistics.as_ref().map(|s| s.max),
        median: statistics.as_ref().map(|s| s.median),
        surface_mm2: surface_mm2(mask, grid, slices),
        bounds,
        extent_mm,
    })
}

/// The values of the voxels inside, on `slices`, slice by slice. Kept as `f32`, which
/// holds every 16-bit value and every float value exactly, for the median.
fn values_inside(volume: &Volume, grid: Grid, mask: &Mask, slices: Range<usize>) -> Vec<f32> {
    let slice_len = grid.slice_len();
    let per_slice: Vec<Vec<f32>> = slices
        .into_par_iter()
        .map(|k| {
            let base = k * slice_len;
            let inside = (base..base + slice_len).filter(|&index| mask.contains(index));
            if inside.clone().next().is_none() {
                return Vec::new();
            }
            match volume.voxels.slab(k..k + 1, slice_len) {
                Slab::I16(values) => inside
                    .map(|index| f32::from(values[index - base]))
                    .collect(),
                Slab::F32(values) => inside.map(|index| values[index - base]).collect(),
            }
        })
        .collect();
    per_slice.concat()
}

struct Statistics {
    mean: f64,
    sd: f64,
    min: f64,
    max: f64,
    median: f64,
}

impl Statistics {
    fn of(values: &mut [f32]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let count = values.len() as f64;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / count;
        // Two passes: the squares of deviations, not of values, so no precision is lost.
        let variance = values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / count;
        let (min, max) = values
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let middle = values.len() / 2;
        let odd = values.len() % 2 == 1;
        let (below, &mut upper, _) = values.select_nth_unstable_by(middle, f32::total_cmp);
        let median = if odd {
            f64::from(upper)
        } else {
            let lower = below.iter().copied().fold(f32::MIN, f32::max);
            (f64::from(lower) + f64::from(upper)) / 2.0
        };
        Some(Self {
            mean,
            sd: variance.sqrt(),
            min: f64::from(min),
            max: f64::from(max),
            median,
        })
    }
}

/// The area of the mask's outer faces (mm²): each face of a voxel inside whose neighbour
/// across it is outside the mask or the grid counts once, with the area of that face;
/// `slices` are those holding the mask.
fn surface_mm2(mask: &Mask, grid: Grid, slices: Range<usize>) -> f64 {
    let [ni, nj, nk] = grid.dims;
    let [si, sj, sk] = grid.spacing_mm;
    let face_area = [sj * sk, si * sk, si * sj];
    let slice = ni * nj;
    let open_faces: [usize; 3] = slices
        .into_par_iter()
        .map(|k| {
            let mut faces = [0; 3];
            for index in (k * slice..(k + 1) * slice).filter(|&index| mask.contains(index)) {
                let [i, j, _] = grid.ijk(index);
                let open = |inside_grid: bool, neighbour: usize| {
                    usize::from(!inside_grid || !mask.contains(neighbour))
                };
                faces[0] += open(i > 0, index.wrapping_sub(1)) + open(i + 1 < ni, index + 1);
                faces[1] += open(j > 0, index.wrapping_sub(ni)) + open(j + 1 < nj, index + ni);
                faces[2] +=
                    open(k > 0, index.wrapping_sub(slice)) + open(k + 1 < nk, index + slice);
            }
            faces
        })
        .reduce(|| [0; 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]]);
    (0..3).map(|a| open_faces[a] as f64 * face_area[a]).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::volume_of;

    #[test]
    fn a_box_measures_as_worked_out_by_hand() {
        // A 2×3×1 box of values 1..=6 on 0.5 × 2 × 3 mm voxels.
        let volume = volume_of([4, 4, 3], |[i, j, k]| (1 + i + 2 * j + 10 * k) as f64);
        let volume = crate::testing::with_spacing(volume, [0.5, 2.0, 3.0]);
        let grid = Grid::of(&volume);
        let inside = [
            [1, 1, 1],
            [2, 1, 1],
            [1, 2, 1],
            [2, 2, 1],
            [1, 3, 1],
            [2, 3, 1],
        ];
        let mask = Mask::from_indices(grid, inside.iter().filter_map(|&ijk| grid.index(ijk)));
        let measures = measure(&volume, &mask).expect("measured");
        assert_eq!(measures.voxels, 6);
        assert!((measures.volume_ml - 6.0 * 3.0 / 1000.0).abs() < 1e-12);
        // Values: 14, 15, 16, 17, 18, 19.
        assert_eq!(measures.mean, Some(16.5));
        assert_eq!(measures.median, Some(16.5));
        assert_eq!((measures.min, measures.max), (Some(14.0), Some(19.0)));
        let sd = (17.5f64 / 6.0).sqrt();
        assert!((measures.sd.expect("an sd") - sd).abs() < 1e-12);
        // Faces: along i 2 × 3 rows × (2 × 3 mm²); along j 2 ends × 2 × (0.5 × 3);
        // along k 2 × 6 × (0.5 × 2).
        let surface = 6.0 * 6.0 + 4.0 * 1.5 + 12.0 * 1.0;
        assert!((measures.surface_mm2 - surface).abs() < 1e-9);
        assert_eq!(measures.bounds, Some(([1, 1, 1], [2, 3, 1])));
        assert_eq!(measures.extent_mm, [1.0, 6.0, 3.0]);
    }

    #[test]
    fn an_empty_segment_has_no_statistics() {
        let volume = volume_of([2, 2, 2], |_| 0.0);
        let measures = measure(&volume, &Mask::empty(Grid::of(&volume))).expect("measured");
        assert_eq!(
            (measures.voxels, measures.mean, measures.median),
            (0, None, None)
        );
        assert_eq!(measures.surface_mm2, 0.0);
    }
}
