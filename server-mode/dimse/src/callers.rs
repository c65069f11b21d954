//! Who may open an association: callers named by AE title and host (`AE@HOST`), or, where
//! the site names none, any caller on this machine's loopback.

use std::net::{IpAddr, ToSocketAddrs};

/// The longest AE title (PS3.5: an AE string is at most 16 characters).
const MOST_AE_CHARS: usize = 16;

/// Why an `AE@HOST` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    /// Not `AE@HOST`.
    #[error("\"{0}\": a caller is AE@HOST (e.g. CT1@10.0.0.5)")]
    Shape(String),
    /// The AE title is empty, too long or has characters an AE title may not.
    #[error(
        "\"{0}\": an AE title is 1 to 16 characters, without backslashes or control characters"
    )]
    AeTitle(String),
    /// The host has no address.
    #[error("\"{0}\": the host has no address")]
    Host(String),
}

/// One caller the site allows: its AE title and the addresses its host has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedCaller {
    /// The calling AE title, as the caller sends it (trimmed).
    pub ae_title: String,
    /// The addresses it may call from.
    pub addresses: Vec<IpAddr>,
}

impl AllowedCaller {
    /// Reads `AE@HOST`; a host name is looked up now, once.
    pub fn parse(text: &str) -> Result<Self, CallerError> {
        let (ae, host) = text
            .rsplit_once('@')
            .ok_or_else(|| CallerError::Shape(text.to_string()))?;
        let ae_title = ae_title(ae).ok_or_else(|| CallerError::AeTitle(text.to_string()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(address) => vec![address],
            Err(_) if !host.is_empty() => (host, 0)
                .to_socket_addrs()
                .map(|found| found.map(|a| a.ip()).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        if addresses.is_empty() {
            return Err(CallerError::Host(text.to_string()));
        }
        Ok(Self {
            ae_title,
            addresses,
        })
    }
}

/// An AE title as the upper layer carries it, trimmed of its padding; `None` when it is
/// empty, too long, or holds a backslash or a control character.
pub(crate) fn ae_title(text: &str) -> Option<String> {
    let trimmed = text.trim_matches(|c: char| c == ' ' || c == '\0');
    let fits = !trimmed.is_empty()
        && trimmed.chars().count() <= MOST_AE_CHARS
        && !trimmed.chars().any(|c| c == '\\' || c.is_control());
    fits.then(|| trimmed.to_string())
}

/// The callers let in: those the site names, or (where it names none) any on loopback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callers {
    allowed: Vec<AllowedCaller>,
}

impl Callers {
    /// The callers `allowed`; none: loopback callers alone, whatever their AE title.
    pub fn new(allowed: Vec<AllowedCaller>) -> Self {
        Self { allowed }
    }

    /// Whether a caller titled `calling_ae` at `address` may associate.
    pub fn allows(&self, calling_ae: &str, address: IpAddr) -> bool {
        let address = canonical(address);
        if self.allowed.is_empty() {
            return address.is_loopback();
        }
        let Some(title) = ae_title(calling_ae) else {
            return false;
        };
        self.allowed.iter().any(|caller| {
            caller.ae_title == title && caller.addresses.iter().any(|&a| canonical(a) == address)
        })
    }
}

/// An IPv4 address mapped into IPv6 as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_is_an_ae_title_at_a_host() {
        let caller = AllowedCaller::parse("CT1@127.0.0.1").expect("parsed");
        assert_eq!(caller.ae_title, "CT1");
        assert_eq!(caller.addresses, vec![IpAddr::from([127, 0, 0, 1])]);
        let v6 = AllowedCaller::parse("PACS@[::1]").expect("parsed");
        assert_eq!(
            v6.addresses,
            vec!["::1".parse::<IpAddr>().expect("an address")]
        );
        for bad in [
            "CT1",
            "@127.0.0.1",
            "A_TITLE_TOO_LONG_X@127.0.0.1",
            "C\\T@127.0.0.1",
        ] {
            assert!(AllowedCaller::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            AllowedCaller::parse("CT1@"),
            Err(CallerError::Host(_))
        ));
    }

    #[test]
    fn none_named_lets_in_loopback_alone_and_names_let_in_those_alone() {
        let loopback = IpAddr::from([127, 0, 0, 1]);
        let other = IpAddr::from([10, 0, 0, 5]);
        let anyone_here = Callers::default();
        assert!(anyone_here.allows("ANY", loopback));
        assert!(anyone_here.allows("ANY", "::ffff:127.0.0.1".parse().expect("v6")));
        assert!(!anyone_here.allows("ANY", other));
        let named = Callers::new(vec![AllowedCaller::parse("CT1@10.0.0.5").expect("parsed")]);
        assert!(
            named.allows("CT1 ", other),
            "the title's padding is not part of it"
        );
        assert!(!named.allows("CT2", other));
        assert!(
            !named.allows("CT1", loopback),
            "a name replaces the loopback default"
        );
    }
}
