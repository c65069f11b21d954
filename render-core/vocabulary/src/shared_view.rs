//! The part of a view that travels between a client and a server: what the 3D frame
//! shows, not how fast it is drawn. The render core turns its `ViewState` into one
//! (`ViewState::shared`), the server checks one field by field before it adopts it, and
//! the thin client mirrors its changes through the render core's `view::change`; the
//! camera is the render core's own type ([`crate::Camera`]).

use glam::DVec3;
use serde::{Deserialize, Serialize};

use crate::{Camera, CellSlabs, Layout, Lighting, Preset, RenderMode};

/// How the camera projects the scene onto the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// Perspective, with the camera's view angle.
    #[default]
    Perspective,
    /// Parallel rays: sizes do not change with depth (as in a radiograph).
    Orthographic,
}

/// The part of a view that travels between a client and a server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedView {
    /// The 3D camera (LPS, mm).
    pub camera: Camera,
    /// The transfer-function preset's name.
    pub preset: String,
    /// The transfer function the reader is editing, in place of the named preset's (its
    /// `name` is `preset`); the named preset's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Box<Preset>>,
    /// How rays combine (read by name, any case).
    pub mode: RenderMode,
    /// The grey window, when one was set (of the 3D projection modes and the slices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowInfo>,
    /// How the frame is divided (`1x1` when absent).
    #[serde(default)]
    pub layout: Layout,
    /// The point the slices of the 2×2 layout pass through (LPS, mm); the volume's centre
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosshair_lps: Option<DVec3>,
    /// The box the 3D rendering is limited to; the whole volume when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<CropInfo>,
    /// The slice planes of the 2×2 layout turned together about the crosshair: a unit
    /// quaternion `[x, y, z, w]` (LPS) applied to the standard planes; the standard planes
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice_rotation: Option<[f64; 4]>,
    /// The slab each slice cell of the 2×2 layout shows; thin slices when absent.
    #[serde(default, skip_serializing_if = "CellSlabs::all_thin")]
    pub slabs: CellSlabs,
    /// The 3D view's light; the headlight without shadows or occlusion when absent.
    #[serde(default, skip_serializing_if = "Lighting::is_default")]
    pub lighting: Lighting,
    /// The volume of a series over time shown (its index in `opened.volumes`); the
    /// first when absent.
    #[serde(default, skip_serializing_if = "is_first")]
    pub time_point: usize,
}

/// Whether `index` is the first volume's (left out of a view as it travels).
fn is_first(index: &usize) -> bool {
    *index == 0
}

/// A crop box as it travels: fractions 0..=1 of the volume along i, j and k.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropInfo {
    /// The lower corner `[i, j, k]`.
    pub min: [f64; 3],
    /// The upper corner `[i, j, k]`.
    pub max: [f64; 3],
}

/// A grey window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Window width.
    pub width: f64,
    /// Window centre.
    pub center: f64,
}
