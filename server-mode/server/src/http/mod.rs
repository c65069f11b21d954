//! The HTTP and WebSocket server (axum): the web client at `/`, protocol v1 at `/ws`,
//! `/healthz` (503 while rendering is down), `/metrics` and the admin view
//! ([`crate::admin`]). Every request's host is checked ([`hounsfield_access::origin`]), and every
//! request that changes state (a POST, a WebSocket upgrade) must come from the server's
//! own pages ([`state_change`]). Before a WebSocket is let in: the client's failed token attempts
//! ([`hounsfield_access::auth_throttle`]), the token and whose it is
//! ([`crate::access`]), and a place under the session limit, taken once the client
//! has authenticated. Connections are accepted by
//! [`crate::listener`]; each WebSocket is run by [`crate::connection`].

mod access_watch;
mod admin;
mod app_sign_on;
mod login;
mod movies;
mod probes;
mod sign_on;
mod state_change;
mod thumbnails;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Extension, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;

use crate::findings::measuring::MeasuringLane;
use crate::findings::{FindingsBook, FindingsStore};
use crate::library::Library;
use crate::listener::{ConnectionPlace, Refused};
use crate::metrics::Metrics;
use crate::recording::store::RecordingStore;
use crate::roster::Roster;
use crate::scheduler::Scheduler;
use crate::sharing::Shares;
use hounsfield_access::audit::{AuditEvent, Refusal};
use hounsfield_access::auth_throttle::AuthThrottle;
use hounsfield_access::identity::Access;
use hounsfield_access::login_sessions::LoginSessions;
use hounsfield_access::origin::OriginPolicy;
use hounsfield_video::encode::EncoderProbe;
use hounsfield_webrtc::Endpoint;
use login::cookie_identity;

use crate::answers::locked_out;
use crate::answers::{TokenQuery, refuse, request_identity, request_token};
use crate::config::{ServerConfig, ServerError};
use crate::state::{App, SessionPlace};
use probes::{healthz, metrics, readyz, static_file};

/// What `Strict-Transport-Security` asks of browsers on HTTPS: HTTPS only to this host for
/// a year. Without `includeSubDomains`: other hosts of a hospital's domain are not ours
/// to decide for.
const HSTS: &str = "max-age=31536000";

/// Largest WebSocket message the transport accepts at all; larger closes the connection.
/// Messages above [`ServerConfig::max_message_bytes`] but below this get an `error` reply.
const TRANSPORT_MESSAGE_LIMIT: usize = 1 << 20;

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
            && config.sign_on.is_none()
            && config.token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ServerError::TokenRequired(config.bind));
        }
        let access = Access::new(
            config.users.as_ref(),
            config.token.as_deref(),
            config.sign_on.is_some(),
        );
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
        let findings_store = FindingsStore::new(config.findings_folder.clone());
        let recordings = RecordingStore::new(config.recordings_folder.clone());
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
                findings: FindingsBook::default(),
                findings_store,
                recordings,
                movies: Arc::default(),
                measuring: MeasuringLane::default(),
                segments: crate::segments::SegmentsBook::default(),
                model_turn: Arc::new(tokio::sync::Semaphore::new(1)),
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
            .route("/thumbnail/{id}", get(crate::http::thumbnails::thumbnail))
            .route("/movies/{file}", get(crate::http::movies::movie))
            .route("/login", post(login::login))
            .route("/logout", post(login::logout))
            .route("/whoami", get(login::whoami))
            .route("/auth/login", get(sign_on::begin))
            .route(hounsfield_sign_on::CALLBACK_PATH, get(sign_on::callback))
            .route("/auth/app", get(app_sign_on::begin))
            .route("/auth/app/token", post(app_sign_on::token))
            .route("/admin/sessions", get(admin::sessions))
            .route("/admin/sessions/{id}/end", post(admin::end_session))
            .fallback(get(static_file))
            .layer(axum::middleware::from_fn_with_state(
                self.app.clone(),
                state_change::from_own_pages_only,
            ))
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
            tokio::spawn(crate::http::access_watch::watch_users(self.app.clone()));
        }
        let tls = self.app.config.tls.clone();
        // A renewed certificate is picked up while the server runs.
        let _reloading = tls.as_ref().map(|tls| AbortOnDrop(tls.watch()));
        if tls.is_some() {
            router = router.layer(axum::middleware::map_response(strict_transport_security));
        }
        let sessions = self.shutdown;
        let app = self.app.clone();
        let refused = move |client: SocketAddr, why: Refused| {
            let detail = match why {
                Refused::AddressFull => "all connection places of this address taken",
                Refused::AllTaken => "all connection places taken",
            };
            refuse(&app, client, Refusal::ConnectionCap, detail);
        };
        let (stopping, stop_seen) = tokio::sync::oneshot::channel::<()>();
        let serving = crate::listener::serve(
            self.listener,
            router,
            self.app.config.connections,
            self.app.config.trusted_proxies.clone(),
            tls,
            refused,
            async move {
                shutdown.await;
                // Connections see this and close with "going away".
                let _ = sessions.send(true);
                let _ = stopping.send(());
            },
        );
        // Once asked to stop, connections get `STOPPING_GRACE` to close; one still busy
        // then (a series still arriving from a slow PACS, say) is not waited for.
        let grace_over = async {
            if stop_seen.await.is_ok() {
                tokio::time::sleep(STOPPING_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = serving => {}
            () = grace_over => tracing::warn!(
                grace = ?STOPPING_GRACE,
                "connections still open after the grace to stop: stopping without them"
            ),
        }
        Ok(())
    }
}

/// How long connections have to close once the server is asked to stop.
pub const STOPPING_GRACE: Duration = Duration::from_secs(5);

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
            crate::connection::run(socket, app, client, place, &connection).await;
        })
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
        let client = hounsfield_access::forwarded::client_of(
            peer,
            request.headers(),
            &app.config.trusted_proxies,
        );
        request.extensions_mut().insert(ConnectInfo(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

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
