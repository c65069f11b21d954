//! A coronary calcium score as reports tell it (`hounsfield calcium --json`, the server's
//! `calcium` message): each lesion, each artery named, and the total with its risk
//! category.

use serde::{Deserialize, Serialize};

/// The scores of a set of lesions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalciumTotals {
    /// The Agatston score.
    pub agatston: f64,
    /// The volume score (mm³).
    pub volume_mm3: f64,
    /// The mass score (mg).
    pub mass_mg: f64,
    /// How many lesions.
    pub lesions: usize,
    /// The risk category's name (`none`, `mild`, `moderate`, `severe`…).
    pub category: String,
    /// The Agatston range of that category (`0`, `1–99`…).
    pub range: String,
}

/// One lesion: 8-connected pixels of one axial slice at or above 130 HU, of 1 mm² or more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalciumLesion {
    /// The slice it lies on (k, from 0).
    pub slice: usize,
    /// Its pixels' centre (LPS mm).
    pub centre_lps: [f64; 3],
    /// Its area (mm²).
    pub area_mm2: f64,
    /// Its highest value (HU).
    pub peak_hu: f64,
    /// Its mean value (HU).
    pub mean_hu: f64,
    /// The weight of its peak (1 to 4).
    pub weight: u8,
    /// Its Agatston score.
    pub agatston: f64,
    /// Its volume score (mm³).
    pub volume_mm3: f64,
    /// Its mass score (mg).
    pub mass_mg: f64,
    /// The artery a region named it (`LM`, `LAD`, `LCx`, `RCA`, `other`); none when no
    /// region holds it.
    pub artery: Option<String>,
}

/// One artery's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArteryTotals {
    /// `LM`, `LAD`, `LCx`, `RCA` or `other`.
    pub artery: String,
    /// Its lesions' scores.
    #[serde(flatten)]
    pub scores: CalciumTotals,
}

/// A region of known calcium density (a calibration phantom's insert) and its density:
/// what calibrates the mass score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnownDensity {
    /// The region: two opposite corners `[x0, y0, z0, x1, y1, z1]` (LPS mm).
    #[serde(rename = "box")]
    pub region: [f64; 6],
    /// Its density (mg/cm³).
    pub mg_per_cm3: f64,
}

/// A series' calcium score: how it was measured, each lesion, each artery named (when
/// regions named them) and the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalciumReport {
    /// The series scored.
    pub series: String,
    /// Its slice spacing (mm), which scales the Agatston score.
    pub slice_mm: f64,
    /// A pixel's area (mm²).
    pub pixel_area_mm2: f64,
    /// The mass score's calibration (mg/cm³ per HU).
    pub mg_per_cm3_per_hu: f64,
    /// Whether that calibration came from a region of known density (else the default).
    pub calibrated: bool,
    /// That region and its density, where one calibrated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<KnownDensity>,
    /// Every lesion.
    pub lesions: Vec<CalciumLesion>,
    /// With regions naming arteries: each artery's scores, every artery listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arteries: Vec<ArteryTotals>,
    /// Every lesion's scores together.
    pub total: CalciumTotals,
}
