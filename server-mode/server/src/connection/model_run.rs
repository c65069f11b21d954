//! `run_model` in a connection: the server's segmentation model (`--model`) run on the
//! open series off the connection's thread, one run at a time on the server, with
//! `model_progress` about four times a second and `stop_model` to stop it between patches;
//! when it ends, each class it found becomes a segment of the series (told as `segment`,
//! and to the other participants, then `segments`), AUTOMATIC by the model.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hounsfield_model::ModelError;
use hounsfield_protocol::{ErrorCode, ModelRunState, SegmentNumbers, ServerMessage};
use hounsfield_segment::Segment;
use tokio::sync::mpsc;

use super::Connection;
use super::segments::unit;
use crate::segments::measured_classes;

/// How often a client hears how far the model has come.
const PROGRESS_TOLD_EVERY: Duration = Duration::from_millis(250);

/// How a run ended: its segments, measured, or the state and why.
type Outcome = Result<Vec<(Segment, SegmentNumbers)>, (ModelRunState, Option<String>)>;

/// What the run's thread tells the connection.
pub(super) enum ModelNews {
    /// Patches run of all.
    Progress {
        /// Run.
        done: usize,
        /// In all.
        total: usize,
    },
    /// The run ended.
    Ended {
        /// Patches run.
        done: usize,
        /// In all.
        total: usize,
        /// Its segments, or why none.
        outcome: Outcome,
    },
}

/// The model's run a session started.
pub(super) struct ModelRun {
    stop: Arc<AtomicBool>,
    news: mpsc::Receiver<ModelNews>,
    /// The series it runs on (its segments go there, whatever opens meanwhile).
    series: String,
    /// The model's name.
    model: String,
}

/// The next news of the session's run; never, while none is under way.
pub(super) async fn next_model_news(run: &mut Option<ModelRun>) -> Option<ModelNews> {
    match run {
        Some(run) => run.news.recv().await,
        None => std::future::pending().await,
    }
}

impl Connection {
    /// `run_model`: starts the server's model on the open series.
    pub(super) async fn run_model(&mut self) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("run_model").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let Some(model) = self.app.config.model.clone() else {
            let why = "run_model: this server has no segmentation model (start it with --model FILE.onnx)";
            return self.error(ErrorCode::Unavailable, why).await;
        };
        if self.model_run.is_some() {
            let why = "run_model: the model is running for this session (stop_model stops it)";
            return self.error(ErrorCode::Busy, why).await;
        }
        let Ok(turn) = self.app.model_turn.clone().try_acquire_owned() else {
            let why =
                "run_model: the model is running for another session; run it again when that ends";
            return self.error(ErrorCode::Busy, why).await;
        };
        let (sender, news) = mpsc::channel(8);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let unit = unit(&volume).to_string();
        let total = model.patches_over(&volume);
        let name = model.name().to_string();
        tokio::task::spawn_blocking(move || {
            // The server's one run (`turn`) lasts until its outcome is known.
            let mut told = Instant::now();
            let mut done = 0;
            let labels = model.run(&volume, &mut |now, total| {
                done = now;
                if told.elapsed() >= PROGRESS_TOLD_EVERY {
                    told = Instant::now();
                    // Progress is lossy: a full channel skips a report.
                    let _ = sender.try_send(ModelNews::Progress { done: now, total });
                }
                !stopped.load(Ordering::Relaxed)
            });
            let outcome = match labels {
                Ok(labels) => measured_classes(&labels, &volume, model.name(), &unit)
                    .map_err(|error| (ModelRunState::Failed, Some(error.to_string()))),
                Err(ModelError::Stopped { .. }) => Err((ModelRunState::Stopped, None)),
                Err(error) => {
                    tracing::warn!(%error, "the model failed");
                    Err((ModelRunState::Failed, Some(error.to_string())))
                }
            };
            // Let go before the end is told: a client told the run ended may start another
            // at once (it was told Busy when the turn outlived the news).
            drop(turn);
            let _ = sender.blocking_send(ModelNews::Ended {
                done,
                total,
                outcome,
            });
        });
        self.model_run = Some(ModelRun {
            stop,
            news,
            series,
            model: name.clone(),
        });
        self.send(&ServerMessage::ModelProgress {
            model: name,
            done: 0,
            total,
            state: ModelRunState::Running,
            message: None,
        })
        .await
    }

    /// `stop_model`: asks the session's run to stop after the patch under way.
    pub(super) async fn stop_model(&mut self) -> ControlFlow<()> {
        match &self.model_run {
            Some(run) => {
                run.stop.store(true, Ordering::Relaxed);
                ControlFlow::Continue(())
            }
            None => {
                self.error(
                    ErrorCode::BadValue,
                    "stop_model: no model is running for this session",
                )
                .await
            }
        }
    }

    /// Tells how the run stands; when it ended, adds its segments to its series.
    pub(super) async fn model_news(&mut self, news: Option<ModelNews>) -> ControlFlow<()> {
        let Some(run) = &self.model_run else {
            return ControlFlow::Continue(());
        };
        let model = run.model.clone();
        let (done, total, outcome) = match news {
            Some(ModelNews::Progress { done, total }) => {
                return self
                    .send(&ServerMessage::ModelProgress {
                        model,
                        done,
                        total,
                        state: ModelRunState::Running,
                        message: None,
                    })
                    .await;
            }
            Some(ModelNews::Ended {
                done,
                total,
                outcome,
            }) => (done, total, outcome),
            None => (
                0,
                0,
                Err((
                    ModelRunState::Failed,
                    Some("the model's run ended without a word (the server log says why)".into()),
                )),
            ),
        };
        let series = run.series.clone();
        self.model_run = None;
        let (state, message, loaded) = match outcome {
            Ok(loaded) => (ModelRunState::Done, None, loaded),
            Err((state, message)) => (state, message, Vec::new()),
        };
        let told = ServerMessage::ModelProgress {
            model,
            done,
            total,
            state,
            message,
        };
        if self.send(&told).await.is_break() {
            return ControlFlow::Break(());
        }
        if state != ModelRunState::Done {
            return ControlFlow::Continue(());
        }
        self.add_segments(&series, loaded).await
    }
}
