//! The vocabulary of views the desktop, the server and the renderer share: `ViewState`,
//! everything that decides what a frame shows (the desktop and the server sessions both
//! hold one and hand it to the renderer; it travels as JSON), the reformatted slices of
//! [`mpr`], and the layouts of [`layout`] with the geometry of the 2×2 cells.

pub mod change;
pub mod layout;
pub mod mpr;
pub mod series_link;
pub mod slice_frame;

pub use layout::{Cell, Layout};
pub use mpr::{MprOrientation, MprPlane, PlaneGeometry, SlabMode, SlicePlane};
pub use series_link::{SeriesLink, nearest_slices};
pub use slice_frame::SliceFrame;

pub use hounsfield_vocabulary::{
    CellSlabs, CropInfo, LightDirection, Lighting, SharedView, Slab, WindowInfo,
};
use serde::{Deserialize, Serialize};

use crate::camera::{Camera, NamedView};
use crate::transfer::{Preset, PresetLibrary, RenderMode};
use hounsfield_volume::{Volume, Window};

/// How much work a frame may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// While the user drags: reduced internal resolution and a longer step, to hold a
    /// frame-time budget.
    Interactive,
    /// Just after a drag, before the final image: finer than interactive frames, within a
    /// budget of its own (the renderer's `refining` budget), and replaced by the final image
    /// once that is drawn.
    Refining,
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

/// How the 3D view shows the series' segments (the slice cells show the visible ones
/// always).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentsIn3d {
    /// Shaded, coloured regions at their own opacity inside the volume rendering.
    #[default]
    WithVolume,
    /// The segments alone: the volume rendering is left out.
    Alone,
    /// Not in the 3D view.
    Hidden,
}

impl SegmentsIn3d {
    /// The names a client sends (`with_volume`, `alone`, `hidden`).
    pub const NAMES: [&'static str; 3] = ["with_volume", "alone", "hidden"];

    /// The way named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "with_volume" => Some(Self::WithVolume),
            "alone" => Some(Self::Alone),
            "hidden" => Some(Self::Hidden),
            _ => None,
        }
    }
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
    /// The thinnest box allowed along each axis (a fraction of the volume's extent).
    pub const MIN_THICKNESS: f32 = 0.01;

    /// The box from `min` to `max` when each is finite, within 0..=1, and `max` lies at
    /// least [`Self::MIN_THICKNESS`] above `min` on each axis; else what is wrong, naming
    /// the axis.
    pub fn checked(min: [f64; 3], max: [f64; 3]) -> Result<Self, String> {
        for (axis, name) in ["i", "j", "k"].iter().enumerate() {
            let (low, high) = (min[axis], max[axis]);
            if !low.is_finite() || !high.is_finite() {
                return Err(format!(
                    "{name}: min {low:?} and max {high:?} must be finite"
                ));
            }
            if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) {
                return Err(format!(
                    "{name}: min {low:?} and max {high:?} must be fractions 0..=1"
                ));
            }
            // Checked as stored (f32), so that a box taken once is taken again from what
            // it became (a shared view's round trip); the slack lets a box exactly as thin
            // as allowed pass.
            let thickness = f64::from(high as f32) - f64::from(low as f32);
            if thickness < f64::from(Self::MIN_THICKNESS) - 1e-6 {
                return Err(format!(
                    "{name}: max {high:?} must exceed min {low:?} by at least {}",
                    Self::MIN_THICKNESS
                ));
            }
        }
        Ok(Self {
            min: min.map(|v| v as f32),
            max: max.map(|v| v as f32),
        })
    }

    /// The box as it travels; `None` for the whole volume.
    pub fn to_info(&self) -> Option<CropInfo> {
        (!self.is_whole()).then(|| CropInfo {
            min: self.min.map(f64::from),
            max: self.max.map(f64::from),
        })
    }

    /// The box a client sent, when it passes [`Self::checked`].
    pub fn from_info(info: &CropInfo) -> Result<Self, String> {
        Self::checked(info.min, info.max)
    }

    /// Whether the box holds the whole volume.
    pub fn is_whole(&self) -> bool {
        *self == Self::default()
    }

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

