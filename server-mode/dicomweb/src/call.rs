//! A call to a PACS under its kind's deadline: the one way this crate makes requests.
//! [`call`] runs a call on a thread and runtime of its own, bounded as
//! [`Deadlines::bound`](crate::Deadlines::bound) says for its [`CallKind`], and hands the
//! work a [`Call`], the only holder of an HTTP client: every request is made from one
//! ([`Call::get`], [`Call::post`]) and sent with it ([`crate::request::send`]), so none
//! escapes its kind's deadline. A call within a call ([`Call::within`]: a page of the
//! listing, a series' metadata beside its retrieval) is bounded by both.

use std::future::Future;
use std::sync::Arc;

use url::Url;

use crate::deadlines::{Bound, CallKind};
use crate::rate::{self, Meter};
use crate::{DicomWeb, Limits, PacsError, request, without_credentials};

/// A call under way: its kind, its source's credentials and limits, an HTTP client, and
/// the count of the bytes its answers brought.
pub(crate) struct Call<'a> {
    source: &'a DicomWeb,
    client: reqwest::Client,
    kind: CallKind,
    meter: Arc<Meter>,
}

/// Runs `work` as one call of `kind` to `url` (named in its errors) on a thread and
/// runtime of its own, so it blocks the caller whether or not the caller is inside a
/// tokio runtime: a search, listing, metadata or store ends at its deadline, a retrieval
/// when its answers bring less than the minimum rate.
pub(crate) fn call<'a, T, F>(
    source: &'a DicomWeb,
    kind: CallKind,
    url: &Url,
    work: impl FnOnce(Call<'a>) -> F + Send,
) -> Result<T, PacsError>
where
    T: Send,
    F: Future<Output = Result<T, PacsError>>,
{
    on_own_thread(url, || async move {
        let call = Call {
            source,
            client: client(source)?,
            kind,
            meter: Arc::default(),
        };
        let meter = call.meter.clone();
        bounded(source.limits(), kind, url, &meter, work(call)).await
    })
}

impl<'a> Call<'a> {
    /// The DICOMweb service asked.
    pub(crate) fn source(&self) -> &'a DicomWeb {
        self.source
    }

    /// What the call does.
    pub(crate) fn kind(&self) -> CallKind {
        self.kind
    }

    /// The limits in force.
    pub(crate) fn limits(&self) -> &'a Limits {
        self.source.limits()
    }

    /// The count of the bytes the call's answers brought.
    pub(crate) fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }

    /// A GET of `url`, with the credentials if any.
    pub(crate) fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.source.authorised(self.client.get(url))
    }

    /// A POST to `url`, with the credentials if any.
    pub(crate) fn post(&self, url: Url) -> reqwest::RequestBuilder {
        self.source.authorised(self.client.post(url))
    }

    /// Runs `work` as a call of `kind` to `url` within this one: bounded by this call's
    /// deadline or rate, and by its own kind's from now.
    pub(crate) async fn within<T, F>(
        &self,
        kind: CallKind,
        url: &Url,
        work: impl FnOnce(Call<'a>) -> F,
    ) -> Result<T, PacsError>
    where
        F: Future<Output = Result<T, PacsError>>,
    {
        let inner = Call {
            source: self.source,
            client: self.client.clone(),
            kind,
            meter: self.meter.clone(),
        };
        bounded(self.limits(), kind, url, &self.meter, work(inner)).await
    }
}

/// `work` within the bound of `kind`: over at its deadline, or when `meter` counts less
/// than its minimum rate; the error names `url` and the figure not met.
async fn bounded<T>(
    limits: &Limits,
    kind: CallKind,
    url: &Url,
    meter: &Meter,
    work: impl Future<Output = Result<T, PacsError>>,
) -> Result<T, PacsError> {
    match limits.deadlines.bound(kind) {
        Bound::Within(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(PacsError::Deadline {
                url: without_credentials(url),
                kind,
                limit,
            })
        }),
        Bound::AtLeast(rate) => tokio::select! {
            result = work => result,
            shortfall = rate::watch(meter, rate) => Err(PacsError::TooSlow {
                url: without_credentials(url),
                kind,
                received: shortfall.received,
                over: shortfall.over,
                rate,
            }),
        },
    }
}

/// An HTTP client for one call (its connections live as long as the call's runtime),
/// with the limits every request has: time to connect, between bytes, redirects. The
/// time for a whole request depends on the call's kind ([`request::send`]).
fn client(source: &DicomWeb) -> Result<reqwest::Client, PacsError> {
    // reqwest asks rustls for the process's provider even for http: make it ours.
    hounsfield_tls::provider();
    let limits = source.limits();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .read_timeout(limits.read_timeout)
        .redirect(request::own_host_redirects(
            source.base().clone(),
            limits.max_redirects,
        ))
        .user_agent(concat!("hounsfield/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    if let Some(config) = source.tls() {
        builder = builder.use_preconfigured_tls((**config).clone());
    }
    builder.build().map_err(|error| PacsError::Request {
        url: without_credentials(source.base()),
        detail: format!("cannot make an HTTP client: {error}"),
    })
}

/// Runs the future `work` makes to completion on a thread and runtime of its own (so it
/// blocks the caller, whether or not the caller is inside a tokio runtime); an error
/// naming `url` when neither can be made.
fn on_own_thread<T: Send, F: Future<Output = Result<T, PacsError>>>(
    url: &Url,
    work: impl FnOnce() -> F + Send,
) -> Result<T, PacsError> {
    let failed = |detail: String| PacsError::Request {
        url: without_credentials(url),
        detail,
    };
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("dicomweb".to_string())
            .spawn_scoped(scope, || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|error| failed(format!("cannot start a runtime: {error}")))?
                    .block_on(work())
            })
            .map_err(|error| failed(format!("cannot start a thread: {error}")))?;
        match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
