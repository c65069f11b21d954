//! Reading together from the thin client: the messages a window sends about its shared
//! session, its controls and its recordings as they are (`share`, `request_control`,
//! `grant_control`, `start_recording`, `play_recording`, `playback`…), and what the server
//! tells of them kept for the UI ([`Together`]): the join id shared, who steers, who asks,
//! the recording made, the series' recordings and the one playing.

use hounsfield_protocol::{ClientMessage, RecordingInfo, RecordingState, ServerMessage};

use super::{Command, RemoteLink, Worker};

/// Followers asking for the controls kept at once (the server holds them to 16).
const MOST_ASKING: usize = 16;

/// What the server told of reading together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Together {
    /// This window's session number, as `welcome` told it.
    pub session: Option<u64>,
    /// The join id of the session this window shares, once `shared` told it.
    pub shared: Option<String>,
    /// Who steers the shared session, once told: `Some(None)` the host, else the
    /// follower (session and name).
    pub steerer: Option<Option<(u64, String)>>,
    /// Followers asking this window, the host, for the controls (session and name).
    pub asking: Vec<(u64, String)>,
    /// The host refused this window the controls (until it asks again).
    pub refused: bool,
    /// The recording this session makes, while it records: its id.
    pub recording: Option<String>,
    /// Why the server stopped the last recording, when it did.
    pub recording_stopped: Option<String>,
    /// The open series' recordings, as last listed.
    pub recordings: Vec<RecordingInfo>,
    /// The recording playing, as last told.
    pub playback: Option<Playing>,
}

/// Where the recording playing stands (`playback_state`).
#[derive(Debug, Clone, PartialEq)]
pub struct Playing {
    /// Its id.
    pub id: String,
    /// Where it stands (ms from its start).
    pub at_ms: f64,
    /// How long it lasts (ms).
    pub duration_ms: u64,
    /// Whether it plays.
    pub playing: bool,
    /// How fast it plays.
    pub speed: f64,
}

impl RemoteLink {
    /// Sends `message` about the shared session, the controls or the recordings (`share`,
    /// `request_control`, `start_recording`, `playback`…); `false` when the queue is full.
    pub fn tell(&self, message: ClientMessage) -> bool {
        if matches!(message, ClientMessage::RequestControl) {
            self.state().together.refused = false;
        }
        self.commands.try_send(Command::Relay(message)).is_ok()
    }

    /// Whether the window is in a shared session: one it joined, or one it shares.
    pub fn in_shared_session(&self) -> bool {
        self.joined() || self.state().together.shared.is_some()
    }
}

impl Worker {
    /// Takes what the server told of sharing, the controls and the recordings.
    pub(super) fn together_told(&self, message: ServerMessage) {
        self.update(|state| {
            let together = &mut state.together;
            match message {
                ServerMessage::Shared { id, .. } => together.shared = Some(id),
                ServerMessage::Control { session, name } => {
                    together.steerer = Some(session.zip(name));
                    together.asking.clear();
                }
                ServerMessage::ControlRequested { session, name } => {
                    together.asking.retain(|(asking, _)| *asking != session);
                    if together.asking.len() < MOST_ASKING {
                        together.asking.push((session, name));
                    }
                }
                ServerMessage::ControlRefused => together.refused = true,
                ServerMessage::Recording {
                    id, state, reason, ..
                } => {
                    together.recording = (state == RecordingState::Recording).then_some(id);
                    together.recording_stopped = reason;
                }
                ServerMessage::Recordings { recordings, .. } => together.recordings = recordings,
                ServerMessage::PlaybackState {
                    id,
                    at_ms,
                    duration_ms,
                    playing,
                    speed,
                } => {
                    together.playback = Some(Playing {
                        id,
                        at_ms,
                        duration_ms,
                        playing,
                        speed,
                    });
                }
                // A series opened anew (a recording played opens its own): what was
                // shared, recorded or played of the last one is over, and the window
                // mirrors the new one.
                ServerMessage::Opened(opened) => {
                    *together = Together {
                        session: together.session,
                        ..Together::default()
                    };
                    state.opened = Some(*opened);
                }
                _ => {}
            }
        });
    }
}
