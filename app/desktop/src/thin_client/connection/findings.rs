//! Findings over the link: the UI's requests (`finding`, `save_findings`, `key_image`,
//! `snapshot`) sent in turn with the inputs, and what the server tells of the open series'
//! findings (`finding`, `finding_deleted`, `findings` after each `opened`, `saved`, and
//! the errors that answer a finding, a save or a document), queued for the UI in the order
//! they came.

use hounsfield_client::{Client, ClientError};
use hounsfield_protocol::{
    ClientMessage, ErrorCode, FindingInfo, FindingRequest, Saved, SlicePlane,
};

use super::{Command, LinkState, RemoteLink, Worker};

/// News of the findings not yet taken by the UI; beyond this the oldest are dropped.
pub(super) const FINDING_NEWS_QUEUE: usize = 1024;

/// The `saved` document of a `save_findings` (the others are key images and snapshots).
const MEASUREMENT_REPORT: &str = "measurement report";

/// How the server's refusals of a key image or a snapshot begin: the request's name, or
/// the document's when storing it failed.
const DOCUMENT_REFUSALS: [&str; 4] = [
    "key_image",
    "snapshot",
    "key object selection",
    "secondary capture",
];

/// What the server told of the findings.
#[derive(Debug, Clone, PartialEq)]
pub enum FindingNews {
    /// A finding drawn or redrawn, as the server measured it.
    Told(Box<FindingInfo>),
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
    /// What a `key_image` or `snapshot` stored, or why it did not.
    Stored(Result<Saved, String>),
}

impl FindingNews {
    /// The news a `saved` message is: a save's, or a key image's or snapshot's.
    pub fn of_saved(saved: Saved) -> Self {
        if saved.document == MEASUREMENT_REPORT {
            Self::Saved(Ok(saved))
        } else {
            Self::Stored(Ok(saved))
        }
    }
}

impl RemoteLink {
    /// Sends a `finding` (create, update or delete), answered in
    /// [`LinkState::finding_news`]; `false` when the queue is full or the link stopped.
    pub fn finding(&self, request: FindingRequest) -> bool {
        self.findings(ClientMessage::Finding(request))
    }

    /// Asks the server to save the open series' findings, answered in
    /// [`LinkState::finding_news`] (`saved`, or why not).
    pub fn save_findings(&self) -> bool {
        self.findings(ClientMessage::SaveFindings)
    }

    /// Asks the server to mark the stored image `cell`'s slice shows as a key image,
    /// described by `note`; answered in [`LinkState::finding_news`].
    pub fn key_image(&self, cell: SlicePlane, note: &str) -> bool {
        self.findings(ClientMessage::KeyImage {
            cell: cell.name().to_string(),
            note: given(note),
        })
    }

    /// Asks the server to keep its 3D view as a snapshot described by `note`; answered in
    /// [`LinkState::finding_news`].
    pub fn snapshot(&self, note: &str) -> bool {
        self.findings(ClientMessage::Snapshot { note: given(note) })
    }

    fn findings(&self, message: ClientMessage) -> bool {
        self.commands.try_send(Command::Findings(message)).is_ok()
    }
}

/// A note as the protocol takes it: none when empty.
fn given(note: &str) -> Option<String> {
    Some(note.trim().to_string()).filter(|note| !note.is_empty())
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

    /// Tells the UI that the save and documents asked before the connection dropped will
    /// not be answered.
    pub(super) fn unanswered_after_a_drop(&mut self) {
        if std::mem::take(&mut self.save_pending) {
            self.tell_findings(FindingNews::Saved(Err(
                "the connection dropped before the server answered the save; save again"
                    .to_string(),
            )));
        }
        if std::mem::take(&mut self.documents_pending) > 0 {
            self.tell_findings(FindingNews::Stored(Err(
                "the connection dropped before the server answered; ask again".to_string(),
            )));
        }
    }
}

impl Worker {
    /// Sends a request about the findings, remembering a save or document to be answered.
    pub(super) async fn send_findings(
        &self,
        client: &mut Client,
        message: &ClientMessage,
    ) -> Result<(), ClientError> {
        match message {
            ClientMessage::SaveFindings => self.update(|state| state.save_pending = true),
            ClientMessage::KeyImage { .. } | ClientMessage::Snapshot { .. } => {
                self.update(|state| state.documents_pending += 1);
            }
            _ => {}
        }
        client.send(message).await
    }

    /// Takes an `error` as the answer to a finding, a save or a document where it is one
    /// (a save or a document waits for its answer; a finding's refusal names the
    /// finding); whether it was.
    pub(super) fn findings_error(&self, code: ErrorCode, message: &str) -> bool {
        let mut answered = false;
        let forbidden = code == ErrorCode::Forbidden;
        self.update(|state| {
            if state.save_pending && (forbidden || message.starts_with("save_findings")) {
                state.save_pending = false;
                state.tell_findings(FindingNews::Saved(Err(format!(
                    "the server did not save the findings: {message}"
                ))));
                answered = true;
            } else if state.documents_pending > 0
                && (forbidden || DOCUMENT_REFUSALS.iter().any(|p| message.starts_with(p)))
            {
                state.documents_pending -= 1;
                state.tell_findings(FindingNews::Stored(Err(format!(
                    "the server did not keep it: {message}"
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
    /// a save, a key image or a snapshot stored.
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
            FindingNews::Saved(Ok(saved)) | FindingNews::Stored(Ok(saved)) => tracing::info!(
                "{} stored: {} findings in {} ({})",
                saved.document,
                saved.findings,
                saved.stored_in,
                saved.location
            ),
            FindingNews::Saved(Err(_)) | FindingNews::Stored(Err(_)) | FindingNews::Refused(_) => {}
        }
        self.update(|state| {
            match news {
                FindingNews::Saved(_) => state.save_pending = false,
                FindingNews::Stored(_) => {
                    state.documents_pending = state.documents_pending.saturating_sub(1);
                }
                _ => {}
            }
            state.tell_findings(news);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(document: &str) -> Saved {
        Saved {
            series: "1.2".into(),
            document: document.into(),
            sop_instance_uid: "1.2.3".into(),
            findings: 0,
            stored_in: "findings folder".into(),
            location: "/tmp/findings/1/1.2.3.dcm".into(),
        }
    }

    #[test]
    fn a_saved_report_answers_the_save_and_other_documents_a_key_image_or_snapshot() {
        assert!(matches!(
            FindingNews::of_saved(saved("measurement report")),
            FindingNews::Saved(Ok(_))
        ));
        for document in ["key object selection", "secondary capture"] {
            assert!(matches!(
                FindingNews::of_saved(saved(document)),
                FindingNews::Stored(Ok(_))
            ));
        }
        assert_eq!(given("  "), None);
        assert_eq!(given(" lesion "), Some("lesion".to_string()));
    }

    #[test]
    fn a_drop_answers_what_was_asked_and_not_answered() {
        let mut state = LinkState {
            save_pending: true,
            documents_pending: 2,
            ..LinkState::default()
        };
        state.unanswered_after_a_drop();
        assert!(!state.save_pending && state.documents_pending == 0);
        let news: Vec<_> = state.finding_news.drain(..).collect();
        assert!(
            matches!(
                &news[..],
                [FindingNews::Saved(Err(_)), FindingNews::Stored(Err(_))]
            ),
            "{news:?}"
        );
    }
}