/// What sets the key of an edited transfer function apart from a preset's name
/// ([`ViewState::transfer_key`]).
pub const EDITED_MARK: &str = "#edited-";

/// Everything that decides one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewState {
    /// The 3D camera.
    pub camera: Camera,
    /// Composite, MIP, MinIP or average.
    pub mode: RenderMode,
    /// The transfer-function preset's name.
    pub preset: String,
    /// The transfer function the reader is editing, in place of the named preset's (its
    /// `name` is `preset`).
    #[serde(default)]
    pub transfer: Option<Box<Preset>>,
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
    /// The slice planes of the 2×2 layout: standard, or turned together about the
    /// crosshair (oblique).
    #[serde(default)]
    pub slice_frame: SliceFrame,
    /// The slab each slice cell of the 2×2 layout shows (thin slices at first).
    #[serde(default)]
    pub cell_slabs: CellSlabs,
    /// How the 3D view shows the series' segments.
    #[serde(default)]
    pub segments_3d: SegmentsIn3d,
    /// The 3D view's light (composite mode, with a preset that shades).
    #[serde(default)]
    pub lighting: Lighting,
    /// The volume of a series over time shown (0: the first, or the only one).
    #[serde(default)]
    pub time_point: usize,
}

impl ViewState {
    /// The first view of a volume: from anterior, with the preset's mode.
    pub fn initial(volume: &Volume, preset: &str, mode: RenderMode) -> Self {
        Self {
            camera: crate::camera::looking_at(volume, NamedView::Anterior),
            mode,
            preset: preset.to_string(),
            transfer: None,
            window: None,
            crop: CropBox::default(),
            quality: Quality::Full,
            interpolation: Interpolation::Linear,
            mpr: None,
            slice_frame: SliceFrame::STANDARD,
            cell_slabs: CellSlabs::default(),
            segments_3d: SegmentsIn3d::default(),
            lighting: Lighting::default(),
            time_point: 0,
        }
    }

    /// The transfer function this view shows: the one being edited, else the named
    /// preset from `presets` (`None` when `presets` does not know it).
    pub fn preset_in<'a>(&'a self, presets: &'a PresetLibrary) -> Option<&'a Preset> {
        self.transfer
            .as_deref()
            .or_else(|| presets.get(&self.preset))
    }

    /// What a renderer keeps the baked transfer function of this view under: the named
    /// preset's name, or for one being edited its name with a fingerprint of its points
    /// (`name#edited-…`), so that every change of it is baked anew and an older one
    /// never taken for it.
    pub fn transfer_key(&self) -> String {
        match &self.transfer {
            None => self.preset.clone(),
            Some(preset) => {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                // Debug prints every field, floats exactly enough to tell edits apart.
                format!("{preset:?}").hash(&mut hasher);
                format!("{}{EDITED_MARK}{:016x}", preset.name, hasher.finish())
            }
        }
    }

