//! Who a request comes from when a proxy stands in front: behind HAProxy (or any reverse
//! proxy) every connection's peer is the proxy, so the failed-token lockout would lock out
//! everyone behind it at once, and the audit log would name the proxy for every session.
//! For peers the operator trusts as proxies (`trusted_proxies`), the client is the address
//! the proxy appended to `X-Forwarded-For`; from anyone else the header is ignored, since a
//! client can write whatever it likes there.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

/// The header a proxy appends the client's address to (HAProxy's `option forwardfor`).
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client a request stands for: `peer`, or, when `peer` is one of `trusted_proxies`,
/// the last address in its `X-Forwarded-For` (the one that proxy appended), kept with the
/// peer's port.
pub fn client_of(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted_proxies: &[ipnet::IpNet],
) -> SocketAddr {
    if !trusted_proxies.iter().any(|net| net.contains(&peer.ip())) {
        return peer;
    }
    last_forwarded(headers).map_or(peer, |client| SocketAddr::new(client, peer.port()))
}

/// The last address of the last `X-Forwarded-For` header, when it is one.
fn last_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .next_back()?
        .to_str()
        .ok()?;
    let last = value.rsplit(',').next()?.trim();
    // IPv6 may come bracketed, and a port may follow either form.
    let bare = last
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .unwrap_or(last);
    bare.parse()
        .ok()
        .or_else(|| bare.parse::<SocketAddr>().ok().map(|address| address.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                FORWARDED_FOR,
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_anyone_else_is_taken_as_is() {
        let proxy: SocketAddr = "10.1.2.3:40000".parse().expect("an address");
        let stranger: SocketAddr = "192.0.2.7:40000".parse().expect("an address");
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("a network")];
        let forwarded = headers(&["203.0.113.9"]);
        assert_eq!(
            client_of(proxy, &forwarded, &trusted),
            "203.0.113.9:40000".parse().expect("an address")
        );
        assert_eq!(
            client_of(stranger, &forwarded, &trusted),
            stranger,
            "not a proxy"
        );
        assert_eq!(client_of(proxy, &forwarded, &[]), proxy, "no proxy trusted");
        assert_eq!(
            client_of(proxy, &HeaderMap::new(), &trusted),
            proxy,
            "no header"
        );
    }

    #[test]
    fn the_address_the_proxy_appended_counts_not_what_the_client_wrote() {
        let proxy: SocketAddr = "127.0.0.1:5000".parse().expect("an address");
        let trusted: Vec<ipnet::IpNet> = vec!["127.0.0.1/32".parse().expect("a network")];
        for (values, client) in [
            (&["6.6.6.6, 198.51.100.4"][..], "198.51.100.4"),
            (&["6.6.6.6", "198.51.100.4"][..], "198.51.100.4"),
            (&["[2001:db8::5]:443"][..], "2001:db8::5"),
            (&["198.51.100.4:1234"][..], "198.51.100.4"),
        ] {
            let expected: IpAddr = client.parse().expect("an address");
            assert_eq!(
                client_of(proxy, &headers(values), &trusted).ip(),
                expected,
                "{values:?}"
            );
        }
        assert_eq!(
            client_of(proxy, &headers(&["not an address"]), &trusted),
            proxy
        );
    }
}
