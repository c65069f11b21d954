//! The first image of a large series, fast: a reduced copy of the volume (blocks of voxels
//! averaged, no side over [`PREVIEW_MAX_SIDE`]) uploads, gets its brick grid and gradients
//! several times faster than the whole, so a session sees an interactive-quality frame
//! soon after `open` while the full volume is uploaded for the final still.

use rayon::prelude::*;
use render_core::{Volume, Voxels};

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
    let factor = volume.dims.map(|n| n.div_ceil(PREVIEW_MAX_SIDE).max(1));
    let dims = [0, 1, 2].map(|a| volume.dims[a].div_ceil(factor[a]));
    let voxels = match &volume.voxels {
        Voxels::I16(values) => {
            Voxels::I16(average_blocks(values, volume.dims, factor, dims, |sum| {
                sum.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
            }))
        }
        Voxels::F32(values) => {
            Voxels::F32(average_blocks(values, volume.dims, factor, dims, |sum| {
                sum as f32
            }))
        }
    };
    let scale = glam::DMat4::from_scale(glam::DVec3::from_array(factor.map(|f| f as f64)));
    let shift = glam::DMat4::from_translation(glam::DVec3::from_array(
        factor.map(|f| (f as f64 - 1.0) * 0.5),
    ));
    let preview = Volume::new(
        voxels,
        dims,
        volume.voxel_to_lps * shift * scale,
        volume.modality.clone(),
        volume.default_window,
    );
    match preview {
        Ok(preview) => Some(preview),
        Err(error) => {
            // The dims and the voxel count agree by construction.
            tracing::warn!(%error, "no preview volume");
            None
        }
    }
}

/// Averages `factor` blocks of `values` (dims `from`) into a grid of dims `to`, slice by
/// slice in parallel; blocks at the far edges average the voxels they have.
fn average_blocks<T, U>(
    values: &[T],
    from: [usize; 3],
    factor: [usize; 3],
    to: [usize; 3],
    finish: impl Fn(f64) -> U + Sync,
) -> Vec<U>
where
    T: Copy + Into<f64> + Sync,
    U: Copy + Default + Send,
{
    let mut out = vec![U::default(); to[0] * to[1] * to[2]];
    out.par_chunks_mut(to[0] * to[1])
        .enumerate()
        .for_each(|(k, slice)| {
            let ks = k * factor[2]..((k + 1) * factor[2]).min(from[2]);
            for j in 0..to[1] {
                let js = j * factor[1]..((j + 1) * factor[1]).min(from[1]);
                for i in 0..to[0] {
                    let is = i * factor[0]..((i + 1) * factor[0]).min(from[0]);
                    let mut sum = 0.0_f64;
                    let mut count = 0_u32;
                    for kk in ks.clone() {
                        for jj in js.clone() {
                            let row = (kk * from[1] + jj) * from[0];
                            for value in &values[row + is.start..row + is.end] {
                                sum += (*value).into();
                                count += 1;
                            }
                        }
                    }
                    slice[j * to[0] + i] = finish(sum / f64::from(count.max(1)));
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::Modality;

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

    #[test]
    fn blocks_at_the_far_edge_average_what_they_have() {
        // 515 columns: blocks of 3, the last holding columns 513 and 514.
        let full = volume([PREVIEW_MAX_SIDE * 2 + 3, 2, 2], |i, _, _| i as i16);
        let preview = reduced(&full).expect("a side over the limit");
        assert_eq!(preview.dims, [172, 2, 2]);
        assert_eq!(preview.value([0, 1, 1]), Some(1.0));
        assert_eq!(
            preview.value([171, 0, 0]),
            Some(514.0),
            "(513 + 514) / 2, rounded"
        );
    }
}
