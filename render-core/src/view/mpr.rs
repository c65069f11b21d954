//! Multiplanar reformats: the three standard planes as radiology reads them, any oblique
//! plane, and a slice (thin or a slab) through the volume.

use glam::DVec3;
use serde::{Deserialize, Serialize};

use crate::Volume;

/// One of the three standard reformats, by name: the shared vocabulary's, given its
/// geometry by [`PlaneGeometry`].
pub use hounsfield_vocabulary::SlicePlane;

/// The geometry of a standard plane: its orientation and normal.
pub trait PlaneGeometry {
    /// The plane's orientation.
    fn orientation(self) -> MprOrientation;

    /// The plane's unit normal (LPS), pointing away from the viewer.
    fn normal(self) -> DVec3;
}

impl PlaneGeometry for SlicePlane {
    fn orientation(self) -> MprOrientation {
        self.into()
    }

    fn normal(self) -> DVec3 {
        self.orientation().normal()
    }
}

/// The standard planes of a multiplanar reformat, plus any oblique plane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MprOrientation {
    /// Seen from the feet: patient's left on the screen's right, anterior up.
    Axial,
    /// Seen from the front: patient's left on the screen's right, superior up.
    Coronal,
    /// Seen from the patient's left: anterior on the screen's left, superior up.
    Sagittal,
    /// Any plane: screen right and screen up as LPS unit vectors.
    Oblique {
        /// The LPS direction drawn towards the screen's right.
        right: DVec3,
        /// The LPS direction drawn towards the screen's top.
        up: DVec3,
    },
}

impl MprOrientation {
    /// Parses `axial`, `coronal` or `sagittal`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "axial" => Some(Self::Axial),
            "coronal" => Some(Self::Coronal),
            "sagittal" => Some(Self::Sagittal),
            _ => None,
        }
    }

    /// The LPS unit vectors drawn towards the screen's right and the screen's bottom.
    pub fn right_and_down(&self) -> (DVec3, DVec3) {
        match *self {
            MprOrientation::Axial => (DVec3::X, DVec3::Y),
            MprOrientation::Coronal => (DVec3::X, DVec3::NEG_Z),
            MprOrientation::Sagittal => (DVec3::Y, DVec3::NEG_Z),
            MprOrientation::Oblique { right, up } => {
                let right = right.normalize_or(DVec3::X);
                let normal = right.cross(up).normalize_or(DVec3::Z);
                (right, normal.cross(right).normalize() * -1.0)
            }
        }
    }

    /// The plane's unit normal (LPS), screen right × screen down, pointing away from the
    /// viewer: towards S for axial, P for coronal, R for sagittal.
    pub fn normal(&self) -> DVec3 {
        let (right, down) = self.right_and_down();
        right.cross(down).normalize()
    }
}

impl From<SlicePlane> for MprOrientation {
    fn from(plane: SlicePlane) -> Self {
        match plane {
            SlicePlane::Axial => Self::Axial,
            SlicePlane::Coronal => Self::Coronal,
            SlicePlane::Sagittal => Self::Sagittal,
        }
    }
}

/// How the voxels across a thick slab combine into one pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlabMode {
    /// The brightest voxel (vessels, nodules).
    #[default]
    Mip,
    /// The darkest voxel (airways).
    Minip,
    /// The mean (a thicker, smoother slice).
    Average,
}

/// A reformatted slice through the volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MprPlane {
    /// The plane's orientation.
    pub orientation: MprOrientation,
    /// The point at the centre of the screen (LPS, mm); the plane passes through it.
    pub centre_lps: DVec3,
    /// Millimetres per screen pixel at zoom 1 is chosen to fit the volume; this magnifies.
    pub zoom: f64,
    /// Slab thickness (mm); 0 is a thin slice.
    pub slab_mm: f64,
    /// How a thick slab combines its voxels.
    pub slab_mode: SlabMode,
}

