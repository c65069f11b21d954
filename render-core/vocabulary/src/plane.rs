//! The three standard reformats, by name.

use serde::{Deserialize, Serialize};

/// One of the three standard reformats, by name (`axial`, `coronal`, `sagittal` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlicePlane {
    /// Seen from the feet; the top-right cell of the 2×2 layout.
    Axial,
    /// Seen from the front; the bottom-left cell.
    Coronal,
    /// Seen from the patient's left; the bottom-right cell.
    Sagittal,
}

impl SlicePlane {
    /// The three planes in cell order (top right, bottom left, bottom right).
    pub const ALL: [SlicePlane; 3] = [Self::Axial, Self::Coronal, Self::Sagittal];

    /// Parses `axial`, `coronal` or `sagittal`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "axial" => Some(Self::Axial),
            "coronal" => Some(Self::Coronal),
            "sagittal" => Some(Self::Sagittal),
            _ => None,
        }
    }

    /// The plane's name, as the protocol and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Axial => "axial",
            Self::Coronal => "coronal",
            Self::Sagittal => "sagittal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_json_uses_them() {
        for plane in SlicePlane::ALL {
            assert_eq!(SlicePlane::from_name(plane.name()), Some(plane));
            let json = serde_json::to_string(&plane).expect("a plane serialises");
            assert_eq!(json, format!("\"{}\"", plane.name()));
        }
        assert_eq!(SlicePlane::from_name("oblique"), None);
    }
}
