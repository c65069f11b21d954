//! Fill between the slices of any plane, turned or standard: the reader draws on some
//! slices of a turned cell, and the slices between are filled by the same shape-based
//! interpolation as on a plane of the grid.
//!
//! A turned plane's slices do not lie on the grid's voxels, so each is laid onto a raster
//! in its own plane:
//! - A slice is a slab one voxel thick across the unit normal `n`, as the disc brush paints
//!   it: `w = Σ |n·aᵢ|` over the voxel axes `aᵢ` (a voxel's extent along `n`). The
//!   segment's voxels are put in bins of `w` by their distance along `n`; a *drawn slice*
//!   is a run of consecutive bins that hold voxels.
//! - Each drawn slice is laid on a raster of its plane spaced by the grid's smallest
//!   spacing: a raster point is inside where the voxel nearest to it, at the slice's middle
//!   distance, is one of the slice's voxels, or where one of the slice's voxel centres
//!   falls nearest to it.
//! - Between two consecutive drawn slices, a voxel whose distance lies strictly between
//!   theirs is inside where their signed distance maps, mixed linearly by that distance,
//!   are at most 0 at the raster point nearest to it.
//!
//! A normal along a grid axis is filled on that plane of the grid, exactly.

use glam::DVec3;
use hounsfield_volume::Volume;
use rayon::prelude::*;

use super::{GridPlane, fill_between, signed_distances};
use crate::SegmentError;
use crate::distance::Region;
use crate::mask::{Grid, Mask};

/// The most raster points (one bit each), over all its drawn slices, that a fill between
/// the slices of a turned plane lays out: 256 Mi, 32 MiB.
pub const MOST_TURNED_RASTER_BITS: u64 = 256 << 20;

/// How far from 1 the cosine between a normal and a voxel axis may be for the normal to
/// count as along that axis.
const ALONG_AXIS: f64 = 1e-9;

/// `mask` with the slices across `normal_lps` between each two consecutive drawn slices
/// filled by shape-based interpolation, the plane turned or standard.
pub fn fill_between_across(
    volume: &Volume,
    mask: &Mask,
    normal_lps: DVec3,
) -> Result<Mask, SegmentError> {
    let grid = Grid::of(volume);
    grid.holding(mask)?;
    let frame = PlaneFrame::of(volume, normal_lps)?;
    let planes = [GridPlane::Sagittal, GridPlane::Coronal, GridPlane::Axial];
    for (axis, plane) in planes.into_iter().enumerate() {
        let cosine = frame.steps[axis].across.abs() / grid.spacing_mm[axis];
        if cosine > 1.0 - ALONG_AXIS {
            return fill_between(mask, grid, plane);
        }
    }
    fill_turned(volume, mask, &frame)
}

/// A point's place in the plane's frame (mm): its distance along the normal and its two
/// coordinates in the plane, from the first voxel's centre.
#[derive(Debug, Clone, Copy, Default)]
struct Placed {
    /// Along the normal.
    across: f64,
    /// Along the plane's first axis.
    u: f64,
    /// Along its second.
    v: f64,
}

impl std::ops::Add for Placed {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            across: self.across + other.across,
            u: self.u + other.u,
            v: self.v + other.v,
        }
    }
}

impl std::ops::Mul<f64> for Placed {
    type Output = Self;
    fn mul(self, times: f64) -> Self {
        Self {
            across: self.across * times,
            u: self.u * times,
            v: self.v * times,
        }
    }
}

/// The plane's frame on the grid: a unit normal, two unit axes in the plane, and the
/// place of one voxel step along each voxel axis.
struct PlaneFrame {
    /// The first voxel's centre (LPS mm).
    origin_lps: DVec3,
    /// The unit normal (LPS).
    normal: DVec3,
    /// The plane's first axis (LPS).
    u: DVec3,
    /// Its second.
    v: DVec3,
    /// The place of one step along i, j and k.
    steps: [Placed; 3],
}

impl PlaneFrame {
    /// The frame of the plane across `normal_lps` on `volume`'s grid.
    fn of(volume: &Volume, normal_lps: DVec3) -> Result<Self, SegmentError> {
        let normal = normal_lps.try_normalize().ok_or_else(|| {
            SegmentError::Work(format!(
                "fill between needs the plane's normal, not {:?}",
                normal_lps.to_array()
            ))
        })?;
        let (u, v) = normal.any_orthonormal_pair();
        let origin_lps = volume.voxel_to_lps_point(DVec3::ZERO);
        let steps = [DVec3::X, DVec3::Y, DVec3::Z].map(|axis| {
            let step = volume.voxel_to_lps_point(axis) - origin_lps;
            Placed {
                across: step.dot(normal),
                u: step.dot(u),
                v: step.dot(v),
            }
        });
        Ok(Self {
            origin_lps,
            normal,
            u,
            v,
            steps,
        })
    }

