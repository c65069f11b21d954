//! Signing in to a server through the site's identity provider from an app (`hounsfield
//! connect`, the desktop), as RFC 8252 has native apps do: the system's browser signs the
//! user in, and comes back to a loopback address this side listens on.
//!
//! [`sign_in`] listens on a loopback port, makes a PKCE verifier (RFC 7636) and sends the
//! browser to the server's `GET /auth/app` with its address and the verifier's S256
//! challenge. The server signs the user in at the provider and sends the browser back here
//! with a one-time grant, which this side redeems with the verifier at `POST
//! /auth/app/token` for a login of its own: the id the WebSocket takes as the login
//! cookie. The wait is bounded ([`SIGN_IN_WAIT`]), and so is every answer read.

use std::net::Ipv4Addr;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use hounsfield_tls::{ServerTrust, TlsError};
use openidconnect::PkceCodeChallenge;
use serde::Deserialize;
use url::Url;

/// How long the browser has to come back signed in: as long as the server keeps a
/// sign-in pending.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(600);
/// How long each request to the server may take.
const ASKING: Duration = Duration::from_secs(30);
/// How long connecting to the server may take: `connect` asks `/whoami` before its
/// window opens, and a server that does not answer is the connection's to report.
const CONNECTING: Duration = Duration::from_secs(5);
/// The largest answer read from the server.
const MOST_ANSWER_BYTES: usize = 16 * 1024;
/// The path the browser comes back to.
const RETURN_PATH: &str = "/signed-in";

/// A login the server gave this app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SignedIn {
    /// The login's id: sent as the login cookie.
    pub login: String,
    /// Who signed in.
    pub user: String,
    /// Their role on the server.
    pub role: String,
    /// How long the login lasts.
    pub expires_in_s: u64,
}

/// Why no login was had.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The server's address cannot be asked over HTTP.
    #[error("server address {0:?}: expected http:// or https://")]
    Address(String),
    /// No loopback port could be listened on.
    #[error("no loopback port for the browser to come back to: {0}")]
    Listen(std::io::Error),
    /// The browser did not come back in time.
    #[error("the browser did not come back signed in within {} minutes", .0.as_secs() / 60)]
    TimedOut(Duration),
    /// The server or the provider did not sign the user in.
    #[error("not signed in: {0}")]
    Refused(String),
    /// This side's TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server could not be asked, or answered what is not an answer.
    #[error("asking the server {address}: {detail}")]
    Server {
        /// What was asked.
        address: String,
        /// What went wrong.
        detail: String,
    },
}

