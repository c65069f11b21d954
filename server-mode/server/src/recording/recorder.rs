//! Making a recording: each moment written as a line as it happens, into a file that
//! becomes the recording (and gets its listing beside it) when the recording stops. The
//! recorder holds the bounds: past [`MAX_DURATION`], [`MAX_MOMENTS`] or [`MAX_BYTES`] it
//! refuses more, and the session stops it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use hounsfield_files::{Permissions, write_whole};
use hounsfield_protocol::{RecordingInfo, ServerMessage, SharedView};

use super::{Happening, Header, MAX_BYTES, MAX_DURATION, MAX_MOMENTS, Moment};

/// Views closer together than this are recorded as one (the later): a drag plays back as
/// smoothly as frames came, and the file stays small.
const VIEW_EVERY: Duration = Duration::from_millis(33);

/// Why a recording takes no more.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// It reached one of its bounds.
    #[error("the recording reached its {0}")]
    Full(&'static str),
    /// The file could not be written.
    #[error("the recording could not be written: {0}")]
    Io(#[from] std::io::Error),
}

/// A recording being made.
#[derive(Debug)]
pub struct Recorder {
    header: Header,
    partial: PathBuf,
    file: tokio::io::BufWriter<tokio::fs::File>,
    started: Instant,
    moments: u64,
    bytes: u64,
    last_view: SharedView,
    last_view_at: Instant,
}

impl Recorder {
    /// Begins recording `header` (its view and findings the starting ones) in `folder`.
    pub async fn start(folder: &Path, header: Header) -> Result<Self, RecordError> {
        tokio::fs::create_dir_all(folder).await?;
        let partial = folder.join(format!("{}.jsonl.partial", header.id));
        let file = tokio::fs::File::create(&partial).await?;
        let now = Instant::now();
        let mut recorder = Self {
            last_view: header.view.clone(),
            header,
            partial,
            file: tokio::io::BufWriter::new(file),
            started: now,
            moments: 0,
            bytes: 0,
            last_view_at: now,
        };
        let line = serde_json::to_string(&recorder.header).map_err(std::io::Error::other)?;
        recorder.write_line(line).await?;
        Ok(recorder)
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// The series it records.
    pub fn series(&self) -> &str {
        &self.header.series
    }

    /// How long it has lasted (ms).
    pub fn duration_ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
    }

    /// The view recorded last (the starting one before any).
    pub fn last_view(&self) -> &SharedView {
        &self.last_view
    }

    /// The moments recorded so far.
    pub fn moments(&self) -> u64 {
        self.moments
    }

    /// Records the session's view at `now` when it changed, at most one every
    /// [`VIEW_EVERY`] (the view at rest is recorded by the next call, or by `stop`).
    pub async fn view(&mut self, view: &SharedView, now: Instant) -> Result<(), RecordError> {
        if *view == self.last_view || now < self.last_view_at + VIEW_EVERY {
            return Ok(());
        }
        self.write_view(view, now).await
    }

    async fn write_view(&mut self, view: &SharedView, now: Instant) -> Result<(), RecordError> {
        self.last_view = view.clone();
        self.last_view_at = now;
        let view = Box::new(view.clone());
        self.moment(Happening::View { view }, now).await
    }

    /// Records a pointer or a finding the session told or was told.
    pub async fn told(&mut self, message: &ServerMessage, now: Instant) -> Result<(), RecordError> {
        let message = Box::new(message.clone());
        self.moment(Happening::Told { message }, now).await
    }

    async fn moment(&mut self, what: Happening, now: Instant) -> Result<(), RecordError> {
        if now.saturating_duration_since(self.started) > MAX_DURATION {
            return Err(RecordError::Full("longest duration (2 hours)"));
        }
        if self.moments >= MAX_MOMENTS {
            return Err(RecordError::Full("most moments"));
        }
        let line = self.line_of(what, now)?;
        if self.bytes + line.len() as u64 + 1 > MAX_BYTES {
            return Err(RecordError::Full("largest size"));
        }
        self.write_moment(line).await
    }

    /// `what` at `now` as a line of the recording.
    fn line_of(&self, what: Happening, now: Instant) -> Result<String, RecordError> {
        let moment = Moment {
            t_ms: self.duration_ms(now),
            what,
        };
        Ok(serde_json::to_string(&moment).map_err(std::io::Error::other)?)
    }

    /// Writes a moment's line, counted.
    async fn write_moment(&mut self, line: String) -> Result<(), RecordError> {
        self.write_line(line).await?;
        self.moments += 1;
        Ok(())
    }

    async fn write_line(&mut self, mut line: String) -> Result<(), RecordError> {
        line.push('\n');
        self.file.write_all(line.as_bytes()).await?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    /// Ends the recording on `view` (the session's view now) and keeps it: the file
    /// renamed to the recording's, its listing written beside it.
    pub async fn stop(
        mut self,
        view: &SharedView,
        now: Instant,
    ) -> Result<RecordingInfo, RecordError> {
        // Past a bound the last view and the end still go in: they are what playback
        // ends on, and a line or two over the size bound is within what is read back.
        if *view != self.last_view {
            let view = Box::new(view.clone());
            let line = self.line_of(Happening::View { view }, now)?;
            self.write_moment(line).await?;
        }
        let end = self.line_of(Happening::End, now)?;
        self.write_moment(end).await?;
        self.file.flush().await?;
        self.file.get_mut().sync_all().await?;
        let info = RecordingInfo {
            id: self.header.id.clone(),
            series: self.header.series.clone(),
            user: self.header.user.clone(),
            started_ms: self.header.started_ms,
            duration_ms: self.duration_ms(now),
            moments: self.moments,
        };
        let folder = self
            .partial
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let listing = serde_json::to_vec(&info).map_err(std::io::Error::other)?;
        // The recording first: a listing names only a recording that is there. The
        // listing is written whole, so a server killed meanwhile leaves none or all of it.
        tokio::fs::rename(&self.partial, folder.join(format!("{}.jsonl", info.id))).await?;
        let path = folder.join(format!("{}.json", info.id));
        tokio::task::spawn_blocking(move || write_whole(&path, &listing, Permissions::OwnerOnly))
            .await
            .map_err(std::io::Error::other)??;
        Ok(info)
    }
}
