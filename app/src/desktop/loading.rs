//! Loading a volume off the UI thread: a named thread scans and decodes, the UI polls for
//! the result each frame and shows a spinner meanwhile.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::Instant;

use crate::source::{self, OpenedVolume};

/// A load under way on its own thread.
pub struct Loading {
    /// What is being loaded, for the progress text.
    pub what: String,
    /// When it began.
    pub started: Instant,
    result: Receiver<Result<OpenedVolume, String>>,
}

/// What polling a load found.
pub enum Poll {
    /// Still loading.
    Pending,
    /// Done: the volume, or why it could not be loaded.
    Done(Result<Box<OpenedVolume>, String>),
}

impl Loading {
    /// Starts loading `path` (the built-in sample without one); `wake` is called when the
    /// result is ready, so the UI can repaint.
    pub fn start(
        path: Option<PathBuf>,
        series: Option<String>,
        wake: impl FnOnce() + Send + 'static,
    ) -> Self {
        let what = path.as_ref().map_or_else(
            || "the built-in sample".to_string(),
            |p| p.display().to_string(),
        );
        let (sender, result) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("volume-loader".to_string())
            .spawn(move || {
                let opened = source::open_volume(path.as_deref(), series.as_deref())
                    .map_err(|error| format!("{error:#}"));
                // The UI may have gone away; nothing to tell then.
                let _ = sender.send(opened);
                wake();
            });
        let (result, what) = match spawned {
            Ok(_) => (result, what),
            Err(error) => {
                let (sender, result) = sync_channel(1);
                let _ = sender.send(Err(format!("could not start loading: {error}")));
                (result, what)
            }
        };
        Self {
            what,
            started: Instant::now(),
            result,
        }
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
