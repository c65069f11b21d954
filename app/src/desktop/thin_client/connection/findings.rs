//! Findings over the link: what the server tells of the open series' findings (`finding`,
//! `finding_deleted`, `findings` after each `opened`, `saved`, and the errors that answer
//! a finding or a save), queued for the UI in the order they came.

use hounsfield_protocol::{ErrorCode, FindingInfo, Saved};

use super::{LinkState, Worker};

/// News of the findings not yet taken by the UI; beyond this the oldest are dropped.
pub(super) const FINDING_NEWS_QUEUE: usize = 1024;

/// What the server told of the findings.
#[derive(Debug, Clone, PartialEq)]
pub enum FindingNews {
    /// A finding drawn or redrawn, as the server measured it.
    Told(FindingInfo),
    /// A finding deleted.
    Deleted(u32),
    /// Every finding of the series just opened.
    All {
        /// The series.
        series: String,
        /// Its findings, in drawing order.
        findings: Vec<FindingInfo>,
    },
    /// A finding refused: the server's message, naming the field.
    Refused(String),
    /// What `save_findings` stored, or why it did not.
    Saved(Result<Saved, String>),
}

impl LinkState {
    /// Queues `news` for the UI.
    pub(super) fn tell_findings(&mut self, news: FindingNews) {
        if self.finding_news.len() == FINDING_NEWS_QUEUE {
            tracing::warn!("findings news dropped: the window has not taken it");
            self.finding_news.pop_front();
        }
        self.finding_news.push_back(news);
    }
}

impl Worker {
    /// Takes an `error` as the answer to a finding or a save where it is one (a save
    /// waits for its answer; a finding's refusal names the finding); whether it was.
    pub(super) fn findings_error(&self, code: ErrorCode, message: &str) -> bool {
        let mut answered = false;
        self.update(|state| {
            if state.save_pending
                && (code == ErrorCode::Forbidden || message.starts_with("save_findings"))
            {
                state.save_pending = false;
                state.tell_findings(FindingNews::Saved(Err(format!(
                    "the server did not save the findings: {message}"
                ))));
                answered = true;
            } else if message.starts_with("finding") {
                state.tell_findings(FindingNews::Refused(message.to_string()));
                answered = true;
            }
        });
        answered
    }

    /// A finding the server drew, redrew or deleted, its findings after `opened`, or what
    /// a save stored.
    pub(super) fn findings_told(&self, news: FindingNews) {
        match &news {
            FindingNews::Told(info) => tracing::info!(
                "finding {} {} on {}: {:?} mm²",
                info.id,
                info.kind.name(),
                info.cell.name(),
                info.stats.as_ref().map(|stats| stats.area_mm2)
            ),
            FindingNews::Deleted(id) => tracing::info!("finding {id} deleted"),
            FindingNews::All { series, findings } => {
                tracing::info!("{} findings on series {series}", findings.len());
            }
            FindingNews::Saved(Ok(saved)) => tracing::info!(
                "findings saved: {} in {} ({})",
                saved.findings,
                saved.stored_in,
                saved.location
            ),
            FindingNews::Saved(Err(_)) | FindingNews::Refused(_) => {}
        }
        self.update(|state| {
            if matches!(news, FindingNews::Saved(_)) {
                state.save_pending = false;
            }
            state.tell_findings(news);
        });
    }
}
