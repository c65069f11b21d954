//! What a session may ask: the limits a server sets ([`SessionLimits`]), and the token
//! buckets that hold a client's inputs to their rate and each other kind of message to its
//! own ([`MessageRates`]).

use std::time::{Duration, Instant};

use hounsfield_protocol::ClientMessage;

use hounsfield_access::token_bucket::TokenBucket;

/// Limits on what a session may ask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLimits {
    /// Inputs accepted per second, sustained.
    pub inputs_per_s: f64,
    /// Inputs accepted in a burst above the sustained rate.
    pub input_burst: f64,
    /// Largest viewport side (pixels).
    pub max_viewport: u32,
    /// Seconds of the server's measuring lane (findings measured, segment tools, calcium
    /// scores) a session may use each second, sustained: a quarter by default, so that
    /// three readers' tools leave a fourth's frames on time; 1 gives a session the whole
    /// lane (a server of one reader). Held between 0.01 and 1.
    pub measuring_share_per_s: f64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            inputs_per_s: 240.0,
            input_burst: 120.0,
            max_viewport: 4096,
            measuring_share_per_s: crate::findings::measuring::SHARE_PER_S,
        }
    }
}

/// How many [`MessageKind`]s there are.
const KINDS: usize = 26;

/// The kinds of message a client sends, each held to a rate of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `hello`.
    Hello,
    /// `input`.
    Input,
    /// `list_studies`.
    ListStudies,
    /// `open`.
    Open,
    /// `still`.
    Still,
    /// `keyframe`.
    Keyframe,
    /// `stats`.
    Stats,
    /// `share`.
    Share,
    /// `join`.
    Join,
    /// `probe` and `measure`.
    Measure,
    /// `finding`.
    Finding,
    /// `save_findings` and `save_preset`.
    SaveFindings,
    /// `key_image`.
    KeyImage,
    /// `snapshot`.
    Snapshot,
    /// `webrtc_offer` and `webrtc_close`.
    Webrtc,
    /// `pointer`.
    Pointer,
    /// `request_control`, `grant_control`, `refuse_control` and `revoke_control`.
    Control,
    /// `start_recording`, `stop_recording`, `list_recordings` and `play_recording`.
    Recording,
    /// `playback`.
    Playback,
    /// `export_movie`.
    ExportMovie,
    /// `segment`, `segment_edit`, `segment_undo`, `segment_preview` and `segments`.
    Segment,
    /// `save_segments`.
    SaveSegments,
    /// `segmentations`, `load_segmentation`, `run_model` and `stop_model`.
    SavedSegmentations,
    /// `transfer_function`.
    TransferFunction,
    /// `over`.
    Over,
    /// Anything the server could not take: not JSON, an unknown type, binary, too large.
    Invalid,
}

impl MessageKind {
    /// Every kind, in the order of [`MessageRates`]' table.
    const ALL: [MessageKind; KINDS] = [
        Self::Hello,
        Self::Input,
        Self::ListStudies,
        Self::Open,
        Self::Still,
        Self::Keyframe,
        Self::Stats,
        Self::Share,
        Self::Join,
        Self::Measure,
        Self::Finding,
        Self::SaveFindings,
        Self::KeyImage,
        Self::Snapshot,
        Self::Webrtc,
        Self::Pointer,
        Self::Control,
        Self::Recording,
        Self::Playback,
        Self::ExportMovie,
        Self::Segment,
        Self::SaveSegments,
        Self::SavedSegmentations,
        Self::TransferFunction,
        Self::Over,
        Self::Invalid,
    ];

