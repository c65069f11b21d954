//! The one check every request that changes the server's state passes, whatever its
//! route: a POST (login, logout, ending a session, and any route added later) and a
//! WebSocket upgrade (it starts a session) must come from the server's own pages or an
//! allowed origin ([`hounsfield_access::origin::OriginPolicy::check_state_change`]). A browser sends
//! the login cookie with a request of another origin's page (SameSite does not tell a
//! page on another port of the same host from the server's own), so the cookie alone
//! proves nothing. A refused request gets 403 and an `origin` refusal in the audit log,
//! and reaches no handler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::answers::refuse;
use crate::state::App;
use hounsfield_access::audit::Refusal;

/// Lets a request through unless it changes state and comes from a page of another
/// origin.
pub(crate) async fn from_own_pages_only(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if changes_state(request.method(), request.headers())
        && let Err(refusal) = app.origins.check_state_change(request.headers())
    {
        let detail = format!("{} {}: {refusal}", request.method(), request.uri().path());
        refuse(&app, client, Refusal::Origin, &detail);
        return (StatusCode::FORBIDDEN, format!("{refusal}\n")).into_response();
    }
    next.run(request).await
}

/// Whether a request may change state: any method but the safe ones, and a WebSocket
/// upgrade (a GET that starts a session).
fn changes_state(method: &Method, headers: &HeaderMap) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    !safe || upgrade
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn posts_and_upgrades_change_state_and_plain_reads_do_not() {
        let mut upgrade = HeaderMap::new();
        upgrade.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        let plain = HeaderMap::new();
        assert!(changes_state(&Method::POST, &plain));
        assert!(changes_state(&Method::DELETE, &plain));
        assert!(changes_state(&Method::PUT, &plain));
        assert!(changes_state(&Method::GET, &upgrade));
        assert!(!changes_state(&Method::GET, &plain));
        assert!(!changes_state(&Method::HEAD, &plain));
    }
}