impl MprPlane {
    /// A thin slice through the volume's centre.
    pub fn through_centre(volume: &Volume, orientation: MprOrientation) -> Self {
        Self {
            orientation,
            centre_lps: volume.centre_lps(),
            zoom: 1.0,
            slab_mm: 0.0,
            slab_mode: SlabMode::Mip,
        }
    }

    /// Millimetres per screen pixel so that the volume's extent in this plane fits
    /// `size` (width, height) at zoom 1.
    pub fn mm_per_pixel(&self, volume: &Volume, size: [u32; 2]) -> f64 {
        let (right, down) = self.orientation.right_and_down();
        let (mut width_mm, mut height_mm) = (0.0_f64, 0.0_f64);
        let corners = volume.corner_centres_lps();
        for a in &corners {
            for b in &corners {
                width_mm = width_mm.max((*a - *b).dot(right).abs());
                height_mm = height_mm.max((*a - *b).dot(down).abs());
            }
        }
        // Extend from voxel centres to voxel edges.
        let voxel_extent = |axis: DVec3| {
            (0..3)
                .map(|n| {
                    let column = volume.voxel_to_lps.col(n).truncate();
                    column.dot(axis).abs()
                })
                .sum::<f64>()
        };
        width_mm += voxel_extent(right);
        height_mm += voxel_extent(down);
        let fit = (width_mm / f64::from(size[0].max(1))).max(height_mm / f64::from(size[1].max(1)));
        fit.max(1e-6) / self.zoom.max(1e-6)
    }

    /// A thin slice of `orientation` through `point_lps`, centred in-plane on the volume
    /// so that its image stays put while the point (a crosshair) moves.
    pub fn through(volume: &Volume, orientation: MprOrientation, point_lps: DVec3) -> Self {
        let mut plane = Self::through_centre(volume, orientation);
        let normal = orientation.normal();
        plane.centre_lps += normal * (point_lps - plane.centre_lps).dot(normal);
        plane
    }

    /// Moves the plane along its normal by `mm` (scrolling through slices).
    pub fn scroll(&mut self, mm: f64) {
        self.centre_lps += self.orientation.normal() * mm;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_planes_follow_reading_convention() {
        let (right, down) = MprOrientation::Axial.right_and_down();
        assert_eq!((right, down), (DVec3::X, DVec3::Y));
        let (right, down) = MprOrientation::Sagittal.right_and_down();
        assert_eq!((right, down), (DVec3::Y, DVec3::NEG_Z));
        let oblique = MprOrientation::Oblique {
            right: DVec3::X,
            up: DVec3::Z,
        };
        let (right, down) = oblique.right_and_down();
        assert!(right.distance(DVec3::X) < 1e-12 && down.distance(DVec3::NEG_Z) < 1e-12);
    }

    #[test]
    fn normals_point_away_from_the_viewer() {
        assert_eq!(SlicePlane::Axial.normal(), DVec3::Z);
        assert_eq!(SlicePlane::Coronal.normal(), DVec3::Y);
        assert_eq!(SlicePlane::Sagittal.normal(), DVec3::NEG_X);
        for plane in SlicePlane::ALL {
            assert_eq!(SlicePlane::from_name(plane.name()), Some(plane));
        }
    }

    #[test]
    fn a_slice_through_a_point_keeps_the_volume_centred_in_plane() {
        let volume = crate::phantom::ct_phantom();
        let centre = volume.centre_lps();
        let point = centre + DVec3::new(7.0, -5.0, 11.0);
        let slice = MprPlane::through(&volume, MprOrientation::Axial, point);
        assert!((slice.centre_lps.z - point.z).abs() < 1e-9);
        assert!((slice.centre_lps.truncate() - centre.truncate()).length() < 1e-9);
    }

    #[test]
    fn axial_plane_fits_one_pixel_per_voxel_when_sized_to_the_slice() {
        let volume = crate::phantom::ct_phantom();
        let plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
        let size = [volume.dims[0] as u32, volume.dims[1] as u32];
        let mm = plane.mm_per_pixel(&volume, size);
        assert!((mm - volume.spacing_mm[0]).abs() < 1e-9, "{mm}");
    }
}