    /// The kind of a parsed message.
    pub fn of(message: &ClientMessage) -> Self {
        match message {
            ClientMessage::Hello { .. } => Self::Hello,
            ClientMessage::Input(_) => Self::Input,
            ClientMessage::ListStudies(_) => Self::ListStudies,
            ClientMessage::Open { .. } | ClientMessage::OpenStudy { .. } => Self::Open,
            ClientMessage::Still { .. } => Self::Still,
            ClientMessage::Keyframe => Self::Keyframe,
            ClientMessage::Stats(_) => Self::Stats,
            ClientMessage::Share => Self::Share,
            ClientMessage::Join { .. } => Self::Join,
            ClientMessage::Probe { .. } | ClientMessage::Measure { .. } => Self::Measure,
            ClientMessage::Finding(_) | ClientMessage::Calcium(_) => Self::Finding,
            ClientMessage::SaveFindings => Self::SaveFindings,
            ClientMessage::KeyImage { .. } => Self::KeyImage,
            ClientMessage::Snapshot { .. } => Self::Snapshot,
            ClientMessage::WebrtcOffer { .. } | ClientMessage::WebrtcClose { .. } => Self::Webrtc,
            ClientMessage::Pointer { .. } => Self::Pointer,
            ClientMessage::RequestControl
            | ClientMessage::GrantControl { .. }
            | ClientMessage::RefuseControl { .. }
            | ClientMessage::RevokeControl => Self::Control,
            ClientMessage::StartRecording
            | ClientMessage::StopRecording
            | ClientMessage::ListRecordings { .. }
            | ClientMessage::PlayRecording { .. } => Self::Recording,
            ClientMessage::Playback { .. } => Self::Playback,
            ClientMessage::ExportMovie(_) => Self::ExportMovie,
            ClientMessage::Segment(_)
            | ClientMessage::SegmentEdit(_)
            | ClientMessage::SegmentUndo { .. }
            | ClientMessage::SegmentPreview(_)
            | ClientMessage::Segments => Self::Segment,
            ClientMessage::SaveSegments => Self::SaveSegments,
            ClientMessage::Segmentations
            | ClientMessage::LoadSegmentation { .. }
            | ClientMessage::RunModel
            | ClientMessage::StopModel => Self::SavedSegmentations,
            ClientMessage::TransferFunction { .. } => Self::TransferFunction,
            ClientMessage::SavePreset { .. } => Self::SaveFindings,
            ClientMessage::Over(_) => Self::Over,
        }
    }

