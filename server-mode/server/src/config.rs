//! How a server is set up ([`ServerConfig`], with its defaults) and why it could not start
//! ([`ServerError`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hounsfield_protocol::Viewport;
use hounsfield_tls::ServerTls;
use hounsfield_video::encode::DEFAULT_ENCODERS;
use hounsfield_webrtc::WebRtcConfig;

use crate::listener::ConnectionLimits;
use crate::session::SessionLimits;
use crate::sharing::Follow;
use hounsfield_access::audit::AuditLog;
use hounsfield_access::users::UsersFile;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address and port to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The access token; required when `bind` is not a loopback address (unless `users`).
    /// Its one user is a reader named `token`.
    pub token: Option<String>,
    /// Named users with roles (`--users`), read again when the file changes; takes the
    /// place of `token`.
    pub users: Option<UsersFile>,
    /// Sessions open at once; more are refused with 503.
    pub max_sessions: usize,
    /// Connections open at once and the time limit on a request's headers.
    pub connections: ConnectionLimits,
    /// Origins besides the server's own whose pages may open a WebSocket
    /// (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// A WebSocket that has not authenticated (token in `hello`) within this is closed.
    pub auth_timeout: Duration,
    /// A session without a message from its client for this long is closed.
    pub idle_timeout: Duration,
    /// Largest text message answered normally; larger ones get `error` `too_large`.
    pub max_message_bytes: usize,
    /// Per-session input limits.
    pub limits: SessionLimits,
    /// Frame size until a client says otherwise.
    pub default_viewport: Viewport,
    /// FFmpeg's H.264 encoders to try, in order (the first that opens at start is used,
    /// the later ones when it fails for a session); empty: no H.264, JPEG only.
    pub h264_encoders: Vec<String>,
    /// Longest time between H.264 keyframes.
    pub keyframe_interval: Duration,
    /// A host's view that sessions of its series follow (a shared desktop session).
    pub follow: Option<Follow>,
    /// Where sessions, authentication failures, opened series and refusals are recorded.
    pub audit: Arc<AuditLog>,
    /// Serve HTTPS and WSS with this certificate instead of HTTP and WS.
    pub tls: Option<ServerTls>,
    /// How long a login from the web page (its cookie) lasts.
    pub login_lifetime: Duration,
    /// This render node's name when several serve one site behind a proxy: `welcome` and
    /// share links carry it (the `node` URL parameter), so the proxy sends a session's
    /// reconnections and followers back here.
    pub node_name: Option<String>,
    /// Proxies in front of the server (HAProxy, an ingress): for connections from them
    /// the client is the address they append to `X-Forwarded-For`, for the failed-token
    /// lockout and the audit log.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Accept `test_fault` messages that make a session's next frame fail on purpose
    /// ([`crate::faults`]); for tests only, off unless asked for, and only in a build with
    /// the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub test_faults: bool,
    /// WebRTC for sessions' H.264 frames, on this UDP address; `None`: frames over the
    /// WebSocket only.
    pub webrtc: Option<WebRtcConfig>,
    /// Where reports of the series' findings are kept (`<state>/findings`); `None`: the
    /// findings live while the server runs and `save_findings` is refused.
    pub findings_folder: Option<std::path::PathBuf>,
    /// Whether the host of a shared session may hand its controls to a viewer (readers
    /// may always be given them).
    pub viewers_may_steer: bool,
    /// Where session recordings are kept (`<state>/recordings`); `None`: recording is
    /// refused.
    pub recordings_folder: Option<std::path::PathBuf>,
    /// Where an administrator's `save_preset` writes (the folder the server read its
    /// presets from at start); `None`: saving presets on the server is refused.
    pub presets_folder: Option<std::path::PathBuf>,
    /// The segmentation model the site provides (`--model`), read and checked at start;
    /// `None`: `run_model` is refused.
    pub model: Option<Arc<hounsfield_model::SegmentationModel>>,
    /// The site's identity provider (OpenID Connect) that signs users in from the web
    /// page, beside the token or the users file; `None`: tokens only.
    pub sign_on: Option<Arc<hounsfield_sign_on::SignOn>>,
    /// The hanging protocols `open_study` lays studies out by: the built-in ones, and
    /// the site's (`--hanging-protocols`).
    pub hanging: Arc<hounsfield_hanging::HangingProtocols>,
}

impl ServerConfig {
    /// Defaults: 16 sessions, 256 connections, 10 s for a request's headers, 5 s to
    /// authenticate, no other origins, 30 minutes idle, 16 KiB messages, 1024×768 frames, H.264
    /// from the first of NVENC, VA-API, Quick Sync and x264 that opens, a keyframe at least
    /// every 2 s, no viewer handed the controls of a shared session, the built-in hanging
    /// protocols.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            token: None,
            users: None,
            max_sessions: 16,
            connections: ConnectionLimits::default(),
            allowed_origins: Vec::new(),
            auth_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30 * 60),
            max_message_bytes: 16 * 1024,
            limits: SessionLimits::default(),
            default_viewport: Viewport {
                width: 1024,
                height: 768,
            },
            h264_encoders: DEFAULT_ENCODERS.map(str::to_string).to_vec(),
            keyframe_interval: Duration::from_secs(2),
            follow: None,
            audit: Arc::new(AuditLog::disabled()),
            tls: None,
            login_lifetime: Duration::from_secs(8 * 3600),
            node_name: None,
            trusted_proxies: Vec::new(),
            #[cfg(feature = "fault-injection")]
            test_faults: false,
            webrtc: None,
            findings_folder: None,
            viewers_may_steer: false,
            recordings_folder: None,
            presets_folder: None,
            model: None,
            sign_on: None,
            hanging: Arc::new(hounsfield_hanging::HangingProtocols::builtin()),
        }
    }

    /// Whether clients must present a token (or be users of the file): always off loopback.
    pub fn token_required(&self) -> bool {
        !self.bind.ip().is_loopback()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A non-loopback address without a token.
    #[error("listening on {0} (not loopback) needs an access token: pass --token or --token-file")]
    TokenRequired(SocketAddr),
    /// An `--allow-origin` that is not an origin.
    #[error("{0}")]
    Origin(String),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Serving stopped with an I/O error.
    #[error("server stopped: {0}")]
    Io(#[from] std::io::Error),
}
