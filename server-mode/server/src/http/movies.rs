//! `GET /movies/ID.mp4`: a movie made for `export_movie`, downloaded behind the same
//! authentication as `/ws` (a token as `Authorization: Bearer` or `?token=`, or the login
//! cookie), by the user who asked for it only.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::login::token_or_cookie_identity;
use crate::answers::{TokenQuery, refuse_user, request_token};
use crate::movie::shelf::ShelfError;
use crate::recording::is_recording_id;
use crate::state::App;
use hounsfield_access::audit::{AuditEvent, Refusal};

/// `GET /movies/{file}`: 200 with the MP4, 401 without a valid token or login, 403 for a
/// movie made for another user, 404 for a name that is not `ID.mp4` or a movie not kept.
pub(crate) async fn movie(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = request_token(Some(&query), &headers);
    let identity = match token_or_cookie_identity(&app, client, token, &headers, "for /movies") {
        Ok(identity) => identity,
        Err(refused) => return *refused,
    };
    // Ids are 32 hex digits the server made: anything else names no movie, before any
    // path is formed from it.
    let Some(id) = file.strip_suffix(".mp4").filter(|id| is_recording_id(id)) else {
        return (StatusCode::NOT_FOUND, "no such movie\n").into_response();
    };
    let shelved = match app.movies.find(id, identity.name.as_deref()) {
        Ok(shelved) => shelved,
        Err(error @ ShelfError::NotYours) => {
            refuse_user(
                &app,
                client,
                Some(&identity),
                Refusal::Forbidden,
                "/movies of a movie made for another user",
            );
            return (StatusCode::FORBIDDEN, format!("{error}\n")).into_response();
        }
        Err(error) => return (StatusCode::NOT_FOUND, format!("{error}\n")).into_response(),
    };
    let mp4 = match tokio::fs::read(&shelved.path).await {
        Ok(mp4) => mp4,
        Err(error) => {
            tracing::warn!(path = %shelved.path.display(), %error, "a kept movie could not be read");
            return (StatusCode::NOT_FOUND, "the movie is no longer kept\n").into_response();
        }
    };
    app.config.audit.record(&AuditEvent::MovieDownloaded {
        user: identity.name.clone(),
        client,
        movie: id.to_string(),
    });
    let name = format!("hounsfield-movie-{}.mp4", &id[..8]);
    (
        [
            (header::CONTENT_TYPE, "video/mp4".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        mp4,
    )
        .into_response()
}
