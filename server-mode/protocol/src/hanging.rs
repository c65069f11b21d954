//! A reading laid out: the patient's other studies the server finds when a study opens
//! (`priors`), and the hanging protocol that says which series each cell shows (`hanging`).

use serde::{Deserialize, Serialize};

use hounsfield_vocabulary::{Layout, WindowInfo};

/// Which study of a reading a cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudyRole {
    /// The study being read.
    Current,
    /// The newest earlier study of the same patient that the protocol's prior rule takes.
    Prior,
}

impl StudyRole {
    /// `current` or `prior`, as TOML and JSON write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Prior => "prior",
        }
    }
}

/// One cell of a hung reading: the series it shows and the view it starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HungCell {
    /// Which study: the current or its prior.
    pub role: StudyRole,
    /// That study's id (as `studies` gives it).
    pub study: String,
    /// Its date (`YYYYMMDD`, may be empty), to label the cell.
    pub date: String,
    /// The series shown, by the id `studies` gave it.
    pub series: String,
    /// The series' description, to label the cell.
    pub description: String,
    /// The layout the cell starts in; absent: the session's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// The grey window it starts with; absent: the series' own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowInfo>,
    /// The transfer-function preset of its 3D view; absent: the modality's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}
