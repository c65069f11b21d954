//! Loading a volume off the UI thread: a named thread scans and decodes, then reads the
//! series' findings where it keeps them (its PACS, or the findings folder), so the volume
//! and its findings arrive together; the UI polls for the result each frame and shows a
//! progress bar meanwhile.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use render_core::progress::{Progress, ProgressFn, Stage};

use super::findings::LocalFindings;
use super::findings::store::Keeping;
use super::study_hanging::{LocalHanging, hang_study};
use hounsfield_hanging::HangingProtocols;
use hounsfield_workstation::source::{self, OpenedVolume};

/// A volume loaded, with its findings.
pub struct Loaded {
    /// The volume and what the reader should know of it.
    pub opened: OpenedVolume,
    /// The series' findings as they were kept.
    pub findings: LocalFindings,
    /// Why the kept findings could not be read, when they could not.
    pub unread: Option<String>,
    /// How the study was laid out, when it was opened by `--study`: the volume is its
    /// first cell's series.
    pub hung: Option<LocalHanging>,
}

/// A load under way on its own thread.
pub struct Loading {
    /// What is being loaded, for the progress text.
    pub what: String,
    /// When it began.
    pub started: Instant,
    result: Receiver<Result<Loaded, String>>,
    progress: Arc<Mutex<Option<Progress>>>,
}

/// What polling a load found.
pub enum Poll {
    /// Still loading.
    Pending,
    /// Done: the volume, or why it could not be loaded.
    Done(Result<Box<Loaded>, String>),
}

impl Loading {
    /// Starts loading `path` (the built-in sample without one), its findings kept in
    /// `findings_folder` unless it comes from a PACS; `wake` is called when the result is
    /// ready, so the UI can repaint.
    pub fn start(
        path: Option<PathBuf>,
        series: Option<String>,
        findings_folder: Option<PathBuf>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let what = path.as_ref().map_or_else(
            || "the built-in sample".to_string(),
            |p| p.display().to_string(),
        );
        Self::spawn(what, wake, move |report| {
            load(path.as_deref(), series.as_deref(), findings_folder, report)
        })
    }

    /// Starts reading study `uid` of `path` as `protocols` lay it out with the same
    /// patient's other studies under `path`: its first cell's series is loaded, and the
    /// layout comes with it ([`Loaded::hung`]).
    pub fn start_study(
        path: PathBuf,
        uid: String,
        protocols: HangingProtocols,
        findings_folder: Option<PathBuf>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let what = format!("study {uid} of {}", path.display());
        Self::spawn(what, wake, move |report| {
            let hung = hang_study(&path, &uid, &protocols)?;
            let mut loaded = load(
                Some(&path),
                Some(&hung.first.series),
                findings_folder,
                report,
            )?;
            loaded.hung = Some(hung);
            Ok(loaded)
        })
    }

    /// Runs `job` on a loading thread of its own, its progress kept for [`Self::progress`].
    fn spawn(
        what: String,
        wake: impl Fn() + Send + Sync + 'static,
        job: impl FnOnce(ProgressFn<'_>) -> Result<Loaded, String> + Send + 'static,
    ) -> Self {
        let progress = Arc::new(Mutex::new(None));
        let reported = progress.clone();
        let (sender, result) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("volume-loader".to_string())
            .spawn(move || {
                let report = |step: Progress| {
                    if let Ok(mut slot) = reported.lock() {
                        // Repaint only when the bar moves by a percent or the stage changes.
                        let moved = slot.is_none_or(|last: Progress| {
                            last.stage != step.stage
                                || (step.done - last.done.min(step.done)) * 100 >= step.total.max(1)
                                || step.done == step.total
                        });
                        if moved {
                            *slot = Some(step);
                            wake();
                        }
                    }
                };
                let loaded = job(&report);
                // The UI may have gone away; nothing to tell then.
                let _ = sender.send(loaded);
                wake();
            });
        let result = match spawned {
            Ok(_) => result,
            Err(error) => {
                let (sender, result) = sync_channel(1);
                let _ = sender.send(Err(format!("could not start loading: {error}")));
                result
            }
        };
        Self {
            what,
            started: Instant::now(),
            result,
            progress,
        }
    }

    /// What the loading thread is doing and how far it is (0–1), when it has said.
    pub fn progress(&self) -> Option<(String, f32)> {
        let step = (*self.progress.lock().ok()?)?;
        let (verb, unit) = match step.stage {
            Stage::Scanning => ("Reading headers", "files"),
            Stage::Decoding => ("Decoding", "slices"),
            Stage::Retrieving => ("Retrieving from the PACS", "images"),
        };
        let fraction = step.done as f32 / step.total.max(1) as f32;
        Some((
            format!("{verb}: {} of {} {unit}", step.done, step.total),
            fraction.clamp(0.0, 1.0),
        ))
    }

    /// The result when it is ready.
    pub fn poll(&self) -> Poll {
        match self.result.try_recv() {
            Ok(result) => Poll::Done(result.map(Box::new)),
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => Poll::Done(Err(
                "the loading thread stopped without a result".to_string(),
            )),
        }
    }
}

/// Opens `series` of `path` (the built-in sample without a path), then the series'
/// findings where they are kept.
fn load(
    path: Option<&Path>,
    series: Option<&str>,
    findings_folder: Option<PathBuf>,
    report: ProgressFn<'_>,
) -> Result<Loaded, String> {
    let opened = source::open_volumes_with_progress(path, series, report)
        .map_err(|error| format!("{error:#}"))?;
    let keeping = Keeping::of_source(path, findings_folder);
    let (findings, unread) = LocalFindings::open(opened.subject.clone(), keeping);
    Ok(Loaded {
        opened,
        findings,
        unread,
        hung: None,
    })
}