/// What the browser brings back.
#[derive(Debug, Deserialize)]
struct Returned {
    grant: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// What `GET /whoami` answers (the part read here).
#[derive(Deserialize)]
struct Who {
    #[serde(default)]
    required: bool,
    #[serde(default)]
    sign_on: bool,
}

/// Whether the server at `server` (its `http(s)://` address, a proxy's prefix kept) wants
/// a login and signs users in through an identity provider.
pub async fn offered(server: &Url, trust: &ServerTrust) -> Result<bool, SignInError> {
    let http = http_client(server, trust)?;
    let address = at(server, "whoami")?;
    let answer = read_answer(http.get(address.clone()), &address).await?;
    let who: Who = serde_json::from_slice(&answer).map_err(|error| SignInError::Server {
        address: address.to_string(),
        detail: format!("not the answer of /whoami: {error}"),
    })?;
    Ok(who.required && who.sign_on)
}

/// Signs in to the server at `server` through its identity provider: `show` is given the
/// address to open in the system's browser; the login, once the browser came back.
pub async fn sign_in(
    server: &Url,
    trust: &ServerTrust,
    show: impl FnOnce(&Url),
) -> Result<SignedIn, SignInError> {
    let http = http_client(server, trust)?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(SignInError::Listen)?;
    let port = listener.local_addr().map_err(SignInError::Listen)?.port();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut begin = at(server, "auth/app")?;
    begin
        .query_pairs_mut()
        .append_pair("redirect", &format!("http://127.0.0.1:{port}{RETURN_PATH}"))
        .append_pair("challenge", challenge.as_str());
    show(&begin);
    let returned = wait_for_browser(listener).await?;
    let grant = match returned {
        Returned {
            grant: Some(grant), ..
        } => grant,
        Returned {
            error: Some(error),
            error_description,
            ..
        } => {
            return Err(SignInError::Refused(match error_description {
                Some(description) => format!("{error}: {description}"),
                None => error,
            }));
        }
        Returned { .. } => {
            return Err(SignInError::Refused(
                "the browser came back without a grant".to_string(),
            ));
        }
    };
    let address = at(server, "auth/app/token")?;
    let body = serde_json::json!({ "grant": grant, "verifier": verifier.secret() });
    let request = http
        .post(address.clone())
        .header("content-type", "application/json")
        .body(body.to_string());
    let answer = read_answer(request, &address).await?;
    serde_json::from_slice(&answer).map_err(|error| SignInError::Server {
        address: address.to_string(),
        detail: format!("not a login: {error}"),
    })
}

/// Listens until the browser comes back to [`RETURN_PATH`] (the page it shows says
/// whether to go on), within [`SIGN_IN_WAIT`].
async fn wait_for_browser(listener: tokio::net::TcpListener) -> Result<Returned, SignInError> {
    // One place for one answer: the first that comes back is taken, later ones are not.
    let (came_back, mut returned) = tokio::sync::mpsc::channel::<Returned>(1);
    let router = Router::new().route(
        RETURN_PATH,
        get(move |Query(back): Query<Returned>| {
            let came_back = came_back.clone();
            async move {
                let page = if back.grant.is_some() {
                    "Signed in to Hounsfield: you may close this tab.".to_string()
                } else {
                    format!(
                        "Not signed in to Hounsfield: {}",
                        back.error_description
                            .as_deref()
                            .or(back.error.as_deref())
                            .unwrap_or("the server sent no reason")
                    )
                };
                let _ = came_back.try_send(back);
                Html(format!(
                    "<!doctype html><title>Hounsfield</title><p>{}</p>",
                    escape(&page)
                ))
            }
        }),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let outcome = tokio::time::timeout(SIGN_IN_WAIT, returned.recv()).await;
    let _ = stop.send(());
    // The browser's page is answered before it goes; a browser holding its connection
    // open is not waited for long.
    let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
    match outcome {
        Ok(Some(returned)) => Ok(returned),
        Ok(None) | Err(_) => Err(SignInError::TimedOut(SIGN_IN_WAIT)),
    }
}

/// Text made safe to put in a page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `path` under the server's address (a proxy's prefix kept).
fn at(server: &Url, path: &str) -> Result<Url, SignInError> {
    if !matches!(server.scheme(), "http" | "https") {
        return Err(SignInError::Address(server.to_string()));
    }
    let mut base = server.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(path)
        .map_err(|_| SignInError::Address(server.to_string()))
}

/// An HTTP client for `server` trusting what `trust` says, following no redirects.
fn http_client(server: &Url, trust: &ServerTrust) -> Result<reqwest::Client, SignInError> {
    let (config, _) = trust.client_config()?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*config).clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECTING)
        .timeout(ASKING)
        .build()
        .map_err(|error| SignInError::Server {
            address: server.to_string(),
            detail: format!("no HTTP client: {error}"),
        })
}

/// The body of a successful answer to `request`, at most [`MOST_ANSWER_BYTES`]; else
/// what the server said.
async fn read_answer(
    request: reqwest::RequestBuilder,
    address: &Url,
) -> Result<Vec<u8>, SignInError> {
    let failed = |detail: String| SignInError::Server {
        address: address.to_string(),
        detail,
    };
    let mut response = request
        .send()
        .await
        .map_err(|error| failed(error.to_string()))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| failed(error.to_string()))?
    {
        if body.len() + chunk.len() > MOST_ANSWER_BYTES {
            return Err(failed(format!("an answer over {MOST_ANSWER_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    if status.is_success() {
        Ok(body)
    } else {
        let said = String::from_utf8_lossy(&body);
        Err(SignInError::Refused(format!("{status}: {}", said.trim())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_paths_keep_a_proxys_prefix() {
        let plain = Url::parse("http://127.0.0.1:8080").expect("a URL");
        assert_eq!(
            at(&plain, "auth/app").expect("an address").as_str(),
            "http://127.0.0.1:8080/auth/app"
        );
        let proxied = Url::parse("https://pacs.example/hounsfield?x=1").expect("a URL");
        assert_eq!(
            at(&proxied, "auth/app/token").expect("an address").as_str(),
            "https://pacs.example/hounsfield/auth/app/token"
        );
        let websocket = Url::parse("ws://127.0.0.1:8080/ws").expect("a URL");
        assert!(matches!(
            at(&websocket, "whoami"),
            Err(SignInError::Address(_))
        ));
    }

    #[test]
    fn a_reason_shown_in_the_page_is_text() {
        assert_eq!(escape("<b>&</b>"), "&lt;b&gt;&amp;&lt;/b&gt;");
    }
}
