//! An app signing in through the site's identity provider (`hounsfield connect`, the
//! desktop), as RFC 8252 has native apps do: `GET /auth/app?redirect=ADDRESS&challenge=C`
//! (a loopback `http` address the app listens on, and the S256 challenge of a PKCE
//! verifier it keeps) sends the system's browser to the provider as `/auth/login` does;
//! the provider's callback then sends the browser on to the app's address with a one-time
//! `grant` (see `sign_on::callback`), or with `error` and `error_description`; and
//! `POST /auth/app/token` (`{"grant": "…", "verifier": "…"}`) redeems the grant for a
//! login of the app's own: `{"login", "user", "role", "expires_in_s"}`, the login id
//! the app sends as the login cookie. A grant is spent by its first redemption, right or
//! wrong; a wrong one counts against the address as a wrong token does. What the
//! addresses and grants may be is `hounsfield_sign_on::app`'s.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hounsfield_access::auth_throttle::client_block;
use hounsfield_access::identity::Identity;
use hounsfield_access::users::Role;
use hounsfield_sign_on::AppReturn;
use serde::{Deserialize, Serialize};

use super::login::{small_json, start_login_id};
use super::sign_on::{page, sign_on_here, status_of, to_provider};
use crate::answers::{auth_failed, json};
use crate::state::App;

/// What `GET /auth/app` takes.
#[derive(Deserialize)]
pub(crate) struct Begin {
    /// The app's loopback address.
    redirect: Option<String>,
    /// The S256 challenge of the app's PKCE verifier.
    challenge: Option<String>,
}

/// What `POST /auth/app/token` takes.
#[derive(Deserialize)]
struct Redeem {
    grant: String,
    verifier: String,
}

/// What `POST /auth/app/token` answers.
#[derive(Serialize)]
struct AppLogin {
    /// The login's id: the value of the login cookie.
    login: String,
    /// Who signed in.
    user: String,
    /// Their role here.
    role: Role,
    /// How long the login lasts.
    expires_in_s: u64,
}

/// `GET /auth/app`: a redirect to the provider's sign-in page, for an app waiting at a
/// loopback address.
pub(crate) async fn begin(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(query): Query<Begin>,
) -> Response {
    let sign_on = match sign_on_here(&app, client) {
        Ok(sign_on) => sign_on,
        Err(refused) => return *refused,
    };
    let (Some(redirect), Some(challenge)) = (&query.redirect, &query.challenge) else {
        return page(
            StatusCode::BAD_REQUEST,
            "an app's sign-in names its loopback address (redirect) and its PKCE challenge (challenge)",
        );
    };
    let to = match AppReturn::parse(redirect, challenge) {
        Ok(to) => to,
        Err(error) => return page(status_of(&error), &error.to_string()),
    };
    let started = sign_on.begin_for_app(client_block(client.ip()), to).await;
    to_provider(&app, client, started)
}

/// `POST /auth/app/token`: the app's grant and verifier for a login of its own.
pub(crate) async fn token(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let sign_on = match sign_on_here(&app, client) {
        Ok(sign_on) => sign_on,
        Err(refused) => return *refused,
    };
    let request: Redeem = match small_json(
        &headers,
        body,
        "an app's grant",
        "{\"grant\": \"…\", \"verifier\": \"…\"}",
    )
    .await
    {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    let (user, role) = match sign_on.redeem(&request.grant, &request.verifier) {
        Ok(signed) => signed,
        Err(error) => {
            auth_failed(&app, client, &format!("sign-on: {error}"), true);
            return page(status_of(&error), &error.to_string());
        }
    };
    app.auth_throttle.succeeded(client.ip());
    let identity = Identity::signed_on(user.clone(), role);
    match start_login_id(&app, client, &identity) {
        Ok(login) => json(
            StatusCode::OK,
            &AppLogin {
                login,
                user,
                role,
                expires_in_s: app.logins.lifetime().as_secs(),
            },
        ),
        Err(refused) => *refused,
    }
}
