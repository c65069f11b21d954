//! What handlers answer and record alike: JSON responses, who a request is (its token),
//! refusals counted in the metrics and written to the audit log.

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::state::App;
use hounsfield_access::audit::{AuditEvent, Refusal};
use hounsfield_access::identity::{Authentication, Identity};

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

/// The answer to a client whose address is locked out after failed tokens (429 with
/// `Retry-After`, recorded), or `None` while it is not.
pub(crate) fn locked_out(app: &App, client: SocketAddr) -> Option<Response> {
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
