//! The calcium score on the wire: what a client asks (`calcium`) and what the server
//! tells (`calcium`, a [`CalciumReport`](crate::CalciumReport) as `hounsfield calcium
//! --json` prints it). Boxes are LPS millimetres, two opposite corners
//! `[x0, y0, z0, x1, y1, z1]`, as the command line's `--roi` takes them. A reader names
//! lesions on the axial cell (`name`: a click on a lesion, or a box drawn round some);
//! the server keeps the names while the series stays open and lays the lesions over the
//! slice cells in their artery's colour.

use serde::{Deserialize, Serialize};

pub use hounsfield_vocabulary::KnownDensity;

/// The most regions naming arteries one `calcium` message may carry.
pub const MOST_ARTERY_REGIONS: usize = 32;

/// The most regions naming arteries a session keeps for its series (boxes given and the
/// lesions its reader named, one region each).
pub const MOST_KEPT_ARTERY_REGIONS: usize = 1024;

/// A box of the patient: two opposite corners (LPS mm).
pub type LpsBox = [f64; 6];

/// A region of known density the reader draws on the axial cell: the box two corners make
/// on the slice shown, and its density.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawnDensity {
    /// The slice cell: `axial`, standing as the scan's slices (not turned).
    pub cell: String,
    /// Fractions `[x, y]` of the cell: the box's two opposite corners.
    pub points: Vec<[f64; 2]>,
    /// Its density (mg/cm³).
    pub mg_per_cm3: f64,
}

/// A region whose lesions are one artery's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArteryRegion {
    /// `LM`, `LAD`, `LCx`, `RCA` or `other`.
    pub artery: String,
    /// The region.
    #[serde(rename = "box")]
    pub region: LpsBox,
}

/// Lesions a reader names on the axial cell: the plaque under a click (the lesion there
/// and those touching it on the slices above and below), or the lesions of the slice
/// shown whose centres lie in a box drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionNaming {
    /// `LM`, `LAD`, `LCx`, `RCA` or `other`.
    pub artery: String,
    /// The slice cell: `axial`, standing as the scan's slices (not turned).
    pub cell: String,
    /// Fractions `[x, y]` of the cell: one point (a click) or two (a box's corners).
    pub points: Vec<[f64; 2]>,
}

/// A client's `calcium` message: score the open CT's calcium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalciumRequest {
    /// The region scored; the whole series when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roi: Option<LpsBox>,
    /// A region of known density; the stated default calibration when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<KnownDensity>,
    /// A region of known density drawn on the axial cell instead: the answer's
    /// `calibration` gives it as a box, for the next messages to send as `calibration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration_on_slice: Option<DrawnDensity>,
    /// Regions naming the arteries their lesions are (at most [`MOST_ARTERY_REGIONS`]):
    /// when given, they replace the names kept (an empty list forgets them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arteries: Option<Vec<ArteryRegion>>,
    /// Lesions the reader names, added to the names kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LesionNaming>,
    /// Whether the lesions are laid over this session's slice cells (the candidates in
    /// one colour, each named lesion in its artery's); true when absent.
    #[serde(
        default = "laid_over_slices",
        skip_serializing_if = "is_laid_over_slices"
    )]
    pub highlight: bool,
}

impl Default for CalciumRequest {
    fn default() -> Self {
        Self {
            roi: None,
            calibration: None,
            calibration_on_slice: None,
            arteries: None,
            name: None,
            highlight: true,
        }
    }
}

fn laid_over_slices() -> bool {
    true
}

fn is_laid_over_slices(highlight: &bool) -> bool {
    *highlight
}
