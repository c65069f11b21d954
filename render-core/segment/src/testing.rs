//! Small volumes for the tools' unit tests.

use glam::{DMat4, DVec3};
use hounsfield_volume::{Modality, Volume, Voxels};

/// A CT of `dims` on 1 mm voxels whose voxel `(i, j, k)` holds `value(i, j, k)`.
pub(crate) fn volume_of(dims: [usize; 3], value: impl Fn([usize; 3]) -> f64) -> Volume {
    let mut voxels = Vec::with_capacity(dims.iter().product());
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                voxels.push(value([i, j, k]) as f32);
            }
        }
    }
    Volume::new(
        Voxels::F32(voxels),
        dims,
        DMat4::IDENTITY,
        Modality::CT,
        None,
    )
    .expect("a volume of matching voxels")
}

/// `volume` on voxels of `spacing_mm`.
pub(crate) fn with_spacing(volume: Volume, spacing_mm: [f64; 3]) -> Volume {
    Volume::new(
        volume.voxels,
        volume.dims,
        DMat4::from_scale(DVec3::from(spacing_mm)),
        volume.modality,
        None,
    )
    .expect("the same voxels")
}
