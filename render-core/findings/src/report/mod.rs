//! The documents a reading leaves in the study: the Measurement Report (findings as a
//! Comprehensive 3D SR, TID 1500) written and read back, key images (Key Object
//! Selection) and 3D snapshots (Secondary Capture).

mod calcium;
pub mod codes;
pub(crate) mod content;
pub(crate) mod elements;
mod key_images;
pub(crate) mod read;
mod snapshot;
mod subject;
mod tracking;
mod uid;
mod volumetric;
mod write;

pub use calcium::{CalciumGroup, ReportedCalcium, SavedCalcium, calcium_tracking_identifier};
pub use elements::Authorship;
pub use key_images::{KEY_OBJECT_SELECTION, key_object_selection};
pub use read::{ReadReport, read_report, read_report_file};
pub use snapshot::{
    MAX_SNAPSHOT_PIXELS, SECONDARY_CAPTURE, Snapshot, secondary_capture, view_description,
};
pub use subject::{ImageRef, ReportSubject, one_patient};
pub use tracking::{Tracked, parse_tracking_identifier, tracking_identifier};
pub use uid::{IMPLEMENTATION_CLASS_UID, new_uid, sop_instance_uid_of};
pub use volumetric::{MeasuredSegment, segment_report, segmentation_with_report};
pub use write::{COMPREHENSIVE_3D_SR, MeasuredFinding, measurement_report};
