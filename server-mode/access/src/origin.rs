//! Which pages and host names may reach the server ([`OriginPolicy`]).
//!
//! Browsers let any page open a WebSocket to any address, loopback included, and say
//! which page asked in the `Origin` header; they also let a page whose name an attacker
//! re-points at 127.0.0.1 (DNS rebinding) talk to a loopback server as if it were its own.
//! So: a WebSocket upgrade that carries an `Origin` must come from the server's own page
//! (the origin names the host the request was sent to) or from an origin the operator
//! allowed with `--allow-origin`; and a server that listens on loopback answers only
//! requests addressed to a loopback name (or to an allowed origin's host). Clients that are
//! not browsers send no `Origin` and are let through to authenticate as usual.

use http::HeaderMap;
use http::header;
use url::Url;

/// Why a request was turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginRefusal {
    /// The page that opened the socket is of another origin.
    #[error("the page at {origin} may not open this server's WebSocket (--allow-origin allows it)")]
    ForeignOrigin {
        /// The `Origin` header as sent.
        origin: String,
    },
    /// The request names a host this server does not answer to.
    #[error("requests for host {host:?} are not answered by a server listening on loopback")]
    ForeignHost {
        /// The `Host` header as sent (empty when missing).
        host: String,
    },
}

/// The origins and host names a server answers.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Origins allowed besides the server's own pages, normalised (`scheme://host[:port]`).
    allowed: Vec<String>,
    /// Their host names, answered on loopback too.
    allowed_hosts: Vec<String>,
    /// Only loopback host names (and allowed origins' hosts) are answered.
    loopback_only: bool,
}

impl OriginPolicy {
    /// A policy for a server listening on loopback (`loopback_only`) or not, allowing the
    /// origins given (each `scheme://host[:port]`); a malformed origin is an error naming it.
    pub fn new(loopback_only: bool, allowed: &[String]) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|origin| {
                normalised_origin(origin).ok_or_else(|| {
                    format!("--allow-origin {origin:?}: expected scheme://host[:port], e.g. https://viewer.hospital.example")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_hosts = allowed
            .iter()
            .filter_map(|origin| Url::parse(origin).ok()?.host_str().map(str::to_string))
            .collect();
        Ok(Self {
            allowed,
            allowed_hosts,
            loopback_only,
        })
    }

    /// Whether a request's `Host` may be answered: always off loopback; on loopback only
    /// for loopback names and the hosts of allowed origins.
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), OriginRefusal> {
        if !self.loopback_only {
            return Ok(());
        }
        let host = header_text(headers, header::HOST);
        let name = host_name(host);
        let allowed_host = || {
            self.allowed_hosts
                .iter()
                .any(|host| host.eq_ignore_ascii_case(name))
        };
        if is_loopback_name(name) || allowed_host() {
            Ok(())
        } else {
            Err(OriginRefusal::ForeignHost {
                host: shortened(host),
            })
        }
    }

    /// Whether a WebSocket upgrade may go on: no `Origin` (not a browser), the server's own
    /// origin (the one the `Host` header names), or an allowed origin.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), OriginRefusal> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or_default();
        let refused = || OriginRefusal::ForeignOrigin {
            origin: shortened(origin),
        };
        let normalised = normalised_origin(origin).ok_or_else(refused)?;
        if self.allowed.contains(&normalised) {
            return Ok(());
        }
        let host = header_text(headers, header::HOST);
        if same_authority(&normalised, host) {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// Whether a request that changes state may go on: as [`Self::check_origin`] when it
    /// names its page's origin; without one, refused when the browser says
    /// (`Sec-Fetch-Site`) that a page of another site or origin sent it.
    pub fn check_state_change(&self, headers: &HeaderMap) -> Result<(), OriginRefusal> {
        if headers.contains_key(header::ORIGIN) {
            return self.check_origin(headers);
        }
        let site = headers
            .get("sec-fetch-site")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("none");
        if matches!(site, "same-origin" | "none") {
            Ok(())
        } else {
            Err(OriginRefusal::ForeignOrigin {
                origin: format!("(not named; Sec-Fetch-Site: {})", shortened(site)),
            })
        }
    }
}

/// `scheme://host[:port]` in lower case with the scheme's default port left out, for an
/// http or https origin without path, query or credentials; `None` otherwise (`null`
/// among them).
fn normalised_origin(origin: &str) -> Option<String> {
    let url = Url::parse(origin.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// Whether an origin names the host and port the request was sent to (the `Host` header,
/// whose port, when left out, is the origin scheme's default).
fn same_authority(origin: &str, host: &str) -> bool {
    let Ok(origin) = Url::parse(origin) else {
        return false;
    };
    let Ok(requested) = Url::parse(&format!("{}://{}", origin.scheme(), host.trim())) else {
        return false;
    };
    let same_host = matches!(
        (origin.host_str(), requested.host_str()),
        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b)
    );
    same_host && origin.port_or_known_default() == requested.port_or_known_default()
}

/// A header's value as text, empty when missing or not text.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The name in a `Host` header: without its port, and without the brackets of an IPv6
/// address.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(name, _port)| name)
}

/// `localhost`, a name under it, or a loopback address.
fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A header value cut to a length fit for a log line.
fn shortened(text: &str) -> String {
    const MAX: usize = 120;
    text.chars().take(MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn request(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("a header"));
        if let Some(origin) = origin {
            headers.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).expect("a header"),
            );
        }
        headers
    }

