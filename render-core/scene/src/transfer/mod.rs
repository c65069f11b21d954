//! Transfer functions: presets as data, baked into lookup tables for the GPU.
//!
//! A [`Preset`] (one `presets/*.toml` file, or one in the user's config folder) gives
//! colour and opacity over voxel values in Hounsfield units (CT) or in percentiles of the
//! volume's values (MR). [`PresetRules::bake`] resolves it against a volume's
//! [`VolumeStatistics`] into a [`TransferTable`] of [`TABLE_SIZE`] entries, which the ray
//! caster samples and uses to skip empty space. [`PresetLibrary`] holds the built-in
//! presets and the user's.

pub mod error;
pub mod import;
pub mod library;
mod locate;
pub mod preset;
pub mod statistics;
pub mod table;
mod validate;

pub use error::PresetError;
pub use hounsfield_vocabulary::{MOST_HISTOGRAM_BINS, ValueHistogram};
pub use library::PresetLibrary;
pub use preset::{
    ColourPoint, GradientOpacityPoint, OpacityPoint, Preset, PresetRules, PresetWindow, RenderMode,
    Shading, ValueDomain,
};
pub use statistics::VolumeStatistics;
pub use table::{TABLE_SIZE, TransferTable};
pub use validate::{MOST_POINTS, MOST_TEXT_CHARS};
