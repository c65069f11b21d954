//! How the samples along a ray combine into a pixel, named as preset files and the wire
//! protocol name it.

use serde::{Deserialize, Deserializer, Serialize};

/// How the samples along a ray combine into a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RenderMode {
    /// Front-to-back compositing of colour and opacity (volume rendering).
    #[default]
    Composite,
    /// Maximum intensity projection (contrast vessels, bone).
    Mip,
    /// Minimum intensity projection (airways).
    Minip,
    /// The mean value along the ray (a thick-slab radiograph).
    Average,
}

impl RenderMode {
    /// Every mode, in menu order.
    pub const ALL: [RenderMode; 4] = [
        RenderMode::Composite,
        RenderMode::Mip,
        RenderMode::Minip,
        RenderMode::Average,
    ];

    /// The mode's name in preset files and the protocol: `composite`, `mip`, `minip`, `average`.
    pub fn name(&self) -> &'static str {
        match self {
            RenderMode::Composite => "composite",
            RenderMode::Mip => "mip",
            RenderMode::Minip => "minip",
            RenderMode::Average => "average",
        }
    }

    /// The mode with this name (ASCII case and surrounding blanks ignored), or `None`.
    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(s))
    }

    /// Whether the mode projects one value per ray and shows it through a grey window.
    pub fn is_projection(&self) -> bool {
        !matches!(self, RenderMode::Composite)
    }
}

impl std::fmt::Display for RenderMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Read by name as [`RenderMode::from_name`] reads it, so that a preset file, a shared
/// view and a typed `set_mode` accept the same spellings and refuse the same way.
impl<'de> Deserialize<'de> for RenderMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        RenderMode::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown mode \"{}\" (known: composite, mip, minip, average)",
                crate::text::cut_with_mark(&name, 32)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_their_mode_in_any_case() {
        for mode in RenderMode::ALL {
            let written = serde_json::to_string(&mode).unwrap();
            assert_eq!(serde_json::from_str::<RenderMode>(&written).unwrap(), mode);
        }
        assert_eq!(
            serde_json::from_str::<RenderMode>("\"MIP\"").unwrap(),
            RenderMode::Mip
        );
        assert_eq!(
            RenderMode::from_name(" Average "),
            Some(RenderMode::Average)
        );
        assert_eq!(RenderMode::from_name("vr"), None);
        assert_eq!(RenderMode::default(), RenderMode::Composite);
    }

    #[test]
    fn an_unknown_mode_is_refused_by_name_and_cut_short() {
        let long = format!("\"{}\"", "x".repeat(10_000));
        let error = serde_json::from_str::<RenderMode>(&long)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown mode"), "{error}");
        assert!(error.len() < 200, "{} characters", error.len());
        let error = serde_json::from_str::<RenderMode>("\"xray\"")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"xray\"") && error.contains("known: composite"),
            "{error}"
        );
    }
}
