//! The vocabulary Hounsfield's parts share: how a frame is divided ([`Layout`]), the
//! standard slice planes ([`SlicePlane`]), what a series is for ([`SeriesKind`]), the 3D
//! [`Camera`] with its motions, the part of a view that travels between a client and a
//! server ([`SharedView`]), a transfer function ([`Preset`]), what a user does to a view or a session ([`Action`]), and the kinds of
//! finding a radiologist draws ([`FindingKind`]) with what a region measures.
//!
//! Plain data with serde and glam's arithmetic, so that the wire protocol (and its fuzz
//! target) names these without linking the renderer; the render core fits them to a
//! volume and draws them.

mod action;
mod calcium;
mod camera;
mod finding;
mod histogram;
mod layout;
mod light;
mod plane;
mod preset;
mod render_mode;
mod series_kind;
mod shared_view;
mod slab;
pub mod text;

pub use action::Action;
pub use calcium::{ArteryTotals, CalciumLesion, CalciumReport, CalciumTotals, KnownDensity};
pub use camera::{Camera, NamedView};
pub use finding::{FindingKind, MAX_NOTE_CHARS, MAX_POLYGON_VERTICES, RegionStatistics, RegionSuv};
pub use histogram::{MOST_HISTOGRAM_BINS, ValueHistogram};
pub use layout::Layout;
pub use light::{LightDirection, Lighting};
pub use plane::SlicePlane;
pub use preset::{
    ColourPoint, GradientOpacityPoint, OpacityPoint, Preset, PresetWindow, Shading, ValueDomain,
};
pub use render_mode::RenderMode;
pub use series_kind::SeriesKind;
pub use shared_view::{CropInfo, Projection, SharedView, WindowInfo};
pub use slab::{CellSlabs, MAX_SLAB_MM, Slab, SlabMode};
