//! The Measurement Report: findings written as a Comprehensive 3D SR document (TID 1500)
//! and read back.

pub mod codes;
mod read;
mod subject;
mod tracking;
mod uid;
mod write;

pub use read::{ReadReport, read_report, read_report_file};
pub use subject::{ImageRef, ReportSubject};
pub use tracking::{parse_tracking_identifier, tracking_identifier};
pub use uid::{IMPLEMENTATION_CLASS_UID, new_uid};
pub use write::{Authorship, COMPREHENSIVE_3D_SR, MeasuredFinding, measurement_report};
