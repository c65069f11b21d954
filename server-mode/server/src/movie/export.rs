//! A movie made on the server for `export_movie`: its frames drawn by the render thread
//! through a slot of their own (served in turn with the sessions, one frame at a time, so
//! an export never holds the renderer for longer than one still), each a lossless still
//! encoded into the MP4 by a blocking task, then kept on the [`MovieShelf`] for download.
//! The session hears how far it has come through a watch (the latest news wins: no queue).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hounsfield_protocol::MovieMade;
use hounsfield_video::MovieWriter;
use tokio::sync::watch;

use super::MovieFrames;
use super::shelf::{Making, MovieShelf};
use crate::scheduler::{Scheduler, SchedulerEvent};

/// Most frames a movie made on the server has (a minute at 12 frames a second).
pub const MOST_SERVED_FRAMES: u32 = 720;
/// Most pixels a frame of a movie made on the server has (1920 × 1080).
pub const MOST_SERVED_PIXELS: u64 = 1920 * 1080;
/// Most bytes a movie made on the server grows to.
pub const MOST_SERVED_BYTES: u64 = 256 << 20;

/// A movie to make.
pub struct MovieJob {
    /// Its id (32 hex digits), its file's name and its address.
    pub id: String,
    /// The series it shows.
    pub series: String,
    /// Its frames' requests.
    pub frames: MovieFrames,
    /// How many frames.
    pub count: u32,
    /// Its size in pixels.
    pub size: [u32; 2],
    /// Frames a second it plays at.
    pub fps: u32,
    /// Who may download it.
    pub owner: Option<String>,
}

/// What a session hears of its movie.
#[derive(Debug, Clone, PartialEq)]
pub enum MovieNews {
    /// This many frames are drawn and encoded.
    Progress(u32),
    /// It is made and kept for download.
    Ready(MovieMade),
    /// It failed (nothing was kept): why.
    Failed(String),
}

/// A movie being made for a session; dropping it stops the making after the frame being
/// drawn.
pub struct Export {
    id: String,
    count: u32,
    news: watch::Receiver<MovieNews>,
    cancel: Arc<AtomicBool>,
}

impl Drop for Export {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Export {
    /// Starts making `job` in `making`'s place, drawn by `scheduler`, kept on `shelf`.
    pub fn start(
        job: MovieJob,
        making: Making,
        scheduler: Arc<Scheduler>,
        shelf: Arc<MovieShelf>,
    ) -> Self {
        let (tell, news) = watch::channel(MovieNews::Progress(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let export = Self {
            id: job.id.clone(),
            count: job.count,
            news,
            cancel: Arc::clone(&cancel),
        };
        tokio::task::spawn_blocking(move || {
            let path = making.path_for(&job.id);
            let (id, series, owner) = (job.id.clone(), job.series.clone(), job.owner.clone());
            let outcome = make(job, &scheduler, &path, &tell, &cancel);
            match outcome {
                Ok(made) => {
                    shelf.shelve(made.clone(), owner, path);
                    tell.send_replace(MovieNews::Ready(made));
                }
                Err(why) => {
                    tracing::warn!(movie = %id, %series, %why, "a movie could not be made");
                    let _ = std::fs::remove_file(&path);
                    tell.send_replace(MovieNews::Failed(why));
                }
            }
            drop(making);
        });
        export
    }

    /// The movie's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many frames it will have.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The next news of the movie (waits for it); `None` once the maker is gone without a
    /// word (it panicked).
    pub async fn next(&mut self) -> Option<MovieNews> {
        self.news.changed().await.ok()?;
        Some(self.news.borrow_and_update().clone())
    }
}

/// Draws and encodes `job` into `path`, telling each frame done.
fn make(
    mut job: MovieJob,
    scheduler: &Scheduler,
    path: &Path,
    tell: &watch::Sender<MovieNews>,
    cancel: &AtomicBool,
) -> Result<MovieMade, String> {
    let [width, height] = job.size;
    let (slot, mut events) = scheduler.register();
    let mut movie = MovieWriter::create(path, width, height, job.fps)
        .map_err(|error| format!("the movie could not begin: {error}"))?;
    for n in 0..job.count {
        if cancel.load(Ordering::Relaxed) {
            return Err("the session ended".to_string());
        }
        slot.submit(job.frames.request(n, job.count)?);
        let png = match events.blocking_recv() {
            Some(SchedulerEvent::Frame(frame)) => frame.payload,
            Some(SchedulerEvent::Failed { message, .. }) => {
                return Err(format!("frame {n}: {message}"));
            }
            None => return Err("the renderer stopped".to_string()),
        };
        let rgba = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map_err(|error| format!("frame {n}: {error}"))?
            .into_rgba8();
        if rgba.dimensions() != (width, height) {
            return Err(format!(
                "frame {n} came {}x{}, not {width}x{height}",
                rgba.width(),
                rgba.height()
            ));
        }
        movie
            .push(rgba.as_raw(), width, height)
            .map_err(|error| format!("frame {n}: {error}"))?;
        let written = std::fs::metadata(path).map_or(0, |meta| meta.len());
        if written > MOST_SERVED_BYTES {
            return Err(format!(
                "the movie grew past {} MiB at frame {n}: ask for fewer frames or a smaller size",
                MOST_SERVED_BYTES >> 20
            ));
        }
        tell.send_replace(MovieNews::Progress(n + 1));
    }
    let encoder = movie.encoder_name().to_string();
    movie
        .finish()
        .map_err(|error| format!("the movie could not end: {error}"))?;
    let bytes = std::fs::metadata(path)
        .map_err(|error| format!("the movie written: {error}"))?
        .len();
    Ok(MovieMade {
        url: format!("/movies/{}.mp4", job.id),
        id: job.id,
        series: job.series,
        frames: job.count,
        width,
        height,
        fps: job.fps,
        bytes,
        encoder,
    })
}
