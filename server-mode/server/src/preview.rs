//! The first image of a large series, fast: a reduced copy of the volume (blocks of voxels
//! averaged by [`Volume::block_averaged`], no side over [`PREVIEW_MAX_SIDE`]) uploads, gets its brick grid and gradients
//! several times faster than the whole, so a session sees an interactive-quality frame
//! soon after `open` while the full volume is uploaded for the final still.

use render_core::Volume;

/// Longest side (voxels) of a preview volume; a volume with a longer side gets a preview.
pub const PREVIEW_MAX_SIDE: usize = 256;

/// Whether `volume` is large enough to be shown first from a reduced copy.
pub fn wants_preview(volume: &Volume) -> bool {
    volume.dims.iter().any(|&n| n > PREVIEW_MAX_SIDE)
}

/// A copy of `volume` with blocks of voxels averaged so that no side exceeds
/// [`PREVIEW_MAX_SIDE`]; the affine is scaled so each new voxel sits at the centre of its
/// block. `None` when the volume is small enough already.
pub fn reduced(volume: &Volume) -> Option<Volume> {
    if !wants_preview(volume) {
        return None;
    }
    match volume.block_averaged(volume.factors_to_fit(PREVIEW_MAX_SIDE)) {
        Ok(preview) => Some(preview),
        Err(error) => {
            // The dims and the voxel count agree by construction.
            tracing::warn!(%error, "no preview volume");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::{Modality, Voxels};

    fn volume(dims: [usize; 3], value: impl Fn(usize, usize, usize) -> i16) -> Volume {
        let mut voxels = Vec::with_capacity(dims[0] * dims[1] * dims[2]);
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    voxels.push(value(i, j, k));
                }
            }
        }
        let affine = glam::DMat4::from_scale(glam::DVec3::new(0.7, 0.7, 1.0));
        Volume::new(Voxels::I16(voxels), dims, affine, Modality::CT, None).expect("a volume")
    }

    #[test]
    fn small_volumes_need_no_preview() {
        let small = volume([PREVIEW_MAX_SIDE, 8, 8], |_, _, _| 0);
        assert!(!wants_preview(&small));
        assert!(reduced(&small).is_none());
    }

    #[test]
    fn the_preview_averages_blocks_and_keeps_the_patient_geometry() {
        // Only i is over the limit: pairs of columns are averaged, j and k stay.
        let full = volume([PREVIEW_MAX_SIDE * 2, 6, 3], |i, j, k| {
            (i % 2 * 100 + j + 10 * k) as i16
        });
        let preview = reduced(&full).expect("a side over the limit");
        assert_eq!(preview.dims, [PREVIEW_MAX_SIDE, 6, 3]);
        assert_eq!(preview.value([0, 0, 0]), Some(50.0));
        assert_eq!(preview.value([7, 5, 2]), Some(75.0));
        for (got, want) in preview.spacing_mm.iter().zip([1.4, 0.7, 1.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", preview.spacing_mm);
        }
        // Preview voxel 0 sits at the centre of the full volume's first block.
        let centre = full.voxel_to_lps_point(glam::DVec3::new(0.5, 0.0, 0.0));
        let at = preview.voxel_to_lps_point(glam::DVec3::ZERO);
        assert!((centre - at).length() < 1e-9, "{centre} vs {at}");
    }
}