    /// The place of voxel `(i, j, k)`'s centre.
    fn place(&self, [i, j, k]: [usize; 3]) -> Placed {
        self.steps[0] * i as f64 + self.steps[1] * j as f64 + self.steps[2] * k as f64
    }

    /// The LPS point of a place.
    fn lps(&self, place: Placed) -> DVec3 {
        self.origin_lps + self.normal * place.across + self.u * place.u + self.v * place.v
    }

    /// A voxel's extent along the normal (mm): the thickness of one slice.
    fn slice_thickness(&self) -> f64 {
        self.steps.iter().map(|step| step.across.abs()).sum()
    }
}

/// One drawn slice: its voxels' nearest and farthest distance along the normal, and the
/// box of their places in the plane.
#[derive(Debug, Clone, Copy)]
struct DrawnSlice {
    /// The nearest voxel centre's distance (mm).
    near: f64,
    /// The farthest's.
    far: f64,
    /// The smallest `u` and `v`.
    low: [f64; 2],
    /// The largest.
    high: [f64; 2],
}

impl DrawnSlice {
    fn of(place: Placed) -> Self {
        Self {
            near: place.across,
            far: place.across,
            low: [place.u, place.v],
            high: [place.u, place.v],
        }
    }

    fn take(&mut self, place: Placed) {
        self.join(&Self::of(place));
    }

    fn join(&mut self, other: &Self) {
        self.near = self.near.min(other.near);
        self.far = self.far.max(other.far);
        for axis in 0..2 {
            self.low[axis] = self.low[axis].min(other.low[axis]);
            self.high[axis] = self.high[axis].max(other.high[axis]);
        }
    }

    /// The middle of its distances along the normal (mm).
    fn middle(&self) -> f64 {
        0.5 * (self.near + self.far)
    }
}

/// The raster the drawn slices are laid on: points `spacing` apart from `(u0, v0)`.
struct Raster {
    grid: Grid,
    u0: f64,
    v0: f64,
    spacing: f64,
}

impl Raster {
    /// The raster point nearest to a place, if on the raster.
    fn point(&self, place: Placed) -> Option<[usize; 2]> {
        let ru = ((place.u - self.u0) / self.spacing).round();
        let rv = ((place.v - self.v0) / self.spacing).round();
        let inside = ru >= 0.0
            && rv >= 0.0
            && ru < self.grid.dims[0] as f64
            && rv < self.grid.dims[1] as f64;
        inside.then_some([ru as usize, rv as usize])
    }

    /// The place of raster point `(ru, rv)` at distance `across`.
    fn place(&self, [ru, rv]: [usize; 2], across: f64) -> Placed {
        Placed {
            across,
            u: self.u0 + ru as f64 * self.spacing,
            v: self.v0 + rv as f64 * self.spacing,
        }
    }

    /// The raster points of a drawn slice's box, widened by one.
    fn box_of(&self, slice: &DrawnSlice) -> ([usize; 3], [usize; 3]) {
        let corner = |[u, v]: [f64; 2]| Placed { across: 0.0, u, v };
        let low = self.point(corner(slice.low)).unwrap_or([0, 0]);
        let high = self
            .point(corner(slice.high))
            .unwrap_or([self.grid.dims[0] - 1, self.grid.dims[1] - 1]);
        (
            [low[0].saturating_sub(1), low[1].saturating_sub(1), 0],
            [
                (high[0] + 1).min(self.grid.dims[0] - 1),
                (high[1] + 1).min(self.grid.dims[1] - 1),
                0,
            ],
        )
    }
}

