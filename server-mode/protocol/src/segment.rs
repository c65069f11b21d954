//! Segments on the wire: what a client asks (`segment`, `segment_edit`, `segment_undo`,
//! `segments`, `save_segments`) and how the server tells a segment (`segment`,
//! `segment_deleted`, `segments`), each with its numbers.

use serde::{Deserialize, Serialize};

use crate::{CurveInfo, RegionSuv};

/// What a `segment` message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentAction {
    /// Adds an empty segment (its `label`, `colour`, codes as given, or defaults).
    Create,
    /// Changes segment `id`'s name, colour, codes, visibility, opacity or lock.
    Update,
    /// Deletes segment `id`.
    Delete,
}

/// A client's `segment` message: a segment added, described, or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRequest {
    /// Create, update or delete.
    pub action: SegmentAction,
    /// The segment updated or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// Its name (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Its colour, sRGB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<[u8; 3]>,
    /// Its category as `SCHEME:VALUE:MEANING` (e.g. `SCT:85756007:Tissue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Its type as `SCHEME:VALUE:MEANING` (e.g. `SCT:10200004:Liver`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_type: Option<String>,
    /// Whether it is drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// Its fill's opacity, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f32>,
    /// Whether its voxels are locked against the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
}

impl SegmentRequest {
    /// A request of `action` on segment `id` that changes nothing of its description.
    pub fn bare(action: SegmentAction, id: Option<u32>) -> Self {
        Self {
            action,
            id,
            label: None,
            colour: None,
            category: None,
            property_type: None,
            visible: None,
            opacity: None,
            locked: None,
        }
    }
}

/// A logical operation between two segments (or on one, `invert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogicalOperation {
    /// Adds the other segment's voxels.
    Add,
    /// Takes the other segment's voxels out.
    Subtract,
    /// Keeps only the voxels also in the other segment.
    Intersect,
    /// Every voxel not in the segment, and none that was.
    Invert,
}

/// What the islands tool keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "keep")]
pub enum IslandsKeep {
    /// The largest island only.
    Largest,
    /// The islands of at least `min_mm3`.
    AtLeast {
        /// The smallest island kept (mm³).
        min_mm3: f64,
    },
    /// Every island a segment: the segment keeps its largest, each other becomes a new
    /// segment (largest first, its name numbered, its codes the segment's).
    Split,
}

/// The brush's shape (`paint` and `erase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrushShape {
    /// A sphere of the radius about each point.
    #[default]
    Sphere,
    /// A disc of the radius in the cell's slice, one voxel thick.
    Disc,
}

/// A plane of the series' voxel grid, named as on an axial acquisition (`fill_between`):
/// axial slices have one k, coronal ones one j, sagittal ones one i.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridPlaneName {
    /// Constant k.
    Axial,
    /// Constant j.
    Coronal,
    /// Constant i.
    Sagittal,
}

/// One tool applied to one segment (`segment_edit`): points are fractions `[x, y]` of a
/// slice cell of the 2×2 layout, as `probe` takes them, on the slice it shows now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum SegmentTool {
    /// The segment becomes the voxels whose value lies in `low..=high`.
    Threshold {
        /// The lowest value inside.
        low: f64,
        /// The highest value inside.
        high: f64,
    },
    /// Adds the region grown from the point (6-connected) within `low..=high`.
    Grow {
        /// The slice cell clicked.
        cell: String,
        /// The click, as a fraction of the cell's width.
        x: f64,
        /// The click, as a fraction of the cell's height.
        y: f64,
        /// The lowest value inside.
        low: f64,
        /// The highest value inside.
        high: f64,
    },
    /// Adds spheres (or discs) of `radius_mm` at the points (a brush stroke); with
    /// `within`, only the voxels whose value lies in that range.
    Paint {
        /// The slice cell painted on.
        cell: String,
        /// The stroke's points (at most 256).
        points: Vec<[f64; 2]>,
        /// The brush's radius (mm).
        radius_mm: f64,
        /// Paint only where the value is in this range.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within: Option<[f64; 2]>,
        /// A sphere (absent) or a disc in the cell's slice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<BrushShape>,
    },
    /// Takes spheres (or discs) of `radius_mm` at the points out.
    Erase {
        /// The slice cell erased on.
        cell: String,
        /// The stroke's points (at most 256).
        points: Vec<[f64; 2]>,
        /// The eraser's radius (mm).
        radius_mm: f64,
        /// A sphere (absent) or a disc in the cell's slice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<BrushShape>,
    },
    /// Keeps islands (face-connected parts) by size.
    Islands(IslandsKeep),
    /// Grows (positive) or shrinks (negative) the segment by `mm`.
    Margin {
        /// The margin (mm).
        mm: f64,
    },
    /// Smooths the segment by a closing of radius `mm`: gaps and notches narrower are
    /// filled.
    Closing {
        /// The radius (mm).
        mm: f64,
    },
    /// Smooths the segment by the median of the ball of radius `mm`: each voxel takes the
    /// majority of its ball.
    Median {
        /// The radius (mm).
        mm: f64,
    },
    /// Fills the slices between the slices drawn on a plane (shape-based interpolation):
    /// the plane a slice cell shows now, standard or turned (`cell`), or a plane of the
    /// voxel grid (`plane`); one of the two.
    FillBetween {
        /// The slice cell drawn on: its plane as it is turned now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cell: Option<String>,
        /// The grid's plane drawn on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plane: Option<GridPlaneName>,
    },
    /// Shares out the region around the seeds of the segment and of segments `others`:
    /// each voxel goes to the segment whose seeds reach it at the least cost.
    GrowFromSeeds {
        /// The other segments (one or more).
        others: Vec<u32>,
    },
    /// Combines the segment with segment `other` (not needed for `invert`).
    Logical {
        /// The operation.
        operation: LogicalOperation,
        /// The other segment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other: Option<u32>,
    },
    /// Empties the segment.
    Clear,
}

