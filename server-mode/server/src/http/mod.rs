//! The HTTP and WebSocket server (axum): the web client at `/`, protocol v1 at `/ws`,
//! `/healthz` (503 while rendering is down), `/metrics` and the admin view
//! ([`crate::admin`]). Before a WebSocket is let in: the request's host and origin
//! ([`crate::origin`]), the client's failed token attempts
//! ([`crate::auth_throttle`]), the token and whose it is
//! ([`crate::access`]), and a place under the session limit, taken once the client
//! has authenticated. Connections are accepted by
//! [`crate::listener`]; each WebSocket is run by [`crate::connection`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Extension, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::access::{Access, Authentication, Identity};
use crate::audit::{AuditEvent, AuditLog, Refusal};
use crate::auth_throttle::AuthThrottle;
use crate::follow::{Follow, Shares};
use crate::library::Library;
use crate::listener::{ConnectionLimits, ConnectionPlace};
use crate::login::{cookie_identity, token_or_cookie_identity};
use crate::login_sessions::LoginSessions;
use crate::metrics::Metrics;
use crate::origin::OriginPolicy;
use crate::roster::Roster;
use crate::scheduler::Scheduler;
use crate::session::SessionLimits;
use crate::users::UsersFile;
use crate::web;
use hounsfield_protocol::Viewport;
use hounsfield_tls::ServerTls;
use hounsfield_video::encode::{DEFAULT_ENCODERS, EncoderProbe};
use hounsfield_webrtc::{Endpoint, WebRtcConfig};

/// What `Strict-Transport-Security` asks of browsers on HTTPS: HTTPS only to this host for
/// a year. Without `includeSubDomains`: other hosts of a hospital's domain are not ours
/// to decide for.
const HSTS: &str = "max-age=31536000";

/// Largest WebSocket message the transport accepts at all; larger closes the connection.
/// Messages above [`ServerConfig::max_message_bytes`] but below this get an `error` reply.
const TRANSPORT_MESSAGE_LIMIT: usize = 1 << 20;

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
    /// ([`crate::faults`]); for tests only, off unless asked for.
    pub test_faults: bool,
    /// WebRTC for sessions' H.264 frames, on this UDP address; `None`: frames over the
    /// WebSocket only.
    pub webrtc: Option<WebRtcConfig>,
}

impl ServerConfig {
    /// Defaults: 16 sessions, 256 connections, 10 s for a request's headers, 5 s to
    /// authenticate, no other origins, 30 minutes idle, 16 KiB messages, 1024×768 frames, H.264
    /// from the first of NVENC, VA-API, Quick Sync and x264 that opens, a keyframe at least
    /// every 2 s.
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
            test_faults: false,
            webrtc: None,
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
    pub(crate) thumbnails: crate::thumbnail::Thumbnails,
    /// The WebRTC endpoint, when the server offers WebRTC.
    pub(crate) webrtc: Option<Endpoint>,
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

/// A bound server, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: watch::Sender<bool>,
}

