//! Recording a session and playing recordings back, in a connection: `start_recording`
//! and `stop_recording` (a reader's, with a series open), what is recorded as it happens
//! (the view, pointers, findings), `list_recordings`, `play_recording` (the series opened
//! and the recording played) and `playback` (play, pause, seek).

use std::ops::ControlFlow;
use std::time::{Duration, Instant, SystemTime};

use hounsfield_access::audit::AuditEvent;
use hounsfield_protocol::{ErrorCode, PlaybackAction, RecordingState, ServerMessage};

use super::Connection;
use crate::recording::playback::{Due, Playback, SPEEDS};
use crate::recording::recorder::{RecordError, Recorder};
use crate::recording::store::StoreError;
use crate::recording::{FORMAT, Header};

/// How often a playing recording tells where it stands.
const PLAYBACK_TOLD_EVERY: Duration = Duration::from_millis(250);

impl Connection {
    /// `start_recording`: begins recording this session's view of its series.
    pub(super) async fn start_recording(&mut self) -> ControlFlow<()> {
        if !self.identity.role.opens_series() {
            return self
                .forbidden("start_recording", "a viewer may not record a session")
                .await;
        }
        if let Some(recorder) = &self.recorder {
            let told = recording_told(recorder);
            return self.send(&told).await;
        }
        let (Some(series), Some(view)) = (
            self.session.series().map(str::to_string),
            self.session.shared_view(),
        ) else {
            return self
                .error(ErrorCode::NotOpen, "open a series before recording it")
                .await;
        };
        let folder = match self.app.recordings.folder() {
            Ok(folder) => folder.to_path_buf(),
            Err(error) => return self.error(ErrorCode::Unavailable, error.to_string()).await,
        };
        let Ok(id) = hounsfield_access::generate_token() else {
            return self
                .error(ErrorCode::Internal, "no random numbers for a recording id")
                .await;
        };
        let header = Header {
            format: FORMAT,
            id,
            series: series.clone(),
            user: self.identity.name.clone().unwrap_or_default(),
            started_ms: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(0)),
            view,
            findings: self.app.findings.told(&series),
        };
        let recorder = match Recorder::start(&folder, header).await {
            Ok(recorder) => recorder,
            Err(error) => {
                tracing::error!(%error, "a recording could not begin");
                return self.error(ErrorCode::Internal, error.to_string()).await;
            }
        };
        self.app.config.audit.record(&AuditEvent::RecordingStarted {
            session: self.slot.id(),
            user: self.identity.name.clone(),
            series,
            recording: recorder.id().to_string(),
        });
        let told = recording_told(&recorder);
        self.recorder = Some(recorder);
        self.send(&told).await
    }

    /// `stop_recording`: ends the recording and keeps it.
    pub(super) async fn ask_stop_recording(&mut self) -> ControlFlow<()> {
        if self.recorder.is_none() {
            return self
                .error(
                    ErrorCode::BadValue,
                    "stop_recording: this session records nothing",
                )
                .await;
        }
        self.stop_recording("asked").await
    }

    /// Ends the recording this session makes, if any, and tells the client (`reason`: why,
    /// when the client did not ask).
    pub(super) async fn stop_recording(&mut self, reason: &str) -> ControlFlow<()> {
        let Some(recorder) = self.recorder.take() else {
            return ControlFlow::Continue(());
        };
        let view = self
            .session
            .shared_view()
            .unwrap_or_else(|| recorder.last_view().clone());
        let (id, series) = (recorder.id().to_string(), recorder.series().to_string());
        match recorder.stop(&view, Instant::now()).await {
            Ok(info) => {
                self.app.config.audit.record(&AuditEvent::RecordingStopped {
                    session: self.slot.id(),
                    user: self.identity.name.clone(),
                    series: series.clone(),
                    recording: id.clone(),
                    duration_ms: info.duration_ms,
                    reason: reason.to_string(),
                });
                let told = ServerMessage::Recording {
                    id,
                    series,
                    state: RecordingState::Stopped,
                    duration_ms: info.duration_ms,
                    moments: info.moments,
                    reason: (reason != "asked").then(|| reason.to_string()),
                };
                self.send(&told).await
            }
            Err(error) => {
                tracing::error!(%error, recording = %id, "a recording could not be kept");
                self.error(ErrorCode::Internal, error.to_string()).await
            }
        }
    }

    /// Records the session's view when it changed (while it records).
    pub(super) async fn record_view(&mut self) -> ControlFlow<()> {
        // The view is made only while recording: this runs on every turn of the session.
        let Some(recorder) = &mut self.recorder else {
            return ControlFlow::Continue(());
        };
        let Some(view) = self.session.shared_view() else {
            return ControlFlow::Continue(());
        };
        let recorded = recorder.view(&view, Instant::now()).await;
        self.recorded(recorded).await
    }

    /// Records a pointer or a finding told (while it records).
    pub(super) async fn record_told(&mut self, told: &ServerMessage) -> ControlFlow<()> {
        let Some(recorder) = &mut self.recorder else {
            return ControlFlow::Continue(());
        };
        let recorded = recorder.told(told, Instant::now()).await;
        self.recorded(recorded).await
    }

    /// A recording that takes no more stops, kept, saying why.
    async fn recorded(&mut self, recorded: Result<(), RecordError>) -> ControlFlow<()> {
        match recorded {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => self.stop_recording(&error.to_string()).await,
        }
    }

    /// `list_recordings`: the kept recordings of `series` (default: the one open).
    pub(super) async fn list_recordings(&mut self, series: Option<String>) -> ControlFlow<()> {
        let Some(series) = series.or_else(|| self.session.series().map(str::to_string)) else {
            return self
                .error(
                    ErrorCode::NotOpen,
                    "list_recordings: name a series, or open one",
                )
                .await;
        };
        if !self.may_open(&series) {
            return self
                .forbidden("list_recordings", "a viewer may not play recordings")
                .await;
        }
        let store = self.app.recordings.clone();
        let wanted = series.clone();
        let listed = tokio::task::spawn_blocking(move || store.list(&wanted)).await;
        match listed {
            Ok(Ok(recordings)) => {
                self.send(&ServerMessage::Recordings { series, recordings })
                    .await
            }
            Ok(Err(error)) => self.store_error(error).await,
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }

    /// `play_recording`: opens the recording's series and plays it from its start.
    pub(super) async fn play_recording(&mut self, id: &str) -> ControlFlow<()> {
        let store = self.app.recordings.clone();
        let wanted = id.to_string();
        let recording = match tokio::task::spawn_blocking(move || store.load(&wanted)).await {
            Ok(Ok(recording)) => recording,
            Ok(Err(error)) => return self.store_error(error).await,
            Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
        };
        let series = recording.header.series.clone();
        if !self.may_open(&series) {
            return self
                .forbidden("play_recording", "a viewer may not play recordings")
                .await;
        }
        let volume = match self.load(&series).await {
            Ok(volume) => volume,
            Err(replied) => return replied,
        };
        self.show(&series, volume, None).await?;
        self.app.config.audit.record(&AuditEvent::RecordingPlayed {
            session: self.slot.id(),
            user: self.identity.name.clone(),
            series,
            recording: recording.header.id.clone(),
        });
        let now = Instant::now();
        let mut playback = Playback::new(recording, now);
        let (view, findings) = playback.seek(0.0, now);
        self.playback = Some(playback);
        self.show_recorded(&view, findings).await?;
        self.tell_playback(now).await
    }

    /// `playback`: plays, pauses or seeks the recording playing.
    pub(super) async fn steer_playback(
        &mut self,
        action: PlaybackAction,
        at_ms: Option<f64>,
        speed: Option<f64>,
    ) -> ControlFlow<()> {
        let now = Instant::now();
        let Some(playback) = &mut self.playback else {
            return self
                .error(
                    ErrorCode::NotOpen,
                    "playback: no recording plays (play_recording)",
                )
                .await;
        };
        if speed.is_some_and(|speed| !SPEEDS.contains(&speed)) {
            return self
                .error(ErrorCode::BadValue, "playback speed: from 0.25 to 8")
                .await;
        }
        match action {
            PlaybackAction::Play => playback.play(speed, now),
            PlaybackAction::Pause => playback.pause(now),
            PlaybackAction::Seek => {
                let Some(at_ms) = at_ms.filter(|at| at.is_finite() && *at >= 0.0) else {
                    return self
                        .error(
                            ErrorCode::BadValue,
                            "playback at_ms: a time ≥ 0 (ms) to seek to",
                        )
                        .await;
                };
                let (view, findings) = playback.seek(at_ms, now);
                self.show_recorded(&view, findings).await?;
            }
        }
        self.tell_playback(now).await
    }

    /// When the recording playing next needs the session: its next moment, or telling
    /// where it stands.
    pub(super) fn playback_deadline(&self) -> Option<Instant> {
        let playback = self.playback.as_ref()?;
        let told = self.playback_told + PLAYBACK_TOLD_EVERY;
        playback.due_at().map(|due| due.min(told))
    }

    /// Applies the moments due, and tells where the recording stands.
    pub(super) async fn play_due(&mut self) -> ControlFlow<()> {
        let now = Instant::now();
        let Some(playback) = &mut self.playback else {
            return ControlFlow::Continue(());
        };
        let due = playback.due(now);
        let ended = !playback.playing();
        for due in due {
            match due {
                Due::View(view) => {
                    if let Err(refusal) = self.session.follow(&view, now) {
                        tracing::warn!(message = %refusal.message, "a recorded view was not shown");
                    }
                }
                Due::Tell(message) => self.send(&message).await?,
            }
        }
        if ended || now >= self.playback_told + PLAYBACK_TOLD_EVERY {
            return self.tell_playback(now).await;
        }
        ControlFlow::Continue(())
    }

    /// Shows the recording's view and findings where it stands (after a seek).
    async fn show_recorded(
        &mut self,
        view: &hounsfield_protocol::SharedView,
        findings: Vec<hounsfield_protocol::FindingInfo>,
    ) -> ControlFlow<()> {
        if let Err(refusal) = self.session.follow(view, Instant::now()) {
            tracing::warn!(message = %refusal.message, "a recorded view was not shown");
        }
        let series = self.session.series().unwrap_or_default().to_string();
        self.send(&ServerMessage::Findings { series, findings })
            .await
    }

    async fn tell_playback(&mut self, now: Instant) -> ControlFlow<()> {
        let Some(playback) = &self.playback else {
            return ControlFlow::Continue(());
        };
        self.playback_told = now;
        let state = playback.state(now);
        self.send(&state).await
    }

    pub(super) async fn store_error(&mut self, error: StoreError) -> ControlFlow<()> {
        let code = match &error {
            StoreError::NoFolder | StoreError::Bad { .. } => ErrorCode::Unavailable,
            StoreError::Unknown(_) => ErrorCode::BadValue,
            StoreError::Io(_) => ErrorCode::Internal,
        };
        self.error(code, error.to_string()).await
    }
}

/// The `recording` message telling how far `recorder` has come.
fn recording_told(recorder: &Recorder) -> ServerMessage {
    ServerMessage::Recording {
        id: recorder.id().to_string(),
        series: recorder.series().to_string(),
        state: RecordingState::Recording,
        duration_ms: recorder.duration_ms(Instant::now()),
        moments: recorder.moments(),
        reason: None,
    }
}
