//! Segmentations on a PACS: its SEG series found with QIDO-RS (one search for the series,
//! one for each one's instances), then each instance retrieved with WADO-RS (a retrieval
//! each) to read its header: the study, the series it segments, its segments' names.

use std::path::Path;

use hounsfield_findings::segmentation::{SegmentationHeader, read_segmentation_header};

use super::call::call;
use super::deadlines::CallKind;
use super::qido::{SERIES_FIELDS, objects, required, series_at};
use super::request::get_json;
use super::wado::{SeriesAddress, retrieve_instance};
use super::{DicomWeb, PacsError, without_credentials};

/// The most Segmentations one listing reads: a PACS holding more is not read through.
pub const MAX_SEGMENTATIONS_LISTED: usize = 50;

/// A Segmentation the PACS holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationFound {
    /// Its WADO-RS URL (without credentials).
    pub url: String,
    /// Its header.
    pub header: SegmentationHeader,
}

impl DicomWeb {
    /// The Segmentations the PACS holds, at most [`MAX_SEGMENTATIONS_LISTED`], each
    /// retrieved into `work_folder` to read its header and removed again. An instance of a
    /// SEG series that is not a Segmentation this program reads is passed over (logged).
    pub fn segmentations(&self, work_folder: &Path) -> Result<Vec<SegmentationFound>, PacsError> {
        self.segmentations_in(None, work_folder)
    }

    /// The Segmentations of study `study_uid` (of every study without one), as
    /// [`DicomWeb::segmentations`] finds them.
    pub fn segmentations_in(
        &self,
        study_uid: Option<&str>,
        work_folder: &Path,
    ) -> Result<Vec<SegmentationFound>, PacsError> {
        let mut parameters = vec![("Modality", "SEG".to_string())];
        if let Some(study_uid) = study_uid {
            parameters.push(("StudyInstanceUID", study_uid.to_string()));
        }
        let url = self.search_url("series", &parameters, SERIES_FIELDS)?;
        let url = &url;
        let instances = call(self, CallKind::Search, url, |call| async move {
            let mut instances = Vec::new();
            for series in series_at(&call, url).await? {
                let address = SeriesAddress {
                    study_uid: series.study_uid.clone(),
                    series_uid: series.uid.clone(),
                };
                let path = format!("{}/instances", address.path(self)?);
                let instances_url = self.search_url(&path, &[], &[])?;
                let answer = get_json(&call, &instances_url).await?;
                for instance in objects(&instances_url, &answer)? {
                    if instances.len() >= MAX_SEGMENTATIONS_LISTED {
                        return Ok(instances);
                    }
                    let sop_uid = required(&instances_url, instance, "00080018")?;
                    instances.push((address.clone(), sop_uid));
                }
            }
            Ok(instances)
        })?;
        let mut found = Vec::with_capacity(instances.len());
        for (address, sop_uid) in instances {
            let file = work_folder.join(format!("{sop_uid}.dcm"));
            let url = address.instance_url(self, &sop_uid)?;
            let (address_ref, sop_ref, into) = (&address, &sop_uid, &file);
            call(self, CallKind::Retrieval, &url, |call| async move {
                retrieve_instance(&call, address_ref, sop_ref, into).await
            })?;
            let header = read_segmentation_header(&file);
            let _ = std::fs::remove_file(&file);
            match header {
                Ok(header) => found.push(SegmentationFound {
                    url: without_credentials(&url),
                    header,
                }),
                Err(error) => tracing::debug!(%url, %error, "a SEG instance that is not read"),
            }
        }
        Ok(found)
    }
}

impl DicomWeb {
    /// Retrieves the Segmentation `header` describes (its study, series and instance)
    /// into the file `into` (WADO-RS).
    pub fn retrieve_segmentation(
        &self,
        header: &SegmentationHeader,
        into: &Path,
    ) -> Result<(), PacsError> {
        let address = SeriesAddress {
            study_uid: header.study_uid.clone(),
            series_uid: header.series_uid.clone(),
        };
        let url = address.instance_url(self, &header.sop_instance_uid)?;
        let (address, sop_uid) = (&address, header.sop_instance_uid.as_str());
        call(self, CallKind::Retrieval, &url, |call| async move {
            retrieve_instance(&call, address, sop_uid, into).await
        })
        .map(|_bytes| ())
    }
}
