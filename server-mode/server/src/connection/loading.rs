//! Opening a series: loading it through the library (with `progress` while it loads),
//! then showing it: `opened`, and the session's first frame.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_access::audit::AuditEvent;
use hounsfield_protocol::{ErrorCode, LoadProgress, ServerMessage};

use super::{Connection, PROGRESS_EVERY};
use crate::library::LibraryError;
use crate::series_volumes::SeriesVolumes;

impl Connection {
    /// Loads the series off the async threads, telling the client how far it has come
    /// while it takes long; the error reply's outcome when it fails.
    pub(super) async fn load(&mut self, series: &str) -> Result<SeriesVolumes, ControlFlow<()>> {
        let library = self.app.library.clone();
        let id = series.to_string();
        let mut loading = tokio::task::spawn_blocking(move || library.open_volumes(&id));
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: a load that ends sooner says nothing.
        ticks.tick().await;
        let mut told: Option<render_core::progress::Progress> = None;
        let loaded = loop {
            tokio::select! {
                biased;
                loaded = &mut loading => break loaded,
                _ = ticks.tick() => {
                    let Some(step) = self.app.library.load_progress(series) else {
                        continue;
                    };
                    told = Some(step);
                    if self.tell_progress(series, step).await.is_break() {
                        return Err(ControlFlow::Break(()));
                    }
                }
            }
        };
        if let (Some(step), Ok(Ok(_))) = (told, &loaded) {
            let done = render_core::progress::Progress {
                done: step.total,
                ..step
            };
            if self.tell_progress(series, done).await.is_break() {
                return Err(ControlFlow::Break(()));
            }
        }
        match loaded {
            Ok(Ok(volumes)) => Ok(volumes),
            Ok(Err(error)) => {
                let code = match error {
                    LibraryError::UnknownSeries(_) => ErrorCode::UnknownSeries,
                    LibraryError::Unavailable { .. } => ErrorCode::Unavailable,
                    LibraryError::LoadFailed(_) | LibraryError::NoThumbnail(_) => {
                        ErrorCode::Internal
                    }
                };
                Err(self.error(code, error.to_string()).await)
            }
            Err(error) => {
                tracing::error!(%error, "loading task failed");
                Err(self
                    .error(
                        ErrorCode::Internal,
                        "loading failed (the server log says why)",
                    )
                    .await)
            }
        }
    }

    /// A `progress` message about the load of `series`.
    pub(super) async fn tell_progress(
        &mut self,
        series: &str,
        step: render_core::progress::Progress,
    ) -> ControlFlow<()> {
        self.send(&ServerMessage::Progress(LoadProgress {
            series: series.to_string(),
            stage: step.stage.name().to_string(),
            done: step.done,
            total: step.total,
        }))
        .await
    }

    /// Loads the series and opens it in the session (following the desktop's shared view
    /// when it is the series shared).
    pub(super) async fn open(&mut self, series: String) -> ControlFlow<()> {
        let volumes = match self.load(&series).await {
            Ok(volumes) => volumes,
            Err(replied) => return replied,
        };
        let follow = self
            .app
            .config
            .follow
            .as_ref()
            .filter(|follow| follow.series == series);
        let (following, room) = (
            follow.map(|follow| follow.view.clone()),
            follow.map(|follow| follow.room.clone()),
        );
        self.show(&series, volumes, following).await?;
        // The desktop's followers point and tell their findings to each other.
        if let Some(room) = room {
            self.room = Some(self.enter(&room));
        }
        ControlFlow::Continue(())
    }

    /// Opens a loaded series in the session, recorded, following `host` when given, and
    /// replies `opened`. A view this session shared ends, as does any it followed (and
    /// the room of its participants with them); a recording it made is kept, one it played stops.
    pub(super) async fn show(
        &mut self,
        series: &str,
        volumes: SeriesVolumes,
        host: Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
    ) -> ControlFlow<()> {
        self.stop_recording("another series opened").await?;
        self.stop_sharing();
        self.host_view = None;
        self.room = None;
        self.playback = None;
        // A calcium score and its lesions' masks are the series' before.
        self.calcium_kept = Default::default();
        let mut opened = self.session.open(series, volumes);
        self.told_time_point = None;
        opened.warnings = self.app.library.warnings(series);
        tracing::info!(session = self.slot.id(), series = %series, "series opened");
        self.app.roster.opened(self.slot.id(), series);
        self.app.config.audit.record(&AuditEvent::SeriesOpened {
            session: self.slot.id(),
            client: self.client,
            user: self.identity.name.clone(),
            series: series.to_string(),
            patient_id: self.app.library.patient_id(series).unwrap_or_default(),
        });
        if let Some(view) = host {
            let shared = view.borrow().clone();
            if self.session.follow(&shared, Instant::now()).is_ok() {
                opened.view = Some(shared);
            }
            self.host_view = Some(view);
        }
        self.send(&ServerMessage::Opened(Box::new(opened))).await?;
        self.tell_findings(series).await?;
        self.tell_priors(series).await?;
        self.show_segments(false);
        // Segments are told after opening only where the series has some, so a client
        // that draws none is sent nothing new; `segments` asks at any time.
        let segments = self.app.segments.told(series);
        if segments.is_empty() {
            return ControlFlow::Continue(());
        }
        self.send(&ServerMessage::Segments {
            series: series.to_string(),
            segments,
        })
        .await
    }
}
