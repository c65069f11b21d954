//! A transfer function as data: colour and opacity over voxel values, gradient opacity,
//! shading and the ray mode, as a `presets/*.toml` file writes it and as a client sends
//! the one its reader is editing (`transfer`). The render core checks one
//! (`PresetRules::validate`) and bakes it for a volume; here it is plain data.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::RenderMode;

/// `value` as an `f32`, when it is finite as one (not NaN, nor past ±3.4·10³⁸, which
/// `f32` makes infinite).
fn narrowed(value: f64) -> Option<f32> {
    let narrowed = value as f32;
    narrowed.is_finite().then_some(narrowed)
}

/// A number of a preset, refused when it is not finite as an `f32` ([`narrowed`]): a
/// preset read is one that can be written again.
fn finite<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
    let value = f64::deserialize(deserializer)?;
    narrowed(value).ok_or_else(|| {
        D::Error::custom(format!("{value} is not a finite number a preset can hold"))
    })
}

/// Red, green and blue, each [`finite`].
fn finite_rgb<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[f32; 3], D::Error> {
    let rgb = <[f64; 3]>::deserialize(deserializer)?;
    match rgb.map(narrowed) {
        [Some(red), Some(green), Some(blue)] => Ok([red, green, blue]),
        _ => Err(D::Error::custom(format!(
            "{rgb:?} is not three finite numbers"
        ))),
    }
}

/// The units of a preset's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueDomain {
    /// Hounsfield units, used as they are (CT).
    Hu,
    /// Percentiles (0..=100) of the volume's values, resolved per volume (MR).
    Percentile,
}

/// A colour at a voxel value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColourPoint {
    /// The voxel value, in the preset's domain.
    #[serde(deserialize_with = "finite")]
    pub value: f32,
    /// Red, green, blue in 0..=1 (not premultiplied).
    #[serde(deserialize_with = "finite_rgb")]
    pub rgb: [f32; 3],
}

/// An opacity at a voxel value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpacityPoint {
    /// The voxel value, in the preset's domain.
    #[serde(deserialize_with = "finite")]
    pub value: f32,
    /// Opacity (0..=1) accumulated over `opacity_unit_mm` of ray.
    #[serde(deserialize_with = "finite")]
    pub opacity: f32,
}

/// A factor on opacity at a gradient magnitude: low factors at low gradients keep the
/// surfaces between tissues and hide the inside of homogeneous ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientOpacityPoint {
    /// Gradient magnitude in value units per mm: HU/mm for `hu` presets; for `percentile`
    /// presets, per cent of the span between the 1st and 99th percentiles per mm
    /// (resolved into value units per mm when baked).
    #[serde(deserialize_with = "finite")]
    pub gradient: f32,
    /// Factor on opacity, 0..=1.
    #[serde(deserialize_with = "finite")]
    pub factor: f32,
}

/// Phong lighting of composite rendering, with the gradient as the surface normal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shading {
    /// Whether to light the samples at all (off: flat colours).
    pub enabled: bool,
    /// Ambient coefficient.
    #[serde(deserialize_with = "finite")]
    pub ambient: f32,
    /// Diffuse coefficient.
    #[serde(deserialize_with = "finite")]
    pub diffuse: f32,
    /// Specular coefficient.
    #[serde(deserialize_with = "finite")]
    pub specular: f32,
    /// Specular exponent (shininess).
    #[serde(deserialize_with = "finite")]
    pub specular_power: f32,
}

impl Default for Shading {
    /// No lighting; the coefficients are typical ones for when it is switched on.
    fn default() -> Self {
        Self {
            enabled: false,
            ambient: 0.2,
            diffuse: 0.7,
            specular: 0.2,
            specular_power: 10.0,
        }
    }
}

/// A grey-scale window of a preset, in the preset's domain (HU or percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetWindow {
    /// Window width (> 0).
    #[serde(deserialize_with = "finite")]
    pub width: f32,
    /// Window centre (level).
    #[serde(deserialize_with = "finite")]
    pub center: f32,
}

/// A named transfer function: what a volume looks like in 3D.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Unique name, e.g. `ct-bone`; a user preset with a built-in's name replaces it.
    pub name: String,
    /// One line for menus and tooltips.
    #[serde(default)]
    pub description: String,
    /// The DICOM modality the preset is meant for: `CT` or `MR`.
    pub modality: String,
    /// The units of every value in the preset.
    pub domain: ValueDomain,
    /// How samples along a ray combine.
    #[serde(default)]
    pub mode: RenderMode,
    /// Colour control points, ascending by value.
    pub colour: Vec<ColourPoint>,
    /// Opacity control points, ascending by value.
    pub opacity: Vec<OpacityPoint>,
    /// Gradient-opacity control points, ascending by gradient; empty turns it off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gradient_opacity: Vec<GradientOpacityPoint>,
    /// Lighting; off when absent.
    #[serde(default)]
    pub shading: Shading,
    /// The ray length over which a sample's opacity applies, in mm.
    #[serde(default = "default_opacity_unit_mm")]
    #[serde(deserialize_with = "finite")]
    pub opacity_unit_mm: f32,
    /// The grey-scale window of the projection modes (MIP, MinIP, average).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<PresetWindow>,
}

fn default_opacity_unit_mm() -> f32 {
    1.0
}
