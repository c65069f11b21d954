//! What a transfer-function preset means for a volume ([`PresetRules`]): read from and
//! written as a `presets/*.toml` file, checked, resolved against the volume's values and
//! baked into a table. The preset itself is data the vocabulary declares, so that a
//! client can send the one its reader edits.

use super::error::PresetError;
use super::statistics::VolumeStatistics;
use super::table::TransferTable;
use hounsfield_volume::Window;

/// How the samples along a ray combine; the vocabulary names it for the wire as well.
pub use hounsfield_vocabulary::RenderMode;
pub use hounsfield_vocabulary::{
    ColourPoint, GradientOpacityPoint, OpacityPoint, Preset, PresetWindow, Shading, ValueDomain,
};

/// What a [`Preset`] means for a volume, and the rules it keeps.
pub trait PresetRules: Sized {
    /// Parses and validates a preset; `origin` (the file name) is named in errors.
    fn from_toml(text: &str, origin: &str) -> Result<Self, PresetError>;

    /// The preset as a `presets/*.toml` file writes it; reading it back
    /// ([`Self::from_toml`]) gives the same preset, and writing that the same text.
    fn to_toml(&self) -> Result<String, PresetError>;

    /// Checks that the preset can be baked and means something: at least one colour and
    /// one opacity point and no more than [`super::validate::MOST_POINTS`] of a kind,
    /// values ascending, opacities and colours in 0..=1, positive sizes.
    fn validate(&self) -> Result<(), PresetError>;

    /// Resolves the preset against a volume: percentile values become absolute values.
    fn bake(&self, stats: &VolumeStatistics) -> TransferTable;

    /// The grey-scale window for projection modes, in the volume's value units
    /// (percentiles resolved); `None` when the preset has none.
    fn resolved_window(&self, stats: &VolumeStatistics) -> Option<Window>;

    /// A value of the preset in the volume's units.
    fn resolve_value(&self, value: f32, stats: &VolumeStatistics) -> f32;

    /// A gradient magnitude of the preset in the volume's value units per mm.
    fn resolve_gradient(&self, gradient: f32, stats: &VolumeStatistics) -> f32;
}

impl PresetRules for Preset {
    fn from_toml(text: &str, origin: &str) -> Result<Preset, PresetError> {
        let preset: Preset =
            toml::from_str(text).map_err(|e| PresetError::parse(origin, text, &e))?;
        preset.validate().map_err(|e| e.in_file(origin))?;
        Ok(preset)
    }

    fn to_toml(&self) -> Result<String, PresetError> {
        toml::to_string(self).map_err(|e| PresetError::Invalid {
            file: None,
            preset: self.name.clone(),
            field: "(whole preset)".into(),
            reason: format!("cannot be written as TOML: {e}"),
        })
    }

    fn validate(&self) -> Result<(), PresetError> {
        super::validate::validate(self)
    }

    fn bake(&self, stats: &VolumeStatistics) -> TransferTable {
        TransferTable::bake(self, stats)
    }

    fn resolved_window(&self, stats: &VolumeStatistics) -> Option<Window> {
        let window = self.window?;
        match self.domain {
            ValueDomain::Hu => Some(Window {
                width: f64::from(window.width),
                center: f64::from(window.center),
            }),
            ValueDomain::Percentile => {
                let half = window.width / 2.0;
                let low = f64::from(stats.percentile(window.center - half));
                let high = f64::from(stats.percentile(window.center + half));
                let width = high - low;
                Some(Window {
                    // A flat volume still needs a window that divides.
                    width: if width > 0.0 { width } else { 1.0 },
                    center: (low + high) / 2.0,
                })
            }
        }
    }

    fn resolve_value(&self, value: f32, stats: &VolumeStatistics) -> f32 {
        match self.domain {
            ValueDomain::Hu => value,
            ValueDomain::Percentile => stats.percentile(value),
        }
    }

    fn resolve_gradient(&self, gradient: f32, stats: &VolumeStatistics) -> f32 {
        match self.domain {
            ValueDomain::Hu => gradient,
            ValueDomain::Percentile => {
                gradient / 100.0 * (stats.percentile(99.0) - stats.percentile(1.0))
            }
        }
    }
}
