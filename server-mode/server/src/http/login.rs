//! Logging in from the web page, so that no token needs to sit in an address: `POST /login`
//! exchanges a token (`{"token": "…"}`) for a login cookie, HttpOnly (the page's scripts
//! cannot read it), SameSite=Strict (no other site's page sends it) and Secure over TLS,
//! valid for [`crate::ServerConfig::login_lifetime`]; `POST /logout` ends it;
//! `GET /whoami` tells the page whether it must log in (and whether the site's identity
//! provider signs users in: see `sign_on`). The WebSocket, `/metrics` and the
//! admin view accept the cookie where they accept a token. Failed logins count against the
//! address like any wrong token; logins, logouts and expired logins are recorded in the
//! audit log with the user's name. A login's body is bounded in size and in time, and
//! taken as sent: a compressed one is refused, never inflated.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use crate::answers::{json, request_identity};
use crate::state::App;
use hounsfield_access::audit::AuditEvent;
use hounsfield_access::identity::Identity;
use hounsfield_access::login_sessions::Presented;
use hounsfield_access::users::Role;

/// The login cookie's name.
pub const COOKIE: &str = hounsfield_protocol::LOGIN_COOKIE;

/// Largest `POST /login` body read: a token and its JSON around it.
const LOGIN_BODY_LIMIT: usize = 4096;

/// Longest a `POST /login` body may take to arrive after its headers, as long as the
/// headers may take: a body that dribbles is answered 408 and its connection closed.
const LOGIN_BODY_TIME: Duration = Duration::from_secs(10);

/// What `POST /login` takes.
#[derive(Deserialize)]
struct LoginRequest {
    token: String,
}

/// What `GET /whoami` and `POST /login` answer: whether the server wants a login, and who
/// is logged in.
#[derive(Serialize)]
struct Who {
    /// The server asks for a token.
    required: bool,
    /// The user logged in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    /// Their role.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    /// The site's identity provider signs users in here (`GET /auth/login`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sign_on: bool,
}

impl Who {
    fn of(app: &App, identity: Option<&Identity>) -> Self {
        Self {
            required: app.access.required(),
            user: identity.and_then(|identity| identity.name.clone()),
            role: identity.map(|identity| identity.role),
            sign_on: app.config.sign_on.is_some(),
        }
    }
}

/// `POST /login`: the token's user gets a login cookie; a wrong token gets 401 (and counts
/// against the address), a locked-out address 429.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request: LoginRequest =
        match small_json(&headers, body, "a login", "{\"token\": \"…\"}").await {
            Ok(request) => request,
            Err(refused) => return *refused,
        };
    let identity = match request_identity(&app, client, Some(request.token.trim()), "at login") {
        Ok(identity) => identity,
        Err(refused) => return *refused,
    };
    if !app.access.required() {
        return json(StatusCode::OK, &Who::of(&app, None));
    }
    match start_login(&app, client, &identity) {
        Ok(cookie) => json_with_cookie(&Who::of(&app, Some(&identity)), &cookie),
        Err(refused) => *refused,
    }
}

/// The JSON body of a small request (`what`, shaped as `shape`), bounded in size
/// ([`LOGIN_BODY_LIMIT`]) and in time ([`LOGIN_BODY_TIME`]) and taken as sent: a
/// compressed one is refused, never inflated. Else the answer refusing it.
pub(crate) async fn small_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    what: &str,
    shape: &str,
) -> Result<T, Box<Response>> {
    let refuse = |status: StatusCode, why: String| Box::new((status, why).into_response());
    if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|encoding| !encoding.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send {what} uncompressed (no Content-Encoding)\n"),
        ));
    }
    let read = axum::body::to_bytes(body, LOGIN_BODY_LIMIT);
    let body = match tokio::time::timeout(LOGIN_BODY_TIME, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{what} is at most {LOGIN_BODY_LIMIT} bytes\n"),
            ));
        }
        Err(_) => {
            return Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body of {what} came too slowly\n"),
            ));
        }
    };
    serde_json::from_slice(&body).map_err(|_| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("{what}: expected JSON: {shape}\n"),
        )
    })
}

/// Starts a login for `identity` (a token's user, or one the identity provider signed
/// in), recorded in the audit log: the `Set-Cookie` value that carries it.
pub(crate) fn start_login(
    app: &App,
    client: SocketAddr,
    identity: &Identity,
) -> Result<String, Box<Response>> {
    let id = start_login_id(app, client, identity)?;
    let max_age_s = app.logins.lifetime().as_secs();
    Ok(set_cookie(&id, max_age_s, app.config.tls.is_some()))
}

/// Starts a login for `identity`, recorded in the audit log: its id, the value of the
/// login cookie (an app sends it as a browser would).
pub(crate) fn start_login_id(
    app: &App,
    client: SocketAddr,
    identity: &Identity,
) -> Result<String, Box<Response>> {
    let id = app
        .logins
        .start(identity.clone(), Instant::now())
        .map_err(|error| {
            tracing::error!(%error, "no random login id");
            Box::new(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no login could be made\n",
                )
                    .into_response(),
            )
        })?;
    tracing::info!(%client, user = identity.label(), "logged in");
    app.config.audit.record(&AuditEvent::Login {
        client,
        user: identity.label().to_string(),
    });
    Ok(id)
}

