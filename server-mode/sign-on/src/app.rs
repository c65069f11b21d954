//! An app's sign-in: `hounsfield connect` and the desktop have no address the provider
//! could send a browser back to, so they sign in as RFC 8252 has native apps do, through
//! the system's browser and a loopback redirect, with the server as the provider's client.
//!
//! The app listens on a loopback port, makes a PKCE verifier and sends the browser to the
//! server with its loopback address and the verifier's S256 challenge ([`AppReturn`]).
//! The server signs the user in at the provider as for its own page, then, instead of a
//! login cookie, sends the browser on to the app's address with a one-time grant
//! ([`AppGrants`]). The app redeems the grant with its verifier for a login of its own:
//! a grant seen in a browser's history is worth nothing without the verifier, which never
//! left the app. Grants are bounded in count ([`MOST_GRANTS`]) and in time
//! ([`GRANT_LIFETIME`]), and each is tried once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hounsfield_access::Role;
use openidconnect::{PkceCodeChallenge, PkceCodeVerifier};
use url::{Host, Url};

use crate::SignOnError;

/// Grants issued and not yet redeemed, at most; more sign-ins are refused until some are
/// redeemed or expire.
pub const MOST_GRANTS: usize = 1024;
/// How long an app has to redeem its grant once the browser brought it.
pub const GRANT_LIFETIME: Duration = Duration::from_secs(120);
/// The longest path an app's loopback address may have.
const MOST_RETURN_PATH_CHARS: usize = 256;
/// An S256 challenge: the SHA-256 of the verifier in unpadded base64url.
const CHALLENGE_CHARS: usize = 43;

/// Where an app waits for the browser, and the challenge of the verifier it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppReturn {
    redirect: Url,
    challenge: String,
}

impl AppReturn {
    /// An app's return, checked: `redirect` must be `http` to a loopback address
    /// (`127.0.0.1` or `[::1]`, not a name another machine could answer for) with its
    /// port, no user, query or fragment; `challenge` an S256 challenge.
    pub fn parse(redirect: &str, challenge: &str) -> Result<Self, SignOnError> {
        let bad = |why: &str| SignOnError::App(format!("redirect {redirect:?}: {why}"));
        let url = Url::parse(redirect).map_err(|error| bad(&error.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad("an app's address is http on a loopback address"));
        }
        let loopback = match url.host() {
            Some(Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
            Some(Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
            _ => false,
        };
        if !loopback {
            return Err(bad("not a loopback address (127.0.0.1 or [::1])"));
        }
        if url.port().is_none() {
            return Err(bad("no port"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("a user in the address"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment"));
        }
        if url.path().len() > MOST_RETURN_PATH_CHARS {
            return Err(bad("the path is too long"));
        }
        let base64url = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
        if challenge.len() != CHALLENGE_CHARS || !challenge.bytes().all(base64url) {
            return Err(SignOnError::App(format!(
                "challenge: expected the {CHALLENGE_CHARS}-character S256 challenge of a PKCE verifier"
            )));
        }
        Ok(Self {
            redirect: url,
            challenge: challenge.to_string(),
        })
    }

    /// The app's address with `grant`.
    pub fn with_grant(&self, grant: &str) -> Url {
        let mut url = self.redirect.clone();
        url.query_pairs_mut().append_pair("grant", grant);
        url
    }

    /// The app's address with why the sign-in failed.
    pub fn with_error(&self, error: &str, description: &str) -> Url {
        let mut url = self.redirect.clone();
        url.query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", description);
        url
    }
}

/// A grant issued: who, for which challenge, since when.
struct Grant {
    user: String,
    role: Role,
    challenge: String,
    issued: Instant,
}

impl Grant {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.issued) > GRANT_LIFETIME
    }
}

/// The grants issued to apps and not yet redeemed, by their code.
#[derive(Default)]
pub(crate) struct AppGrants {
    by_code: Mutex<HashMap<String, Grant>>,
}

impl AppGrants {
    /// A grant for `user` with `role`, redeemable once by the verifier of `to`'s
    /// challenge: its code.
    pub(crate) fn issue(
        &self,
        user: &str,
        role: Role,
        to: &AppReturn,
        now: Instant,
    ) -> Result<String, SignOnError> {
        let code = hounsfield_access::generate_token()
            .map_err(|error| SignOnError::Client(format!("no random grant: {error}")))?;
        let mut by_code = self.lock();
        by_code.retain(|_, grant| !grant.expired(now));
        if by_code.len() >= MOST_GRANTS {
            return Err(SignOnError::TooManyPending);
        }
        by_code.insert(
            code.clone(),
            Grant {
                user: user.to_string(),
                role,
                challenge: to.challenge.clone(),
                issued: now,
            },
        );
        Ok(code)
    }

    /// The user and role of the grant `code`, when `verifier` is its challenge's. The
    /// grant is gone after this, whatever the outcome: a wrong verifier gets no second
    /// try.
    pub(crate) fn redeem(
        &self,
        code: &str,
        verifier: &str,
        now: Instant,
    ) -> Result<(String, Role), SignOnError> {
        let grant = self
            .lock()
            .remove(code)
            .filter(|grant| !grant.expired(now))
            .ok_or(SignOnError::UnknownGrant)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            verifier.to_string(),
        ));
        if challenge.as_str() != grant.challenge {
            return Err(SignOnError::WrongVerifier);
        }
        Ok((grant.user, grant.role))
    }

    /// How many are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Grant>> {
        // Each change is whole between statements: a panic elsewhere leaves it usable.
        self.by_code
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An app's return and the verifier it keeps.
    fn app() -> (AppReturn, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let to = AppReturn::parse("http://127.0.0.1:4321/signed-in", challenge.as_str())
            .expect("a loopback return");
        (to, verifier.secret().clone())
    }

    #[test]
    fn only_a_loopback_http_address_with_a_port_takes_the_grant() {
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let challenge = challenge.as_str();
        for good in [
            "http://127.0.0.1:8080/",
            "http://[::1]:5000/back",
            "http://127.0.0.9:1/",
        ] {
            assert!(AppReturn::parse(good, challenge).is_ok(), "{good}");
        }
        for bad in [
            "https://127.0.0.1:443/",
            "http://localhost:4000/",
            "http://10.0.0.1:4000/",
            "http://evil.example:4000/",
            "http://127.0.0.1/",
            "http://user@127.0.0.1:4000/",
            "http://127.0.0.1:4000/?next=x",
            "http://127.0.0.1:4000/#x",
            "javascript:alert(1)",
            "/relative",
        ] {
            let refused = AppReturn::parse(bad, challenge).expect_err(bad);
            assert!(refused.to_string().contains("redirect"), "{bad}: {refused}");
        }
        let long = format!("http://127.0.0.1:4000/{}", "a".repeat(300));
        assert!(AppReturn::parse(&long, challenge).is_err());
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
        ] {
            assert!(
                AppReturn::parse("http://127.0.0.1:4000/", bad).is_err(),
                "challenge {bad:?}"
            );
        }
    }

