//! What the server does with what DICOM callers send its Storage SCP: each refusal and
//! each association audited, and the studies an association stored catalogued into the
//! library as it ends.

use std::path::PathBuf;
use std::sync::Arc;

use hounsfield_access::audit::{AuditEvent, AuditLog};
use hounsfield_dimse::{AssociationReport, Reception, Refusal};

use crate::library::Library;

/// The most StudyInstanceUIDs one association's audit line names.
const MOST_AUDITED_STUDIES: usize = 64;

/// The library and the audit log, told what arrives.
pub struct LibraryReception {
    library: Arc<Library>,
    audit: Arc<AuditLog>,
    store_root: PathBuf,
}

impl LibraryReception {
    /// Received studies (stored under `store_root`) go into `library`, and every
    /// association into `audit`.
    pub fn new(library: Arc<Library>, audit: Arc<AuditLog>, store_root: PathBuf) -> Self {
        Self {
            library,
            audit,
            store_root,
        }
    }
}

impl Reception for LibraryReception {
    fn refused(&self, refusal: &Refusal) {
        tracing::warn!(peer = %refusal.peer, calling_ae = %refusal.calling_ae, reason = %refusal.reason, "DICOM caller refused");
        self.audit.record(&AuditEvent::DicomRefused {
            client: refusal.peer,
            calling_ae: refusal.calling_ae.clone(),
            reason: refusal.reason.clone(),
        });
    }

    fn ended(&self, report: &AssociationReport) {
        let mut studies: Vec<String> = report
            .series
            .iter()
            .map(|(study, _)| study.clone())
            .collect();
        studies.dedup();
        if let Some(client) = report.peer {
            self.audit.record(&AuditEvent::DicomReceived {
                client,
                calling_ae: report.calling_ae.clone(),
                stored: report.stored,
                duplicates: report.duplicates,
                refused: report.refused,
                bytes: report.bytes,
                studies: studies.iter().take(MOST_AUDITED_STUDIES).cloned().collect(),
            });
        }
        if report.stored == 0 {
            return;
        }
        let folders: Vec<PathBuf> = studies
            .iter()
            .map(|study| self.store_root.join(study))
            .collect();
        let listed = self.library.add_received(&folders);
        tracing::info!(
            calling_ae = %report.calling_ae,
            stored = report.stored,
            studies = listed.studies,
            series = listed.series,
            "received over DICOM and listed"
        );
    }
}
