//! Findings reports on a PACS: a series' Measurement Report stored into its study with
//! STOW-RS, and the newest report about a series found again (QIDO-RS for the study's
//! SR series and their instances, one search in all; then WADO-RS for each candidate, a
//! retrieval each, newest first, until one names the series in its evidence).

use std::path::Path;

use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_findings::report::{ReadReport, read_report_file};

use super::call::{Call, call};
use super::deadlines::CallKind;
use super::qido::{objects, required, series_at, string};
use super::request::get_json;
use super::stow::Stored;
use super::wado::{SeriesAddress, retrieve_instance};
use super::{DicomWeb, PacsError, without_credentials};

/// The most SR instances of a study looked at for a series' report: a study's reports are
/// a handful; a PACS holding more is not read through.
pub const MAX_REPORTS_LOOKED_AT: usize = 50;

/// An SR instance of a study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMatch {
    /// Its series.
    pub series_uid: String,
    /// Its SOP Instance UID.
    pub sop_uid: String,
    /// ContentDate and ContentTime, as written (sorts by time).
    pub written: String,
}

impl DicomWeb {
    /// Stores `report` (or any document: key images, a snapshot) into study `study_uid`.
    pub fn store_report(
        &self,
        study_uid: &str,
        report: &FileDicomObject<InMemDicomObject>,
    ) -> Result<Stored, PacsError> {
        let mut bytes = Vec::new();
        report
            .write_all(&mut bytes)
            .map_err(|error| PacsError::BadUrl {
                url: without_credentials(self.base()),
                reason: format!("the report could not be encoded: {error}"),
            })?;
        self.store_instances(study_uid, &[bytes])
    }

    /// The structured reports of study `study_uid`, newest first, at most
    /// [`MAX_REPORTS_LOOKED_AT`]: one search, its requests together.
    pub fn study_reports(&self, study_uid: &str) -> Result<Vec<ReportMatch>, PacsError> {
        let url = self.study_series_url(study_uid)?;
        let url = &url;
        call(self, CallKind::Search, url, |call| async move {
            self.reports_of(&call, url, study_uid).await
        })
    }

    /// [`Self::study_reports`] within `call`, the study's series listed at `series_url`.
    async fn reports_of(
        &self,
        call: &Call<'_>,
        series_url: &url::Url,
        study_uid: &str,
    ) -> Result<Vec<ReportMatch>, PacsError> {
        let series = series_at(call, series_url).await?;
        let mut found = Vec::new();
        for sr in series
            .iter()
            .filter(|s| s.modality.eq_ignore_ascii_case("SR"))
        {
            let address = SeriesAddress {
                study_uid: study_uid.to_string(),
                series_uid: sr.uid.clone(),
            };
            let path = format!("{}/instances", address.path(self)?);
            let url = self.search_url(&path, &[], &["00080023", "00080033"])?;
            let answer = get_json(call, &url).await?;
            for instance in objects(&url, &answer)? {
                found.push(ReportMatch {
                    series_uid: sr.uid.clone(),
                    sop_uid: required(&url, instance, "00080018")?,
                    written: format!(
                        "{} {}",
                        string(instance, "00080023").unwrap_or_default(),
                        string(instance, "00080033").unwrap_or_default()
                    ),
                });
                if found.len() >= MAX_REPORTS_LOOKED_AT {
                    break;
                }
            }
        }
        found.sort_by(|a, b| b.written.cmp(&a.written));
        Ok(found)
    }

    /// The newest report of study `study_uid` whose evidence names series `series_uid`,
    /// its candidates retrieved into `work_folder` one at a time, each a retrieval.
    pub fn newest_series_report(
        &self,
        study_uid: &str,
        series_uid: &str,
        work_folder: &Path,
    ) -> Result<Option<ReadReport>, PacsError> {
        for candidate in self.study_reports(study_uid)? {
            let address = SeriesAddress {
                study_uid: study_uid.to_string(),
                series_uid: candidate.series_uid.clone(),
            };
            let file = work_folder.join(format!("{}.dcm", candidate.sop_uid));
            let url = address.instance_url(self, &candidate.sop_uid)?;
            let (address, sop_uid, into) = (&address, &candidate.sop_uid, &file);
            call(self, CallKind::Retrieval, &url, |call| async move {
                retrieve_instance(&call, address, sop_uid, into).await
            })?;
            let read = read_report_file(&file);
            let _ = std::fs::remove_file(&file);
            match read {
                Ok(report) if report.image_series_uids.iter().any(|s| s == series_uid) => {
                    return Ok(Some(report));
                }
                Ok(_) => {}
                // Another program's SR, or one this one cannot read: not a findings report.
                Err(error) => tracing::debug!(%url, %error, "an SR that is not a findings report"),
            }
        }
        Ok(None)
    }
}