/// A client's `segment_preview` message: with `low` and `high`, this session's slice cells
/// show the voxels whose value lies in `low..=high` (as a threshold would take them) in
/// segment `id`'s colour, until the next preview; without them, the preview goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPreview {
    /// The segment whose colour the preview takes (a default colour without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// The lowest value inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// The highest value inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
}

/// A client's `segment_edit` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEdit {
    /// The segment edited.
    pub id: u32,
    /// The tool and its values, flat in the message.
    #[serde(flatten)]
    pub tool: SegmentTool,
}

/// A segment's numbers, as the server tells them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentNumbers {
    /// Voxels inside.
    pub voxels: usize,
    /// Voxels times one voxel's volume (mL).
    pub volume_ml: f64,
    /// Mean of the values inside (absent when empty, as the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Their population standard deviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// The smallest value inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest value inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The median value inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// The area of its outer faces (mm²).
    pub surface_mm2: f64,
    /// Its box's size along the volume's i, j, k (mm).
    pub extent_mm: [f64; 3],
    /// The values' unit (`HU` for CT).
    pub unit: String,
    /// On a PET whose values convert to SUV: the segment's uptake in SUV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suv: Option<RegionSuv>,
    /// In a series over time, the mean of the segment's voxels in every volume, in the
    /// order of `opened.volumes` (its time-intensity curve); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// The measures of that curve, with `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<CurveInfo>,
}

impl SegmentNumbers {
    /// The numbers of a segment without a voxel, its values in `unit`.
    pub fn empty(unit: &str) -> Self {
        Self {
            voxels: 0,
            volume_ml: 0.0,
            mean: None,
            sd: None,
            min: None,
            max: None,
            median: None,
            surface_mm2: 0.0,
            extent_mm: [0.0; 3],
            suv: None,
            values: Vec::new(),
            curve: None,
            unit: unit.to_string(),
        }
    }
}

/// A segment as the server tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Its number within the series.
    pub id: u32,
    /// Its name.
    pub label: String,
    /// Its colour, sRGB.
    pub colour: [u8; 3],
    /// Its category, `SCHEME:VALUE:MEANING`.
    pub category: String,
    /// Its type, `SCHEME:VALUE:MEANING`.
    pub property_type: String,
    /// `MANUAL`, `SEMIAUTOMATIC` or `AUTOMATIC`.
    pub algorithm: String,
    /// Whether it is drawn.
    pub visible: bool,
    /// Its fill's opacity.
    pub opacity: f32,
    /// Whether the tools leave it as it is.
    pub locked: bool,
    /// Its numbers.
    pub numbers: SegmentNumbers,
    /// Edits `segment_undo` can take back.
    pub undo: usize,
    /// Edits taken back that `segment_undo` with `redo` can make again.
    pub redo: usize,
    /// Who edited it last (empty on a server that asks for no sign-in).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
}

/// A DICOM Segmentation saved on a series, as `segmentations` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSegmentation {
    /// Its SOP Instance UID (what `load_segmentation` names).
    pub sop_instance_uid: String,
    /// When it was written (its ContentDate and ContentTime).
    pub written: String,
    /// Its ContentLabel.
    pub content_label: String,
    /// Its segments' names, in order.
    pub segments: Vec<String>,
    /// Where it is kept: `findings folder` or `pacs`.
    pub stored_in: String,
}

