//! Signing in through the site's identity provider (OpenID Connect, authorization code
//! with PKCE): `GET /auth/login?next=PATH` sends the browser to the provider; the provider
//! sends it back to `GET /auth/callback` with a code (or an error), where the user the ID
//! token names gets the login cookie a token's login gives, with the role the site's
//! claim gives, and goes on to `next` (a local path only). Logins are recorded in the
//! audit log as any; a callback that fails counts against the address as a wrong token
//! does, and a locked-out address starts no sign-in. A sign-in an app started
//! (`app_sign_on`) comes back here too, and goes on to the app with a grant instead of
//! a cookie. The work itself is `hounsfield_sign_on`'s; this is its door.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use hounsfield_access::auth_throttle::client_block;
use hounsfield_access::identity::Identity;
use hounsfield_sign_on::{Destination, NotSignedOn, SignInStarted, SignOn, SignOnError};
use serde::Deserialize;

use super::login::{cookie_value, start_login};
use crate::answers::{auth_failed, locked_out};
use crate::state::App;

/// The cookie naming the sign-in this browser started.
const SIGN_IN_COOKIE: &str = "hounsfield_sign_in";

/// What `GET /auth/login` takes.
#[derive(Deserialize)]
pub(crate) struct Begin {
    /// The page's path and query to come back to.
    next: Option<String>,
}

/// What the provider sends back to `GET /auth/callback`.
#[derive(Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/login`: a redirect to the provider's sign-in page.
pub(crate) async fn begin(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(query): Query<Begin>,
) -> Response {
    let sign_on = match sign_on_here(&app, client) {
        Ok(sign_on) => sign_on,
        Err(refused) => return *refused,
    };
    let started = sign_on
        .begin(client_block(client.ip()), query.next.as_deref())
        .await;
    to_provider(&app, client, started)
}

/// The browser sent to the provider with the sign-in cookie of the sign-in `started`, or
/// told why none started.
pub(super) fn to_provider(
    app: &App,
    client: SocketAddr,
    started: Result<SignInStarted, SignOnError>,
) -> Response {
    match started {
        Ok(started) => {
            let browser = sign_in_cookie(&started.state, 600, app.config.tls.is_some());
            see_other(started.provider.as_str(), Some(&browser))
        }
        Err(error) => {
            tracing::warn!(%client, %error, "no sign-in started");
            page(status_of(&error), &error.to_string())
        }
    }
}

/// `GET /auth/callback`: the login cookie and a redirect to the page the sign-in started
/// from, or why not.
pub(crate) async fn callback(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(query): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let sign_on = match sign_on_here(&app, client) {
        Ok(sign_on) => sign_on,
        Err(refused) => return *refused,
    };
    if let Some(error) = &query.error {
        let abandoned = query
            .state
            .as_deref()
            .and_then(|state| sign_on.abandon(state));
        let said = match &query.error_description {
            Some(description) => format!("{error}: {description}"),
            None => error.clone(),
        };
        auth_failed(
            &app,
            client,
            &format!("sign-on refused by the provider: {said}"),
            false,
        );
        if let Some(Destination::App(to)) = abandoned {
            return see_other(to.with_error(error, &said).as_str(), None);
        }
        return page(
            StatusCode::UNAUTHORIZED,
            &format!("the sign-in provider did not sign you in ({said})"),
        );
    }
    let (Some(code), Some(state)) = (&query.code, &query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "the sign-in provider's answer lacks its code or state",
        );
    };
    // The sign-in must be this browser's own: another's callback address, opened here,
    // would sign this browser in as someone else (login CSRF).
    if cookie_value(&headers, SIGN_IN_COOKIE).as_deref() != Some(state.as_str()) {
        sign_on.abandon(state);
        auth_failed(
            &app,
            client,
            "sign-on: the callback's state is not this browser's",
            true,
        );
        return page(
            StatusCode::UNAUTHORIZED,
            "this sign-in was not started in this browser: sign in again",
        );
    }
    let signed = match sign_on.finish(state, code).await {
        Ok(signed) => signed,
        Err(NotSignedOn { error, to }) => {
            // A forged or replayed callback counts against the address; a provider away
            // or a user without a role here does not.
            let counts = matches!(
                error,
                SignOnError::UnknownState | SignOnError::IdToken(_) | SignOnError::Exchange(_)
            );
            auth_failed(&app, client, &format!("sign-on: {error}"), counts);
            if let Some(Destination::App(to)) = to {
                return see_other(
                    to.with_error("access_denied", &error.to_string()).as_str(),
                    None,
                );
            }
            return page(status_of(&error), &error.to_string());
        }
    };
    app.auth_throttle.succeeded(client.ip());
    let mut response = match signed.to {
        Destination::Page(next) => {
            let identity = Identity::signed_on(signed.user, signed.role);
            match start_login(&app, client, &identity) {
                Ok(cookie) => see_other(&next, Some(&cookie)),
                Err(refused) => return *refused,
            }
        }
        Destination::App(to) => match sign_on.grant(&signed.user, signed.role, &to) {
            Ok(onward) => see_other(onward.as_str(), None),
            Err(error) => return page(status_of(&error), &error.to_string()),
        },
    };
    if let Ok(spent) = HeaderValue::from_str(&sign_in_cookie("", 0, app.config.tls.is_some())) {
        response.headers_mut().append(header::SET_COOKIE, spent);
    }
    response
}

