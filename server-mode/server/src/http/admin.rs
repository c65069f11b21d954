//! The admin view: `GET /admin/sessions` lists the sessions open now (user, role, client
//! address, series, start time) as JSON, and `POST /admin/sessions/{id}/end` ends one.
//! Admins only, with their token in `Authorization: Bearer` (never in the address); other
//! users get 403. Each session ended is recorded in the audit log.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::login::token_or_cookie_identity;
use crate::answers::{forbidden, json, request_token};
use crate::roster::SessionSummary;
use crate::state::App;
use hounsfield_access::audit::AuditEvent;
use hounsfield_access::identity::{Ending, Identity};

/// The admin who sent the request, or the answer refusing it.
fn admin(
    app: &App,
    client: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<Identity, Box<Response>> {
    let identity = token_or_cookie_identity(
        app,
        client,
        request_token(None, headers),
        headers,
        &format!("for {what}"),
    )?;
    if identity.role.is_admin() {
        Ok(identity)
    } else {
        Err(Box::new(forbidden(app, client, &identity, what)))
    }
}

/// What `GET /admin/sessions` answers.
#[derive(Serialize)]
struct Sessions {
    sessions: Vec<SessionSummary>,
}

/// `GET /admin/sessions`: the sessions open now.
pub(crate) async fn sessions(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admin(&app, client, &headers, "/admin/sessions") {
        return *refused;
    }
    json(
        StatusCode::OK,
        &Sessions {
            sessions: app.roster.list(),
        },
    )
}

/// `POST /admin/sessions/{id}/end`: ends session `id` (close code 1008, "ended by an
/// administrator"); 404 when no such session is open.
pub(crate) async fn end_session(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let admin = match admin(&app, client, &headers, "/admin/sessions/{id}/end") {
        Ok(admin) => admin,
        Err(refused) => return *refused,
    };
    let Some(ended) = app.roster.end(id, Ending::EndedByAdmin) else {
        return (StatusCode::NOT_FOUND, format!("no session {id} is open\n")).into_response();
    };
    tracing::info!(admin = admin.label(), session = id, user = %ended.user, "session ended by an admin");
    app.config.audit.record(&AuditEvent::AdminEndedSession {
        admin: admin.label().to_string(),
        client,
        session: id,
        user: ended.user.clone(),
    });
    json(StatusCode::OK, &ended)
}
