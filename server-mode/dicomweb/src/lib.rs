//! Studies from a PACS over DICOMweb: search with QIDO-RS ([`qido`]), retrieve with
//! WADO-RS ([`wado`]) into an on-disk cache of instances per series ([`cache`]), from which
//! render-core's file loader makes the volume, so a series that arrived over the network is
//! the same volume, with the same id, checks and warnings, as one read from a folder.
//! The documents of a reading go back to the study there ([`reports`]); [`home`] chooses
//! between the PACS and a findings folder for the server and the desktop alike.
//!
//! [`DicomWeb`] is the source: a base URL (`http(s)://host:port/dicom-web`), an optional
//! bearer token or basic credentials ([`PacsCredentials`]), limits and retries. Its calls
//! block; each runs its requests on a thread and runtime of its own (the `call` module),
//! so callers inside or outside tokio can use it alike, and each is bounded by the
//! deadline of its kind ([`Deadlines`]): a search within seconds, a retrieval for as long
//! as its data arrives at a useful rate.

pub mod cache;
mod call;
pub mod deadlines;
pub mod decoding;
pub mod home;
pub mod qido;
mod rate;
pub mod reports;
mod request;
pub mod segmentations;
pub mod stow;
pub mod wado;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use cache::{Arrival, RetrievalProgress, Retrieved, SeriesCache};
pub use deadlines::{CallKind, Deadlines, MinimumRate};
pub use decoding::{ArrivedSeries, retrieve_series};
pub use home::{DocumentHome, HomeError, KeptDocument, KeptSegmentation, Place};
pub use qido::{PacsCatalog, SeriesMatch, StudyMatch, StudyQuery};

/// Whether `text` names a DICOMweb service (`http://` or `https://`) rather than a path.
pub fn is_dicomweb_url(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Why a DICOMweb request or retrieval failed; each names the URL or series at fault.
#[derive(Debug, thiserror::Error)]
pub enum PacsError {
    /// The base URL is not an http(s) URL.
    #[error("{url:?} is not a DICOMweb URL (expected http(s)://host:port/dicom-web): {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The request did not complete: connection refused or dropped, time limit passed.
    #[error("{url}: {detail}")]
    Request {
        /// The request's URL.
        url: String,
        /// What went wrong, with the attempts made.
        detail: String,
    },
    /// A call not over by its kind's deadline ([`Deadlines`]).
    #[error("{url}: the {kind} deadline of {} s passed before the PACS had answered", limit.as_secs_f64())]
    Deadline {
        /// The call's URL.
        url: String,
        /// What the call did.
        kind: CallKind,
        /// Its deadline.
        limit: Duration,
    },
    /// A retrieval whose answers brought less than the minimum rate
    /// ([`Deadlines::retrieval_rate`]).
    #[error(
        "{url}: the {kind} fell below its minimum rate of {rate}: {received} bytes arrived in {} s",
        over.as_secs_f64()
    )]
    TooSlow {
        /// The call's URL.
        url: String,
        /// What the call did.
        kind: CallKind,
        /// Bytes received over `over`.
        received: u64,
        /// The span they were counted over, at least the rate's window.
        over: Duration,
        /// The rate not met.
        rate: MinimumRate,
    },
    /// The PACS answered with an error status.
    #[error("{url}: the PACS answered {status}")]
    Status {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// An answer larger than allowed.
    #[error("{url}: answer larger than the {limit} bytes allowed ({size} bytes)")]
    TooLarge {
        /// The request's URL.
        url: String,
        /// Its size (declared, or read so far).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An answer that is not what DICOMweb says it should be.
    #[error("{url}: {what}")]
    BadAnswer {
        /// The request's URL.
        url: String,
        /// What is wrong with it.
        what: String,
    },
    /// No series with this SeriesInstanceUID on the PACS.
    #[error("series {series} not found on {base}")]
    UnknownSeries {
        /// The series asked for.
        series: String,
        /// The DICOMweb base URL.
        base: String,
    },
    /// Some instances of a series could not be retrieved.
    #[error("series {series}: {failed} of {expected} instances not retrieved; first: {first}")]
    Incomplete {
        /// The SeriesInstanceUID.
        series: String,
        /// Instances that failed.
        failed: usize,
        /// Instances the metadata lists.
        expected: usize,
        /// The first failure.
        first: Box<PacsError>,
    },
    /// The cache folder could not be written or read.
    #[error("DICOMweb cache {}: {source}", path.display())]
    Cache {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Time limits, retries and sizes of a [`DicomWeb`] source: every answer of a PACS is
/// bounded in bytes, items, time and redirects here, and enforced where requests are
/// made (the `call` and [`request`] modules).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait from sending a request to the head of its answer.
    pub first_byte_timeout: Duration,
    /// Longest wait for the next bytes of an answer.
    pub read_timeout: Duration,
    /// Longest time for one whole request of a call with a deadline (a retrieval's
    /// requests have none: its minimum rate bounds them).
    pub request_timeout: Duration,
    /// The deadline of each kind of call, its requests and retries together: a search, a
    /// listing, a series' metadata, a store; and the minimum rate of a retrieval. A PACS
    /// that sends a byte now and then, each within the other limits, still ends here.
    pub deadlines: Deadlines,
    /// Most redirects followed for one request, each to the PACS's own scheme, host and
    /// port only (its credentials are never sent to another host).
    pub max_redirects: usize,
    /// Attempts per request (connection failures, time limits and 5xx answers are retried).
    pub attempts: u32,
    /// Requests in flight at once while a series is retrieved.
    pub parallel: usize,
    /// Largest instance accepted (bytes).
    pub max_instance_bytes: u64,
    /// Largest JSON answer accepted (QIDO, metadata), in bytes.
    pub max_json_bytes: u64,
    /// Largest whole-series answer accepted (bytes); past it the series stream stops and
    /// the rest of the series is fetched instance by instance.
    pub max_series_bytes: u64,
    /// Most instances accepted in one whole-series answer.
    pub max_series_instances: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            // A PACS answers a query within seconds; 30 s covers a loaded one.
            first_byte_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            deadlines: Deadlines::default(),
            // Load balancers redirect once or twice; a chain longer than this is a loop.
            max_redirects: 5,
            attempts: 3,
            parallel: 6,
            max_instance_bytes: 2 << 30,
            max_json_bytes: 256 << 20,
            max_series_bytes: 64 << 30,
            max_series_instances: 100_000,
        }
    }
}

