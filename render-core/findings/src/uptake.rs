//! A PET region's uptake in SUV: its highest voxel (SUVmax), its mean (SUVmean) and the
//! highest mean of a 1 cm³ sphere centred on one of its voxels (SUVpeak, as PERCIST
//! takes it: the sphere's voxels are those whose centres lie within its radius, inside or
//! outside the region). A segment's uptake is its voxels' the same way.

use glam::{DVec3, IVec3};
use hounsfield_segment::Mask;
use hounsfield_vocabulary::RegionSuv;
use hounsfield_volume::Volume;

use crate::calcium::VoxelBox;
use crate::statistics::rounded;

/// The radius of a sphere of 1 cm³ (mm): (3 / 4π)^⅓ × 10.
pub const PEAK_SPHERE_RADIUS_MM: f64 = 6.203_504_908_994;

/// A region's uptake, in SUV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uptake {
    /// The highest voxel's SUV.
    pub max: f64,
    /// The voxels' mean SUV.
    pub mean: f64,
    /// The highest mean SUV of a 1 cm³ sphere centred in the region.
    pub peak: f64,
    /// Where that sphere is centred (LPS mm).
    pub peak_centre_lps: DVec3,
    /// The region's voxels.
    pub voxels: usize,
}

impl Uptake {
    /// The uptake as findings and segments tell it, to the decimals findings are given to.
    pub fn told(&self) -> RegionSuv {
        RegionSuv {
            suv_max: rounded(self.max),
            suv_mean: rounded(self.mean),
            suv_peak: rounded(self.peak),
        }
    }
}

/// The uptake of `region` of a PET whose values times `factor` are SUV; `None` for an
/// empty region.
pub fn uptake(volume: &Volume, region: VoxelBox, factor: f64) -> Option<Uptake> {
    let mut voxels = Vec::new();
    for k in region.from[2]..region.to[2] {
        for j in region.from[1]..region.to[1] {
            for i in region.from[0]..region.to[0] {
                voxels.extend(volume.index([i, j, k]));
            }
        }
    }
    uptake_of_voxels(volume, &voxels, factor)
}

/// The uptake of a segment's voxels (`mask`, on the grid of `volume`) of a PET whose
/// values times `factor` are SUV; `None` for an empty segment.
pub fn segment_uptake(volume: &Volume, mask: &Mask, factor: f64) -> Option<Uptake> {
    let indices: Vec<usize> = mask.indices().collect();
    uptake_of_voxels(volume, &indices, factor)
}

/// The uptake of the voxels at `indices` (into the volume's voxels) of a PET whose values
/// times `factor` are SUV; `None` for none.
pub fn uptake_of_voxels(volume: &Volume, indices: &[usize], factor: f64) -> Option<Uptake> {
    let sphere = sphere_offsets(volume);
    let [ni, nj, _] = volume.dims;
    let mut max = f64::NEG_INFINITY;
    let mut sum = 0.0;
    let mut voxels = 0usize;
    let mut peak = (f64::NEG_INFINITY, [0usize; 3]);
    for &index in indices {
        let (i, j, k) = (index % ni, (index / ni) % nj, index / (ni * nj));
        let Some(value) = volume.value([i, j, k]) else {
            continue;
        };
        max = max.max(value);
        sum += value;
        voxels += 1;
        let centre = IVec3::new(i as i32, j as i32, k as i32);
        let (mut around, mut count) = (0.0, 0usize);
        for offset in &sphere {
            let at = centre + *offset;
            if at.min_element() < 0 {
                continue;
            }
            if let Some(v) = volume.value([at.x as usize, at.y as usize, at.z as usize]) {
                around += v;
                count += 1;
            }
        }
        let mean_around = around / count.max(1) as f64;
        if mean_around > peak.0 {
            peak = (mean_around, [i, j, k]);
        }
    }
    (voxels > 0).then(|| {
        let [i, j, k] = peak.1;
        Uptake {
            max: max * factor,
            mean: sum / voxels as f64 * factor,
            peak: peak.0 * factor,
            peak_centre_lps: volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64)),
            voxels,
        }
    })
}

/// The voxel offsets whose centres lie within [`PEAK_SPHERE_RADIUS_MM`] of a voxel's
/// (the volume's own spacing and axes).
fn sphere_offsets(volume: &Volume) -> Vec<IVec3> {
    let origin = volume.voxel_to_lps_point(DVec3::ZERO);
    let step = |axis: DVec3| {
        (volume.voxel_to_lps_point(axis) - origin)
            .length()
            .max(1e-6)
    };
    let reach = [DVec3::X, DVec3::Y, DVec3::Z]
        .map(|axis| (PEAK_SPHERE_RADIUS_MM / step(axis)).ceil() as i32);
    let mut offsets = Vec::new();
    for dk in -reach[2]..=reach[2] {
        for dj in -reach[1]..=reach[1] {
            for di in -reach[0]..=reach[0] {
                let at = DVec3::new(f64::from(di), f64::from(dj), f64::from(dk));
                if (volume.voxel_to_lps_point(at) - origin).length() <= PEAK_SPHERE_RADIUS_MM {
                    offsets.push(IVec3::new(di, dj, dk));
                }
            }
        }
    }
    offsets
}
