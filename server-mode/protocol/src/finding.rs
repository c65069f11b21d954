//! Findings on the wire: what a client asks (`finding`, `save_findings`) and how the server
//! tells a finding (`finding`, `findings`, `finding_deleted`, `saved`).

use serde::{Deserialize, Serialize};

use crate::{CellAxes, CurveInfo, FindingKind, RegionStatistics, SlicePlane};

/// What a `finding` message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingAction {
    /// Draws a new finding (`kind`, `cell`, `points`, and `note` for an arrow).
    Create,
    /// Redraws finding `id` (moved or resized): `cell` and `points`, and `note`.
    Update,
    /// Deletes finding `id`.
    Delete,
}

/// A client's `finding` message. Points are fractions `[x, y]` of one slice cell, as
/// `measure` takes them: an ellipse or a box by two opposite corners of its bounds, a
/// polygon by its vertices, an angle by three points (the vertex second), an arrow by
/// its tail and head, a ruler by its ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRequest {
    /// Create, update or delete.
    pub action: FindingAction,
    /// The finding updated or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// What is drawn: `ellipse`, `rectangle`, `polygon` (or `freehand`), `angle`,
    /// `arrow`, `ruler` (checked by the server, which names the kinds it knows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `axial`, `coronal` or `sagittal`: the slice cell drawn on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// The points, as fractions of the cell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<[f64; 2]>,
    /// The note (an arrow's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A finding as the server tells it: where it is in patient millimetres, and what it
/// measures there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingInfo {
    /// Its number within the series.
    pub id: u32,
    /// What it draws.
    pub kind: FindingKind,
    /// The slice cell it was drawn on.
    pub cell: SlicePlane,
    /// Its points (LPS, mm), in the order they were drawn.
    pub points_lps: Vec<[f64; 3]>,
    /// The axes its cell showed when the slice planes were turned (an oblique finding);
    /// absent on a standard plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axes: Option<CellAxes>,
    /// A region's statistics over the voxels on its slice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<RegionStatistics>,
    /// In a series over time, a region's mean in every volume, in the order of
    /// `opened.volumes` (its time-intensity curve); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// The measures of that curve, with `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<CurveInfo>,
    /// A ruler's length (mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_mm: Option<f64>,
    /// An angle (degrees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub angle_deg: Option<f64>,
    /// The note by it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Who drew it (empty on a server that asks for no sign-in, or read from a report).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
}

/// What `save_findings` stored, and where (the `saved` message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The series whose findings were saved.
    pub series: String,
    /// What was stored: `measurement report` (a Comprehensive 3D SR document), `key
    /// object selection` (key images) or `secondary capture` (a 3D snapshot).
    pub document: String,
    /// The stored document's SOP Instance UID.
    pub sop_instance_uid: String,
    /// How many findings it holds.
    pub findings: usize,
    /// Where it went: `findings folder` or `pacs`.
    pub stored_in: String,
    /// The folder's file or the PACS's URL it was sent to.
    pub location: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, ServerMessage, parse_client_message};

    #[test]
    fn the_issues_create_message_reads_as_written() {
        let text = r#"{"type":"finding","action":"create","kind":"ellipse","cell":"axial","points":[[0.25,0.25],[0.5,0.75]]}"#;
        let message = parse_client_message(text).expect("taken");
        let ClientMessage::Finding(request) = message else {
            panic!("a finding: {message:?}");
        };
        assert_eq!(request.action, FindingAction::Create);
        assert_eq!(request.kind.as_deref(), Some("ellipse"));
        assert_eq!(request.points, [[0.25, 0.25], [0.5, 0.75]]);
        let save = parse_client_message(r#"{"type":"save_findings"}"#).expect("taken");
        assert_eq!(save, ClientMessage::SaveFindings);
    }

    #[test]
    fn a_finding_is_told_with_its_stats_under_the_issues_keys() {
        let told = ServerMessage::Finding(FindingInfo {
            id: 3,
            kind: FindingKind::Ellipse,
            cell: SlicePlane::Axial,
            points_lps: vec![[1.0, 2.0, 3.0], [4.0, 5.0, 3.0]],
            axes: None,
            stats: Some(RegionStatistics {
                mean: 40.5,
                sd: 3.25,
                min: 30.0,
                max: 52.0,
                area_mm2: 120.0,
                voxels: 410,
                unit: "HU".into(),
                suv: None,
            }),
            values: Vec::new(),
            curve: None,
            length_mm: None,
            angle_deg: None,
            note: String::new(),
            author: "rita".into(),
        });
        let json: serde_json::Value = serde_json::to_value(&told).expect("serialises");
        assert_eq!(json["type"], "finding");
        assert_eq!(json["id"], 3);
        assert_eq!(json["kind"], "ellipse");
        assert_eq!(json["points_lps"][1][0], 4.0);
        for key in ["mean", "sd", "min", "max", "area_mm2", "voxels", "unit"] {
            assert!(json["stats"].get(key).is_some(), "stats.{key}");
        }
        assert!(json.get("note").is_none(), "an empty note is left out");
        assert!(
            json.get("axes").is_none(),
            "a standard plane's are left out"
        );
        let back: ServerMessage = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, told);
        // An oblique finding tells its cell's axes.
        let ServerMessage::Finding(mut oblique) = told else {
            unreachable!("a finding")
        };
        oblique.axes = Some(CellAxes {
            right: [1.0, 0.0, 0.0],
            down: [0.0, 0.8, -0.6],
        });
        let json = serde_json::to_value(ServerMessage::Finding(oblique)).expect("serialises");
        assert_eq!(json["axes"]["down"][2], -0.6);
    }
}