/// The fill across a plane that is not along a grid axis.
fn fill_turned(volume: &Volume, mask: &Mask, frame: &PlaneFrame) -> Result<Mask, SegmentError> {
    let grid = Grid::of(volume);
    let thickness = frame.slice_thickness();
    // Bins of one slice's thickness, from the grid's nearest corner along the normal.
    let corners = (0..8).map(|corner: usize| {
        frame
            .place([0, 1, 2].map(|axis| {
                if corner >> axis & 1 == 1 {
                    grid.dims[axis] - 1
                } else {
                    0
                }
            }))
            .across
    });
    let (nearest, farthest) = corners.fold((f64::MAX, f64::MIN), |(low, high), across| {
        (low.min(across), high.max(across))
    });
    let bin_count = ((farthest - nearest) / thickness).floor() as usize + 1;
    let bin_of =
        |across: f64| (((across - nearest) / thickness).floor() as usize).min(bin_count - 1);
    let mut bins: Vec<Option<DrawnSlice>> = vec![None; bin_count];
    for index in mask.indices() {
        let place = frame.place(grid.ijk(index));
        match &mut bins[bin_of(place.across)] {
            Some(slice) => slice.take(place),
            empty => *empty = Some(DrawnSlice::of(place)),
        }
    }
    // Runs of bins holding voxels are the drawn slices.
    let mut drawn: Vec<DrawnSlice> = Vec::new();
    let mut slice_of_bin: Vec<Option<usize>> = vec![None; bin_count];
    let mut previous_held = false;
    for (bin, held) in bins.iter().enumerate() {
        if let Some(slice) = held {
            match drawn.last_mut() {
                Some(last) if previous_held => last.join(slice),
                _ => drawn.push(*slice),
            }
            slice_of_bin[bin] = Some(drawn.len() - 1);
        }
        previous_held = held.is_some();
    }
    if drawn.len() < 2 {
        return Ok(mask.clone());
    }
    let raster = raster_for(&grid, &drawn)?;
    let images = laid_on(volume, mask, frame, &raster, &drawn, |across| {
        slice_of_bin[bin_of(across)]
    });
    let mut filled = mask.clone();
    for (pair, images) in drawn.windows(2).zip(images.windows(2)) {
        for index in filled_between(volume, frame, &raster, [&pair[0], &pair[1]], images) {
            filled.insert(index);
        }
    }
    Ok(filled)
}

/// The raster covering every drawn slice with a point's margin, within its bound.
fn raster_for(grid: &Grid, drawn: &[DrawnSlice]) -> Result<Raster, SegmentError> {
    let spacing = grid.spacing_mm.iter().copied().fold(f64::MAX, f64::min);
    let mut all = drawn[0];
    for slice in drawn {
        all.join(slice);
    }
    let sides = [0, 1].map(|axis| ((all.high[axis] - all.low[axis]) / spacing).ceil() + 3.0);
    let bits = sides[0] * sides[1] * drawn.len() as f64;
    if !bits.is_finite() || bits > MOST_TURNED_RASTER_BITS as f64 {
        return Err(SegmentError::Work(format!(
            "fill between: {} drawn slices of the turned plane on a raster of {} × {} points \
             is over {MOST_TURNED_RASTER_BITS} points: fill a smaller segment or fewer slices",
            drawn.len(),
            sides[0],
            sides[1]
        )));
    }
    Ok(Raster {
        grid: Grid {
            dims: [sides[0] as usize, sides[1] as usize, 1],
            spacing_mm: [spacing, spacing, 1.0],
        },
        u0: all.low[0] - spacing,
        v0: all.low[1] - spacing,
        spacing,
    })
}

/// Each drawn slice laid on the raster: the points its voxel centres fall nearest to, and
/// those whose nearest voxel at the slice's middle distance is one of its voxels.
fn laid_on(
    volume: &Volume,
    mask: &Mask,
    frame: &PlaneFrame,
    raster: &Raster,
    drawn: &[DrawnSlice],
    slice_at: impl Fn(f64) -> Option<usize>,
) -> Vec<Mask> {
    let grid = Grid::of(volume);
    let mut images = vec![Mask::empty(raster.grid); drawn.len()];
    let raster_index = |[ru, rv]: [usize; 2]| ru + raster.grid.dims[0] * rv;
    for index in mask.indices() {
        let place = frame.place(grid.ijk(index));
        if let (Some(slice), Some(point)) = (slice_at(place.across), raster.point(place)) {
            images[slice].insert(raster_index(point));
        }
    }
    for (slice, image) in drawn.iter().zip(&mut images) {
        let (low, high) = raster.box_of(slice);
        for rv in low[1]..=high[1] {
            for ru in low[0]..=high[0] {
                let lps = frame.lps(raster.place([ru, rv], slice.middle()));
                let Some(index) = volume.nearest_index(lps) else {
                    continue;
                };
                let across = frame.place(grid.ijk(index)).across;
                if mask.contains(index) && (slice.near..=slice.far).contains(&across) {
                    image.insert(raster_index([ru, rv]));
                }
            }
        }
    }
    images
}

