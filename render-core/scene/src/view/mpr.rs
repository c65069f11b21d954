//! Multiplanar reformats: the three standard planes as radiology reads them, any oblique
//! plane, and a slice (thin or a slab) through the volume.

use glam::{DMat4, DVec3, DVec4};
use serde::{Deserialize, Serialize};

use hounsfield_volume::Volume;

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

    /// The plane across `normal` (LPS, any length, either sign), drawn as its nearest
    /// standard plane is drawn: the same side up and the same side on the left, whatever
    /// the normal's sign. `up` (LPS) turns the picture in its plane: the screen's top is
    /// `up` projected onto the plane (the nearest standard plane's top when `None`). A
    /// normal along a standard axis gives that standard plane itself. The error says why
    /// no plane is defined (a zero or non-finite normal, or `up` along it).
    pub fn facing(normal: DVec3, up: Option<DVec3>) -> Result<Self, String> {
        let length = normal.length();
        if !length.is_finite() || length < 1e-9 {
            return Err(format!(
                "the normal {} has no direction",
                vector_text(normal)
            ));
        }
        let normal = normal / length;
        let nearest = SlicePlane::ALL
            .into_iter()
            .max_by(|a, b| {
                let along = |plane: SlicePlane| plane.normal().dot(normal).abs();
                along(*a).total_cmp(&along(*b))
            })
            .unwrap_or(SlicePlane::Axial);
        let standard = MprOrientation::from(nearest);
        let (standard_right, standard_down) = standard.right_and_down();
        let away = if normal.dot(standard.normal()) < 0.0 {
            -normal
        } else {
            normal
        };
        let wanted_up = up.unwrap_or(-standard_down);
        if !wanted_up.is_finite() {
            return Err(format!(
                "the up vector {} is not finite",
                vector_text(wanted_up)
            ));
        }
        let in_plane = wanted_up - away * wanted_up.dot(away);
        if in_plane.length() < 1e-6 * wanted_up.length().max(1.0) {
            return Err(format!(
                "the up vector {} lies along the normal: it gives the plane no top",
                vector_text(wanted_up)
            ));
        }
        let down = -in_plane.normalize();
        let right = down.cross(away).normalize();
        let exact = 1e-12;
        if right.distance(standard_right) < exact && down.distance(standard_down) < exact {
            return Ok(standard);
        }
        Ok(MprOrientation::Oblique { right, up: -down })
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

/// How the voxels across a thick slab combine into one pixel: the shared vocabulary's.
pub use hounsfield_vocabulary::SlabMode;

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

    /// The 4×4 matrix taking a pixel centre `(x, y, 0, 1)` of an image of `size` to LPS
    /// millimetres: its columns are one pixel to the right, one pixel down, the unit normal
    /// (away from the viewer: a slab's depth) and the centre of the top-left pixel. The
    /// renderer places its samples with it.
    pub fn pixel_to_lps(&self, volume: &Volume, size: [u32; 2]) -> DMat4 {
        let (right, down) = self.orientation.right_and_down();
        let mm = self.mm_per_pixel(volume, size);
        let first_centre = self.centre_lps
            - right * (f64::from(size[0]) - 1.0) * 0.5 * mm
            - down * (f64::from(size[1]) - 1.0) * 0.5 * mm;
        DMat4::from_cols(
            (right * mm).extend(0.0),
            (down * mm).extend(0.0),
            self.orientation.normal().extend(0.0),
            DVec4::from((first_centre, 1.0)),
        )
    }

    /// Moves the plane along its normal by `mm` (scrolling through slices).
    pub fn scroll(&mut self, mm: f64) {
        self.centre_lps += self.orientation.normal() * mm;
    }
}

