//! What every request handler and connection shares ([`App`]: the library, the renderer,
//! who may connect, the sessions open) and a session's place under the limit.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hounsfield_video::encode::EncoderProbe;
use hounsfield_webrtc::Endpoint;
use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::findings::measuring::MeasuringLane;
use crate::findings::{FindingsBook, FindingsStore};
use crate::library::Library;
use crate::metrics::Metrics;
use crate::movie::shelf::MovieShelf;
use crate::recording::store::RecordingStore;
use crate::roster::Roster;
use crate::scheduler::Scheduler;
use crate::sharing::Shares;
use crate::thumbnail::Thumbnails;
use hounsfield_access::auth_throttle::AuthThrottle;
use hounsfield_access::identity::{Access, Identity};
use hounsfield_access::login_sessions::LoginSessions;
use hounsfield_access::origin::OriginPolicy;

/// What every request handler and connection shares.
pub(crate) struct App {
    pub(crate) config: ServerConfig,
    pub(crate) library: Arc<Library>,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) metrics: Arc<Metrics>,
    /// Which H.264 encoder opened at start.
    pub(crate) h264: EncoderProbe,
    /// Which hosts and pages may reach the server.
    pub(crate) origins: OriginPolicy,
    /// Failed token attempts per client address.
    pub(crate) auth_throttle: AuthThrottle,
    /// Turns `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The users and how tokens are checked.
    pub(crate) access: Access,
    /// The sessions open now.
    pub(crate) roster: Roster,
    /// Sessions shared by their users, by join id.
    pub(crate) shares: Shares,
    /// Logins from the web page, by their cookie.
    pub(crate) logins: LoginSessions<Identity>,
    /// Thumbnails of series for the study browser.
    pub(crate) thumbnails: Thumbnails,
    /// The WebRTC endpoint, when the server offers WebRTC.
    pub(crate) webrtc: Option<Endpoint>,
    /// The findings of the series served, shared by the sessions.
    pub(crate) findings: FindingsBook,
    /// Where reports of findings are kept.
    pub(crate) findings_store: FindingsStore,
    /// The one lane findings are measured and segments edited in.
    pub(crate) measuring: MeasuringLane,
    /// The segments of the series served, shared by the sessions.
    pub(crate) segments: crate::segments::SegmentsBook,
    /// The one run of the segmentation model the server makes at a time.
    pub(crate) model_turn: Arc<tokio::sync::Semaphore>,
    /// Where session recordings are kept.
    pub(crate) recordings: RecordingStore,
    /// Movies made for `export_movie`, kept for download.
    pub(crate) movies: Arc<MovieShelf>,
}

impl App {
    /// Why a new session would not be served now, or `None` when it would.
    pub(crate) fn not_ready(&self) -> Option<String> {
        if *self.shutdown.borrow() {
            return Some("shutting down".to_string());
        }
        if let Some(why) = self.scheduler.health().down() {
            return Some(why);
        }
        if let Some(why) = self.library.cataloguing() {
            return Some(why);
        }
        let open = self.metrics.sessions_active.load(Ordering::Acquire);
        (open >= self.config.max_sessions as u64)
            .then(|| format!("all {open} session places taken"))
    }

    /// Whether `identity` may open (and see the thumbnail of) `series`: readers and
    /// admins any; viewers only the desktop's shared series (that is joining its session).
    pub(crate) fn may_open(&self, identity: &Identity, series: &str) -> bool {
        identity.role.opens_series()
            || self
                .config
                .follow
                .as_ref()
                .is_some_and(|follow| follow.series == series)
    }

    /// The H.264 encoders a session tries: the one that opened at start, then the ones
    /// configured after it.
    pub(crate) fn h264_candidates(&self) -> &[String] {
        let encoders = &self.config.h264_encoders;
        self.h264
            .chosen
            .as_ref()
            .and_then(|chosen| encoders.iter().position(|name| name == chosen))
            .map_or(&[], |first| &encoders[first..])
    }
}

/// A session's place under the session limit, given back when dropped.
pub(crate) struct SessionPlace {
    app: Arc<App>,
}

impl SessionPlace {
    /// A place, if one is free.
    pub(crate) fn take(app: Arc<App>) -> Option<Self> {
        let max = app.config.max_sessions as u64;
        app.metrics
            .sessions_active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Metrics::add(&app.metrics.sessions_total, 1);
        Some(Self { app })
    }
}

impl Drop for SessionPlace {
    fn drop(&mut self) {
        self.app
            .metrics
            .sessions_active
            .fetch_sub(1, Ordering::AcqRel);
    }
}
