//! The audit log: an append-only file of JSON lines saying who connected from where, who
//! failed to authenticate, which patient's series each session opened, what the server
//! refused and when the renderer restarted. It is written whatever the tracing filter
//! says, because hospital IT reads it to answer "who saw this patient, and when".
//!
//! One event is one line: `{"time":"2026-11-22T14:59:00.123Z","event":"session_start",…}`.
//! A line is written with one `write` on a file opened for appending, so lines of
//! concurrent writers never interleave and a crash leaves at most the last line cut.
//!
//! Refusals and failed authentications are what a stranger can make the server write, so
//! they are held to [`NOISE_PER_S`] lines a second (bursts of [`NOISE_BURST`]): a flood of
//! them cannot fill the disk over the months a server runs. Those left out are counted,
//! and the next one written says how many (`"suppressed": N`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::token_bucket::TokenBucket;
use crate::users::Role;

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
    /// The user's role does not allow it (a viewer's `open`, a reader at `/metrics`).
    Forbidden,
}

/// The longest text of one field of an audit line (characters): a detail may quote what
/// a client sent, and a patient ID what a file or PACS holds.
pub const MAX_AUDIT_TEXT_CHARS: usize = 300;

/// Writes a text field cut to [`MAX_AUDIT_TEXT_CHARS`], ending in `…` when cut: the one
/// place an audit line's texts are bounded, whoever made the event.
fn bounded_text<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hounsfield_vocabulary::text::cut_with_mark(
        text,
        MAX_AUDIT_TEXT_CHARS,
    ))
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
        /// The user (none on a server that asks for no token).
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The user's role.
        role: Role,
    },
    /// A session ended.
    SessionEnd {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
        /// The user (none on a server that asks for no token).
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// Why it ended: `closed`, `idle`, `shutdown`, `user_removed`, `user_changed`,
        /// `user_expired`, `ended_by_admin`…
        #[serde(serialize_with = "bounded_text")]
        reason: String,
    },
    /// A client presented a wrong token, or none in time.
    AuthFailed {
        /// The client's address.
        client: SocketAddr,
        /// What was wrong.
        #[serde(serialize_with = "bounded_text")]
        reason: String,
    },
    /// A session opened a series.
    SeriesOpened {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
        /// The user (none on a server that asks for no token).
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series id the protocol uses.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// PatientID (0010,0020) of the series (never the patient's name).
        #[serde(serialize_with = "bounded_text")]
        patient_id: String,
    },
    /// A session saved the findings of its series as a DICOM document.
    FindingsSaved {
        /// The session's number on this server.
        session: u64,
        /// The client's address.
        client: SocketAddr,
        /// The user (none on a server that asks for no token).
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series id the protocol uses.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// PatientID (0010,0020) of the series.
        #[serde(serialize_with = "bounded_text")]
        patient_id: String,
        /// The SOP Instance UIDs of the documents stored.
        sop_instance_uids: Vec<String>,
        /// Where: `findings folder` or `pacs`.
        #[serde(serialize_with = "bounded_text")]
        stored_in: String,
    },
    /// The server refused a client or a message.
    Refused {
        /// The client's address.
        client: SocketAddr,
        /// The user, when one was authenticated (refusals for their role).
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// Why.
        reason: Refusal,
        /// More: the origin refused, the message type limited…
        #[serde(serialize_with = "bounded_text")]
        detail: String,
    },
    /// The render thread (or an encode lane) was started again after a fault.
    RendererRestart {
        /// Restarts since the server started, this one included.
        restarts: u64,
        /// What went wrong.
        #[serde(serialize_with = "bounded_text")]
        reason: String,
    },
    /// A desktop user shared a session for others to follow.
    ShareStarted {
        /// The series shared.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// Where followers connect.
        address: SocketAddr,
    },
    /// A session shared its view: others may join it with the id it was given.
    SessionShared {
        /// The session shared.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
    },
    /// A session joined another's shared view.
    SessionJoined {
        /// The session that joined.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The session it follows.
        host_session: u64,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
    },
    /// A session began recording its view (`start_recording`).
    RecordingStarted {
        /// The session recorded.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// The recording's id.
        recording: String,
    },
    /// A recording ended and was kept (asked, the series closed, or a bound reached).
    RecordingStopped {
        /// The session recorded.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// The recording's id.
        recording: String,
        /// How long it lasts (ms).
        duration_ms: u64,
        /// Why it ended.
        #[serde(serialize_with = "bounded_text")]
        reason: String,
    },
    /// A session played a recording back (`play_recording`).
    RecordingPlayed {
        /// The session that plays it.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// The recording's id.
        recording: String,
    },
    /// An administrator saved a transfer-function preset into the server's presets
    /// folder (`save_preset`).
    PresetSaved {
        /// The session that saved it.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The preset's name.
        #[serde(serialize_with = "bounded_text")]
        preset: String,
    },
    /// A movie was made for a session (`export_movie`) and kept for its user to download.
    MovieExported {
        /// The session that asked for it.
        session: u64,
        /// Its user.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// The series it shows.
        #[serde(serialize_with = "bounded_text")]
        series: String,
        /// The movie's id.
        movie: String,
        /// Its frames.
        frames: u32,
    },
    /// A movie was downloaded (`GET /movies/ID.mp4`).
    MovieDownloaded {
        /// Who downloaded it.
        #[serde(skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// From where.
        client: SocketAddr,
        /// The movie's id.
        movie: String,
    },
    /// The users file was read (at start, or again after it changed).
    UsersLoaded {
        /// The file.
        path: String,
        /// Users in it.
        users: usize,
    },
    /// The users file changed but could not be taken: the users stay as they were.
    UsersLoadFailed {
        /// The file.
        path: String,
        /// What is wrong with it.
        error: String,
    },
    /// A user is no longer in the users file (their sessions end).
    UserRemoved {
        /// The user.
        user: String,
    },
    /// A user's role or token changed in the users file (their sessions end).
    UserChanged {
        /// The user.
        user: String,
    },
    /// A user's access expired (their sessions end).
    UserExpired {
        /// The user.
        user: String,
    },
    /// A user logged in from the web page (a login cookie given).
    Login {
        /// The client's address.
        client: SocketAddr,
        /// The user.
        user: String,
    },
    /// A user logged out.
    Logout {
        /// The client's address.
        client: SocketAddr,
        /// The user.
        user: String,
    },
    /// A login cookie was presented after its login expired.
    LoginExpired {
        /// The client's address.
        client: SocketAddr,
        /// The login's user.
        user: String,
    },
    /// A DICOM association ended: what its caller stored.
    DicomReceived {
        /// The caller's address.
        client: SocketAddr,
        /// Its calling AE title.
        #[serde(serialize_with = "bounded_text")]
        calling_ae: String,
        /// Instances stored.
        stored: usize,
        /// Instances stored already (answered as stored, not written again).
        duplicates: usize,
        /// Instances refused.
        refused: usize,
        /// Bytes stored.
        bytes: u64,
        /// The StudyInstanceUIDs that received an instance.
        studies: Vec<String>,
    },
    /// A DICOM caller was refused an association (not allowed, or past a bound).
    DicomRefused {
        /// The caller's address.
        client: SocketAddr,
        /// Its calling AE title (empty when it sent none).
        #[serde(serialize_with = "bounded_text")]
        calling_ae: String,
        /// Why.
        #[serde(serialize_with = "bounded_text")]
        reason: String,
    },
    /// An admin ended a session.
    AdminEndedSession {
        /// The admin.
        admin: String,
        /// The admin's address.
        client: SocketAddr,
        /// The session ended.
        session: u64,
        /// That session's user.
        user: String,
    },
}

