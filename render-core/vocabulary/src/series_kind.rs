//! What a series is for: a volume to read, a localiser, or a single image.

use serde::{Deserialize, Serialize};

/// What a series is for (the render core's catalog tells it from the headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// Images that stack into a volume: what is read.
    #[default]
    Volume,
    /// A scout or planning series: ImageType LOCALIZER, a description that says so, or
    /// a few tiny images.
    Localizer,
    /// One image (or one slice position) alone.
    Single,
}

impl SeriesKind {
    /// The kind's name in the protocol: `volume`, `localizer` or `single`.
    pub fn name(self) -> &'static str {
        match self {
            SeriesKind::Volume => "volume",
            SeriesKind::Localizer => "localizer",
            SeriesKind::Single => "single",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_spells_the_name() {
        for kind in [
            SeriesKind::Volume,
            SeriesKind::Localizer,
            SeriesKind::Single,
        ] {
            let json = serde_json::to_string(&kind).expect("a kind serialises");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }
}
