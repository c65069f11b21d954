//! "Export movie…" on the desktop: the series on screen made into an MP4 off the UI
//! thread, with a renderer of its own (so the window keeps drawing), through the same
//! frames and writer as `hounsfield movie` ([`write_movie`]): an orbit of the 3D view from
//! where it stands, or a sweep of a standard slice with the slices' window.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use hounsfield_server::movie::{MAX_MOVIE_PIXELS, Motion, MovieFrames, check_shape};
use render_core::Volume;
use render_core::view::{MprOrientation, ViewState};

use hounsfield_workstation::movie::{MovieTimes, Shape, write_movie};
use hounsfield_workstation::renderer::new_renderer;

/// What the camera or the slice does over a desktop movie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieMotion {
    /// A full turn about the patient's vertical axis from the 3D view as it is.
    Orbit,
    /// Axial slices from the feet up.
    SweepAxial,
    /// Coronal slices from the front back.
    SweepCoronal,
    /// Sagittal slices from the right.
    SweepSagittal,
}

impl MovieMotion {
    /// Every motion, in the order the dialog offers them.
    pub const ALL: [MovieMotion; 4] = [
        Self::Orbit,
        Self::SweepAxial,
        Self::SweepCoronal,
        Self::SweepSagittal,
    ];

    /// How the dialog names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Orbit => "Orbit 360° from this view",
            Self::SweepAxial => "Sweep axial slices",
            Self::SweepCoronal => "Sweep coronal slices",
            Self::SweepSagittal => "Sweep sagittal slices",
        }
    }

    fn motion(self) -> Motion {
        let sweep = |orientation| Motion::Sweep { orientation };
        match self {
            Self::Orbit => Motion::Orbit { degrees: 360.0 },
            Self::SweepAxial => sweep(MprOrientation::Axial),
            Self::SweepCoronal => sweep(MprOrientation::Coronal),
            Self::SweepSagittal => sweep(MprOrientation::Sagittal),
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieOptions {
    /// The motion.
    pub motion: MovieMotion,
    /// Frames, size and rate.
    pub shape: Shape,
    /// The MP4 to write.
    pub out: PathBuf,
}

impl MovieOptions {
    /// A turn of 72 frames of 1024 × 768 at 24 a second, into `out`.
    pub fn new(out: PathBuf) -> Self {
        Self {
            motion: MovieMotion::Orbit,
            shape: Shape {
                frames: 72,
                size: [1024, 768],
                fps: 24,
                cinematic: None,
            },
            out,
        }
    }
}

/// A movie being written.
pub struct MovieExport {
    /// The file being written.
    pub out: PathBuf,
    /// Its frames.
    pub frames: u32,
    done: Arc<AtomicU32>,
    cancel: Arc<AtomicBool>,
    outcome: Arc<Mutex<Option<Result<MovieTimes, String>>>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for MovieExport {
    /// Stops the movie after the frame being drawn (a window closed mid-export).
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl MovieExport {
    /// Starts writing `options`' movie of `volume` (series `series`) from `first`, the 3D
    /// view as it is (its window the slices' for a sweep); refused at once when its shape
    /// is not one a player takes.
    pub fn start(
        volume: Arc<Volume>,
        series: &str,
        first: ViewState,
        options: &MovieOptions,
    ) -> Result<Self, String> {
        let shape = options.shape;
        check_shape(shape.frames, shape.size, MAX_MOVIE_PIXELS)?;
        if !(1..=hounsfield_video::MAX_MOVIE_FPS).contains(&shape.fps) {
            return Err(format!("{} frames a second: from 1 to 60", shape.fps));
        }
        let done = Arc::new(AtomicU32::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Mutex::new(None));
        let (motion, out, series) = (
            options.motion.motion(),
            options.out.clone(),
            series.to_string(),
        );
        let thread = {
            let (done, cancel, outcome, out) = (
                Arc::clone(&done),
                Arc::clone(&cancel),
                Arc::clone(&outcome),
                out.clone(),
            );
            std::thread::Builder::new()
                .name("movie export".to_string())
                .spawn(move || {
                    let made = make(volume, &series, &first, motion, shape, &out, &done, &cancel)
                        .map_err(|error| format!("{error:#}"));
                    if made.is_err() {
                        // Half a movie is no movie.
                        let _ = std::fs::remove_file(&out);
                    }
                    *outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(made);
                })
                .map_err(|error| format!("a thread for the movie: {error}"))?
        };
        Ok(Self {
            out,
            frames: shape.frames,
            done,
            cancel,
            outcome,
            thread: Some(thread),
        })
    }

    /// Frames written so far.
    pub fn done(&self) -> u32 {
        self.done.load(Ordering::Relaxed)
    }

    /// Stops the movie after the frame being drawn; its file is removed.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// How it ended, once it has (taken once).
    pub fn outcome(&mut self) -> Option<Result<MovieTimes, String>> {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            return Some(Err("the movie's thread failed".to_string()));
        }
        Some(outcome)
    }
}

/// Draws and writes the movie on a renderer of its own.
#[allow(clippy::too_many_arguments)]
fn make(
    volume: Arc<Volume>,
    series: &str,
    first: &ViewState,
    motion: Motion,
    shape: Shape,
    out: &Path,
    done: &AtomicU32,
    cancel: &AtomicBool,
) -> anyhow::Result<MovieTimes> {
    let mut renderer = new_renderer()?;
    for warning in renderer.load_volume(Arc::clone(&volume)) {
        tracing::warn!(%warning, "the movie's volume");
    }
    let mut frames = MovieFrames::new(
        motion,
        first,
        hounsfield_server::series_volumes::SeriesVolumes::one(volume),
        series,
        shape.size,
        renderer.presets().clone(),
    );
    write_movie(&mut renderer, &mut frames, shape, out, |written| {
        done.store(written, Ordering::Relaxed);
        !cancel.load(Ordering::Relaxed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_test_support::probed;
    use render_core::phantom::ct_phantom;
    use render_core::transfer::RenderMode;
    use std::time::{Duration, Instant};

    fn finished(export: &mut MovieExport) -> Result<MovieTimes, String> {
        let started = Instant::now();
        loop {
            if let Some(outcome) = export.outcome() {
                return outcome;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_desktop_movie_is_an_mp4_ffprobe_reads_and_a_cancelled_one_leaves_no_file() {
        let folder = tempfile::tempdir().expect("a folder");
        let volume = Arc::new(ct_phantom());
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let mut options = MovieOptions::new(folder.path().join("orbit.mp4"));
        options.shape = Shape {
            frames: 5,
            size: [96, 64],
            fps: 12,
            cinematic: None,
        };
        let mut export = MovieExport::start(Arc::clone(&volume), "phantom", view.clone(), &options)
            .expect("begun");
        let times = finished(&mut export).expect("written");
        assert_eq!((times.frames, export.done()), (5, 5));
        assert_eq!(probed(&options.out).as_tuple(), ("h264", 96, 64, 5));

        options.motion = MovieMotion::SweepSagittal;
        options.shape.frames = 400;
        options.out = folder.path().join("cancelled.mp4");
        let mut export = MovieExport::start(Arc::clone(&volume), "phantom", view.clone(), &options)
            .expect("begun");
        export.cancel();
        let why = finished(&mut export).expect_err("stopped");
        assert!(why.contains("stopped after"), "{why}");
        assert!(!options.out.exists(), "no half movie is left");

        options.shape.size = [95, 64];
        let refused = MovieExport::start(volume, "phantom", view, &options).err();
        assert!(refused.is_some_and(|why| why.contains("even")));
    }
}
