//! Session recordings on the wire: what a client asks (`start_recording`,
//! `stop_recording`, `list_recordings`, `play_recording`, `playback`) and what the server
//! tells of them (`recording`, `recordings`, `playback_state`).

use serde::{Deserialize, Serialize};

/// Whether a recording is being made or was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// The session is being recorded.
    Recording,
    /// The recording ended and is kept.
    Stopped,
}

/// A kept recording, as `recordings` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// Its id (32 hex digits), for `play_recording`.
    pub id: String,
    /// The series recorded.
    pub series: String,
    /// Who recorded it (empty on a server that asks for no sign-in).
    #[serde(default)]
    pub user: String,
    /// When it began: milliseconds since 1970 (UTC).
    pub started_ms: u64,
    /// How long it lasts (ms).
    pub duration_ms: u64,
    /// The moments it holds (views, pointers, findings).
    pub moments: u64,
}

/// What a `playback` message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaybackAction {
    /// Plays on from where it stands (at `speed`, when given).
    Play,
    /// Pauses where it stands.
    Pause,
    /// Goes to `at_ms` (playing on if it played).
    Seek,
}
