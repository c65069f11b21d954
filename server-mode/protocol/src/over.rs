//! One series drawn over another in the slice cells (a PET over its CT): what a client
//! asks for (`over`) and what the session then draws (the `over` reply).

use serde::{Deserialize, Serialize};

use hounsfield_vocabulary::WindowInfo;

/// Draws a second series over the open one's slice cells, restyles it, or takes it away
/// (`over` reply). A field left out keeps what the session draws now (or the start: the
/// `hot` map at half opacity in the second series' own window).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverRequest {
    /// The second series, by the id `studies` gave it: the same patient's, in the open
    /// series' frame of reference (else lined up centre to centre); absent or null takes
    /// the series drawn over away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// `hot`, `rainbow` or `grey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour_map: Option<String>,
    /// 0 (not seen) to 1 (hides the slice beneath).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f64>,
    /// Its own window, in its own values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowInfo>,
}

impl OverRequest {
    /// The request that draws `shown` again as it is drawn now (after a reconnection,
    /// say).
    pub fn drawing(shown: &OverShown) -> Self {
        Self {
            series: Some(shown.series.clone()),
            colour_map: Some(shown.colour_map.clone()),
            opacity: Some(shown.opacity),
            window: Some(shown.window),
        }
    }
}

/// How the open series' points are found in the series drawn over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLink {
    /// One frame of reference: the same LPS millimetres are the same place.
    SameFrame,
    /// Another frame (or none): the volumes' centres lined up.
    Centres,
}

/// The series drawn over the open one, as the session draws it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverShown {
    /// Its id.
    pub series: String,
    /// Its modality (`PT`, `MR`…).
    pub modality: String,
    /// Its colour map.
    pub colour_map: String,
    /// Its opacity, 0 to 1.
    pub opacity: f64,
    /// Its window.
    pub window: WindowInfo,
    /// How it is lined up with the open series.
    pub link: OverLink,
}