    /// The part of this view that travels, in the 1×1 layout with the crosshair at its
    /// default (callers that know the layout and the crosshair set them).
    pub fn shared(&self) -> SharedView {
        SharedView {
            camera: self.camera,
            preset: self.preset.clone(),
            transfer: self.transfer.clone(),
            mode: self.mode,
            window: self.window.map(|w| WindowInfo {
                width: w.width,
                center: w.center,
            }),
            layout: Layout::Single,
            crosshair_lps: None,
            crop: self.crop.to_info(),
            slice_rotation: self.slice_frame.quaternion(),
            slabs: self.cell_slabs,
            lighting: self.lighting,
            time_point: self.time_point,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_box_is_checked_axis_by_axis() {
        let whole = CropBox::checked([0.0; 3], [1.0; 3]).expect("the whole volume");
        assert!(whole.is_whole());
        let left = CropBox::checked([0.5, 0.0, 0.0], [1.0, 1.0, 1.0]).expect("a half");
        assert!(!left.is_whole());
        assert_eq!(left.min, [0.5, 0.0, 0.0]);
        let refused = [
            ([0.5, 0.0, 0.0], [0.5, 1.0, 1.0], "i:"),
            ([0.0, 0.7, 0.0], [1.0, 0.2, 1.0], "j:"),
            ([0.0, 0.0, 0.5], [1.0, 1.0, 0.505], "k:"),
            ([0.0, 0.0, f64::NAN], [1.0; 3], "k:"),
            ([0.0; 3], [1.0, f64::INFINITY, 1.0], "j:"),
            ([-0.1, 0.0, 0.0], [1.0; 3], "i:"),
            ([0.0; 3], [1.0, 1.0, 1.5], "k:"),
        ];
        for (min, max, axis) in refused {
            let error = CropBox::checked(min, max).expect_err("refused");
            assert!(error.starts_with(axis), "{min:?} {max:?}: {error}");
        }
    }

    #[test]
    fn a_crop_box_taken_once_is_taken_again_from_what_it_became() {
        // Just above the slack in f64, just below it once stored as f32.
        let max = [1.0, 1.0, 0.009_999];
        match CropBox::checked([0.0; 3], max) {
            Ok(taken) => {
                let again = CropBox::checked([0.0; 3], taken.max.map(f64::from));
                assert_eq!(again, Ok(taken), "the stored box passes its own check");
            }
            Err(error) => assert!(error.starts_with("k:"), "{error}"),
        }
        let thinnest = CropBox::checked([0.0; 3], [1.0, 1.0, 0.01]).expect("exactly 0.01");
        let again = CropBox::checked([0.0; 3], thinnest.max.map(f64::from));
        assert_eq!(again, Ok(thinnest));
    }

    #[test]
    fn view_state_round_trips_through_json() {
        let volume = hounsfield_volume::phantom::ct_phantom();
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

    #[test]
    fn a_shared_view_without_layout_or_crosshair_still_parses() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let mut json = serde_json::to_value(view.shared()).expect("serialises");
        assert_eq!(json["layout"], "1x1");
        assert!(json.get("crosshair_lps").is_none());
        if let Some(object) = json.as_object_mut() {
            object.remove("layout");
        }
        let older: SharedView = serde_json::from_value(json).expect("an older view parses");
        assert_eq!(older.layout, Layout::Single);
        assert_eq!(older.crosshair_lps, None);
        let mut quad = view.shared();
        quad.layout = Layout::Quad;
        quad.crosshair_lps = Some(glam::DVec3::new(1.0, -2.0, 3.5));
        let json = serde_json::to_value(&quad).expect("serialises");
        assert_eq!(json["layout"], "2x2");
        assert_eq!(json["crosshair_lps"], serde_json::json!([1.0, -2.0, 3.5]));
        let back: SharedView = serde_json::from_value(json).expect("parses");
        assert_eq!(back, quad);
    }

    #[test]
    fn a_crop_travels_in_the_shared_view() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let whole = serde_json::to_value(view.shared()).expect("serialises");
        assert!(whole.get("crop").is_none(), "the whole volume: no crop");
        view.crop = CropBox {
            min: [0.5, 0.0, 0.25],
            max: [1.0, 1.0, 0.75],
        };
        let json = serde_json::to_value(view.shared()).expect("serialises");
        assert_eq!(
            json["crop"],
            serde_json::json!({"min": [0.5, 0.0, 0.25], "max": [1.0, 1.0, 0.75]})
        );
        let back: SharedView = serde_json::from_value(json).expect("parses");
        let crop = CropBox::from_info(&back.crop.expect("a crop")).expect("a valid box");
        assert_eq!(crop, view.crop);
    }
}
