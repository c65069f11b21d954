//! The routes that tell how the server is: `/healthz`, `/readyz`, `/metrics`, and the web
//! client's files.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::login::token_or_cookie_identity;
use crate::answers::{TokenQuery, forbidden, request_token};
use crate::state::App;
use crate::web;

/// `ok` while frames can be made; 503 with the reason while the render thread is down or
/// restarting (or an encode lane gave up).
pub(crate) async fn healthz(State(app): State<Arc<App>>) -> Response {
    match app.scheduler.health().down() {
        None => (StatusCode::OK, "ok\n").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

/// `ready` while a new session would be served here: rendering works, the library's
/// catalogue is complete, the server is not shutting down and a session place is free;
/// 503 with the reason otherwise (`cataloguing the library: 120 of 4000 files read`). A proxy or
/// Kubernetes sends new sessions only to ready nodes.
pub(crate) async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.not_ready() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

pub(crate) async fn metrics(
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

pub(crate) async fn static_file(uri: Uri) -> Response {
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