impl Server {
    /// Binds the listening socket (refusing a non-loopback address without a token) and
    /// finds the H.264 encoder sessions will get.
    pub async fn bind(
        config: ServerConfig,
        library: Arc<Library>,
        scheduler: Arc<Scheduler>,
    ) -> Result<Self, ServerError> {
        if config.token_required()
            && config.users.is_none()
            && config.token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ServerError::TokenRequired(config.bind));
        }
        let access = Access::new(config.users.as_ref(), config.token.as_deref());
        if let Some(users) = &config.users {
            config.audit.record(&AuditEvent::UsersLoaded {
                path: users.path.display().to_string(),
                users: users.table.users().len(),
            });
        }
        let origins = OriginPolicy::new(config.bind.ip().is_loopback(), &config.allowed_origins)
            .map_err(ServerError::Origin)?;
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServerError::Bind {
                address: config.bind,
                source,
            })?;
        let webrtc = match config.webrtc {
            Some(webrtc) => {
                let endpoint =
                    Endpoint::bind(webrtc)
                        .await
                        .map_err(|source| ServerError::Bind {
                            address: webrtc.bind,
                            source,
                        })?;
                tracing::info!(address = %endpoint.local_addr(), "WebRTC on UDP");
                Some(endpoint)
            }
            None => None,
        };
        if config.audit.path().is_some() {
            scheduler.audit_to(config.audit.clone());
        }
        let candidates = config.h264_encoders.clone();
        let h264 =
            tokio::task::spawn_blocking(move || hounsfield_video::encode::probe(&candidates))
                .await
                .unwrap_or_else(|error| EncoderProbe {
                    chosen: None,
                    tried: vec![hounsfield_video::encode::EncoderAttempt {
                        encoder: "(probe)".to_string(),
                        error: Some(format!("the probe failed: {error}")),
                    }],
                });
        match (&h264.chosen, h264.why_none()) {
            (Some(encoder), _) => tracing::info!(%encoder, "H.264 encoder"),
            (None, Some(why)) => tracing::warn!(%why, "no H.264: frames are JPEG"),
            (None, None) => {}
        }
        let metrics = Arc::new(Metrics::default());
        let _ = metrics
            .h264_encoder
            .set(h264.chosen.clone().unwrap_or_else(|| "none".to_string()));
        metrics
            .max_sessions
            .store(config.max_sessions as u64, Ordering::Relaxed);
        if let Some(node) = &config.node_name {
            let _ = metrics.node_name.set(node.clone());
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let config_login_lifetime = config.login_lifetime;
        Ok(Self {
            listener,
            app: Arc::new(App {
                config,
                library,
                scheduler,
                metrics,
                h264,
                origins,
                auth_throttle: AuthThrottle::default(),
                shutdown: shutdown_rx,
                access,
                roster: Roster::default(),
                shares: Shares::default(),
                logins: LoginSessions::new(config_login_lifetime),
                thumbnails: Default::default(),
                webrtc,
            }),
            shutdown,
        })
    }

    /// The address actually bound (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        Ok(self.listener.local_addr()?)
    }

    /// The UDP address WebRTC peers reach, when the server offers WebRTC.
    pub fn webrtc_addr(&self) -> Option<SocketAddr> {
        self.app.webrtc.as_ref().map(Endpoint::local_addr)
    }

    /// The server's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.app.metrics.clone()
    }

    /// Which H.264 encoder opened (and which did not).
    pub fn h264(&self) -> &EncoderProbe {
        &self.app.h264
    }

    /// Serves until `shutdown` completes; open sessions are then closed.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let mut router = Router::new()
            .route("/ws", get(websocket))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .route("/thumbnail/{id}", get(crate::thumbnail::thumbnail))
            .route("/login", post(crate::login::login))
            .route("/logout", post(crate::login::logout))
            .route("/whoami", get(crate::login::whoami))
            .route("/admin/sessions", get(crate::admin::sessions))
            .route("/admin/sessions/{id}/end", post(crate::admin::end_session))
            .fallback(get(static_file))
            .layer(axum::middleware::from_fn_with_state(
                self.app.clone(),
                answered_host,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.app.clone(),
                forwarded_client,
            ))
            .with_state(self.app.clone());
        if self.app.access.watches_file() {
            tokio::spawn(crate::access::watch_users(self.app.clone()));
        }
        let tls = self.app.config.tls.clone();
        // A renewed certificate is picked up while the server runs.
        let _reloading = tls.as_ref().map(|tls| AbortOnDrop(tls.watch()));
        if tls.is_some() {
            router = router.layer(axum::middleware::map_response(strict_transport_security));
        }
        let sessions = self.shutdown;
        let app = self.app.clone();
        let refused = move |client: SocketAddr| {
            refuse(
                &app,
                client,
                Refusal::ConnectionCap,
                "all connection places taken",
            );
        };
        crate::listener::serve(
            self.listener,
            router,
            self.app.config.connections,
            tls,
            refused,
            async move {
                shutdown.await;
                // Connections see this and close with "going away".
                let _ = sessions.send(true);
            },
        )
        .await;
        Ok(())
    }
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Tells browsers to come back over HTTPS only (on HTTPS responses).
async fn strict_transport_security(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        header::HeaderValue::from_static(HSTS),
    );
    response
}

