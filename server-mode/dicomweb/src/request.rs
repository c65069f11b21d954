//! One request to the PACS within a call ([`send`], the only place requests are sent),
//! with the limits of its source and its call's kind: bounded retries of what may pass
//! (connection failures, time limits, 5xx answers), error statuses named with the URL,
//! every byte of an answer counted toward its call's rate ([`Answer::body`]), and JSON
//! answers read only up to their size limit.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use multer::bytes::Bytes;
use url::Url;

use super::call::Call;
use super::deadlines::Bound;
use super::rate::Meter;
use super::{PacsError, without_credentials};

/// Pause before the second attempt; doubled before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Runs `attempt` up to the source's number of attempts while it fails in a way that may
/// pass, pausing between them; the last failure names the URL and the attempts made.
pub(crate) async fn retrying<T, F, Fut>(
    call: &Call<'_>,
    url: &Url,
    mut attempt: F,
) -> Result<T, PacsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt>>,
{
    let attempts = call.limits().attempts.max(1);
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for number in 1..=attempts {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Fatal(error)) => return Err(error),
            Err(Attempt::Retry(detail)) => {
                tracing::debug!(%url, number, %detail, "DICOMweb request failed");
                last = detail;
                if number < attempts {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    Err(PacsError::Request {
        url: without_credentials(url),
        detail: format!("{last} (after {attempts} attempts)"),
    })
}

/// How one attempt failed.
pub(crate) enum Attempt {
    /// Worth another try: the connection, a time limit, a 5xx answer.
    Retry(String),
    /// Final: a 4xx answer, a malformed or oversized answer.
    Fatal(PacsError),
}

/// The answer when its status is 2xx; 5xx may pass (retried), anything else is final.
pub(crate) fn check_status(url: &Url, answer: Answer) -> Result<Answer, Attempt> {
    let status = answer.status();
    if status.is_success() {
        Ok(answer)
    } else if status.is_server_error() {
        Err(Attempt::Retry(format!("the PACS answered {status}")))
    } else {
        Err(Attempt::Fatal(PacsError::Status {
            url: without_credentials(url),
            status: status.as_u16(),
        }))
    }
}

/// The head of an answer; its body is read through [`Answer::body`], which counts every
/// byte toward the call's rate.
pub(crate) struct Answer {
    response: reqwest::Response,
    meter: Arc<Meter>,
}

impl Answer {
    /// The HTTP status.
    pub(crate) fn status(&self) -> reqwest::StatusCode {
        self.response.status()
    }

    /// The size the head declares, if any.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The Content-Type the head declares, empty when none (or not text).
    pub(crate) fn content_type(&self) -> String {
        self.response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// The body as it arrives, each chunk counted by the call's meter.
    pub(crate) fn body(self) -> impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static {
        let meter = self.meter;
        self.response.bytes_stream().inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                meter.add(chunk.len());
            }
        })
    }
}

/// Sends `request` (made by [`Call::get`] or [`Call::post`]) to `url` within `call`, and
/// waits for the head of its answer, at most the source's
/// [`super::Limits::first_byte_timeout`]. The whole request, body included, is bounded
/// by [`super::Limits::request_timeout`] in a call with a deadline; a retrieval's is bounded
/// by its rate instead. A redirect refused (to another host, or one too many) is final;
/// other failures may pass.
pub(crate) async fn send(
    call: &Call<'_>,
    url: &Url,
    request: reqwest::RequestBuilder,
) -> Result<Answer, Attempt> {
    let limits = call.limits();
    let request = match limits.deadlines.bound(call.kind()) {
        Bound::Within(_) => request.timeout(limits.request_timeout),
        Bound::AtLeast(_) => request,
    };
    let limit = limits.first_byte_timeout;
    match tokio::time::timeout(limit, request.send()).await {
        Ok(Ok(response)) => {
            call.meter().arm();
            Ok(Answer {
                response,
                meter: call.meter().clone(),
            })
        }
        Ok(Err(error)) if error.is_redirect() => Err(Attempt::Fatal(PacsError::Request {
            url: without_credentials(url),
            detail: describe(&error),
        })),
        Ok(Err(error)) => Err(Attempt::Retry(describe(&error))),
        Err(_) => Err(Attempt::Retry(format!(
            "no answer within {} s of asking",
            limit.as_secs_f64()
        ))),
    }
}

/// Follows at most `max` redirects, and only to `base`'s scheme, host and port: the
/// credentials a request carries are for the PACS alone.
pub(crate) fn own_host_redirects(base: Url, max: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let url = attempt.url();
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        if !same_origin {
            let to = url.origin().ascii_serialization();
            attempt.error(format!(
                "the PACS redirected to another host ({to}); its credentials are not sent there"
            ))
        } else if attempt.previous().len() > max {
            attempt.error(format!("more than {max} redirects"))
        } else {
            attempt.follow()
        }
    })
}

/// A request error in words, with its cause (reqwest's own message is terse).
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "time limit passed"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// GETs `url` as DICOM JSON (`application/dicom+json`) within `call`, at most
/// `max_json_bytes` of it; an empty answer (204) is an empty array.
pub(crate) async fn get_json(call: &Call<'_>, url: &Url) -> Result<serde_json::Value, PacsError> {
    let limit = call.limits().max_json_bytes;
    retrying(call, url, || async {
        let request = call
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/dicom+json");
        let answer = send(call, url, request).await?;
        let answer = check_status(url, answer)?;
        if answer.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(serde_json::Value::Array(Vec::new()));
        }
        let body = read_limited(url, answer, limit).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Array(Vec::new()));
        }
        serde_json::from_slice(&body).map_err(|error| {
            Attempt::Fatal(PacsError::BadAnswer {
                url: without_credentials(url),
                what: format!("not DICOM JSON: {error}"),
            })
        })
    })
    .await
}

/// Reads a whole body, refusing it as soon as it is known to pass `limit` bytes.
pub(crate) async fn read_limited(
    url: &Url,
    answer: Answer,
    limit: u64,
) -> Result<Vec<u8>, Attempt> {
    let too_large = |size: u64| {
        Attempt::Fatal(PacsError::TooLarge {
            url: without_credentials(url),
            size,
            limit,
        })
    };
    if let Some(declared) = answer.content_length().filter(|&n| n > limit) {
        return Err(too_large(declared));
    }
    let mut body = Vec::new();
    let mut chunks = std::pin::pin!(answer.body());
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| Attempt::Retry(describe(&error)))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
