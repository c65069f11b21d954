//! `GET /thumbnail/SERIES_ID`: a series' thumbnail ([`crate::thumbnail::Thumbnails`]) behind the same
//! authentication as `/ws` (a token as `Authorization: Bearer` or `?token=`, or the login
//! cookie), and only of series the user may open.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::login::token_or_cookie_identity;
use crate::answers::{TokenQuery, refuse_user, request_token};
use crate::state::App;
use crate::thumbnail::ThumbnailError;
use hounsfield_access::audit::Refusal;

/// How long a browser may keep a thumbnail (seconds): a series' images do not change
/// while it keeps its id.
const MAX_AGE_S: u64 = 3600;

/// `GET /thumbnail/{id}`: 200 with a JPEG, 401 without a valid token or login, 403 for a
/// series the user may not open, 404 for an id the library does not list (or a series
/// without a thumbnail), 503 while too many are being made.
pub(crate) async fn thumbnail(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let token = request_token(Some(&query), &headers);
    let identity = match token_or_cookie_identity(&app, client, token, &headers, "for /thumbnail") {
        Ok(identity) => identity,
        Err(refused) => return *refused,
    };
    if !app.may_open(&identity, &id) {
        refuse_user(
            &app,
            client,
            Some(&identity),
            Refusal::Forbidden,
            "/thumbnail of a series the user may not open",
        );
        return (
            StatusCode::FORBIDDEN,
            "a viewer sees thumbnails only of what it may open\n",
        )
            .into_response();
    }
    match app.thumbnails.jpeg(&app.library, &id).await {
        Ok(jpeg) => jpeg_response(jpeg),
        Err(ThumbnailError::Busy) => busy(),
        Err(ThumbnailError::UnknownSeries) => {
            (StatusCode::NOT_FOUND, "no such series\n").into_response()
        }
        Err(ThumbnailError::NotMade(why)) => {
            (StatusCode::NOT_FOUND, format!("{why}\n")).into_response()
        }
        Err(ThumbnailError::TaskFailed) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "no thumbnail\n").into_response()
        }
    }
}

/// 503: too many thumbnails being made; the browser may ask again in a second.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "busy making thumbnails; try again shortly\n",
    )
        .into_response()
}

/// 200 with `jpeg`, private to the user's browser for a while.
fn jpeg_response(jpeg: Arc<[u8]>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg".to_string()),
            (
                header::CACHE_CONTROL,
                format!("private, max-age={MAX_AGE_S}"),
            ),
        ],
        jpeg.to_vec(),
    )
        .into_response()
}
