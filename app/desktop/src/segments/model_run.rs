//! The site's segmentation model (`open --model FILE.onnx`) run on the series rendered
//! here, as the server runs it for its clients: off the window's thread, one run at a
//! time, its progress in the panel, stopped between patches, and each class it finds
//! measured, to be added as a segment (AUTOMATIC, by the model).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use eframe::egui;
use hounsfield_model::{ModelError, SegmentationModel};
use hounsfield_protocol::SegmentNumbers;
use hounsfield_segment::Segment;
use hounsfield_server::segments::measured_classes;
use render_core::Volume;

use crate::findings::pending::Pending;

/// How often the panel's progress is drawn again while the model runs.
const PROGRESS_SHOWN_EVERY: Duration = Duration::from_millis(250);

/// How a run ended: the classes it found, measured, or where it was stopped.
enum Ended {
    /// Each class found, with its numbers.
    Found(Vec<(Segment, SegmentNumbers)>),
    /// Stopped after this many patches.
    Stopped(usize),
}

/// A run under way.
struct Run {
    stop: Arc<AtomicBool>,
    /// Patches run so far.
    done: Arc<AtomicUsize>,
    /// Patches in all.
    total: usize,
    ended: Pending<Ended>,
}

/// The site's model, the run under way and how the last one ended.
pub struct LocalModel {
    model: Arc<SegmentationModel>,
    run: Option<Run>,
    /// How the last run ended (what the panel says when none is under way).
    last: Option<String>,
}

impl LocalModel {
    /// `model`, not run yet.
    pub fn new(model: Arc<SegmentationModel>) -> Self {
        Self {
            model,
            run: None,
            last: None,
        }
    }

    /// Starts the model on `volume` (values in `unit`); says why not when a run is under
    /// way or its thread could not start.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        unit: &'static str,
    ) -> Result<(), String> {
        if self.run.is_some() {
            return Err("the model is running: Stop model stops it".to_string());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let (stopped, progress) = (Arc::clone(&stop), Arc::clone(&done));
        let (model, volume) = (Arc::clone(&self.model), Arc::clone(volume));
        let total = model.patches_over(&volume);
        let ended = Pending::start(ctx, "segmentation-model", move || {
            let labels = model.run(&volume, &mut |now, _| {
                progress.store(now, Ordering::Relaxed);
                !stopped.load(Ordering::Relaxed)
            });
            match labels {
                Ok(labels) => measured_classes(&labels, &volume, model.name(), unit)
                    .map(Ended::Found)
                    .map_err(|why| format!("the model's segments not measured: {why}")),
                Err(ModelError::Stopped { .. }) => {
                    Ok(Ended::Stopped(progress.load(Ordering::Relaxed)))
                }
                Err(why) => Err(format!("the model failed: {why}")),
            }
        })?;
        self.last = None;
        self.run = Some(Run {
            stop,
            done,
            total,
            ended,
        });
        Ok(())
    }

    /// Asks the run under way to stop after its patch.
    pub fn stop(&self) {
        if let Some(run) = &self.run {
            run.stop.store(true, Ordering::Relaxed);
        }
    }

    /// The classes of a run that ended since the last call (once); keeps the window
    /// drawing the progress while one runs.
    pub fn take_found(&mut self, ctx: &egui::Context) -> Vec<(Segment, SegmentNumbers)> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let Some(ended) = run.ended.answer() else {
            ctx.request_repaint_after(PROGRESS_SHOWN_EVERY);
            return Vec::new();
        };
        let total = run.total;
        self.run = None;
        match ended {
            Ok(Ended::Found(found)) => {
                self.last = Some(format!(
                    "{}: {} segment{} found",
                    self.model.name(),
                    found.len(),
                    if found.len() == 1 { "" } else { "s" }
                ));
                found
            }
            Ok(Ended::Stopped(done)) => {
                self.last = Some(format!(
                    "{}: stopped after {done} of {total} patches; nothing added",
                    self.model.name()
                ));
                Vec::new()
            }
            Err(why) => {
                self.last = Some(why);
                Vec::new()
            }
        }
    }

    /// What the panel says: the run's progress, or how the last one ended.
    pub fn status(&self) -> Option<String> {
        match &self.run {
            Some(run) => Some(format!(
                "{}: {} of {} patches",
                self.model.name(),
                run.done.load(Ordering::Relaxed),
                run.total
            )),
            None => self.last.clone(),
        }
    }
}
