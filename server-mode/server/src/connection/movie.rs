//! `export_movie` in a connection: the movie the client asks for (an orbit from its view,
//! a sweep with its window, or a kept recording) checked and started ([`Export`]), and
//! what the client hears of it: `movie_progress` (about four times a second),
//! `movie_ready` or `movie_failed`.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hounsfield_access::audit::AuditEvent;
use hounsfield_protocol::{
    DEFAULT_MOVIE_FPS, DEFAULT_MOVIE_FRAMES, ErrorCode, MovieOrder, ServerMessage, Viewport,
};
use hounsfield_video::MAX_MOVIE_FPS;

use super::Connection;
use crate::movie::export::{Export, MOST_SERVED_FRAMES, MOST_SERVED_PIXELS, MovieJob, MovieNews};
use crate::movie::shelf::ShelfError;
use crate::movie::{Motion, MovieFrames, check_shape};
use crate::series_volumes::SeriesVolumes;

/// How often a client hears how far its movie has come.
const PROGRESS_TOLD_EVERY: Duration = Duration::from_millis(250);

/// The movie a session is having made.
pub(super) struct MovieMaking {
    export: Export,
    told: Instant,
}

/// The next news of the session's movie; never, while none is being made.
pub(super) async fn next_movie_news(making: &mut Option<MovieMaking>) -> Option<MovieNews> {
    match making {
        Some(making) => making.export.next().await,
        None => std::future::pending().await,
    }
}

impl Connection {
    /// `export_movie`: checks the order and starts making the movie.
    pub(super) async fn export_movie(&mut self, order: MovieOrder) -> ControlFlow<()> {
        if !self.identity.role.opens_series() {
            return self
                .forbidden("export_movie", "a viewer may not export a movie")
                .await;
        }
        if let Some(making) = &self.movie {
            let why = format!(
                "export_movie: movie {} is being made for this session; wait for movie_ready",
                making.export.id()
            );
            return self.error(ErrorCode::Busy, why).await;
        }
        let (Some(series), Some(volumes), Some(view)) = (
            self.session.series().map(str::to_string),
            self.session.volumes().cloned(),
            self.session.view().cloned(),
        ) else {
            return self
                .error(ErrorCode::NotOpen, "open a series before exporting a movie")
                .await;
        };
        let frames = order.frames.unwrap_or(DEFAULT_MOVIE_FRAMES);
        let fps = order.fps.unwrap_or(DEFAULT_MOVIE_FPS);
        let size = movie_size(&order, self.session.viewport());
        if let Err(why) =
            check_shape(frames, size, MOST_SERVED_PIXELS).and_then(|()| served_bounds(frames, fps))
        {
            return self
                .error(ErrorCode::BadValue, format!("export_movie: {why}"))
                .await;
        }
        let (motion, series, volumes) = match self.motion_of(&order, series, volumes).await {
            Ok(chosen) => chosen,
            Err(replied) => return replied,
        };
        let making = match self.app.movies.begin() {
            Ok(making) => making,
            Err(error @ ShelfError::Busy) => {
                return self.error(ErrorCode::Busy, error.to_string()).await;
            }
            Err(error) => return self.error(ErrorCode::Unavailable, error.to_string()).await,
        };
        let Ok(id) = hounsfield_access::generate_token() else {
            return self
                .error(ErrorCode::Internal, "no random numbers for a movie id")
                .await;
        };
        let job = MovieJob {
            id: id.clone(),
            series: series.clone(),
            frames: MovieFrames::new(
                motion,
                &view,
                volumes,
                &series,
                size,
                self.app.scheduler.presets(),
            ),
            count: frames,
            size,
            fps,
            owner: self.identity.name.clone(),
        };
        tracing::info!(session = self.slot.id(), movie = %id, %series, frames, "making a movie");
        let export = Export::start(
            job,
            making,
            Arc::clone(&self.app.scheduler),
            Arc::clone(&self.app.movies),
        );
        self.movie = Some(MovieMaking {
            export,
            told: Instant::now(),
        });
        self.send(&ServerMessage::MovieProgress {
            id,
            frames_done: 0,
            frames,
        })
        .await
    }