/// How requests to a DICOMweb service say who sends them.
#[derive(Clone, PartialEq, Eq)]
pub enum PacsCredentials {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic authentication (`Authorization: Basic …`), as Orthanc's and most
    /// hospital PACSes' registered users.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for PacsCredentials {
    /// Names the kind and the user, never the secret (settings are logged).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer(…)"),
            Self::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: … }}"),
        }
    }
}

/// A DICOMweb service: where it is, how to authenticate, and the limits of requests to it.
#[derive(Debug, Clone)]
pub struct DicomWeb {
    base: Url,
    credentials: Option<PacsCredentials>,
    limits: Limits,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl DicomWeb {
    /// The service at `base` (`http(s)://host:port/dicom-web`), with an optional bearer
    /// token; https is verified against the system's roots.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, PacsError> {
        let bad = |reason: String| PacsError::BadUrl {
            url: base.to_string(),
            reason,
        };
        let mut url = Url::parse(base.trim()).map_err(|error| bad(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https".to_string()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment is allowed".to_string()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let tls = if url.scheme() == "https" {
            let (config, _) = hounsfield_tls::ServerTrust::system()
                .client_config()
                .map_err(|error| bad(format!("TLS: {error}")))?;
            Some(config)
        } else {
            None
        };
        Ok(Self {
            base: url,
            credentials: token
                .filter(|t| !t.trim().is_empty())
                .map(PacsCredentials::Bearer),
            limits: Limits::default(),
            tls,
        })
    }

    /// The same service asked with `credentials` instead of the token given to
    /// [`Self::new`] (none: unauthenticated).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Option<PacsCredentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// The same service with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The base URL, ending in `/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The URL of `path` (relative, no leading `/`) under the base.
    pub(crate) fn url(&self, path: &str) -> Result<Url, PacsError> {
        self.base.join(path).map_err(|error| PacsError::BadUrl {
            url: format!("{}{path}", self.base),
            reason: error.to_string(),
        })
    }

    /// The TLS configuration of an https service.
    pub(crate) fn tls(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.tls.as_ref()
    }

    /// `request` with the credentials, if any.
    pub(crate) fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credentials {
            Some(PacsCredentials::Bearer(token)) => request.bearer_auth(token),
            Some(PacsCredentials::Basic { user, password }) => {
                request.basic_auth(user, Some(password))
            }
            None => request,
        }
    }
}

/// `url` as errors name it: without the user name and password it may carry.
pub(crate) fn without_credentials(url: &Url) -> String {
    let mut shown = url.clone();
    // Only a URL that cannot have credentials refuses these, and then it has none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths_and_bad_ones_refused() {
        assert!(is_dicomweb_url("http://127.0.0.1:8042/dicom-web"));
        assert!(is_dicomweb_url("HTTPS://pacs/dicom-web"));
        assert!(!is_dicomweb_url("/data/ct"));
        assert!(!is_dicomweb_url("httpdata"));
        let source = DicomWeb::new("http://127.0.0.1:8042/dicom-web", None).expect("valid");
        assert_eq!(source.base().as_str(), "http://127.0.0.1:8042/dicom-web/");
        assert_eq!(
            source.url("studies").expect("joins").as_str(),
            "http://127.0.0.1:8042/dicom-web/studies"
        );
        assert!(DicomWeb::new("ftp://pacs/dicom-web", None).is_err());
        assert!(DicomWeb::new("http://pacs/dicom-web?x=1", None).is_err());
    }

    #[test]
    fn urls_in_errors_carry_no_credentials() {
        let url = Url::parse("http://reader:pw-s3cret@pacs:8042/dicom-web/studies?limit=1")
            .expect("a URL");
        assert_eq!(
            without_credentials(&url),
            "http://pacs:8042/dicom-web/studies?limit=1"
        );
    }

    #[test]
    fn credentials_never_show_their_secret() {
        let source = DicomWeb::new("http://pacs/dicom-web", Some("t0ken-s3cret".to_string()))
            .expect("valid");
        assert!(!format!("{source:?}").contains("t0ken-s3cret"));
        let basic = source.with_credentials(Some(PacsCredentials::Basic {
            user: "reader".to_string(),
            password: "pw-s3cret".to_string(),
        }));
        let shown = format!("{basic:?}");
        assert!(
            shown.contains("reader") && !shown.contains("pw-s3cret"),
            "{shown}"
        );
    }
}
