//! The built-in sample volume: a synthetic CT torso in Hounsfield units, made so that any
//! orientation error shows. The heart sits to the patient's left, the liver to the right
//! and low, the spine posterior, and a dense marker bead at the left-anterior-superior
//! corner of the body. It is what Hounsfield shows when it is given no data.

use glam::{DMat4, DVec3, DVec4};
use rayon::prelude::*;

use crate::volume::{Modality, Volume, Voxels, Window};

/// Voxel counts (i, j, k) of the phantom.
pub const DIMS: [usize; 3] = [160, 128, 120];
/// Voxel spacing in mm.
pub const SPACING_MM: [f64; 3] = [1.5, 1.5, 2.0];

/// Hounsfield units of the phantom's tissues.
pub mod hu {
    /// Air outside the body.
    pub const AIR: i16 = -1000;
    /// Aerated lung.
    pub const LUNG: i16 = -850;
    /// Subcutaneous fat.
    pub const FAT: i16 = -100;
    /// Muscle and soft tissue.
    pub const SOFT_TISSUE: i16 = 40;
    /// Liver parenchyma.
    pub const LIVER: i16 = 60;
    /// Blood in the heart, contrast-enhanced.
    pub const HEART: i16 = 250;
    /// Vertebral body (cancellous bone).
    pub const CANCELLOUS_BONE: i16 = 300;
    /// Cortical bone of the vertebra.
    pub const CORTICAL_BONE: i16 = 1000;
    /// The orientation marker bead.
    pub const MARKER: i16 = 2000;
}

/// Centre of the marker bead: patient's left, anterior, superior (LPS mm).
pub const MARKER_LPS_MM: [f64; 3] = [70.0, -50.0, 90.0];
/// Centre of the heart: patient's left of the midline, anterior (LPS mm).
pub const HEART_LPS_MM: [f64; 3] = [30.0, -25.0, 40.0];
/// Centre of the liver: patient's right, inferior (LPS mm).
pub const LIVER_LPS_MM: [f64; 3] = [-45.0, -5.0, -60.0];
/// Axis of the spine: on the midline, posterior (LPS mm, x and y).
pub const SPINE_LPS_MM: [f64; 2] = [0.0, 55.0];

/// Builds the phantom volume: axial, i → left, j → posterior, k → superior.
pub fn ct_phantom() -> Volume {
    let [ni, nj, nk] = DIMS;
    let origin = DVec3::new(
        -(ni as f64 - 1.0) / 2.0 * SPACING_MM[0],
        -(nj as f64 - 1.0) / 2.0 * SPACING_MM[1],
        -(nk as f64 - 1.0) / 2.0 * SPACING_MM[2],
    );
    let voxel_to_lps = DMat4::from_cols(
        DVec4::new(SPACING_MM[0], 0.0, 0.0, 0.0),
        DVec4::new(0.0, SPACING_MM[1], 0.0, 0.0),
        DVec4::new(0.0, 0.0, SPACING_MM[2], 0.0),
        DVec4::from((origin, 1.0)),
    );
    let mut voxels = vec![hu::AIR; ni * nj * nk];
    voxels
        .par_chunks_mut(ni * nj)
        .enumerate()
        .for_each(|(k, slice)| {
            for j in 0..nj {
                for i in 0..ni {
                    let lps = origin
                        + DVec3::new(
                            i as f64 * SPACING_MM[0],
                            j as f64 * SPACING_MM[1],
                            k as f64 * SPACING_MM[2],
                        );
                    slice[i + ni * j] = tissue_at(lps);
                }
            }
        });
    let window = Some(Window {
        width: 400.0,
        center: 40.0,
    });
    // The dimensions match the buffer by construction.
    Volume::new(
        Voxels::I16(voxels),
        DIMS,
        voxel_to_lps,
        Modality::CT,
        window,
    )
    .unwrap_or_else(|e| unreachable!("phantom dimensions are fixed: {e}"))
}

/// The tissue at an LPS point (mm), in HU.
pub fn tissue_at(p: DVec3) -> i16 {
    let inside = |centre: [f64; 3], radii: [f64; 3]| {
        let d = (p - DVec3::from_array(centre)) / DVec3::from_array(radii);
        d.length_squared() <= 1.0
    };
    // Elliptic torso, wider left-right than front-back, over most of the height.
    let torso = |scale: f64| {
        let d = DVec3::new(p.x / (105.0 * scale), p.y / (80.0 * scale), 0.0);
        d.length_squared() <= 1.0 && p.z.abs() <= 110.0
    };
    if inside(MARKER_LPS_MM, [6.0, 6.0, 6.0]) {
        return hu::MARKER;
    }
    if !torso(1.0) {
        return hu::AIR;
    }
    if !torso(0.9) {
        return hu::FAT;
    }
    let spine = DVec3::new(p.x - SPINE_LPS_MM[0], p.y - SPINE_LPS_MM[1], 0.0).length();
    if spine <= 14.0 {
        return if spine >= 11.0 {
            hu::CORTICAL_BONE
        } else {
            hu::CANCELLOUS_BONE
        };
    }
    if inside(HEART_LPS_MM, [28.0, 24.0, 30.0]) {
        return hu::HEART;
    }
    if inside(LIVER_LPS_MM, [45.0, 40.0, 35.0]) {
        return hu::LIVER;
    }
    let lungs_height = p.z > 0.0 && p.z < 100.0;
    if lungs_height
        && (inside([-50.0, 5.0, 50.0], [38.0, 45.0, 48.0])
            || inside([55.0, 10.0, 55.0], [32.0, 42.0, 44.0]))
    {
        return hu::LUNG;
    }
    hu::SOFT_TISSUE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_at(volume: &Volume, lps: [f64; 3]) -> f64 {
        volume
            .nearest_voxel(DVec3::from_array(lps))
            .map(|(_, v)| v)
            .expect("inside the phantom")
    }

    #[test]
    fn anatomy_sits_on_the_right_side() {
        let volume = ct_phantom();
        assert_eq!(value_at(&volume, MARKER_LPS_MM), f64::from(hu::MARKER));
        assert_eq!(value_at(&volume, HEART_LPS_MM), f64::from(hu::HEART));
        assert_eq!(value_at(&volume, LIVER_LPS_MM), f64::from(hu::LIVER));
        assert_eq!(
            value_at(&volume, [0.0, 55.0, 0.0]),
            f64::from(hu::CANCELLOUS_BONE)
        );
        // Mirror images of the marker are not marked: the phantom is asymmetric.
        for mirrored in [
            [-70.0, -50.0, 90.0],
            [70.0, 50.0, 90.0],
            [70.0, -50.0, -90.0],
        ] {
            assert_ne!(value_at(&volume, mirrored), f64::from(hu::MARKER));
        }
        assert_eq!(volume.value_range.min, f64::from(hu::AIR));
        assert_eq!(volume.value_range.max, f64::from(hu::MARKER));
    }
}
