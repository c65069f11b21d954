//! One edit of a segment, as every client asks it: the tool, its values in patient
//! millimetres, and the segment it makes from the one before. The server, the desktop
//! and the command line apply edits here, so a tool means the same everywhere.

use glam::DVec3;
use hounsfield_volume::Volume;

use crate::fill_between::FillPlane;
use crate::mask::{Grid, Mask};
use crate::paint::Brush;
use crate::values::{Admits, ValueInterval};
use crate::{
    Algorithm, SegmentError, SegmentMeasures, grow, islands, margin, measure, paint, smooth,
    threshold,
};

/// The most points one brush stroke carries.
pub const MOST_STROKE_POINTS: usize = 256;
/// The most voxels one brush stroke may look at (each point's sphere's box, added up):
/// a 50 mm brush on 0.5 mm voxels looks at 8 million a point.
pub const MOST_STROKE_VOXELS: u64 = 64_000_000;

/// A tool with its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// The segment becomes the voxels whose value lies in the range.
    Threshold(ValueInterval),
    /// Adds the region grown from the voxel nearest `seed_lps` within the range.
    Grow {
        /// The click (LPS mm).
        seed_lps: DVec3,
        /// The range.
        interval: ValueInterval,
    },
    /// Adds the brush at the points; with `within`, only voxels whose value lies in it.
    Paint {
        /// The stroke (LPS mm).
        points_lps: Vec<DVec3>,
        /// The brush's radius (mm).
        radius_mm: f64,
        /// Paint only where the value is in this range.
        within: Option<ValueInterval>,
        /// A sphere, or a disc in the slice painted on.
        shape: Brush,
    },
    /// Takes the brush at the points out.
    Erase {
        /// The stroke (LPS mm).
        points_lps: Vec<DVec3>,
        /// The eraser's radius (mm).
        radius_mm: f64,
        /// A sphere, or a disc in the slice erased on.
        shape: Brush,
    },
    /// Keeps the largest island.
    KeepLargest,
    /// Keeps the islands of at least this volume (mm³).
    KeepAtLeast(f64),
    /// Grows (positive) or shrinks (negative) by this many mm.
    Margin(f64),
    /// Smooths by a closing of this radius (mm): gaps and notches narrower are filled.
    Closing(f64),
    /// Smooths by the median of the ball of this radius (mm): each voxel takes the
    /// majority of its ball.
    Median(f64),
    /// Fills the slices of a plane (of the grid, or turned) between the slices drawn on it
    /// (shape-based interpolation).
    FillBetween(FillPlane),
    /// Adds another segment's voxels.
    Add(Mask),
    /// Takes another segment's voxels out.
    Subtract(Mask),
    /// Keeps the voxels also in another segment.
    Intersect(Mask),
    /// Every voxel not in the segment, and none that was.
    Invert,
    /// No voxel.
    Clear,
}

impl Edit {
    /// The tool's name, as a Segmentation names the algorithm.
    pub fn name(&self) -> String {
        match self {
            Self::Threshold(i) => format!("threshold {}..{}", i.low, i.high),
            Self::Grow { interval: i, .. } => format!("grow from a click {}..{}", i.low, i.high),
            Self::Paint { .. } => "paint".to_string(),
            Self::Erase { .. } => "erase".to_string(),
            Self::KeepLargest => "largest island".to_string(),
            Self::KeepAtLeast(mm3) => format!("islands under {mm3} mm3 removed"),
            Self::Margin(mm) => format!("margin {mm} mm"),
            Self::Closing(mm) => format!("closing {mm} mm"),
            Self::Median(mm) => format!("median {mm} mm"),
            Self::FillBetween(plane) => plane.tool_name(),
            Self::Add(_) => "add".to_string(),
            Self::Subtract(_) => "subtract".to_string(),
            Self::Intersect(_) => "intersect".to_string(),
            Self::Invert => "invert".to_string(),
            Self::Clear => "clear".to_string(),
        }
    }

    /// Whether the tool is the reader's hand alone (the brush, the eraser, clearing).
    pub fn is_manual(&self) -> bool {
        matches!(self, Self::Paint { .. } | Self::Erase { .. } | Self::Clear)
    }
}