/// A vector as the command line writes it: `X,Y,Z`.
fn vector_text(v: DVec3) -> String {
    format!("{},{},{}", v.x, v.y, v.z)
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
        let volume = hounsfield_volume::phantom::ct_phantom();
        let centre = volume.centre_lps();
        let point = centre + DVec3::new(7.0, -5.0, 11.0);
        let slice = MprPlane::through(&volume, MprOrientation::Axial, point);
        assert!((slice.centre_lps.z - point.z).abs() < 1e-9);
        assert!((slice.centre_lps.truncate() - centre.truncate()).length() < 1e-9);
    }

    #[test]
    fn axial_plane_fits_one_pixel_per_voxel_when_sized_to_the_slice() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
        let size = [volume.dims[0] as u32, volume.dims[1] as u32];
        let mm = plane.mm_per_pixel(&volume, size);
        assert!((mm - volume.spacing_mm[0]).abs() < 1e-9, "{mm}");
    }

    #[test]
    fn a_normal_along_a_standard_axis_is_that_standard_plane_whatever_its_sign() {
        for (normal, plane) in [
            (DVec3::X, MprOrientation::Sagittal),
            (DVec3::NEG_X, MprOrientation::Sagittal),
            (DVec3::Y * 3.0, MprOrientation::Coronal),
            (DVec3::NEG_Y, MprOrientation::Coronal),
            (DVec3::Z, MprOrientation::Axial),
            (DVec3::NEG_Z * 0.5, MprOrientation::Axial),
        ] {
            assert_eq!(MprOrientation::facing(normal, None), Ok(plane), "{normal}");
        }
    }

    #[test]
    fn a_tilted_plane_keeps_its_nearest_standard_planes_top_and_left() {
        let tilted = DVec3::new(0.3, 0.2, 1.0);
        for normal in [tilted, -tilted] {
            let orientation = MprOrientation::facing(normal, None).expect("a plane");
            let (right, down) = orientation.right_and_down();
            // Axial is nearest: patient's left (+X) towards the right, anterior (-Y) up.
            assert!(right.x > 0.9 && down.y > 0.9, "{right} {down}");
            assert!(right.dot(normal).abs() < 1e-12 && down.dot(normal).abs() < 1e-12);
            assert!((orientation.normal() - tilted.normalize()).length() < 1e-12);
        }
    }

    #[test]
    fn up_turns_the_picture_and_bad_vectors_are_refused_by_name() {
        let turned = MprOrientation::facing(DVec3::Z, Some(DVec3::X)).expect("a plane");
        let (right, down) = turned.right_and_down();
        assert!(down.distance(DVec3::NEG_X) < 1e-12 && right.distance(DVec3::Y) < 1e-12);
        let zero = MprOrientation::facing(DVec3::ZERO, None).expect_err("no direction");
        assert!(zero.contains("normal 0,0,0"), "{zero}");
        let along = MprOrientation::facing(DVec3::Z, Some(DVec3::Z * 2.0)).expect_err("no top");
        assert!(along.contains("up vector 0,0,2"), "{along}");
        assert!(MprOrientation::facing(DVec3::new(f64::NAN, 0.0, 1.0), None).is_err());
    }

    #[test]
    fn pixel_centres_map_to_lps_about_the_planes_centre() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let plane = MprPlane::through_centre(&volume, MprOrientation::Coronal);
        let size = [64, 48];
        let matrix = plane.pixel_to_lps(&volume, size);
        let mm = plane.mm_per_pixel(&volume, size);
        // The image's middle (between the four central pixels) is the plane's centre.
        let middle = matrix.transform_point3(DVec3::new(31.5, 23.5, 0.0));
        assert!(middle.distance(plane.centre_lps) < 1e-9, "{middle}");
        // One pixel right is one pixel's millimetres towards the patient's left.
        let step = matrix.transform_point3(DVec3::X) - matrix.transform_point3(DVec3::ZERO);
        assert!(step.distance(DVec3::X * mm) < 1e-12);
        assert_eq!(matrix.col(2).truncate(), DVec3::Y);
    }
}
