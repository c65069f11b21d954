//! The paint and erase tools' brushes, radius in millimetres: a sphere in 3D, or a disc
//! one voxel thick in the plane of the slice painted on.

use glam::DVec3;
use hounsfield_volume::Volume;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// The largest brush radius (mm).
pub const MOST_BRUSH_RADIUS_MM: f64 = 50.0;

/// A brush's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Brush {
    /// The voxels whose centres lie within the radius of the point.
    Sphere,
    /// The voxels of the slice across `normal_lps` through the point (centres within half
    /// a voxel of its plane) whose centres lie within the radius of the point in it.
    Disc {
        /// The slice's normal (LPS, any length).
        normal_lps: DVec3,
    },
}

/// The voxels whose centres lie within `radius_mm` of `centre_lps`.
pub fn sphere(volume: &Volume, centre_lps: DVec3, radius_mm: f64) -> Result<Mask, SegmentError> {
    brush(volume, centre_lps, radius_mm, Brush::Sphere)
}

/// The voxels of `shape` of `radius_mm` at `centre_lps`.
///
/// A disc holds the voxels whose centre `c` has `|c − p − ((c − p)·n) n| ≤ radius` (the
/// distance within the plane) and `−h < (c − p)·n ≤ h`, where `h` is half the voxel's
/// extent along the unit normal `n` (`½ Σ |n·aᵢ| sᵢ` over the voxel axes `aᵢ` of spacing
/// `sᵢ`): on a standard plane of the grid, one slice of voxels.
pub fn brush(
    volume: &Volume,
    centre_lps: DVec3,
    radius_mm: f64,
    shape: Brush,
) -> Result<Mask, SegmentError> {
    let mut painted = Mask::empty(Grid::of(volume));
    brush_into(&mut painted, volume, centre_lps, radius_mm, shape)?;
    Ok(painted)
}

/// Adds the voxels of `shape` of `radius_mm` at `centre_lps` to `painted` (a mask of
/// `volume`'s grid), as [`brush`] gives them: a stroke's points share one mask.
pub fn brush_into(
    painted: &mut Mask,
    volume: &Volume,
    centre_lps: DVec3,
    radius_mm: f64,
    shape: Brush,
) -> Result<(), SegmentError> {
    Grid::of(volume).holding(painted)?;
    visit_brush(volume, centre_lps, radius_mm, shape, &mut |index| {
        painted.insert(index)
    })
}