/// Where audit events go: a file, or nowhere when no log was asked for.
#[derive(Debug)]
pub struct AuditLog {
    sink: Option<Sink>,
}

/// Refusal and failed-authentication lines written a second, sustained.
pub const NOISE_PER_S: f64 = 20.0;
/// Such lines written in a burst above the sustained rate.
pub const NOISE_BURST: f64 = 200.0;

#[derive(Debug)]
struct Sink {
    path: PathBuf,
    file: Mutex<File>,
    /// Whether a failed write has been reported (once, not per event).
    failure_reported: AtomicBool,
    noise: Mutex<NoiseBudget>,
}

/// The token bucket that holds refusals and failed authentications to their rate, and how
/// many were left out since the last one written.
#[derive(Debug)]
struct NoiseBudget {
    bucket: TokenBucket,
    suppressed: u64,
}

impl NoiseBudget {
    fn new() -> Self {
        Self {
            bucket: TokenBucket::new(NOISE_PER_S, NOISE_BURST, Instant::now()),
            suppressed: 0,
        }
    }

    /// `Some(left out before this one)` when a line may be written at `now`.
    fn take(&mut self, now: Instant) -> Option<u64> {
        if self.bucket.take(now) {
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

impl AuditEvent {
    /// Whether a stranger can make the server record this at will.
    fn is_noise(&self) -> bool {
        matches!(
            self,
            Self::Refused { .. } | Self::AuthFailed { .. } | Self::DicomRefused { .. }
        )
    }
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
                noise: Mutex::new(NoiseBudget::new()),
            }),
        })
    }

    /// The file events go to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.sink.as_ref().map(|sink| sink.path.as_path())
    }

    /// Appends one event as one line (refusals and failed authentications within their
    /// rate). A failed write is reported once through tracing; it never stops the server.
    pub fn record(&self, event: &AuditEvent) {
        let Some(sink) = &self.sink else { return };
        let mut audit_line = AuditLine::now(event);
        if event.is_noise() {
            let mut noise = sink
                .noise
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match noise.take(Instant::now()) {
                Some(suppressed) => audit_line.suppressed = suppressed,
                None => return,
            }
        }
        let mut line = match serde_json::to_vec(&audit_line) {
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
    /// Refusals and failed authentications left out (over their rate) before this one.
    #[serde(skip_serializing_if = "is_zero")]
    suppressed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl<'a> AuditLine<'a> {
    fn now(event: &'a AuditEvent) -> Self {
        Self {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            event,
            suppressed: 0,
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
            user: Some("alice".to_string()),
            role: Role::Reader,
        });
        log.record(&AuditEvent::Refused {
            client: client(),
            user: None,
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
        assert_eq!(lines[0]["user"], "alice");
        assert_eq!(lines[0]["role"], "reader");
        assert!(lines[1].get("user").is_none(), "no user, no field");
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
    fn texts_of_an_audit_line_are_cut_to_their_bound_with_a_mark() {
        let long = "x".repeat(1_000_000);
        let event = AuditEvent::SeriesOpened {
            session: 1,
            client: client(),
            user: None,
            series: long.clone(),
            patient_id: long.clone(),
        };
        let line = serde_json::to_value(&event).expect("serialises");
        for field in ["series", "patient_id"] {
            let text = line[field].as_str().unwrap_or_default();
            assert_eq!(text.chars().count(), MAX_AUDIT_TEXT_CHARS, "{field}");
            assert!(text.ends_with('…'), "{field}");
        }
        let refused = serde_json::to_value(AuditEvent::Refused {
            client: client(),
            user: None,
            reason: Refusal::Origin,
            detail: long,
        })
        .expect("serialises");
        assert!(
            refused["detail"]
                .as_str()
                .is_some_and(|d| d.chars().count() == MAX_AUDIT_TEXT_CHARS)
        );
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
                    user: None,
                    role: Role::Admin,
                });
        }
        let text = std::fs::read_to_string(&path).expect("log readable");
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_flood_of_refusals_is_held_to_its_rate_and_counted() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("audit.jsonl");
        let log = AuditLog::open(&path).expect("log opens");
        let flood = NOISE_BURST as usize * 5;
        for _ in 0..flood {
            log.record(&AuditEvent::Refused {
                client: client(),
                user: None,
                reason: Refusal::ConnectionCap,
                detail: String::new(),
            });
        }
        // Sessions are never held back.
        log.record(&AuditEvent::SessionStart {
            session: 1,
            client: client(),
            user: None,
            role: Role::Admin,
        });
        let text = std::fs::read_to_string(&path).expect("log readable");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        let refused = lines.iter().filter(|l| l["event"] == "refused").count();
        assert!(refused < flood / 2, "{refused} of {flood} written");
        assert!(refused >= NOISE_BURST as usize);
        assert_eq!(
            lines.last().map(|l| l["event"].clone()),
            Some("session_start".into())
        );
        // Once the rate allows again, the next refusal says how many were left out.
        std::thread::sleep(std::time::Duration::from_millis(200));
        log.record(&AuditEvent::AuthFailed {
            client: client(),
            reason: "wrong token".to_string(),
        });
        let text = std::fs::read_to_string(&path).expect("log readable");
        let last: serde_json::Value =
            serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
        assert_eq!(last["event"], "auth_failed");
        assert_eq!(last["suppressed"].as_u64(), Some((flood - refused) as u64));
    }

    #[test]
    fn a_disabled_log_writes_nothing() {
        let events = [
            AuditEvent::SessionStart {
                session: 1,
                client: client(),
                user: None,
                role: Role::Admin,
            },
            AuditEvent::AuthFailed {
                client: client(),
                reason: "wrong token".to_string(),
            },
        ];
        // The same events to a log that is on are written, one line each.
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("audit.jsonl");
        let enabled = AuditLog::open(&path).expect("log opens");
        for event in &events {
            enabled.record(event);
        }
        let text = std::fs::read_to_string(&path).expect("log readable");
        assert_eq!(text.lines().count(), events.len(), "{text}");
        // A disabled log has no file to write to: recording the same events is a no-op.
        let disabled = AuditLog::disabled();
        assert_eq!(disabled.path(), None);
        assert!(disabled.sink.is_none(), "{disabled:?}");
        for event in &events {
            disabled.record(event);
        }
    }
}