/// `value` as a JSON response with `status`, never cached.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "JSON answer not serialisable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Generates a random access token (32 hex digits).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// `?token=`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// The token a request carries: `Authorization: Bearer`, or `?token=` when `query` is
/// given.
pub(crate) fn request_token<'a>(
    query: Option<&'a TokenQuery>,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    query.and_then(|query| query.token.as_deref()).or(bearer)
}

/// Who a request is, by `token` (`what` says where it came, for the audit log), or the
/// answer refusing it: 429 while the address is locked out, 401 without a token, with a
/// wrong one (which counts towards the lock-out) or with an expired user's.
pub(crate) fn request_identity(
    app: &App,
    client: SocketAddr,
    token: Option<&str>,
    what: &str,
) -> Result<Identity, Box<Response>> {
    if !app.access.required() {
        return Ok(Identity::anyone());
    }
    if let Some(locked_out) = locked_out(app, client) {
        return Err(Box::new(locked_out));
    }
    let Some(token) = token else {
        return Err(Box::new(
            (StatusCode::UNAUTHORIZED, "token required\n").into_response(),
        ));
    };
    match app.access.authenticate(token, chrono::Utc::now()) {
        Authentication::Granted(identity) => {
            app.auth_throttle.succeeded(client.ip());
            Ok(identity)
        }
        Authentication::Expired(user) => {
            auth_failed(
                app,
                client,
                &format!("user {user:?}: access expired ({what})"),
                false,
            );
            Err(Box::new(
                (StatusCode::UNAUTHORIZED, "this user's access has expired\n").into_response(),
            ))
        }
        Authentication::Wrong => {
            auth_failed(app, client, &format!("wrong token {what}"), true);
            Err(Box::new(
                (StatusCode::UNAUTHORIZED, "wrong token\n").into_response(),
            ))
        }
    }
}

/// Counts, records (naming the user) and answers with 403 a request the user's role does
/// not allow.
pub(crate) fn forbidden(
    app: &App,
    client: SocketAddr,
    identity: &Identity,
    what: &str,
) -> Response {
    refuse_user(app, client, Some(identity), Refusal::Forbidden, what);
    (
        StatusCode::FORBIDDEN,
        format!("{what}: not for a {} (admins only)\n", identity.role),
    )
        .into_response()
}

async fn websocket(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Extension(connection): Extension<ConnectionPlace>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(locked_out) = locked_out(&app, client) {
        return locked_out;
    }
    if let Err(refusal) = app.origins.check_origin(&headers) {
        refuse(&app, client, Refusal::Origin, &refusal.to_string());
        return (StatusCode::FORBIDDEN, format!("{refusal}\n")).into_response();
    }
    // Without a token in the request, the session must send it in `hello` (better: it
    // keeps the token out of URLs, and so out of proxies' logs).
    let token = request_token(Some(&query), &headers);
    let identity = if app.access.required() && token.is_none() {
        // A page logged in brings its cookie; otherwise the token comes in `hello`.
        cookie_identity(&app, client, &headers)
    } else {
        match request_identity(&app, client, token, "in the upgrade request") {
            Ok(identity) => Some(identity),
            Err(refused) => return *refused,
        }
    };
    // An authenticated request takes its session's place now (and hears 503 when there is
    // none); one that still has to authenticate takes it after `hello`.
    let place = if let Some(identity) = identity {
        match SessionPlace::take(app.clone()) {
            Some(place) => Some((place, identity)),
            None => {
                refuse(
                    &app,
                    client,
                    Refusal::SessionCap,
                    "all session places taken",
                );
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many sessions; try again later\n",
                )
                    .into_response();
            }
        }
    } else {
        None
    };
    upgrade
        .max_message_size(TRANSPORT_MESSAGE_LIMIT)
        .max_frame_size(TRANSPORT_MESSAGE_LIMIT)
        .on_upgrade(move |socket| async move {
            crate::connection::run(socket, app, client, place).await;
            drop(connection);
        })
}