    /// The motion `order` asks for, with the series and volume it shows: the session's,
    /// or a recording's (its series loaded).
    async fn motion_of(
        &mut self,
        order: &MovieOrder,
        series: String,
        volumes: SeriesVolumes,
    ) -> Result<(Motion, String, SeriesVolumes), ControlFlow<()>> {
        let chosen = match (
            order.orbit,
            order.sweep.as_deref(),
            order.recording.as_deref(),
        ) {
            (Some(degrees), None, None) => Motion::orbit(degrees),
            (None, Some(plane), None) => Motion::sweep(plane),
            (None, None, Some(id)) => {
                let store = self.app.recordings.clone();
                let wanted = id.to_string();
                let recording = match tokio::task::spawn_blocking(move || store.load(&wanted)).await
                {
                    Ok(Ok(recording)) => recording,
                    Ok(Err(error)) => return Err(self.store_error(error).await),
                    Err(error) => {
                        return Err(self.error(ErrorCode::Internal, error.to_string()).await);
                    }
                };
                let recorded = recording.header.series.clone();
                if recorded == series {
                    return Ok((Motion::Recording(Box::new(recording)), series, volumes));
                }
                if !self.may_open(&recorded) {
                    return Err(self
                        .forbidden("export_movie", "the recording's series may not be opened")
                        .await);
                }
                let volumes = self.load(&recorded).await?;
                return Ok((Motion::Recording(Box::new(recording)), recorded, volumes));
            }
            _ => Err("one of orbit (degrees), sweep (a plane) or recording (an id)".to_string()),
        };
        match chosen {
            Ok(motion) => Ok((motion, series, volumes)),
            Err(why) => Err(self
                .error(ErrorCode::BadValue, format!("export_movie: {why}"))
                .await),
        }
    }

    /// Tells the client what became of its movie.
    pub(super) async fn movie_news(&mut self, news: Option<MovieNews>) -> ControlFlow<()> {
        let Some(making) = &mut self.movie else {
            return ControlFlow::Continue(());
        };
        let id = making.export.id().to_string();
        let frames = making.export.count();
        let told = match news {
            Some(MovieNews::Progress(done)) => {
                let now = Instant::now();
                if done < frames && now.duration_since(making.told) < PROGRESS_TOLD_EVERY {
                    return ControlFlow::Continue(());
                }
                making.told = now;
                return self
                    .send(&ServerMessage::MovieProgress {
                        id,
                        frames_done: done,
                        frames,
                    })
                    .await;
            }
            Some(MovieNews::Ready(made)) => {
                self.app.config.audit.record(&AuditEvent::MovieExported {
                    session: self.slot.id(),
                    user: self.identity.name.clone(),
                    series: made.series.clone(),
                    movie: made.id.clone(),
                    frames: made.frames,
                });
                ServerMessage::MovieReady(made)
            }
            Some(MovieNews::Failed(message)) => ServerMessage::MovieFailed { id, message },
            None => ServerMessage::MovieFailed {
                id,
                message: "the movie's maker stopped".to_string(),
            },
        };
        self.movie = None;
        self.send(&told).await
    }
}

/// The size `order` asks for; by default the client's viewport, made smaller to fit a
/// served movie's pixels, with even sides.
fn movie_size(order: &MovieOrder, viewport: Viewport) -> [u32; 2] {
    if let (Some(width), Some(height)) = (order.width, order.height) {
        return [width, height];
    }
    let (width, height) = (f64::from(viewport.width), f64::from(viewport.height));
    let fit = (MOST_SERVED_PIXELS as f64 / (width * height))
        .sqrt()
        .min(1.0);
    let even = |side: f64| ((side * fit) as u32 / 2 * 2).max(16);
    [
        order.width.unwrap_or_else(|| even(width)),
        order.height.unwrap_or_else(|| even(height)),
    ]
}

/// Why a served movie's frames or rate were refused.
fn served_bounds(frames: u32, fps: u32) -> Result<(), String> {
    if frames > MOST_SERVED_FRAMES {
        return Err(format!(
            "frames {frames}: at most {MOST_SERVED_FRAMES} for a movie made on the server"
        ));
    }
    if !(1..=MAX_MOVIE_FPS).contains(&fps) {
        return Err(format!("fps {fps}: from 1 to {MAX_MOVIE_FPS}"));
    }
    Ok(())
}
