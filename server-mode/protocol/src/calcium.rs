//! The calcium score on the wire: what a client asks (`calcium`) and what the server
//! tells (`calcium`, a [`CalciumReport`](crate::CalciumReport) as `hounsfield calcium
//! --json` prints it). Boxes are LPS millimetres, two opposite corners
//! `[x0, y0, z0, x1, y1, z1]`, as the command line's `--roi` takes them.

use serde::{Deserialize, Serialize};

/// The most regions naming arteries one `calcium` message may carry.
pub const MOST_ARTERY_REGIONS: usize = 32;

/// A box of the patient: two opposite corners (LPS mm).
pub type LpsBox = [f64; 6];

/// A region of known calcium density, for the mass score's calibration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnownDensity {
    /// The region (an insert of a calibration phantom).
    #[serde(rename = "box")]
    pub region: LpsBox,
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

/// A client's `calcium` message: score the open CT's calcium.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CalciumRequest {
    /// The region scored; the whole series when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roi: Option<LpsBox>,
    /// A region of known density; the stated default calibration when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<KnownDensity>,
    /// Regions naming the arteries their lesions are (at most
    /// [`MOST_ARTERY_REGIONS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arteries: Vec<ArteryRegion>,
}