    #[test]
    fn the_servers_own_page_and_clients_without_origin_may_connect() {
        let policy = OriginPolicy::new(true, &[]).expect("a policy");
        for (host, origin) in [
            ("127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("localhost:8080", Some("http://LOCALHOST:8080")),
            ("[::1]:8080", Some("http://[::1]:8080")),
            ("localhost", Some("http://localhost")),
            ("127.0.0.1:8080", None),
        ] {
            let headers = request(host, origin);
            assert_eq!(policy.check_host(&headers), Ok(()), "{host}");
            assert_eq!(policy.check_origin(&headers), Ok(()), "{host} {origin:?}");
        }
    }

    #[test]
    fn pages_of_other_origins_are_refused_unless_allowed() {
        let policy = OriginPolicy::new(true, &[]).expect("a policy");
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "null",
            "file://",
            "not a url",
        ] {
            let headers = request("127.0.0.1:8080", Some(origin));
            assert!(
                matches!(
                    policy.check_origin(&headers),
                    Err(OriginRefusal::ForeignOrigin { .. })
                ),
                "{origin} should be refused"
            );
        }
        let allowing =
            OriginPolicy::new(true, &["https://viewer.example/".to_string()]).expect("a policy");
        let headers = request("127.0.0.1:8080", Some("https://viewer.example"));
        assert_eq!(allowing.check_origin(&headers), Ok(()));
        let headers = request("127.0.0.1:8080", Some("https://viewer.example:444"));
        assert!(allowing.check_origin(&headers).is_err());
    }

    #[test]
    fn a_loopback_server_answers_loopback_names_only() {
        let policy =
            OriginPolicy::new(true, &["https://viewer.example".to_string()]).expect("a policy");
        // DNS rebinding: the attacker's name now points at 127.0.0.1, so the page is
        // "same-origin" with the request, but the name is not a loopback one.
        let rebound = request("evil.example:8080", Some("http://evil.example:8080"));
        assert_eq!(policy.check_origin(&rebound), Ok(()));
        assert!(matches!(
            policy.check_host(&rebound),
            Err(OriginRefusal::ForeignHost { .. })
        ));
        assert!(policy.check_host(&HeaderMap::new()).is_err());
        assert_eq!(policy.check_host(&request("viewer.example", None)), Ok(()));
        assert_eq!(
            policy.check_host(&request("app.localhost:80", None)),
            Ok(())
        );
        let open = OriginPolicy::new(false, &[]).expect("a policy");
        assert_eq!(open.check_host(&rebound), Ok(()));
    }

    #[test]
    fn malformed_allowed_origins_are_named() {
        let error =
            OriginPolicy::new(false, &["viewer.example".to_string()]).expect_err("no scheme");
        assert!(error.contains("viewer.example"), "{error}");
        assert!(OriginPolicy::new(false, &["https://a.example/path".to_string()]).is_err());
    }

    #[test]
    fn a_state_change_without_origin_is_refused_when_the_browser_says_another_page_sent_it() {
        let policy = OriginPolicy::new(true, &[]).expect("a policy");
        let with_site = |site: &str| {
            let mut headers = request("127.0.0.1:8080", None);
            headers.insert(
                "sec-fetch-site",
                HeaderValue::from_str(site).expect("a header"),
            );
            headers
        };
        assert!(
            policy
                .check_state_change(&request("127.0.0.1:8080", None))
                .is_ok()
        );
        assert!(policy.check_state_change(&with_site("same-origin")).is_ok());
        assert!(policy.check_state_change(&with_site("none")).is_ok());
        for site in ["same-site", "cross-site"] {
            let refused = policy.check_state_change(&with_site(site)).expect_err(site);
            assert!(refused.to_string().contains(site), "{refused}");
        }
        // Another port of the same host is another origin.
        let other_port = request("127.0.0.1:8080", Some("http://127.0.0.1:9090"));
        assert!(policy.check_state_change(&other_port).is_err());
        let own = request("127.0.0.1:8080", Some("http://127.0.0.1:8080"));
        assert!(policy.check_state_change(&own).is_ok());
    }
}