/// The cookie that ties a sign-in to the browser that started it: its state, for the
/// callback's path only, HttpOnly, SameSite=Lax (the provider's redirect back is a
/// top-level navigation from another site, which a Strict cookie would miss), Secure
/// over TLS, for as long as a sign-in may take (0 clears it).
fn sign_in_cookie(state: &str, max_age_s: i64, secure: bool) -> String {
    Cookie::build((SIGN_IN_COOKIE, state))
        .path(hounsfield_sign_on::CALLBACK_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age_s))
        .secure(secure)
        .build()
        .to_string()
}

/// The answer's status for `error`.
pub(super) fn status_of(error: &SignOnError) -> StatusCode {
    match error {
        SignOnError::Unreachable { .. } | SignOnError::Client(_) => StatusCode::BAD_GATEWAY,
        SignOnError::TooManyPending => StatusCode::TOO_MANY_REQUESTS,
        SignOnError::NoRole { .. } => StatusCode::FORBIDDEN,
        SignOnError::Settings(_) => StatusCode::INTERNAL_SERVER_ERROR,
        SignOnError::App(_) => StatusCode::BAD_REQUEST,
        SignOnError::UnknownGrant | SignOnError::WrongVerifier => StatusCode::UNAUTHORIZED,
        SignOnError::UnknownState
        | SignOnError::Exchange(_)
        | SignOnError::NoIdToken
        | SignOnError::IdToken(_)
        | SignOnError::UserName(_) => StatusCode::UNAUTHORIZED,
    }
}

/// The site's sign-on, where one is set up and `client` is not locked out; else the
/// answer: 404 without a provider, 429 for a locked-out address.
pub(super) fn sign_on_here(app: &App, client: SocketAddr) -> Result<&SignOn, Box<Response>> {
    let Some(sign_on) = &app.config.sign_on else {
        return Err(Box::new(not_here()));
    };
    match locked_out(app, client) {
        Some(locked_out) => Err(Box::new(locked_out)),
        None => Ok(sign_on),
    }
}

/// 404 where no provider is set up.
fn not_here() -> Response {
    (
        StatusCode::NOT_FOUND,
        "this server signs nobody in through an identity provider\n",
    )
        .into_response()
}

/// A 303 to `to`, setting `cookie` if given.
pub(super) fn see_other(to: &str, cookie: Option<&str>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    match HeaderValue::from_str(to) {
        Ok(location) => {
            headers.insert(header::LOCATION, location);
        }
        Err(_) => return page(StatusCode::BAD_GATEWAY, "the sign-in address is not one"),
    }
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A plain-text page saying `why`, with where to start again.
pub(super) fn page(status: StatusCode, why: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        format!("{why}\n\nStart again from the front page (/).\n"),
    )
        .into_response()
}
