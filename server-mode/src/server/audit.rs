//! The audit log: an append-only file of JSON lines saying who connected from where, who
//! failed to authenticate, which patient's series each session opened, what the server
//! refused and when the renderer restarted. It is written whatever the tracing filter
//! says, because hospital IT reads it to answer "who saw this patient, and when".
//!
//! One event is one line: `{"time":"2026-11-22T14:59:00.123Z","event":"session_start",…}`.
//! A line is written with one `write` on a file opened for appending, so lines of
//! concurrent writers never interleave and a crash leaves at most the last line cut.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// Why the server turned a client or a message away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The WebSocket upgrade came from a page of another origin (or for another host).
    Origin,
    /// Too many messages of one type.
    RateLimited,
    /// All session places were taken.
    SessionCap,
    /// All connection places were taken.
    ConnectionCap,
    /// Too many failed token attempts from this address.
    AuthThrottled,
    /// The socket did not authenticate in time.
    AuthTimeout,
}

/// One thing that happened, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A session began (after authentication).
    SessionStart {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
    },
    /// A session ended.
    SessionEnd {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
        /// Why it ended: `closed`, `idle`, `shutdown`, `error`…
        reason: String,
    },
    /// A client presented a wrong token, or none in time.
    AuthFailed {
        /// The client's address.
        client: SocketAddr,
        /// What was wrong.
        reason: String,
    },
    /// A session opened a series.
    SeriesOpened {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
        /// The series id the protocol uses.
        series: String,
        /// PatientID (0010,0020) of the series (never the patient's name).
        patient_id: String,
    },
    /// The server refused a client or a message.
    Refused {
        /// The client's address.
        client: SocketAddr,
        /// Why.
        reason: Refusal,
        /// More: the origin refused, the message type limited…
        detail: String,
    },
    /// The render thread (or an encode lane) was started again after a fault.
    RendererRestart {
        /// Restarts since the server started, this one included.
        restarts: u64,
        /// What went wrong.
        reason: String,
    },
    /// A desktop user shared a session for others to follow.
    ShareStarted {
        /// The series shared.
        series: String,
        /// Where followers connect.
        address: SocketAddr,
    },
}

/// Where audit events go: a file, or nowhere when no log was asked for.
#[derive(Debug)]
pub struct AuditLog {
    sink: Option<Sink>,
}

#[derive(Debug)]
struct Sink {
    path: PathBuf,
    file: Mutex<File>,
    /// Whether a failed write has been reported (once, not per event).
    failure_reported: AtomicBool,
}

impl AuditLog {
    /// A log that records nothing.
    pub fn disabled() -> Self {
        Self { sink: None }
    }

    /// Opens (creating it, readable by its owner only) the log file for appending.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(Self {
            sink: Some(Sink {
                path: path.to_path_buf(),
                file: Mutex::new(file),
                failure_reported: AtomicBool::new(false),
            }),
        })
    }

    /// The file events go to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.sink.as_ref().map(|sink| sink.path.as_path())
    }

    /// Appends one event as one line. A failed write is reported once through tracing;
    /// it never stops the server.
    pub fn record(&self, event: &AuditEvent) {
        let Some(sink) = &self.sink else { return };
        let mut line = match serde_json::to_vec(&AuditLine::now(event)) {
            Ok(line) => line,
            Err(error) => {
                tracing::error!(%error, "audit event not serialisable");
                return;
            }
        };
        line.push(b'\n');
        let written = match sink.file.lock() {
            Ok(mut file) => file.write_all(&line),
            Err(poisoned) => poisoned.into_inner().write_all(&line),
        };
        if let Err(error) = written
            && !sink.failure_reported.swap(true, Ordering::Relaxed)
        {
            tracing::error!(path = %sink.path.display(), %error, "cannot write the audit log");
        }
    }
}

/// One line of the file: the time, then the event's fields.
#[derive(Serialize)]
struct AuditLine<'a> {
    time: String,
    #[serde(flatten)]
    event: &'a AuditEvent,
}

impl<'a> AuditLine<'a> {
    fn now(event: &'a AuditEvent) -> Self {
        Self {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40000))
    }

    #[test]
    fn each_event_is_one_json_line_with_time_and_kind() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("logs/audit.jsonl");
        let log = AuditLog::open(&path).expect("log opens");
        log.record(&AuditEvent::SessionStart {
            session: 7,
            client: client(),
        });
        log.record(&AuditEvent::Refused {
            client: client(),
            reason: Refusal::Origin,
            detail: "http://evil.example".to_string(),
        });
        let text = std::fs::read_to_string(&path).expect("log readable");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "session_start");
        assert_eq!(lines[0]["session"], 7);
        assert_eq!(lines[0]["client"], "127.0.0.1:40000");
        assert!(
            lines[0]["time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
            "{}",
            lines[0]["time"]
        );
        assert_eq!(lines[1]["event"], "refused");
        assert_eq!(lines[1]["reason"], "origin");
    }

    #[test]
    fn reopening_appends() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("audit.jsonl");
        for session in 0..2 {
            AuditLog::open(&path)
                .expect("log opens")
                .record(&AuditEvent::SessionStart {
                    session,
                    client: client(),
                });
        }
        let text = std::fs::read_to_string(&path).expect("log readable");
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_disabled_log_writes_nothing() {
        let log = AuditLog::disabled();
        assert!(log.path().is_none());
        log.record(&AuditEvent::SessionStart {
            session: 1,
            client: client(),
        });
    }
}
