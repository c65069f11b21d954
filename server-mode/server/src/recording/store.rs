//! Where recordings are kept: the recordings folder of the server's state, a recording
//! `ID.jsonl` and its listing `ID.json` each. Reading is bounded: a folder listed up to
//! [`MOST_SCANNED`] entries, a file read up to [`MAX_BYTES`] (and a little for its end),
//! each line up to [`MAX_LINE_BYTES`], at most [`MAX_MOMENTS`] moments and never more
//! findings at once than a series keeps; an error names the recording and the line.

use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use hounsfield_findings::MAX_FINDINGS_PER_SERIES;
use hounsfield_protocol::{RecordingInfo, ServerMessage};

use super::{
    FORMAT, Happening, Header, MAX_BYTES, MAX_LINE_BYTES, MAX_MOMENTS, Moment, Recording,
    is_recording_id,
};

/// Entries of the folder looked at when listing: a bound on a folder filled by hand.
const MOST_SCANNED: usize = 20_000;
/// Recordings listed for a series, newest first.
pub const MOST_LISTED: usize = 200;
/// A listing file's largest size.
const MAX_LISTING_BYTES: u64 = 4096;
/// What a recording may hold past [`MAX_BYTES`]: its last view and its end, written when
/// it stops at the bound.
const END_ALLOWANCE: u64 = 2 * MAX_LINE_BYTES as u64;

/// Why a recording could not be listed or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server keeps no recordings (it has no state folder).
    #[error("this server keeps no recordings (it runs without a state folder)")]
    NoFolder,
    /// No recording has this id.
    #[error("no recording {0}")]
    Unknown(String),
    /// The recording's file is not one this server reads.
    #[error("recording {id}, line {line}: {why}")]
    Bad {
        /// The recording.
        id: String,
        /// The line at fault (1: the header).
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// The folder or a file could not be read.
    #[error("the recordings could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// The server's recordings folder, when it has one.
#[derive(Debug, Clone, Default)]
pub struct RecordingStore {
    folder: Option<PathBuf>,
}

impl RecordingStore {
    /// Recordings kept in `folder` (`None`: the server keeps none).
    pub fn new(folder: Option<PathBuf>) -> Self {
        Self { folder }
    }

    /// The folder, when the server keeps recordings.
    pub fn folder(&self) -> Result<&Path, StoreError> {
        self.folder.as_deref().ok_or(StoreError::NoFolder)
    }

    /// The kept recordings of `series`, newest first, at most [`MOST_LISTED`].
    pub fn list(&self, series: &str) -> Result<Vec<RecordingInfo>, StoreError> {
        let folder = self.folder()?;
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        let mut listed: Vec<RecordingInfo> = entries
            .take(MOST_SCANNED)
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name();
                let id = name.to_str()?.strip_suffix(".json")?;
                is_recording_id(id).then(|| read_listing(&entry.path(), id))?
            })
            .filter(|info| info.series == series)
            .collect();
        listed.sort_by(|a, b| b.started_ms.cmp(&a.started_ms).then(a.id.cmp(&b.id)));
        listed.truncate(MOST_LISTED);
        Ok(listed)
    }

    /// Reads recording `id` back.
    pub fn load(&self, id: &str) -> Result<Recording, StoreError> {
        if !is_recording_id(id) {
            return Err(StoreError::Unknown(id.chars().take(40).collect()));
        }
        let path = self.folder()?.join(format!("{id}.jsonl"));
        read(&path, id).map_err(|error| match error {
            StoreError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                StoreError::Unknown(id.to_string())
            }
            other => other,
        })
    }
}

/// Reads the recording file at `path` (one copied out of a server's recordings folder,
/// for a movie), named in errors by its file name.
pub fn read_file(path: &Path) -> Result<Recording, StoreError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    read(path, &name)
}