/// `POST /logout`: ends the request's login (if any) and clears its cookie.
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let ended = login_id(&headers).and_then(|id| app.logins.end(&id));
    if let Some(identity) = &ended {
        tracing::info!(%client, user = identity.label(), "logged out");
        app.config.audit.record(&AuditEvent::Logout {
            client,
            user: identity.label().to_string(),
        });
    }
    // A user the provider signed in is signed out there too, where it offers that: the
    // page goes on to the address answered.
    let end_session = match (&ended, &app.config.sign_on) {
        (Some(identity), Some(sign_on)) if identity.is_signed_on() => {
            sign_on.end_session(&sign_on.settings().front_page()).await
        }
        _ => None,
    };
    let mut response = match end_session {
        Some(address) => json(
            StatusCode::OK,
            &serde_json::json!({ "end_session": address.as_str() }),
        ),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    if let Ok(clear) = HeaderValue::from_str(&set_cookie("", 0, app.config.tls.is_some())) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

/// `GET /whoami`: whether the server wants a login and who the request's login is.
pub(crate) async fn whoami(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let identity = cookie_identity(&app, client, &headers);
    json(StatusCode::OK, &Who::of(&app, identity.as_ref()))
}

/// Who the request's login cookie stands for: a login in force of a user still allowed in.
/// An expired login is recorded and forgotten; a login of a user since removed, changed or
/// expired is ended.
pub(crate) fn cookie_identity(
    app: &App,
    client: SocketAddr,
    headers: &HeaderMap,
) -> Option<Identity> {
    let id = login_id(headers)?;
    match app.logins.presented(&id, Instant::now()) {
        Presented::Valid(identity) => {
            if app
                .access
                .still_allowed(&identity, chrono::Utc::now())
                .is_ok()
            {
                Some(identity)
            } else {
                app.logins.end(&id);
                None
            }
        }
        Presented::Expired(identity) => {
            app.config.audit.record(&AuditEvent::LoginExpired {
                client,
                user: identity.label().to_string(),
            });
            None
        }
        Presented::Unknown => None,
    }
}

/// Who a request is: by its token when it carries one (see [`request_identity`]), else by
/// its login cookie, else the answer refusing it.
pub(crate) fn token_or_cookie_identity(
    app: &App,
    client: SocketAddr,
    token: Option<&str>,
    headers: &HeaderMap,
    what: &str,
) -> Result<Identity, Box<Response>> {
    if token.is_none()
        && app.access.required()
        && let Some(identity) = cookie_identity(app, client, headers)
    {
        return Ok(identity);
    }
    request_identity(app, client, token, what)
}

/// The login id in the request's `Cookie` headers, if one of the right shape is there.
fn login_id(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
        .filter(|value| value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

/// The `Set-Cookie` value for login `id`, lasting `max_age_s` (0 clears it): HttpOnly,
/// SameSite=Strict, for every path, and Secure when served over TLS (over plain HTTP a
/// browser would drop a Secure cookie, and the server warns about plain HTTP off loopback).
fn set_cookie(id: &str, max_age_s: u64, secure: bool) -> String {
    Cookie::build((COOKIE, id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(
            i64::try_from(max_age_s).unwrap_or(i64::MAX),
        ))
        .secure(secure)
        .build()
        .to_string()
}

/// `value` as JSON (200), setting `set_cookie`.
fn json_with_cookie(value: &impl Serialize, set_cookie: &str) -> Response {
    let mut response = json(StatusCode::OK, value);
    if let Ok(value) = HeaderValue::from_str(set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_cookie_is_found_among_others_and_only_in_its_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("theme=dark"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={id}; c=d")).expect("a value"),
        );
        assert_eq!(login_id(&headers).as_deref(), Some(id));
        let mut forged = HeaderMap::new();
        forged.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}=../../etc")).expect("a value"),
        );
        assert_eq!(login_id(&forged), None);
        assert_eq!(login_id(&HeaderMap::new()), None);
    }

    #[test]
    fn the_set_cookie_value_has_the_logins_attributes() {
        let id = "0123456789abcdef0123456789abcdef";
        let secure = set_cookie(id, 28_800, true);
        let attributes: Vec<&str> = secure.split("; ").collect();
        assert_eq!(attributes[0], format!("{COOKIE}={id}"));
        for attribute in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=28800",
        ] {
            assert!(attributes.contains(&attribute), "{attribute} in {secure}");
        }
        assert_eq!(attributes.len(), 6, "{secure}");
        let plain = set_cookie("", 0, false);
        assert!(!plain.contains("Secure"), "{plain}");
        assert!(plain.starts_with(&format!("{COOKIE}=;")), "{plain}");
        assert!(plain.split("; ").any(|a| a == "Max-Age=0"), "{plain}");
        assert!(!plain.contains("Expires"), "{plain}");
    }
}
