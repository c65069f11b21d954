//! Findings and studies where the hospital keeps them: DICOMweb against a real Orthanc,
//! findings saved as DICOM SR in a folder or the PACS. One test binary: its suites are its
//! modules.

mod dicomweb;
mod findings;
mod findings_pacs;
