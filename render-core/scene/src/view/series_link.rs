//! Two series read side by side: how a point of the first is found in the second. Series of
//! one frame of reference share their LPS millimetres; any other pair is lined up by an
//! offset the reader sets once. A followed point lands on the second series' own slices:
//! along each plane's normal, the slice of its acquisition nearest the point.

use glam::DVec3;

use super::mpr::SlicePlane;
use super::slice_frame::SliceFrame;
use hounsfield_volume::Volume;

/// How a point of the first series is found in the second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesLink {
    /// One frame of reference: the same LPS millimetres are the same place in the patient.
    SameFrame,
    /// Different frames (or none known): the second series' point is the first's plus
    /// this offset (LPS, mm), which the reader sets.
    Offset(DVec3),
}

impl SeriesLink {
    /// The link of two series whose frame of reference UIDs are `first` and `second`: one
    /// frame when both are known and equal; otherwise an offset that starts by lining up
    /// the volumes' centres, for the reader to correct.
    pub fn between(
        first: Option<&str>,
        second: Option<&str>,
        first_volume: &Volume,
        second_volume: &Volume,
    ) -> Self {
        match (first, second) {
            (Some(a), Some(b)) if !a.trim().is_empty() && a.trim() == b.trim() => Self::SameFrame,
            _ => Self::Offset(second_volume.centre_lps() - first_volume.centre_lps()),
        }
    }

    /// The second series' point for the first's `lps`.
    pub fn follow(&self, lps: DVec3) -> DVec3 {
        match self {
            Self::SameFrame => lps,
            Self::Offset(offset) => lps + *offset,
        }
    }

    /// The first series' point for the second's `lps`.
    pub fn lead(&self, lps: DVec3) -> DVec3 {
        match self {
            Self::SameFrame => lps,
            Self::Offset(offset) => lps - *offset,
        }
    }
}

/// `lps` moved, along each of the three planes' normals (as `frame` turns them), onto the
/// nearest slice of `volume`'s own grid: the plane shown is then one the scanner acquired
/// (or a whole row or column of it) rather than one between two. A normal is matched to
/// the volume axis it is nearest; a point outside the volume is brought to its first or
/// last slice, and one that is not a point at all (not finite) to its centre.
pub fn nearest_slices(volume: &Volume, frame: &SliceFrame, lps: DVec3) -> DVec3 {
    if !lps.is_finite() {
        return volume.centre_lps();
    }
    let mut ijk = volume.lps_to_voxel(lps);
    let mut snapped = [false; 3];
    for plane in SlicePlane::ALL {
        let axis = nearest_axis(volume, frame.normal(plane));
        if snapped[axis] {
            continue;
        }
        snapped[axis] = true;
        let last = volume.dims[axis].saturating_sub(1) as f64;
        ijk[axis] = ijk[axis].round().clamp(0.0, last);
    }
    volume.voxel_to_lps_point(ijk)
}

/// The voxel axis (0 = i, 1 = j, 2 = k) whose direction in LPS is nearest `normal`.
fn nearest_axis(volume: &Volume, normal: DVec3) -> usize {
    let axes = [
        volume.voxel_to_lps.x_axis.truncate(),
        volume.voxel_to_lps.y_axis.truncate(),
        volume.voxel_to_lps.z_axis.truncate(),
    ];
    let alignment = |axis: DVec3| axis.normalize_or_zero().dot(normal).abs();
    (0..3)
        .max_by(|&a, &b| alignment(axes[a]).total_cmp(&alignment(axes[b])))
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use glam::DMat4;

    use super::*;
    use hounsfield_volume::{Modality, Voxels};

    /// A sagittal stack: i along P (1 mm), j along −S (1 mm), k along L (4 mm slices),
    /// its first voxel at `origin`.
    fn sagittal(origin: DVec3) -> Volume {
        let dims = [8, 8, 6];
        let matrix = DMat4::from_cols(
            DVec3::Y.extend(0.0),
            (-DVec3::Z).extend(0.0),
            (DVec3::X * 4.0).extend(0.0),
            origin.extend(1.0),
        );
        Volume::new(
            Voxels::I16(vec![0; 8 * 8 * 6]),
            dims,
            matrix,
            Modality::MR,
            None,
        )
        .expect("a volume")
    }

    #[test]
    fn one_frame_of_reference_shares_millimetres_and_others_start_centre_to_centre() {
        let a = sagittal(DVec3::ZERO);
        let b = sagittal(DVec3::new(100.0, 0.0, 0.0));
        let same = SeriesLink::between(Some("1.2.3"), Some("1.2.3"), &a, &b);
        assert_eq!(same, SeriesLink::SameFrame);
        assert_eq!(same.follow(DVec3::ONE), DVec3::ONE);
        for (first, second) in [
            (Some("1.2.3"), Some("1.2.4")),
            (None, Some("1.2.3")),
            (Some(""), Some("")),
        ] {
            let link = SeriesLink::between(first, second, &a, &b);
            assert_eq!(link, SeriesLink::Offset(DVec3::new(100.0, 0.0, 0.0)));
            let there = link.follow(DVec3::new(1.0, 2.0, 3.0));
            assert_eq!(there, DVec3::new(101.0, 2.0, 3.0));
            assert_eq!(link.lead(there), DVec3::new(1.0, 2.0, 3.0));
        }
    }

    #[test]
    fn a_point_lands_on_the_nearest_slice_along_each_normal() {
        let volume = sagittal(DVec3::ZERO);
        // 9.9 mm to the left is between slices 2 (8 mm) and 3 (12 mm): slice 2.
        let snapped = nearest_slices(&volume, &SliceFrame::STANDARD, DVec3::new(9.9, 2.3, -3.6));
        assert!(
            (snapped - DVec3::new(8.0, 2.0, -4.0)).length() < 1e-9,
            "{snapped}"
        );
        // Past the last slice: the last one.
        let outside = nearest_slices(&volume, &SliceFrame::STANDARD, DVec3::new(90.0, 0.0, 0.0));
        assert!((outside.x - 20.0).abs() < 1e-9, "{outside}");
        let nowhere = nearest_slices(&volume, &SliceFrame::STANDARD, DVec3::NAN);
        assert_eq!(nowhere, volume.centre_lps());
    }
}
