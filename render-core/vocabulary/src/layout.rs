//! How a frame or a window is divided into views.

use serde::{Deserialize, Serialize};

/// How a frame is divided into views (`1x1` or `2x2` in JSON and TOML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Layout {
    /// The 3D view alone.
    #[default]
    #[serde(rename = "1x1", alias = "single")]
    Single,
    /// Two by two: 3D top left, axial top right, coronal bottom left, sagittal bottom right.
    #[serde(rename = "2x2", alias = "quad")]
    Quad,
}

impl Layout {
    /// Parses `1x1` or `2x2`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "1x1" => Some(Self::Single),
            "2x2" => Some(Self::Quad),
            _ => None,
        }
    }

    /// The layout's name, as the protocol spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Single => "1x1",
            Self::Quad => "2x2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_json_uses_them() {
        for layout in [Layout::Single, Layout::Quad] {
            assert_eq!(Layout::from_name(layout.name()), Some(layout));
            let json = serde_json::to_string(&layout).expect("a layout serialises");
            assert_eq!(json, format!("\"{}\"", layout.name()));
        }
        assert_eq!(Layout::from_name("3x3"), None);
        let old: Layout = serde_json::from_str("\"quad\"").expect("the old name is read");
        assert_eq!(old, Layout::Quad);
    }
}