/// What an edit made: the segment's voxels, their measures, and the algorithm the
/// segment now owes them to.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The segment after the edit.
    pub mask: Mask,
    /// Its measures on the volume.
    pub measures: SegmentMeasures,
    /// The brush and eraser are the reader's hand; every other tool is named.
    pub algorithm: Algorithm,
}

/// Applies `edit` to `mask` on `volume` and measures the result, as every client's edit
/// is kept (the server's sessions and the desktop alike).
pub fn edited(volume: &Volume, mask: &Mask, edit: &Edit) -> Result<Edited, SegmentError> {
    let mask = apply(volume, mask, edit)?;
    let measures = measure(volume, &mask)?;
    let algorithm = if edit.is_manual() {
        Algorithm::Manual
    } else {
        Algorithm::Semiautomatic(edit.name())
    };
    Ok(Edited {
        mask,
        measures,
        algorithm,
    })
}

/// The segment `edit` makes of `mask` on `volume`.
pub fn apply(volume: &Volume, mask: &Mask, edit: &Edit) -> Result<Mask, SegmentError> {
    let grid = Grid::of(volume);
    grid.holding(mask)?;
    // The tools that add to the segment, or take from it, change a copy of it; the
    // others make a new one from it.
    let changed = |change: &dyn Fn(&mut Mask)| {
        let mut next = mask.clone();
        change(&mut next);
        next
    };
    Ok(match edit {
        Edit::Threshold(interval) => threshold(volume, *interval),
        Edit::Grow { seed_lps, interval } => {
            let (seed, _) = volume
                .nearest_voxel(*seed_lps)
                .ok_or(SegmentError::SeedOutside(seed_lps.to_array()))?;
            let grown = grow::grow_from_seed(volume, seed, *interval)?;
            changed(&|next| next.add(&grown))
        }
        Edit::Paint {
            points_lps,
            radius_mm,
            within,
            shape,
        } => {
            let admits = within.map(|interval| Admits::of(volume, interval));
            let mut next = mask.clone();
            stroke(volume, points_lps, *radius_mm, *shape, &mut |index| {
                if admits.as_ref().is_none_or(|admits| admits.admits(index)) {
                    next.insert(index);
                }
            })?;
            next
        }
        Edit::Erase {
            points_lps,
            radius_mm,
            shape,
        } => {
            let mut next = mask.clone();
            stroke(volume, points_lps, *radius_mm, *shape, &mut |index| {
                next.remove(index)
            })?;
            next
        }
        Edit::KeepLargest => islands::keep_largest(mask, grid),
        Edit::KeepAtLeast(min_mm3) => {
            if !(min_mm3.is_finite() && *min_mm3 >= 0.0) {
                return Err(SegmentError::Distance {
                    what: "island volume (mm³)",
                    value: *min_mm3,
                    most: f64::MAX,
                });
            }
            islands::remove_smaller_than(mask, grid, *min_mm3)
        }
        Edit::Margin(mm) => margin::margin(mask, grid, *mm)?,
        Edit::Closing(mm) => margin::closing(mask, grid, *mm)?,
        Edit::Median(mm) => smooth::median(mask, grid, *mm)?,
        Edit::FillBetween(plane) => plane.fill(volume, mask)?,
        Edit::Add(other) => {
            let other = grid.holding(other)?;
            changed(&|next| next.add(other))
        }
        Edit::Subtract(other) => {
            let other = grid.holding(other)?;
            changed(&|next| next.subtract(other))
        }
        Edit::Intersect(other) => {
            let other = grid.holding(other)?;
            changed(&|next| next.intersect(other))
        }
        Edit::Invert => changed(&|next| next.invert()),
        Edit::Clear => Mask::empty(grid),
    })
}

