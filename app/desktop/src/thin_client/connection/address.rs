//! Where the thin client connects: a server's address the user gives, as the WebSocket
//! URL (a proxy's path prefix kept), its authority, a share link's token and certificate
//! fingerprint, what to trust, and whether anything answers there.

use std::time::Duration;

use hounsfield_tls::{Fingerprint, ServerTrust};
use url::Url;

/// The WebSocket address of protocol v1 on the server at `given`: `http://host:port/…` or
/// `host:port` → `ws://host:port/…/ws`; `https` → `wss`. A path prefix (a reverse proxy's,
/// `https://host/hounsfield/`) is kept; a URL that already names the WebSocket path (its
/// last segment `ws`) is kept as it is, query and all.
pub fn websocket_url(given: &str) -> Result<String, String> {
    server_websocket_url(given).map(String::from)
}

/// [`websocket_url`], as a parsed URL.
fn server_websocket_url(given: &str) -> Result<Url, String> {
    let given = given.trim();
    let with_scheme = if given.contains("://") {
        given.to_string()
    } else {
        format!("ws://{given}")
    };
    let mut url = Url::parse(&with_scheme)
        .map_err(|error| format!("server URL {given:?} is not a URL: {error}"))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(format!(
                "server URL {given:?}: the scheme {other:?} is not http, https, ws or wss"
            ));
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("server URL {given:?} has no host"));
    }
    url.set_scheme(scheme)
        .map_err(|()| format!("server URL {given:?} cannot be made a WebSocket URL"))?;
    url.set_fragment(None);
    let segments: Vec<String> = url
        .path_segments()
        .map(|segments| {
            segments
                .filter(|segment| !segment.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if segments.last().is_some_and(|last| last == "ws") {
        url.set_path(&segments.join("/"));
    } else {
        let mut path: Vec<&str> = segments.iter().map(String::as_str).collect();
        path.push("ws");
        url.set_path(&path.join("/"));
        url.set_query(None);
    }
    Ok(url)
}

/// `host:port` of a WebSocket URL (the scheme's port when it names none): the key a
/// trusted certificate is kept under.
pub fn server_authority(websocket_url: &str) -> Option<String> {
    let url = Url::parse(websocket_url).ok()?;
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// The certificate fingerprint a link carries (`…?fingerprint=HEX`, as "Share this
/// session" writes it), if it carries one that reads.
pub fn link_fingerprint(link: &str) -> Option<Fingerprint> {
    Fingerprint::parse(&link_parameter(link, "fingerprint")?)
}

/// A parameter of a link's query (`…?token=T`), if it has it.
pub fn link_parameter(link: &str, name: &str) -> Option<String> {
    let url = Url::parse(link.trim()).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// What a link to `websocket_url` trusts: the CA files given, and the certificate the
/// link names or the user trusted before for that server.
pub fn trust_for(
    websocket_url: &str,
    given: &str,
    ca_files: Vec<std::path::PathBuf>,
    trusted: impl Fn(&str) -> Option<Fingerprint>,
) -> ServerTrust {
    let pinned = link_fingerprint(given)
        .or_else(|| server_authority(websocket_url).and_then(|server| trusted(&server)));
    ServerTrust { ca_files, pinned }
}

/// Whether something accepts TCP connections at the server's address within `timeout`.
pub fn accepts_connections(url: &str, timeout: Duration) -> bool {
    let Ok(ws) = server_websocket_url(url) else {
        return false;
    };
    let Ok(addresses) = ws.socket_addrs(|| None) else {
        return false;
    };
    addresses
        .into_iter()
        .any(|address| std::net::TcpStream::connect_timeout(&address, timeout).is_ok())
}