/// Reads the recording at `path`, `name` in its errors; a `name` that is a recording id
/// must be the header's.
fn read(path: &Path, name: &str) -> Result<Recording, StoreError> {
    // A regular file only: a named pipe's open would wait for a writer, holding the
    // session (and a server asked to stop) for as long.
    let file = hounsfield_files::open_regular(path)?;
    let bad = |line: usize, why: String| StoreError::Bad {
        id: name.to_string(),
        line,
        why,
    };
    let limit = MAX_BYTES + END_ALLOWANCE;
    if file.metadata()?.len() > limit {
        return Err(bad(0, format!("larger than {} MiB", limit >> 20)));
    }
    let mut reader = std::io::BufReader::new(file.take(limit));
    let mut lines = Vec::new();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)?;
        if read == 0 {
            break;
        }
        if buffer.len() > MAX_LINE_BYTES {
            return Err(bad(
                lines.len() + 1,
                format!("longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        lines.push(std::mem::take(&mut buffer));
    }
    let mut lines = lines.into_iter().enumerate();
    let header: Header = match lines.next() {
        Some((_, line)) => serde_json::from_slice(&line)
            .map_err(|error| bad(1, format!("not a recording's header: {error}")))?,
        None => return Err(bad(1, "empty".to_string())),
    };
    if header.format != FORMAT || (is_recording_id(name) && header.id != name) {
        return Err(bad(
            1,
            format!(
                "format {} of {}, not {FORMAT} of {name}",
                header.format, header.id
            ),
        ));
    }
    let mut shown = ShownFindings::at_start(&header).map_err(|why| bad(1, why))?;
    let mut moments: Vec<Moment> = Vec::new();
    for (index, line) in lines {
        if index > MOST_MOMENT_LINES {
            return Err(bad(index + 1, format!("more than {MAX_MOMENTS} moments")));
        }
        let moment: Moment = serde_json::from_slice(&line)
            .map_err(|error| bad(index + 1, format!("not a moment: {error}")))?;
        if moments.last().is_some_and(|last| last.t_ms > moment.t_ms) {
            return Err(bad(index + 1, "earlier than the line before".to_string()));
        }
        if moment.what.playable() {
            shown
                .follow(&moment.what)
                .map_err(|why| bad(index + 1, why))?;
            moments.push(moment);
        }
    }
    Ok(Recording { header, moments })
}

/// The lines a recording may hold after its header: the moments a recorder writes at
/// most, its last view and its end.
const MOST_MOMENT_LINES: usize = MAX_MOMENTS as usize + 2;

/// The findings a recording shows as it is read, counted: never more than a series
/// keeps ([`MAX_FINDINGS_PER_SERIES`]), so that playing or seeking it never tells a
/// client more (a file of 189,000 findings drawn one after another is refused).
struct ShownFindings(HashSet<u32>);

impl ShownFindings {
    /// The findings of `header`, or why they are too many.
    fn at_start(header: &Header) -> Result<Self, String> {
        let mut shown = Self(HashSet::new());
        for finding in &header.findings {
            shown.show(finding.id)?;
        }
        Ok(shown)
    }

    /// The findings after `what`, or why they are too many.
    fn follow(&mut self, what: &Happening) -> Result<(), String> {
        let Happening::Told { message } = what else {
            return Ok(());
        };
        match message.as_ref() {
            ServerMessage::SharedFinding { finding, .. } => self.show(finding.id),
            ServerMessage::SharedFindingDeleted { id, .. } => {
                self.0.remove(id);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn show(&mut self, id: u32) -> Result<(), String> {
        self.0.insert(id);
        if self.0.len() > MAX_FINDINGS_PER_SERIES {
            return Err(format!(
                "more than {MAX_FINDINGS_PER_SERIES} findings at once (a series keeps at most {MAX_FINDINGS_PER_SERIES})"
            ));
        }
        Ok(())
    }
}

/// A recording's listing, or `None` when it cannot be read (left out of the list).
fn read_listing(path: &Path, id: &str) -> Option<RecordingInfo> {
    let file = hounsfield_files::open_regular(path).ok()?;
    let mut text = Vec::new();
    file.take(MAX_LISTING_BYTES).read_to_end(&mut text).ok()?;
    let info: RecordingInfo = serde_json::from_slice(&text).ok()?;
    (info.id == id).then_some(info)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::recorder::Recorder;
    use super::super::tests::{recording, view};
    use super::*;

    #[cfg(unix)]
    #[test]
    fn named_pipes_in_the_recordings_folder_are_left_out_not_waited_on() {
        let folder = tempfile::tempdir().expect("a folder");
        let id = "0123456789abcdef0123456789abcdef";
        for name in [format!("{id}.json"), format!("{id}.jsonl")] {
            let made = std::process::Command::new("mkfifo")
                .arg(folder.path().join(name))
                .status()
                .expect("mkfifo runs");
            assert!(made.success());
        }
        let store = RecordingStore::new(Some(folder.path().to_path_buf()));
        // Each in a thread of its own, so that a wait on a pipe fails the test, not hangs it.
        let (told, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let listed = store.list("2.25.1").map(|listed| listed.len());
            let loaded = store
                .load(id)
                .map(|_| ())
                .map_err(|error| error.to_string());
            let _ = told.send((listed.ok(), loaded));
        });
        let (listed, loaded) = answers
            .recv_timeout(Duration::from_secs(5))
            .expect("answered without waiting on the pipes");
        assert_eq!(listed, Some(0), "the pipe is left out of the list");
        let refused = loaded.expect_err("a pipe is not a recording");
        assert!(refused.contains("named pipe"), "{refused}");
    }

    #[tokio::test]
    async fn a_recording_made_is_listed_for_its_series_and_read_back_as_made() {
        let folder = tempfile::tempdir().expect("a folder");
        let made = recording();
        let mut recorder = Recorder::start(folder.path(), made.header.clone())
            .await
            .expect("begun");
        let start = Instant::now();
        recorder
            .view(&view("ct-lung"), start + Duration::from_millis(100))
            .await
            .expect("recorded");
        // Too soon after: left for the next call or the end.
        recorder
            .view(&view("ct-soft"), start + Duration::from_millis(110))
            .await
            .expect("recorded");
        let kept = recorder
            .stop(&view("ct-soft"), start + Duration::from_millis(500))
            .await
            .expect("kept");
        assert_eq!((kept.moments, kept.series.as_str()), (3, "phantom"));
        let store = RecordingStore::new(Some(folder.path().to_path_buf()));
        assert_eq!(store.list("phantom").expect("listed"), vec![kept.clone()]);
        assert!(store.list("another").expect("listed").is_empty());
        let read = store.load(&kept.id).expect("read back");
        assert_eq!(read.header, made.header);
        assert_eq!(
            read.view_at(f64::MAX),
            &view("ct-soft"),
            "ends on the view at rest"
        );
        assert!(matches!(
            read.moments.last().map(|m| &m.what),
            Some(super::super::Happening::End)
        ));
    }

    /// A recording file of `made`'s header followed by `moments`, one a line.
    fn written_with(folder: &Path, made: &Recording, moments: impl Iterator<Item = Moment>) {
        let mut text = serde_json::to_string(&made.header).expect("json");
        text.push('\n');
        for moment in moments {
            text.push_str(&serde_json::to_string(&moment).expect("json"));
            text.push('\n');
        }
        let path = folder.join(format!("{}.jsonl", made.header.id));
        std::fs::write(path, text).expect("written");
    }

    /// A moment at `t_ms` that tells finding `id` drawn.
    fn drawn(t_ms: u64, id: u32) -> Moment {
        Moment {
            t_ms,
            what: Happening::Told {
                message: Box::new(ServerMessage::SharedFinding {
                    session: 1,
                    name: "rita".to_string(),
                    finding: super::super::tests::ruler(id),
                }),
            },
        }
    }

    #[test]
    fn a_recording_showing_more_findings_at_once_than_a_series_keeps_is_refused_at_that_line() {
        let folder = tempfile::tempdir().expect("a folder");
        let store = RecordingStore::new(Some(folder.path().to_path_buf()));
        let made = recording();
        let id = made.header.id.clone();
        // 100,000 findings drawn one after another (what 32 MiB holds of these), as a
        // hostile file would hold them: refused at the first one past a series' 500.
        written_with(folder.path(), &made, (1..=100_000).map(|id| drawn(5, id)));
        match store.load(&id) {
            Err(StoreError::Bad { line, why, .. }) => {
                assert_eq!(line, MAX_FINDINGS_PER_SERIES + 2, "{why}");
                assert!(why.contains("more than 500 findings"), "{why}");
            }
            other => panic!(
                "expected a refusal, got {:?}",
                other.map(|r| r.moments.len())
            ),
        }
        // The same finding redrawn 100,000 times shows one at a time: it is read, and
        // where it stands is found without a pass over the findings so far per moment.
        written_with(folder.path(), &made, (0..100_000).map(|t| drawn(t, 7)));
        let read = store.load(&id).expect("one finding redrawn is a recording");
        assert_eq!(read.moments.len(), 100_000);
        let at_end = read.findings_at(f64::MAX);
        assert_eq!(at_end.len(), 1);
        assert_eq!(at_end[0].id, 7);
        // Drawn and deleted in turn, 500 stay within the bound however many come and go.
        let churn = (1..=2_000u32).flat_map(|id| {
            let deleted = Moment {
                t_ms: u64::from(id),
                what: Happening::Told {
                    message: Box::new(ServerMessage::SharedFindingDeleted {
                        session: 1,
                        name: "rita".to_string(),
                        id: id.saturating_sub(400),
                    }),
                },
            };
            [drawn(u64::from(id), id), deleted]
        });
        written_with(folder.path(), &made, churn);
        assert!(store.load(&id).is_ok(), "at most 400 shown at once");
    }

    #[test]
    fn a_recording_of_more_moments_than_a_recorder_writes_is_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        let store = RecordingStore::new(Some(folder.path().to_path_buf()));
        let made = recording();
        let end = |t_ms| Moment {
            t_ms,
            what: Happening::End,
        };
        written_with(folder.path(), &made, (0..MAX_MOMENTS + 3).map(end));
        match store.load(&made.header.id) {
            Err(StoreError::Bad { line, why, .. }) => {
                assert_eq!(line as u64, MAX_MOMENTS + 4, "{why}");
                assert!(why.contains("moments"), "{why}");
            }
            other => panic!(
                "expected a refusal, got {:?}",
                other.map(|r| r.moments.len())
            ),
        }
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_recording_and_the_line() {
        let folder = tempfile::tempdir().expect("a folder");
        let store = RecordingStore::new(Some(folder.path().to_path_buf()));
        let made = recording();
        let id = made.header.id.clone();
        let header = serde_json::to_string(&made.header).expect("json");
        let path = folder.path().join(format!("{id}.jsonl"));
        for (body, line) in [
            (
                format!("{header}\n{{\"t_ms\":5,\"what\":{{\"kind\":\"view\"}}}}\n"),
                2,
            ),
            (
                format!(
                    "{header}\n{{\"t_ms\":9,\"what\":{{\"kind\":\"end\"}}}}\n{{\"t_ms\":3,\"what\":{{\"kind\":\"end\"}}}}\n"
                ),
                3,
            ),
            (
                format!("{header}\n{}\n", "x".repeat(MAX_LINE_BYTES + 10)),
                2,
            ),
            ("{\"format\":7}\n".to_string(), 1),
        ] {
            std::fs::write(&path, body).expect("written");
            match store.load(&id) {
                Err(StoreError::Bad {
                    id: named,
                    line: at,
                    ..
                }) => {
                    assert_eq!((named.as_str(), at), (id.as_str(), line));
                }
                other => panic!("refused at line {line}, not {other:?}"),
            }
        }
        assert!(matches!(
            store.load("../../etc/passwd"),
            Err(StoreError::Unknown(_))
        ));
        assert!(matches!(
            store.load("ffffffffffffffffffffffffffffffff"),
            Err(StoreError::Unknown(_))
        ));
        assert!(matches!(
            RecordingStore::default().list("phantom"),
            Err(StoreError::NoFolder)
        ));
    }
}