/// Calls `visit` with the flat index of each voxel of `shape` of `radius_mm` at
/// `centre_lps` (as [`brush`] gives them), each once: a stroke paints its points straight
/// into the segment, or takes them out of it, without a brush's mask of the whole grid.
pub fn visit_brush(
    volume: &Volume,
    centre_lps: DVec3,
    radius_mm: f64,
    shape: Brush,
    visit: &mut dyn FnMut(usize),
) -> Result<(), SegmentError> {
    if !(radius_mm.is_finite() && radius_mm > 0.0 && radius_mm <= MOST_BRUSH_RADIUS_MM) {
        return Err(SegmentError::Distance {
            what: "brush radius",
            value: radius_mm,
            most: MOST_BRUSH_RADIUS_MM,
        });
    }
    let grid = Grid::of(volume);
    let centre = volume.lps_to_voxel(centre_lps);
    if !centre.is_finite() {
        return Err(SegmentError::SeedOutside(centre.to_array()));
    }
    let inside: Box<dyn Fn(DVec3) -> bool> = match shape {
        Brush::Sphere => {
            Box::new(move |offset: DVec3| offset.length_squared() <= radius_mm * radius_mm)
        }
        Brush::Disc { normal_lps } => {
            let normal = normal_lps.try_normalize().ok_or_else(|| {
                SegmentError::Stroke(format!(
                    "a disc's plane needs a normal, not {:?}",
                    normal_lps.to_array()
                ))
            })?;
            let origin = volume.voxel_to_lps_point(DVec3::ZERO);
            let half_mm = 0.5
                * [DVec3::X, DVec3::Y, DVec3::Z]
                    .into_iter()
                    .map(|axis| (volume.voxel_to_lps_point(axis) - origin).dot(normal).abs())
                    .sum::<f64>();
            Box::new(move |offset: DVec3| {
                let along = offset.dot(normal);
                let in_plane = offset - normal * along;
                -half_mm < along
                    && along <= half_mm
                    && in_plane.length_squared() <= radius_mm * radius_mm
            })
        }
    };
    // The box of voxels the sphere can reach (voxel axes may be turned in LPS, so the
    // box is the sphere's reach along each axis in voxels); a disc lies within it.
    let reach = DVec3::from(grid.spacing_mm.map(|s| radius_mm / s));
    let low = (centre - reach).floor().max(DVec3::ZERO);
    let high = (centre + reach).ceil();
    let last = grid.dims.map(|n| n as f64 - 1.0);
    let (high_i, high_j, high_k) = (
        high.x.min(last[0]),
        high.y.min(last[1]),
        high.z.min(last[2]),
    );
    if low.x > high_i || low.y > high_j || low.z > high_k {
        return Ok(());
    }
    for k in low.z as usize..=high_k as usize {
        for j in low.y as usize..=high_j as usize {
            for i in low.x as usize..=high_i as usize {
                let at = volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
                if inside(at - centre_lps) {
                    visit(i + grid.dims[0] * (j + grid.dims[1] * k));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{volume_of, with_spacing};

    #[test]
    fn a_sphere_holds_the_voxels_within_its_radius() {
        let volume = with_spacing(volume_of([20, 20, 10], |_| 0.0), [0.5, 0.5, 2.0]);
        let brush = sphere(&volume, DVec3::new(5.0, 5.0, 10.0), 2.0).expect("a brush");
        // Along k the radius reaches one slice each side (2 mm); along i and j four voxels.
        let grid = Grid::of(&volume);
        assert!(brush.contains(grid.index([10, 10, 5]).expect("inside")));
        assert!(brush.contains(grid.index([14, 10, 5]).expect("inside")));
        assert!(!brush.contains(grid.index([15, 10, 5]).expect("inside")));
        assert!(brush.contains(grid.index([10, 10, 6]).expect("inside")));
        assert!(!brush.contains(grid.index([11, 10, 6]).expect("inside")));
        assert!(sphere(&volume, DVec3::ZERO, 0.0).is_err());
        assert!(sphere(&volume, DVec3::ZERO, 51.0).is_err());
    }

    #[test]
    fn a_disc_holds_one_slice_of_the_sphere_within_its_radius() {
        let volume = with_spacing(volume_of([20, 20, 10], |_| 0.0), [0.5, 0.5, 2.0]);
        let grid = Grid::of(&volume);
        // Across k (axial), at voxel (10, 10, 5) moved 0.6 mm along k (within its slice).
        let axial = Brush::Disc {
            normal_lps: DVec3::new(0.0, 0.0, 3.0),
        };
        let disc = brush(&volume, DVec3::new(5.0, 5.0, 10.6), 2.0, axial).expect("a disc");
        // The 1 mm disc on 0.5 mm voxels: the centres (di, dj) with di² + dj² ≤ 16.
        let within = (-4i32..=4)
            .flat_map(|dj| (-4i32..=4).filter(move |di| di * di + dj * dj <= 16))
            .count();
        assert_eq!(disc.count(), within);
        assert!(disc.indices().all(|n| grid.ijk(n)[2] == 5));
        assert!(disc.contains(grid.index([14, 10, 5]).expect("inside")));
        assert!(!disc.contains(grid.index([14, 11, 5]).expect("inside")));
        // Across i (sagittal): one column of i, 2 mm slices along k reach one each side.
        let sagittal = Brush::Disc {
            normal_lps: DVec3::X,
        };
        let disc = brush(&volume, DVec3::new(5.0, 5.0, 10.0), 2.0, sagittal).expect("a disc");
        assert!(disc.indices().all(|n| grid.ijk(n)[0] == 10));
        assert!(disc.contains(grid.index([10, 10, 6]).expect("inside")));
        assert!(disc.contains(grid.index([10, 14, 5]).expect("inside")));
        assert!(!disc.contains(grid.index([10, 11, 6]).expect("inside")));
        let flat = Brush::Disc {
            normal_lps: DVec3::ZERO,
        };
        assert!(brush(&volume, DVec3::ZERO, 1.0, flat).is_err());
    }
}
