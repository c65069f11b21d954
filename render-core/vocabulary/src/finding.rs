//! Findings a radiologist keeps on a slice: the kinds of shape, and what a region
//! measures.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// The most vertices a freehand (polygon) region may have: a traced outline of a large
/// organ at one vertex a millimetre or so, and a bound on what a client can make the
/// server test every voxel against.
pub const MAX_POLYGON_VERTICES: usize = 512;

/// The most characters of a finding's note (an arrow's label): a sentence or two, as a
/// report's line; longer is refused, not cut, so that what is kept is what was typed.
pub const MAX_NOTE_CHARS: usize = 1024;

/// What a finding draws (`ellipse`, `rectangle`, `polygon`, `angle`, `arrow`, `ruler`
/// in JSON; `freehand` is read as `polygon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A region bounded by the ellipse inscribed in a box given by two opposite corners.
    Ellipse,
    /// A region bounded by a box given by two opposite corners.
    Rectangle,
    /// A region bounded by a closed outline of three or more vertices.
    #[serde(alias = "freehand")]
    Polygon,
    /// The angle at the middle of three points.
    Angle,
    /// An arrow from its tail to its head, with a note.
    Arrow,
    /// A length between two points.
    Ruler,
}

impl FindingKind {
    /// Every kind, regions first.
    pub const ALL: [FindingKind; 6] = [
        Self::Ellipse,
        Self::Rectangle,
        Self::Polygon,
        Self::Angle,
        Self::Arrow,
        Self::Ruler,
    ];

    /// The kind's name, as the protocol and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ellipse => "ellipse",
            Self::Rectangle => "rectangle",
            Self::Polygon => "polygon",
            Self::Angle => "angle",
            Self::Arrow => "arrow",
            Self::Ruler => "ruler",
        }
    }

    /// Parses a kind's name (`freehand` is a polygon).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "freehand" => Some(Self::Polygon),
            _ => Self::ALL.into_iter().find(|kind| kind.name() == name),
        }
    }

    /// Whether the kind encloses voxels, and so has statistics.
    pub fn is_region(self) -> bool {
        matches!(self, Self::Ellipse | Self::Rectangle | Self::Polygon)
    }

    /// How many points the kind is drawn by.
    pub fn point_count(self) -> RangeInclusive<usize> {
        match self {
            Self::Polygon => 3..=MAX_POLYGON_VERTICES,
            Self::Angle => 3..=3,
            Self::Ellipse | Self::Rectangle | Self::Arrow | Self::Ruler => 2..=2,
        }
    }
}

/// What a region encloses on its slice: the statistics of the voxels whose centres fall
/// inside it (population standard deviation), its area and the unit of its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionStatistics {
    /// Mean of the voxel values.
    pub mean: f64,
    /// Standard deviation of the voxel values (over the voxels, not a sample's).
    pub sd: f64,
    /// Smallest voxel value.
    pub min: f64,
    /// Largest voxel value.
    pub max: f64,
    /// The shape's own area in mm² (not the voxels' count times their size).
    pub area_mm2: f64,
    /// How many voxels the statistics are over.
    pub voxels: u64,
    /// `HU` for CT; empty for modalities without a unit.
    pub unit: String,
    /// On a PET whose values convert to SUV: the region's uptake in SUV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suv: Option<RegionSuv>,
}

/// A PET region's uptake in SUV (body weight, decay-corrected).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegionSuv {
    /// The highest voxel's SUV.
    pub suv_max: f64,
    /// The voxels' mean SUV.
    pub suv_mean: f64,
    /// The highest mean SUV of a 1 cm³ sphere centred on one of the region's voxels.
    pub suv_peak: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_freehand_is_a_polygon() {
        for kind in FindingKind::ALL {
            assert_eq!(FindingKind::from_name(kind.name()), Some(kind));
            let json = serde_json::to_string(&kind).expect("a kind serialises");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        let freehand: FindingKind = serde_json::from_str("\"freehand\"").expect("an alias");
        assert_eq!(freehand, FindingKind::Polygon);
        assert_eq!(FindingKind::from_name("circle"), None);
    }

    #[test]
    fn only_shapes_that_enclose_are_regions() {
        let regions: Vec<_> = FindingKind::ALL
            .into_iter()
            .filter(|kind| kind.is_region())
            .collect();
        assert_eq!(
            regions,
            [
                FindingKind::Ellipse,
                FindingKind::Rectangle,
                FindingKind::Polygon
            ]
        );
        assert!(
            FindingKind::Polygon
                .point_count()
                .contains(&MAX_POLYGON_VERTICES)
        );
        assert!(!FindingKind::Polygon.point_count().contains(&2));
    }
}
