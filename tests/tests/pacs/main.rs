//! Findings and studies where the hospital keeps them: DICOMweb and DICOM networking
//! (C-FIND, C-MOVE into our Storage SCP) against a real Orthanc,
//! findings saved as DICOM SR in a folder or the PACS, segments edited over the protocol
//! and saved as DICOM SEG. One test binary: its suites are its modules.

mod dicomweb;
mod dimse;
mod findings;
mod findings_pacs;
mod model_runs;
mod saved_segmentations;
pub(crate) mod segments;