/// How a model's run stands, as `model_progress` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRunState {
    /// Patches are being run.
    Running,
    /// Every patch ran; its segments follow.
    Done,
    /// `stop_model` stopped it; no segment was added.
    Stopped,
    /// It failed (`message` says why); no segment was added.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, parse_client_message};

    #[test]
    fn the_tools_read_as_a_client_writes_them() {
        let grow = r#"{"type":"segment_edit","id":2,"tool":"grow","cell":"axial","x":0.5,"y":0.25,"low":300,"high":3000}"#;
        let ClientMessage::SegmentEdit(edit) = parse_client_message(grow).expect("taken") else {
            panic!("a segment_edit");
        };
        assert_eq!(edit.id, 2);
        assert!(matches!(edit.tool, SegmentTool::Grow { x, .. } if x == 0.5));
        let islands =
            r#"{"type":"segment_edit","id":1,"tool":"islands","keep":"at_least","min_mm3":50}"#;
        let ClientMessage::SegmentEdit(edit) = parse_client_message(islands).expect("taken") else {
            panic!("a segment_edit");
        };
        assert_eq!(
            edit.tool,
            SegmentTool::Islands(IslandsKeep::AtLeast { min_mm3: 50.0 })
        );
        let split = r#"{"type":"segment_edit","id":1,"tool":"islands","keep":"split"}"#;
        let ClientMessage::SegmentEdit(edit) = parse_client_message(split).expect("taken") else {
            panic!("a segment_edit");
        };
        assert_eq!(edit.tool, SegmentTool::Islands(IslandsKeep::Split));
        let create = r#"{"type":"segment","action":"create","label":"Liver","colour":[200,90,60]}"#;
        assert!(matches!(
            parse_client_message(create).expect("taken"),
            ClientMessage::Segment(SegmentRequest {
                action: SegmentAction::Create,
                ..
            })
        ));
        assert_eq!(
            parse_client_message(r#"{"type":"segment_undo","id":1,"redo":true}"#).expect("taken"),
            ClientMessage::SegmentUndo { id: 1, redo: true }
        );
        assert_eq!(
            parse_client_message(r#"{"type":"save_segments"}"#).expect("taken"),
            ClientMessage::SaveSegments
        );
        assert_eq!(
            parse_client_message(r#"{"type":"segments"}"#).expect("taken"),
            ClientMessage::Segments
        );
        assert_eq!(
            parse_client_message(r#"{"type":"segmentations"}"#).expect("taken"),
            ClientMessage::Segmentations
        );
        assert_eq!(
            parse_client_message(r#"{"type":"load_segmentation","sop_instance_uid":"1.2.3"}"#)
                .expect("taken"),
            ClientMessage::LoadSegmentation {
                sop_instance_uid: "1.2.3".to_string()
            }
        );
        assert!(parse_client_message(r#"{"type":"load_segmentation"}"#).is_err());
        assert!(parse_client_message(r#"{"type":"segment_edit","id":1,"tool":"lasso"}"#).is_err());
        // The tools that came with the disc brush; a paint without a shape is a sphere's.
        let tool = |text: &str| match parse_client_message(text).expect("taken") {
            ClientMessage::SegmentEdit(edit) => edit.tool,
            other => panic!("a segment_edit, not {other:?}"),
        };
        assert_eq!(
            tool(r#"{"type":"segment_edit","id":1,"tool":"median","mm":1.5}"#),
            SegmentTool::Median { mm: 1.5 }
        );
        assert_eq!(
            tool(r#"{"type":"segment_edit","id":1,"tool":"fill_between","plane":"coronal"}"#),
            SegmentTool::FillBetween {
                cell: None,
                plane: Some(GridPlaneName::Coronal)
            }
        );
        assert_eq!(
            tool(r#"{"type":"segment_edit","id":1,"tool":"fill_between","cell":"sagittal"}"#),
            SegmentTool::FillBetween {
                cell: Some("sagittal".to_string()),
                plane: None
            }
        );
        assert_eq!(
            tool(r#"{"type":"segment_edit","id":1,"tool":"grow_from_seeds","others":[2,3]}"#),
            SegmentTool::GrowFromSeeds { others: vec![2, 3] }
        );
        assert!(matches!(
            tool(
                r#"{"type":"segment_edit","id":1,"tool":"paint","cell":"axial","points":[[0.5,0.5]],"radius_mm":2,"shape":"disc"}"#
            ),
            SegmentTool::Paint {
                shape: Some(BrushShape::Disc),
                ..
            }
        ));
        assert!(matches!(
            tool(
                r#"{"type":"segment_edit","id":1,"tool":"erase","cell":"axial","points":[[0.5,0.5]],"radius_mm":2}"#
            ),
            SegmentTool::Erase { shape: None, .. }
        ));
        assert_eq!(
            parse_client_message(r#"{"type":"segment_preview","id":2,"low":300,"high":3000}"#)
                .expect("taken"),
            ClientMessage::SegmentPreview(SegmentPreview {
                id: Some(2),
                low: Some(300.0),
                high: Some(3000.0)
            })
        );
        assert_eq!(
            parse_client_message(r#"{"type":"segment_preview"}"#).expect("taken"),
            ClientMessage::SegmentPreview(SegmentPreview {
                id: None,
                low: None,
                high: None
            })
        );
        for bad in [
            r#"{"type":"segment_preview","low":"a lot"}"#,
            r#"{"type":"segment_edit","id":1,"tool":"fill_between","plane":"oblique"}"#,
            r#"{"type":"segment_edit","id":1,"tool":"paint","cell":"axial","points":[[0.5,0.5]],"radius_mm":2,"shape":"cube"}"#,
            r#"{"type":"segment_edit","id":1,"tool":"grow_from_seeds"}"#,
        ] {
            assert!(parse_client_message(bad).is_err(), "{bad}");
        }
    }
}
