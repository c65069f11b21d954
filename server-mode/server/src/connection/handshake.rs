//! A connection's handshake when its upgrade request carried no token: `hello` with the
//! right token within the server's time takes a session place; anything else is refused
//! and the socket closed with the reason.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use hounsfield_access::audit::Refusal;
use hounsfield_access::identity::{Authentication, Identity};
use hounsfield_protocol::{ClientMessage, ErrorCode, ServerMessage, parse_client_message};
use tokio::sync::mpsc;

use super::{Outgoing, close_code};
use crate::answers::{auth_failed, refuse};
use crate::listener::ConnectionPlace;
use crate::state::{App, SessionPlace};

/// Waits, within the server's time for it, for `hello` with the right token, and takes a
/// session place; anything else first is refused and the socket closed, and so is the
/// socket whose `connection` place a newcomer takes meanwhile. Returns the place, the
/// `hello` to answer and the user.
pub(super) async fn authenticate(
    stream: &mut SplitStream<WebSocket>,
    app: &Arc<App>,
    client: SocketAddr,
    out: &mpsc::Sender<Outgoing>,
    connection: &ConnectionPlace,
) -> Option<(SessionPlace, ClientMessage, Identity)> {
    let deadline = tokio::time::Instant::now() + app.config.auth_timeout;
    let text = loop {
        let next = tokio::select! {
            next = tokio::time::timeout_at(deadline, stream.next()) => next,
            () = connection.evicted() => {
                tracing::debug!(%client, "unauthenticated socket closed for a newcomer");
                let _ = out
                    .send(Outgoing::Close(close_code::TRY_AGAIN_LATER, "too many connections"))
                    .await;
                return None;
            }
        };
        let message = match next {
            Err(_) => {
                refuse(
                    app,
                    client,
                    Refusal::AuthTimeout,
                    "no hello with the token in time",
                );
                let _ = out
                    .send(Outgoing::Close(close_code::POLICY, "authenticate first"))
                    .await;
                return None;
            }
            Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(message))) => message,
        };
        match message {
            Message::Text(text) if text.len() <= app.config.max_message_bytes => break text,
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => return None,
            Message::Text(_) | Message::Binary(_) => {
                auth_failed(app, client, "a message other than hello first", false);
                return refuse_unauthenticated(out).await;
            }
        }
    };
    let hello = parse_client_message(text.as_str()).ok();
    let token = match &hello {
        Some(ClientMessage::Hello {
            token: Some(token), ..
        }) => token,
        _ => {
            auth_failed(app, client, "no token in hello", false);
            return refuse_unauthenticated(out).await;
        }
    };
    let identity = match app.access.authenticate(token, chrono::Utc::now()) {
        Authentication::Granted(identity) => identity,
        Authentication::Expired(user) => {
            auth_failed(
                app,
                client,
                &format!("user {user:?}: access expired (in hello)"),
                false,
            );
            return refuse_expired(out).await;
        }
        Authentication::Wrong => {
            auth_failed(app, client, "wrong token in hello", true);
            return refuse_unauthenticated(out).await;
        }
    };
    app.auth_throttle.succeeded(client.ip());
    if !connection.authenticated() {
        // A newcomer took its connection's place just before.
        return None;
    }
    let Some(place) = SessionPlace::take(app.clone()) else {
        refuse(app, client, Refusal::SessionCap, "all session places taken");
        let busy = ServerMessage::Error {
            code: ErrorCode::Busy,
            message: "too many sessions; try again later".to_string(),
        };
        if let Ok(text) = serde_json::to_string(&busy) {
            let _ = out.send(Outgoing::Text(text)).await;
        }
        let _ = out
            .send(Outgoing::Close(
                close_code::TRY_AGAIN_LATER,
                "too many sessions",
            ))
            .await;
        return None;
    };
    hello.map(|hello| (place, hello, identity))
}

/// Replies `unauthorized` to a user whose access has expired and closes the socket.
async fn refuse_expired<T>(out: &mpsc::Sender<Outgoing>) -> Option<T> {
    refuse_unauthorized(
        out,
        "this user's access has expired: ask an administrator",
        "user's access expired",
    )
    .await
}

/// Replies `unauthorized` to a socket that has not authenticated and closes it.
async fn refuse_unauthenticated<T>(out: &mpsc::Sender<Outgoing>) -> Option<T> {
    refuse_unauthorized(
        out,
        "a token is required: send hello with the token first",
        "token required",
    )
    .await
}

/// Replies `unauthorized` with `message`, then closes the socket (policy, `reason`).
async fn refuse_unauthorized<T>(
    out: &mpsc::Sender<Outgoing>,
    message: &str,
    reason: &'static str,
) -> Option<T> {
    let reply = ServerMessage::Error {
        code: ErrorCode::Unauthorized,
        message: message.to_string(),
    };
    if let Ok(text) = serde_json::to_string(&reply) {
        let _ = out.send(Outgoing::Text(text)).await;
    }
    let _ = out.send(Outgoing::Close(close_code::POLICY, reason)).await;
    None
}