/// The voxels strictly between two consecutive drawn slices whose mixed signed distance is
/// at most 0.
fn filled_between(
    volume: &Volume,
    frame: &PlaneFrame,
    raster: &Raster,
    [first, last]: [&DrawnSlice; 2],
    images: &[Mask],
) -> Vec<usize> {
    let (low_a, high_a) = raster.box_of(first);
    let (low_b, high_b) = raster.box_of(last);
    let low = [0, 1, 2].map(|axis| low_a[axis].min(low_b[axis]));
    let high = [0, 1, 2].map(|axis| high_a[axis].max(high_b[axis]));
    let region = Region::around(raster.grid, low, high, [1, 1, 0]);
    let (from_map, to_map) = (
        signed_distances(&region, &images[0]),
        signed_distances(&region, &images[1]),
    );
    let grid = Grid::of(volume);
    let (from, to) = (first.middle(), last.middle());
    // The voxels' box: the region's corners at both slices' distances, in voxels.
    let mut box_low = [usize::MAX; 3];
    let mut box_high = [0usize; 3];
    let corners_u = [region.from[0], region.from[0] + region.dims[0] - 1];
    let corners_v = [region.from[1], region.from[1] + region.dims[1] - 1];
    for ru in corners_u {
        for rv in corners_v {
            for across in [first.far, last.near] {
                let lps = frame.lps(raster.place([ru, rv], across));
                let ijk = voxels_about(volume, lps);
                for axis in 0..3 {
                    box_low[axis] = box_low[axis].min(ijk[axis].0);
                    box_high[axis] = box_high[axis].max(ijk[axis].1);
                }
            }
        }
    }
    (box_low[2]..=box_high[2])
        .into_par_iter()
        .flat_map_iter(|k| {
            let (from_map, to_map, region) = (&from_map, &to_map, &region);
            (box_low[1]..=box_high[1]).flat_map(move |j| {
                (box_low[0]..=box_high[0]).filter_map(move |i| {
                    let place = frame.place([i, j, k]);
                    if place.across <= first.far || place.across >= last.near {
                        return None;
                    }
                    let [ru, rv] = raster.point(place)?;
                    let local = region_index(region, [ru, rv])?;
                    let t = (place.across - from) / (to - from);
                    ((1.0 - t) * from_map[local] + t * to_map[local] <= 0.0)
                        .then(|| i + grid.dims[0] * (j + grid.dims[1] * k))
                })
            })
        })
        .collect()
}

/// A raster point's place in `region`'s own order, if inside it.
fn region_index(region: &Region, [ru, rv]: [usize; 2]) -> Option<usize> {
    let (du, dv) = (
        ru.checked_sub(region.from[0])?,
        rv.checked_sub(region.from[1])?,
    );
    (du < region.dims[0] && dv < region.dims[1]).then_some(du + region.dims[0] * dv)
}