    /// The protocol's name for it (`invalid` for messages it could not take).
    pub fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Input => "input",
            Self::ListStudies => "list_studies",
            Self::Open => "open",
            Self::Still => "still",
            Self::Keyframe => "keyframe",
            Self::Stats => "stats",
            Self::Share => "share",
            Self::Join => "join",
            Self::Measure => "probe",
            Self::Finding => "finding",
            Self::SaveFindings => "save_findings",
            Self::KeyImage => "key_image",
            Self::Snapshot => "snapshot",
            Self::Webrtc => "webrtc_offer",
            Self::Pointer => "pointer",
            Self::Control => "request_control",
            Self::Recording => "start_recording",
            Self::Playback => "playback",
            Self::ExportMovie => "export_movie",
            Self::Segment => "segment_edit",
            Self::SaveSegments => "save_segments",
            Self::SavedSegmentations => "segmentations",
            Self::TransferFunction => "transfer_function",
            Self::Over => "over",
            Self::Invalid => "invalid",
        }
    }

    /// Sustained messages a second and the burst above it: inputs as `limits` say; a
    /// client sends `hello` once per connection, lists and opens on a click, asks for a
    /// keyframe after a decoding error and reports stats once a second, so each rate
    /// leaves a person's use far below it.
    fn rate(self, limits: &SessionLimits) -> (f64, f64) {
        match self {
            Self::Hello => (1.0, 4.0),
            Self::Input => (limits.inputs_per_s, limits.input_burst),
            Self::ListStudies => (2.0, 5.0),
            Self::Open => (2.0, 5.0),
            Self::Still => (10.0, 20.0),
            Self::Keyframe => (4.0, 8.0),
            Self::Stats => (5.0, 10.0),
            Self::Share | Self::Join => (2.0, 5.0),
            // The value under a moving pointer, throttled by the client.
            Self::Measure => (30.0, 60.0),
            // A shape is drawn, then dragged (a redraw on each release, or throttled
            // moves); each measures one slice's voxels.
            Self::Finding => (10.0, 30.0),
            // Each writes a document (a snapshot renders a lossless still first).
            Self::SaveFindings | Self::KeyImage | Self::Snapshot => (1.0, 3.0),
            // A client offers once, and again after a failure at most once a minute.
            Self::Webrtc => (2.0, 5.0),
            // A moving pointer, throttled by the client to about 20 a second; each goes
            // to every other participant of the shared session.
            Self::Pointer => (30.0, 60.0),
            // A click each: asking, answering, taking back.
            Self::Control => (2.0, 6.0),
            // A click each; starting and playing open files, listing reads a folder.
            Self::Recording => (1.0, 4.0),
            // A timeline's knob dragged seeks about as often as a mouse moves.
            Self::Playback => (30.0, 60.0),
            // A click each; one movie at a time is made for a session, two for a server.
            Self::ExportMovie => (2.0, 8.0),
            // A brush stroke sent on each release (or throttled while dragging), clicks
            // on tools and undo, a threshold's preview throttled while its range is
            // dragged; the tools' own work is held to the measuring share.
            Self::Segment => (10.0, 30.0),
            // Each writes a Segmentation.
            Self::SaveSegments => (1.0, 3.0),
            // A click each; each reads the study's folder or searches and retrieves from
            // its PACS, or starts or stops the model.
            Self::SavedSegmentations => (1.0, 3.0),
            // A click each, opening the editor; each counts the volume's values.
            Self::TransferFunction => (2.0, 5.0),
            // A click choosing the series (loaded through the library, as `open`'s are),
            // then restyles while the opacity and window are dragged, throttled by the
            // client; each redraws the slice cells.
            Self::Over => (5.0, 15.0),
            Self::Invalid => (5.0, 10.0),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How often the first refusal of a kind is reported again while a flood goes on.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// One session's buckets, one per [`MessageKind`].
#[derive(Debug, Clone)]
pub struct MessageRates {
    buckets: [TokenBucket; KINDS],
    reported: [Option<Instant>; KINDS],
    per_s: [f64; KINDS],
}

/// What [`MessageRates::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within its rate: handle it.
    Admitted,
    /// Over its rate: answer `rate_limited` and drop it; `report` the first time, and again
    /// at most once a minute while the flood goes on (for the audit log).
    Refused {
        /// Whether this refusal should be recorded.
        report: bool,
    },
}

impl MessageRates {
    /// Full buckets at `now`, inputs held to `limits`.
    pub fn new(limits: &SessionLimits, now: Instant) -> Self {
        Self {
            buckets: MessageKind::ALL.map(|kind| {
                let (per_s, burst) = kind.rate(limits);
                TokenBucket::new(per_s, burst, now)
            }),
            reported: [None; KINDS],
            per_s: MessageKind::ALL.map(|kind| kind.rate(limits).0),
        }
    }

    /// Takes one message of `kind` at `now`.
    pub fn admit(&mut self, kind: MessageKind, now: Instant) -> Admission {
        let i = kind.index();
        if self.buckets[i].take(now) {
            return Admission::Admitted;
        }
        let report =
            self.reported[i].is_none_or(|at| now.saturating_duration_since(at) >= REPORT_EVERY);
        if report {
            self.reported[i] = Some(now);
        }
        Admission::Refused { report }
    }

    /// The sustained rate of `kind`, for the refusal's message.
    pub fn per_s(&self, kind: MessageKind) -> f64 {
        self.per_s[kind.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_a_bucket_of_its_own() {
        let now = Instant::now();
        let limits = SessionLimits::default();
        let mut rates = MessageRates::new(&limits, now);
        let burst = MessageKind::ListStudies.rate(&limits).1 as usize;
        for _ in 0..burst {
            assert_eq!(
                rates.admit(MessageKind::ListStudies, now),
                Admission::Admitted
            );
        }
        assert_eq!(
            rates.admit(MessageKind::ListStudies, now),
            Admission::Refused { report: true }
        );
        assert_eq!(
            rates.admit(MessageKind::ListStudies, now),
            Admission::Refused { report: false }
        );
        assert_eq!(rates.admit(MessageKind::Stats, now), Admission::Admitted);
        // Refilled at the sustained rate.
        let later = now + Duration::from_secs(1);
        assert_eq!(
            rates.admit(MessageKind::ListStudies, later),
            Admission::Admitted
        );
        // A flood still going on a minute later is reported again, once.
        let minute = now + REPORT_EVERY + Duration::from_secs(1);
        let refusals: Vec<Admission> = (0..2 * burst)
            .map(|_| rates.admit(MessageKind::ListStudies, minute))
            .filter(|admission| *admission != Admission::Admitted)
            .collect();
        assert_eq!(refusals[0], Admission::Refused { report: true });
        assert!(
            refusals[1..]
                .iter()
                .all(|r| *r == Admission::Refused { report: false })
        );
    }

    #[test]
    fn inputs_beyond_the_sessions_rate_are_refused() {
        let now = Instant::now();
        let limits = SessionLimits {
            inputs_per_s: 10.0,
            input_burst: 5.0,
            ..SessionLimits::default()
        };
        let mut rates = MessageRates::new(&limits, now);
        let admitted = (0..8)
            .filter(|_| rates.admit(MessageKind::Input, now) == Admission::Admitted)
            .count();
        assert_eq!(admitted, 5);
        assert_eq!(rates.per_s(MessageKind::Input), 10.0);
        let later = now + Duration::from_millis(200);
        assert_eq!(rates.admit(MessageKind::Input, later), Admission::Admitted);
    }

    #[test]
    fn kinds_and_table_agree() {
        for (i, kind) in MessageKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert!(!kind.name().is_empty());
        }
    }
}
