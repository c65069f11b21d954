//! The paint and erase tools' brush: a sphere in 3D, radius in millimetres.

use glam::DVec3;
use hounsfield_volume::Volume;

use crate::SegmentError;
use crate::mask::{Grid, Mask};

/// The largest brush radius (mm).
pub const MOST_BRUSH_RADIUS_MM: f64 = 50.0;

/// The voxels whose centres lie within `radius_mm` of `centre_lps`.
pub fn sphere(volume: &Volume, centre_lps: DVec3, radius_mm: f64) -> Result<Mask, SegmentError> {
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
    // The box of voxels the sphere can reach (voxel axes may be turned in LPS, so the
    // box is the sphere's reach along each axis in voxels).
    let reach = DVec3::from(grid.spacing_mm.map(|s| radius_mm / s));
    let low = (centre - reach).floor().max(DVec3::ZERO);
    let high = (centre + reach).ceil();
    let mut brush = Mask::empty(grid);
    let last = grid.dims.map(|n| n as f64 - 1.0);
    let (high_i, high_j, high_k) = (
        high.x.min(last[0]),
        high.y.min(last[1]),
        high.z.min(last[2]),
    );
    if low.x > high_i || low.y > high_j || low.z > high_k {
        return Ok(brush);
    }
    for k in low.z as usize..=high_k as usize {
        for j in low.y as usize..=high_j as usize {
            for i in low.x as usize..=high_i as usize {
                let at = volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
                if at.distance_squared(centre_lps) <= radius_mm * radius_mm {
                    brush.insert(i + grid.dims[0] * (j + grid.dims[1] * k));
                }
            }
        }
    }
    Ok(brush)
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
}