/// Calls `visit` with the voxels of a brush stroke: the brush at each point, within the
/// stroke's bounds (a disc's box is bounded as its sphere's).
fn stroke(
    volume: &Volume,
    points: &[DVec3],
    radius_mm: f64,
    shape: Brush,
    visit: &mut dyn FnMut(usize),
) -> Result<(), SegmentError> {
    if points.is_empty() || points.len() > MOST_STROKE_POINTS {
        return Err(SegmentError::Stroke(format!(
            "a stroke has 1 to {MOST_STROKE_POINTS} points, not {}",
            points.len()
        )));
    }
    let per_point: f64 = volume
        .spacing_mm
        .iter()
        .map(|s| (2.0 * radius_mm / s).ceil() + 1.0)
        .product();
    let looked_at = per_point * points.len() as f64;
    if !looked_at.is_finite() || looked_at > MOST_STROKE_VOXELS as f64 {
        return Err(SegmentError::Stroke(format!(
            "the stroke looks at {looked_at:.0} voxels, over {MOST_STROKE_VOXELS}: use a smaller brush or fewer points"
        )));
    }
    // Each point's voxels go straight into the segment: no mask of the whole grid a
    // stroke (a CT's grid is 10 MB of bits).
    for &point in points {
        paint::visit_brush(volume, point, radius_mm, shape, visit)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::volume_of;

    #[test]
    fn each_tool_makes_what_it_says() {
        // A bright 4 × 4 × 4 cube in a dark 10 × 10 × 10 volume of 1 mm voxels.
        let volume = volume_of([10, 10, 10], |[i, j, k]| {
            if (3..7).contains(&i) && (3..7).contains(&j) && (3..7).contains(&k) {
                100.0
            } else {
                0.0
            }
        });
        let grid = Grid::of(&volume);
        let bright = ValueInterval::new(50.0, 150.0).expect("a range");
        let empty = Mask::empty(grid);
        let cube = apply(&volume, &empty, &Edit::Threshold(bright)).expect("a threshold");
        assert_eq!(cube.count(), 64);
        let grown = apply(
            &volume,
            &empty,
            &Edit::Grow {
                seed_lps: DVec3::new(4.0, 4.0, 4.0),
                interval: bright,
            },
        )
        .expect("grown");
        assert_eq!(grown, cube);
        // A 1 mm brush at the cube's corner, only where bright: the corner voxel and its
        // three bright face neighbours.
        let painted = apply(
            &volume,
            &empty,
            &Edit::Paint {
                points_lps: vec![DVec3::new(3.0, 3.0, 3.0)],
                radius_mm: 1.0,
                within: Some(bright),
                shape: Brush::Sphere,
            },
        )
        .expect("painted");
        assert_eq!(painted.count(), 4);
        let erased = apply(
            &volume,
            &cube,
            &Edit::Erase {
                points_lps: vec![DVec3::new(3.0, 3.0, 3.0)],
                radius_mm: 1.0,
                shape: Brush::Sphere,
            },
        )
        .expect("erased");
        assert_eq!(erased.count(), 60);
        let mut inverted = apply(&volume, &cube, &Edit::Invert).expect("inverted");
        assert_eq!(inverted.count(), 1000 - 64);
        inverted = apply(&volume, &inverted, &Edit::Add(cube.clone())).expect("added");
        assert_eq!(inverted.count(), 1000);
        let cleared = apply(&volume, &cube, &Edit::Clear).expect("cleared");
        assert!(cleared.is_empty());
        assert!(Edit::Clear.is_manual() && !Edit::Invert.is_manual());
    }

    #[test]
    fn strokes_beyond_their_bounds_are_refused() {
        let volume = volume_of([10, 10, 10], |_| 0.0);
        let empty = Mask::empty(Grid::of(&volume));
        let too_many = Edit::Paint {
            points_lps: vec![DVec3::ZERO; MOST_STROKE_POINTS + 1],
            radius_mm: 1.0,
            within: None,
            shape: Brush::Sphere,
        };
        assert!(matches!(
            apply(&volume, &empty, &too_many),
            Err(SegmentError::Stroke(_))
        ));
        let huge = Edit::Paint {
            points_lps: vec![DVec3::ZERO; 200],
            radius_mm: 50.0,
            within: None,
            shape: Brush::Sphere,
        };
        assert!(matches!(
            apply(&volume, &empty, &huge),
            Err(SegmentError::Stroke(_))
        ));
    }
}
