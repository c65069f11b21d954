//! `ViewState`: everything that decides what a frame shows. The desktop and the server
//! sessions both hold one and hand it to the renderer; it travels as JSON.

use glam::DVec3;
use serde::{Deserialize, Serialize};

use crate::camera::{Camera, NamedView};
use crate::transfer::RenderMode;
use crate::{Volume, Window};

/// How much work a frame may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// While the user drags: reduced internal resolution and a longer step, to hold a
    /// frame-time budget.
    Interactive,
    /// The final image: full resolution and the preset's sample distance.
    #[default]
    Full,
}

/// How voxel values are read between voxel centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// The nearest voxel's value (blocky, exact).
    Nearest,
    /// Trilinear interpolation of the eight surrounding voxels.
    #[default]
    Linear,
}

/// A crop box, as fractions (0..1) of the volume's extent along i, j and k.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropBox {
    /// Lower corner (fractions of i, j, k extent).
    pub min: [f32; 3],
    /// Upper corner (fractions of i, j, k extent).
    pub max: [f32; 3],
}

impl Default for CropBox {
    fn default() -> Self {
        Self {
            min: [0.0; 3],
            max: [1.0; 3],
        }
    }
}

impl CropBox {
    /// The box with its corners ordered and clamped to 0..1.
    pub fn normalised(&self) -> Self {
        let mut out = *self;
        for axis in 0..3 {
            let (a, b) = (
                self.min[axis].clamp(0.0, 1.0),
                self.max[axis].clamp(0.0, 1.0),
            );
            out.min[axis] = a.min(b);
            out.max[axis] = a.max(b);
        }
        out
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

    /// Moves the plane along its normal by `mm` (scrolling through slices).
    pub fn scroll(&mut self, mm: f64) {
        let (right, down) = self.orientation.right_and_down();
        self.centre_lps += right.cross(down).normalize() * mm;
    }
}

/// Everything that decides one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewState {
    /// The 3D camera.
    pub camera: Camera,
    /// Composite, MIP, MinIP or average.
    pub mode: RenderMode,
    /// The transfer-function preset's name.
    pub preset: String,
    /// The grey-scale window for MPR and projection modes; `None` uses the preset's or
    /// the header's.
    pub window: Option<Window>,
    /// The part of the volume rendered.
    pub crop: CropBox,
    /// Interactive or full quality.
    pub quality: Quality,
    /// Nearest or trilinear sampling.
    pub interpolation: Interpolation,
    /// When set, the frame is this reformatted slice instead of the 3D rendering.
    pub mpr: Option<MprPlane>,
}

impl ViewState {
    /// The first view of a volume: from anterior, with the preset's mode.
    pub fn initial(volume: &Volume, preset: &str, mode: RenderMode) -> Self {
        Self {
            camera: Camera::looking_at(volume, NamedView::Anterior),
            mode,
            preset: preset.to_string(),
            window: None,
            crop: CropBox::default(),
            quality: Quality::Full,
            interpolation: Interpolation::Linear,
            mpr: None,
        }
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
    fn axial_plane_fits_one_pixel_per_voxel_when_sized_to_the_slice() {
        let volume = crate::phantom::ct_phantom();
        let plane = MprPlane::through_centre(&volume, MprOrientation::Axial);
        let size = [volume.dims[0] as u32, volume.dims[1] as u32];
        let mm = plane.mm_per_pixel(&volume, size);
        assert!((mm - volume.spacing_mm[0]).abs() < 1e-9, "{mm}");
    }

    #[test]
    fn view_state_round_trips_through_json() {
        let volume = crate::phantom::ct_phantom();
        let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        view.mpr = Some(MprPlane::through_centre(&volume, MprOrientation::Coronal));
        view.window = Some(Window {
            width: 400.0,
            center: 40.0,
        });
        let json = serde_json::to_string(&view).expect("serialises");
        let back: ViewState = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, view);
    }
}
