//! Where movies made for `export_movie` wait to be downloaded: a private temporary folder
//! (owner-only, removed when the server stops, and by the next server to start when this
//! one was killed before it could), at most [`MOST_SHELVED`] movies for at
//! most [`KEPT_FOR`] each (the oldest go first), each downloadable only by who asked for
//! it, and at most [`MOST_MAKING`] being made at once.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hounsfield_protocol::MovieMade;

/// Movies kept for download at once.
pub const MOST_SHELVED: usize = 8;
/// How long a movie is kept for download.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 60);
/// Movies being made at once, over all sessions.
pub const MOST_MAKING: usize = 2;

/// Why a movie cannot be made or downloaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShelfError {
    /// The temporary folder could not be made.
    #[error("movies cannot be made here: {0}")]
    NoFolder(String),
    /// [`MOST_MAKING`] movies are being made.
    #[error("{MOST_MAKING} movies are being made already: ask again when one is ready")]
    Busy,
    /// No movie has this id (never made, or no longer kept).
    #[error("no such movie (movies are kept for 30 minutes)")]
    Unknown,
    /// The movie was made for another user.
    #[error("the movie was made for another user")]
    NotYours,
}

/// A movie kept for download.
#[derive(Debug, Clone)]
pub struct Shelved {
    /// What `movie_ready` told of it.
    pub made: MovieMade,
    /// The user who asked for it (`None` on a server that asks for no sign-in).
    pub owner: Option<String>,
    /// The MP4.
    pub path: PathBuf,
    at: Instant,
}

/// The movies kept and being made.
pub struct MovieShelf {
    folder: Result<tempfile::TempDir, String>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    kept: VecDeque<Shelved>,
    making: usize,
}

/// A place among the movies being made: freed when dropped.
pub struct Making {
    state: Arc<Mutex<State>>,
    folder: PathBuf,
}

impl Making {
    /// Where the movie `id` is written.
    pub fn path_for(&self, id: &str) -> PathBuf {
        self.folder.join(format!("{id}.mp4"))
    }
}

impl Drop for Making {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        state.making = state.making.saturating_sub(1);
    }
}

impl Default for MovieShelf {
    fn default() -> Self {
        Self::new()
    }
}

impl MovieShelf {
    /// A shelf in a new private temporary folder, named after this process; the folders
    /// of this user's servers that were killed before they could remove theirs go first.
    pub fn new() -> Self {
        let folder = tempfile::Builder::new()
            .prefix(&format!("{FOLDER_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|error| format!("a temporary folder: {error}"));
        match &folder {
            Ok(ours) => sweep_abandoned(ours.path()),
            Err(why) => tracing::warn!(%why, "movies cannot be exported"),
        }
        Self {
            folder,
            state: Arc::default(),
        }
    }

    /// A place to make a movie in, unless [`MOST_MAKING`] are being made.
    pub fn begin(&self) -> Result<Making, ShelfError> {
        let folder = self
            .folder
            .as_ref()
            .map_err(|why| ShelfError::NoFolder(why.clone()))?;
        let mut state = lock(&self.state);
        if state.making >= MOST_MAKING {
            return Err(ShelfError::Busy);
        }
        state.making += 1;
        Ok(Making {
            state: Arc::clone(&self.state),
            folder: folder.path().to_path_buf(),
        })
    }

    /// Keeps a movie made at `path` for `owner`; the oldest beyond [`MOST_SHELVED`], and any
    /// older than [`KEPT_FOR`], are removed.
    pub fn shelve(&self, made: MovieMade, owner: Option<String>, path: PathBuf) {
        let now = Instant::now();
        let mut state = lock(&self.state);
        state.kept.push_back(Shelved {
            made,
            owner,
            path,
            at: now,
        });
        let mut gone = Vec::new();
        while state.kept.len() > MOST_SHELVED
            || state
                .kept
                .front()
                .is_some_and(|oldest| now.duration_since(oldest.at) > KEPT_FOR)
        {
            if let Some(oldest) = state.kept.pop_front() {
                gone.push(oldest.path);
            }
        }
        drop(state);
        for path in gone {
            remove(&path);
        }
    }

    /// The movie `id`, when it is kept and was made for `user`.
    pub fn find(&self, id: &str, user: Option<&str>) -> Result<Shelved, ShelfError> {
        let state = lock(&self.state);
        let shelved = state
            .kept
            .iter()
            .find(|kept| kept.made.id == id && kept.at.elapsed() <= KEPT_FOR)
            .ok_or(ShelfError::Unknown)?;
        if shelved.owner.as_deref() != user {
            return Err(ShelfError::NotYours);
        }
        Ok(shelved.clone())
    }
}

/// The start of a shelf folder's name; the process id that made it follows.
const FOLDER_PREFIX: &str = "hounsfield-movies-";

/// Removes the shelf folders beside `ours` (same parent, same owner) whose process is gone:
/// a server killed outright (out of memory, `kill -9`) leaves its movies, patients' images,
/// behind. A folder whose process id is running again, or whose name carries none, is left.
fn sweep_abandoned(ours: &Path) {
    let (Some(parent), Ok(our_metadata)) = (ours.parent(), std::fs::symlink_metadata(ours)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == ours || !is_abandoned(&path, &our_metadata) {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                tracing::info!(folder = %path.display(), "removed the movies of a server that was killed")
            }
            Err(error) => {
                tracing::warn!(folder = %path.display(), %error, "the movies of a server that was killed could not be removed")
            }
        }
    }
}

/// Whether `path` is a shelf folder (not a link) of `ours`'s owner whose process is gone.
fn is_abandoned(path: &Path, ours: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let pid = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix(FOLDER_PREFIX))
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    let Some(pid) = pid else {
        return false;
    };
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return false;
    };
    metadata.is_dir()
        && metadata.uid() == ours.uid()
        && pid != std::process::id()
        && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes a movie's file; one already gone is not an error.
fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "an old movie could not be removed");
    }
}

/// The shelf's state; a panic while it was held leaves nothing half-done.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(id: &str) -> MovieMade {
        MovieMade {
            id: id.to_string(),
            url: format!("/movies/{id}.mp4"),
            series: "s".to_string(),
            frames: 1,
            width: 16,
            height: 16,
            fps: 12,
            bytes: 3,
            encoder: "libx264".to_string(),
        }
    }

    #[test]
    fn a_movie_is_found_only_by_its_owner_and_the_oldest_go_first() {
        let shelf = MovieShelf::new();
        let mut paths = Vec::new();
        for n in 0..=MOST_SHELVED {
            let making = shelf.begin().expect("a place");
            let id = format!("{n:032x}");
            let path = making.path_for(&id);
            std::fs::write(&path, b"mp4").expect("writes");
            shelf.shelve(made(&id), Some("ada".to_string()), path.clone());
            paths.push(path);
        }
        let newest = format!("{MOST_SHELVED:032x}");
        assert_eq!(
            shelf.find(&newest, Some("ada")).expect("kept").made.id,
            newest
        );
        assert_eq!(
            shelf.find(&newest, Some("bob")).unwrap_err(),
            ShelfError::NotYours
        );
        assert_eq!(shelf.find(&newest, None).unwrap_err(), ShelfError::NotYours);
        assert_eq!(
            shelf.find(&format!("{:032x}", 0), Some("ada")).unwrap_err(),
            ShelfError::Unknown
        );
        assert!(!paths[0].exists() && paths[1].exists());
    }

    #[test]
    fn a_killed_servers_movies_are_removed_by_the_next_shelf_and_a_running_ones_are_kept() {
        // A process id that is not running: one above the kernel's largest.
        let gone = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|max| max.trim().parse::<u32>().ok())
            .map_or(u32::MAX - 1, |max| max + 1);
        let temp = std::env::temp_dir();
        let abandoned = temp.join(format!("{FOLDER_PREFIX}{gone}-test{}", std::process::id()));
        std::fs::create_dir_all(&abandoned).expect("a folder");
        std::fs::write(abandoned.join("movie.mp4"), b"mp4").expect("a movie");
        // PID 1 is always running.
        let running = temp.join(format!("{FOLDER_PREFIX}1-test{}", std::process::id()));
        std::fs::create_dir_all(&running).expect("a folder");
        let unnamed = temp.join(format!("{FOLDER_PREFIX}test{}", std::process::id()));
        std::fs::create_dir_all(&unnamed).expect("a folder");

        let shelf = MovieShelf::new();

        let kept = (running.exists(), unnamed.exists());
        let _ = std::fs::remove_dir_all(&running);
        let _ = std::fs::remove_dir_all(&unnamed);
        assert!(
            !abandoned.exists(),
            "{} is still there",
            abandoned.display()
        );
        assert_eq!(
            kept,
            (true, true),
            "a running server's and an unnamed folder stay"
        );
        assert!(shelf.begin().is_ok());
    }

    #[test]
    fn at_most_two_movies_are_made_at_once() {
        let shelf = MovieShelf::new();
        let first = shelf.begin().expect("a place");
        let _second = shelf.begin().expect("a place");
        assert!(matches!(shelf.begin(), Err(ShelfError::Busy)));
        drop(first);
        assert!(shelf.begin().is_ok());
    }
}
