//! Segments over the link: the UI's requests (`segment`, `segment_edit`, `segment_undo`,
//! `save_segments`, `segmentations`, `load_segmentation`) sent in turn with the inputs,
//! and what the server tells of the open series' segments (`segment`, `segment_deleted`,
//! `segments` after each `opened`, the other participants' edits, the `saved`
//! Segmentation, the `segmentations` saved before, and the errors that answer them),
//! queued for the UI in the order they came.

use hounsfield_protocol::{
    ClientMessage, ErrorCode, ModelRunState, SavedSegmentation, SegmentInfo, ServerMessage,
};

use super::{Command, LinkState, RemoteLink, Worker};

/// News of the segments not yet taken by the UI; beyond this the oldest are dropped.
pub(super) const SEGMENT_NEWS_QUEUE: usize = 256;

/// The `saved` document of a `save_segments`.
pub const SEGMENTATION: &str = "segmentation";

/// What the server told of the segments.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentNews {
    /// A segment added, described or edited (by this client or another participant),
    /// with its numbers.
    Told(Box<SegmentInfo>),
    /// A segment deleted.
    Deleted(u32),
    /// Every segment of the series just opened (or asked for).
    All(Vec<SegmentInfo>),
    /// A request refused: the server's message.
    Refused(String),
    /// What `save_segments` stored (`Ok(line)`), or why it did not.
    Saved(Result<String, String>),
    /// The Segmentations saved on the series (`segmentations`), newest first.
    Listed(Vec<SavedSegmentation>),
    /// How the server's model's run stands, as the panel says it.
    Model(String),
}

impl RemoteLink {
    /// Sends a request about the segments (`segment`, `segment_edit`, `segment_undo`,
    /// `save_segments`), answered in [`LinkState::segment_news`]; `false` when the queue
    /// is full or the link stopped.
    pub fn segments(&self, message: ClientMessage) -> bool {
        self.commands.try_send(Command::Relay(message)).is_ok()
    }
}

impl LinkState {
    /// Queues `news` for the UI.
    fn tell_segments(&mut self, news: SegmentNews) {
        if self.segment_news.len() == SEGMENT_NEWS_QUEUE {
            tracing::warn!("segments news dropped: the window has not taken it");
            self.segment_news.pop_front();
        }
        self.segment_news.push_back(news);
    }
}

impl Worker {
    /// Takes a server message about the segments; gives back any other.
    pub(super) fn segments_told(&self, message: ServerMessage) -> Option<ServerMessage> {
        let news = match message {
            ServerMessage::Segment(info) | ServerMessage::SharedSegment { segment: info, .. } => {
                SegmentNews::Told(info)
            }
            ServerMessage::SegmentDeleted { id }
            | ServerMessage::SharedSegmentDeleted { id, .. } => SegmentNews::Deleted(id),
            ServerMessage::Segments { segments, .. } => SegmentNews::All(segments),
            ServerMessage::Segmentations { saved, .. } => SegmentNews::Listed(saved),
            ServerMessage::ModelProgress {
                model,
                done,
                total,
                state,
                message,
            } => SegmentNews::Model(match (state, message) {
                (ModelRunState::Running, _) => format!("model {model}: {done} of {total} patches"),
                (state, Some(why)) => format!("model {model}: {state:?} ({why})"),
                (state, None) => format!("model {model}: {state:?}"),
            }),
            ServerMessage::Saved(saved) if saved.document == SEGMENTATION => {
                SegmentNews::Saved(Ok(format!(
                    "Saved {} segment{} as a {} in the server's {}: {}",
                    saved.findings,
                    if saved.findings == 1 { "" } else { "s" },
                    saved.document,
                    saved.stored_in,
                    saved.location
                )))
            }
            other => return Some(other),
        };
        self.update(|state| state.tell_segments(news));
        None
    }

    /// Takes an `error` as the answer to a segment request where it is one; whether it
    /// was.
    pub(super) fn segments_error(&self, code: ErrorCode, message: &str) -> bool {
        let news = if message.starts_with("save_segments") {
            SegmentNews::Saved(Err(format!(
                "the server did not save the segments: {message}"
            )))
        } else if message.starts_with("segment")
            || message.starts_with("load_segmentation")
            || message.starts_with("run_model")
            || message.starts_with("stop_model")
            || code == ErrorCode::TooLarge
        {
            SegmentNews::Refused(message.to_string())
        } else {
            return false;
        };
        self.update(|state| state.tell_segments(news));
        true
    }
}