/// The voxel indices about an LPS point along each axis: its floor and ceiling widened by
/// one, within the grid.
fn voxels_about(volume: &Volume, lps: DVec3) -> [(usize, usize); 3] {
    let at = volume.lps_to_voxel(lps).to_array();
    [0, 1, 2].map(|axis| {
        let last = volume.dims[axis] as f64 - 1.0;
        let low = (at[axis].floor() - 1.0).clamp(0.0, last);
        let high = (at[axis].ceil() + 1.0).clamp(0.0, last);
        (low as usize, high as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paint::{Brush, brush};
    use crate::testing::{volume_of, with_spacing};

    /// A 3 × 3 square on slice 0 and a 7 × 7 one on slice 4, centred on (10, 10).
    fn two_squares(grid: Grid) -> Mask {
        let square = |k: usize, half: usize| {
            (10 - half..=10 + half).flat_map(move |j| {
                (10 - half..=10 + half).map(move |i| grid.index([i, j, k]).expect("inside"))
            })
        };
        Mask::from_indices(grid, square(0, 1).chain(square(4, 3)))
    }

    #[test]
    fn a_normal_along_the_grid_fills_the_raster_as_the_grid_plane() {
        // Slices 2 mm apart, 1 mm in the plane: the raster is the slice's own voxels.
        let volume = with_spacing(volume_of([21, 21, 6], |_| 0.0), [1.0, 1.0, 2.0]);
        let grid = Grid::of(&volume);
        let mask = two_squares(grid);
        let on_the_grid = fill_between(&mask, grid, GridPlane::Axial).expect("filled");
        assert!(on_the_grid.count() > mask.count());
        // The raster's way, forced, and the public way (which takes the grid's plane).
        let frame = PlaneFrame::of(&volume, DVec3::Z).expect("a frame");
        assert_eq!(
            fill_turned(&volume, &mask, &frame).expect("filled"),
            on_the_grid
        );
        assert_eq!(
            fill_between_across(&volume, &mask, DVec3::new(0.0, 0.0, -3.0)).expect("filled"),
            on_the_grid
        );
        assert!(fill_between_across(&volume, &mask, DVec3::ZERO).is_err());
    }

    #[test]
    fn rasters_over_their_bound_are_refused_before_they_are_laid_out() {
        // 300 drawn slices, each 1 m across on 0.5 mm voxels: 2003² points each.
        let grid = Grid {
            dims: [10, 10, 10],
            spacing_mm: [0.5, 0.5, 1.0],
        };
        let slice = |across: f64| DrawnSlice {
            near: across,
            far: across,
            low: [0.0, 0.0],
            high: [1000.0, 1000.0],
        };
        let drawn: Vec<DrawnSlice> = (0..300).map(|n| slice(2.0 * f64::from(n))).collect();
        match raster_for(&grid, &drawn) {
            Err(SegmentError::Work(why)) => assert!(why.contains("300 drawn slices"), "{why}"),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a raster over its bound"),
        }
        assert!(raster_for(&grid, &drawn[..2]).is_ok());
    }

    #[test]
    fn two_discs_on_a_turned_plane_are_joined_by_the_discs_between() {
        // 1 mm voxels; a plane turned 30° about i. A disc of 6 mm drawn 6 mm before the
        // centre and one of 10 mm 6 mm after it: between them the filled radius goes from
        // 6 to 10 mm with the distance (the signed maps' mix crosses 0 at 6 + 4t).
        let volume = volume_of([48, 48, 48], |_| 0.0);
        let grid = Grid::of(&volume);
        let turn = 30f64.to_radians();
        let normal = DVec3::new(0.0, turn.sin(), turn.cos());
        let centre = DVec3::splat(24.0);
        let disc = |across: f64, radius: f64| {
            brush(
                &volume,
                centre + normal * across,
                radius,
                Brush::Disc { normal_lps: normal },
            )
            .expect("a disc")
        };
        let mut mask = disc(-6.0, 6.0);
        mask.add(&disc(6.0, 10.0));
        let filled = fill_between_across(&volume, &mask, normal).expect("filled");
        assert!(mask.indices().all(|index| filled.contains(index)));
        // Each voxel's distance along the normal and from the axis, from the centre.
        let placed = |index: usize| {
            let [i, j, k] = grid.ijk(index);
            let offset = DVec3::new(i as f64, j as f64, k as f64) - centre;
            let across = offset.dot(normal);
            (across, (offset - normal * across).length())
        };
        let half = 0.5 * (normal.x.abs() + normal.y.abs() + normal.z.abs());
        let added: Vec<usize> = filled.indices().filter(|&n| !mask.contains(n)).collect();
        assert!(added.len() > 1_000, "{} voxels added", added.len());
        for &index in &added {
            let (across, radius) = placed(index);
            assert!(
                across.abs() < 6.0 + half,
                "voxel {index} added at {across} mm"
            );
            // Within a voxel of the radius the mix gives at its distance.
            let t = (across + 6.0) / 12.0;
            assert!(
                radius <= 6.0 + 4.0 * t + 1.0,
                "{radius} mm out at {across} mm"
            );
        }
        // Every voxel between the drawn slices a voxel inside that radius is filled.
        let between = (0..grid.len()).filter(|&index| {
            let (across, radius) = placed(index);
            across.abs() < 6.0 - half - 0.5 && radius <= 6.0 + 4.0 * (across + 6.0) / 12.0 - 1.0
        });
        let missing: Vec<usize> = between.filter(|&n| !filled.contains(n)).collect();
        assert!(
            missing.is_empty(),
            "{} voxels missing: {missing:?}",
            missing.len()
        );
    }
}
