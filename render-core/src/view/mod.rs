//! The vocabulary of views the desktop, the server and the renderer share: `ViewState`,
//! everything that decides what a frame shows (the desktop and the server sessions both
//! hold one and hand it to the renderer; it travels as JSON), the reformatted slices of
//! [`mpr`], and the layouts of [`layout`] with the geometry of the 2×2 cells.

pub mod layout;
pub mod mpr;

pub use layout::{Cell, Layout};
pub use mpr::{MprOrientation, MprPlane, SlabMode, SlicePlane};

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