    #[test]
    fn the_grant_reaches_the_app_in_its_query() {
        let (to, _) = app();
        let url = to.with_grant("abc");
        assert_eq!(url.as_str(), "http://127.0.0.1:4321/signed-in?grant=abc");
        let url = to.with_error("access_denied", "no role & more");
        assert_eq!(
            url.query(),
            Some("error=access_denied&error_description=no+role+%26+more")
        );
    }

    #[test]
    fn a_grant_is_redeemed_once_and_only_with_its_verifier() {
        let grants = AppGrants::default();
        let now = Instant::now();
        let (to, verifier) = app();
        let code = grants
            .issue("rita", Role::Reader, &to, now)
            .expect("issued");
        assert_eq!(
            grants.redeem(&code, &verifier, now).expect("redeemed"),
            ("rita".to_string(), Role::Reader)
        );
        assert!(matches!(
            grants.redeem(&code, &verifier, now),
            Err(SignOnError::UnknownGrant)
        ));
        // A wrong verifier spends the grant: the right one comes too late.
        let code = grants
            .issue("rita", Role::Reader, &to, now)
            .expect("issued");
        let (_, someone_elses) = app();
        assert!(matches!(
            grants.redeem(&code, &someone_elses, now),
            Err(SignOnError::WrongVerifier)
        ));
        assert!(matches!(
            grants.redeem(&code, &verifier, now),
            Err(SignOnError::UnknownGrant)
        ));
        // An old grant is gone.
        let code = grants
            .issue("walt", Role::Viewer, &to, now)
            .expect("issued");
        let late = now + GRANT_LIFETIME + Duration::from_secs(1);
        assert!(matches!(
            grants.redeem(&code, &verifier, late),
            Err(SignOnError::UnknownGrant)
        ));
        assert_eq!(grants.len(), 0);
    }

    #[test]
    fn the_grants_kept_are_bounded_and_expired_ones_make_room() {
        let grants = AppGrants::default();
        let now = Instant::now();
        let (to, _) = app();
        for _ in 0..MOST_GRANTS {
            grants
                .issue("rita", Role::Reader, &to, now)
                .expect("within the bound");
        }
        assert!(matches!(
            grants.issue("rita", Role::Reader, &to, now),
            Err(SignOnError::TooManyPending)
        ));
        let late = now + GRANT_LIFETIME + Duration::from_secs(1);
        grants
            .issue("rita", Role::Reader, &to, late)
            .expect("room again");
        assert_eq!(grants.len(), 1);
    }
}
