//! dcm2niix's NIfTI images in the shared data, read independently of Hounsfield by
//! SimpleITK (`tests/scripts/nifti_volumes.py`): their geometry in LPS and their voxels,
//! 3D or 4D, for tests that compare what Hounsfield loads with them.

use glam::{DMat3, DVec3};
use serde::Deserialize;

/// How far off a whole NIfTI voxel index a point may fall (voxels).
pub const INDEX_TOLERANCE_VOXELS: f64 = 0.05;

/// A NIfTI image's geometry as SimpleITK reads it.
#[derive(Debug, Deserialize)]
pub struct NiftiGeometry {
    /// Voxels along i, j, k.
    pub size: [usize; 3],
    /// Volumes (the fourth dimension; 1 for a 3D image).
    pub volumes: usize,
    /// Spacing along i, j, k (mm).
    pub spacing_mm: [f64; 3],
    /// The first voxel's centre, LPS mm.
    pub origin_lps_mm: [f64; 3],
    /// SimpleITK's direction matrix, row-major: row r is LPS axis r's share of each
    /// index axis.
    pub direction: [[f64; 3]; 3],
}

/// A NIfTI image: its geometry and its voxels.
pub struct Nifti {
    /// Where its voxels lie.
    pub geometry: NiftiGeometry,
    /// (volume, k, j, i), with the NIfTI's scaling applied.
    voxels: Vec<f32>,
}

impl Nifti {
    /// Reads `relative` (a path under the shared data) with SimpleITK.
    pub fn read(relative: &str) -> Self {
        let path = crate::data(relative);
        let out = tempfile::NamedTempFile::new().expect("a temporary file");
        let printed = crate::imaging_python_script(
            "nifti_volumes.py",
            &[
                path.to_str().expect("a UTF-8 path"),
                out.path().to_str().expect("a UTF-8 path"),
            ],
        );
        let geometry: NiftiGeometry =
            serde_json::from_value(printed).expect("the script's geometry");
        let bytes = std::fs::read(out.path()).expect("the script's voxels");
        let voxels: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let count: usize = geometry.size.iter().product::<usize>() * geometry.volumes;
        assert_eq!(voxels.len(), count, "{relative}: voxels written");
        Self { geometry, voxels }
    }

    /// The continuous voxel index (i, j, k) of an LPS point.
    pub fn index_of(&self, lps: DVec3) -> DVec3 {
        self.steps().inverse() * (lps - DVec3::from_array(self.geometry.origin_lps_mm))
    }

    /// The LPS point (mm) of voxel index `[i, j, k]`'s centre.
    pub fn lps_of(&self, [i, j, k]: [usize; 3]) -> DVec3 {
        DVec3::from_array(self.geometry.origin_lps_mm)
            + self.steps() * DVec3::new(i as f64, j as f64, k as f64)
    }

    /// The LPS step (mm) of one voxel along i, j and k, as columns.
    fn steps(&self) -> DMat3 {
        let g = &self.geometry;
        let d = g.direction;
        DMat3::from_cols(
            DVec3::new(d[0][0], d[1][0], d[2][0]) * g.spacing_mm[0],
            DVec3::new(d[0][1], d[1][1], d[2][1]) * g.spacing_mm[1],
            DVec3::new(d[0][2], d[1][2], d[2][2]) * g.spacing_mm[2],
        )
    }

    /// The value of voxel `[i, j, k]` of volume `volume`.
    pub fn value(&self, volume: usize, [i, j, k]: [usize; 3]) -> f64 {
        let [ni, nj, nk] = self.geometry.size;
        f64::from(self.voxels[((volume * nk + k) * nj + j) * ni + i])
    }

    /// The whole voxel index at an LPS point, which must lie on the grid (within
    /// [`INDEX_TOLERANCE_VOXELS`]) and inside; `what` names the check in a failure.
    pub fn voxel_at(&self, lps: DVec3, what: &str) -> [usize; 3] {
        let index = self.index_of(lps);
        let off_grid = (index - index.round()).abs().max_element();
        assert!(
            off_grid <= INDEX_TOLERANCE_VOXELS,
            "{what}: {lps} falls at NIfTI voxel {index}, {off_grid:.3} off its grid"
        );
        let size = self.geometry.size;
        let whole = index.round();
        assert!(
            (0..3).all(|a| whole[a] >= 0.0 && (whole[a] as usize) < size[a]),
            "{what}: {lps} falls outside the NIfTI (voxel {index})"
        );
        [whole.x as usize, whole.y as usize, whole.z as usize]
    }
}