/// The answer to a client whose address is locked out after failed tokens (429 with
/// `Retry-After`, recorded), or `None` while it is not.
fn locked_out(app: &App, client: SocketAddr) -> Option<Response> {
    let left = app
        .auth_throttle
        .check(client.ip(), std::time::Instant::now())
        .err()?;
    refuse(app, client, Refusal::AuthThrottled, "failed token attempts");
    let retry = left.as_secs().max(1).to_string();
    Some(
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry)],
            "too many failed token attempts from this address; try again later\n",
        )
            .into_response(),
    )
}

/// Counts, and records in the audit log, a client or message turned away.
pub(crate) fn refuse(app: &App, client: SocketAddr, reason: Refusal, detail: &str) {
    refuse_user(app, client, None, reason, detail);
}

/// As [`refuse`], naming the user when one was authenticated.
pub(crate) fn refuse_user(
    app: &App,
    client: SocketAddr,
    identity: Option<&Identity>,
    reason: Refusal,
    detail: &str,
) {
    Metrics::add(&app.metrics.refused_total, 1);
    let user = identity.and_then(|identity| identity.name.clone());
    tracing::info!(%client, ?user, ?reason, detail, "refused");
    app.config.audit.record(&AuditEvent::Refused {
        client,
        user,
        reason,
        detail: detail.to_string(),
    });
}

/// Counts and records a client that did not authenticate; a `wrong_token` also counts
/// against its address (a token guessed, where a missing one is a client that did not
/// know it needed one).
pub(crate) fn auth_failed(app: &App, client: SocketAddr, reason: &str, wrong_token: bool) {
    Metrics::add(&app.metrics.refused_total, 1);
    app.config.audit.record(&AuditEvent::AuthFailed {
        client,
        reason: reason.to_string(),
    });
    if wrong_token
        && app
            .auth_throttle
            .failed(client.ip(), std::time::Instant::now())
    {
        tracing::warn!(%client, "too many failed token attempts: address locked out for a while");
    }
}

/// Answers only requests for a host this server serves (see [`OriginPolicy::check_host`]).
async fn answered_host(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    match app.origins.check_host(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            refuse(&app, client, Refusal::Origin, &refusal.to_string());
            (StatusCode::FORBIDDEN, format!("{refusal}\n")).into_response()
        }
    }
}

/// Puts the client a trusted proxy names in place of the proxy, for every handler after.
async fn forwarded_client(
    State(app): State<Arc<App>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !app.config.trusted_proxies.is_empty()
        && let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
    {
        let client =
            crate::forwarded::client_of(peer, request.headers(), &app.config.trusted_proxies);
        request.extensions_mut().insert(ConnectInfo(client));
    }
    next.run(request).await
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

/// `ok` while frames can be made; 503 with the reason while the render thread is down or
/// restarting (or an encode lane gave up).
async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.scheduler.health().down() {
        None => (StatusCode::OK, "ok\n").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

/// `ready` while a new session would be served here: rendering works, the server is not
/// shutting down and a session place is free; 503 with the reason otherwise. A proxy or
/// Kubernetes sends new sessions only to ready nodes.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.not_ready() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn metrics(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = request_token(Some(&query), &headers);
    let identity = match token_or_cookie_identity(&app, client, token, &headers, "for /metrics") {
        Ok(identity) => identity,
        Err(refused) => return *refused,
    };
    if !app.access.reads_metrics(&identity) {
        return forbidden(&app, client, &identity, "/metrics");
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics
            .render(app.scheduler.health(), app.not_ready().is_none()),
    )
        .into_response()
}

async fn static_file(uri: Uri) -> Response {
    match web::asset(uri.path()) {
        Some((mime, bytes)) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_long_and_differ() {
        let a = generate_token().expect("random bytes");
        let b = generate_token().expect("random bytes");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_loopback_goes_without_a_token() {
        let local = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        assert!(!local.token_required());
        let open = ServerConfig::new(SocketAddr::from(([0, 0, 0, 0], 0)));
        assert!(open.token_required());
        let v6 = ServerConfig::new("[::1]:0".parse().expect("an address"));
        assert!(!v6.token_required());
    }
}
