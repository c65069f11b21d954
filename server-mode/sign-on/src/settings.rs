//! What the site tells the server of its OpenID Connect provider, checked before use.

use hounsfield_access::Role;
use url::{Host, Url};

use crate::SignOnError;

/// The server's path the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// The site's OpenID Connect provider and how its claims give roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnSettings {
    /// The provider's issuer (its metadata at `<issuer>/.well-known/openid-configuration`).
    pub issuer: Url,
    /// This server's client id at the provider.
    pub client_id: String,
    /// The client secret, where the provider treats the server as a confidential client;
    /// none: a public client, proven by PKCE alone.
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: this server's [`CALLBACK_PATH`] as
    /// browsers reach it (behind a proxy, the proxy's address).
    pub redirect_url: Url,
    /// The claim whose values give the role.
    pub role_claim: String,
    /// Claim values and the roles they give; empty: values that are role names.
    pub roles: Vec<(String, Role)>,
}

impl SignOnSettings {
    /// A `VALUE=ROLE` mapping of the site's table (`radiology=reader`).
    pub fn role_mapping(text: &str) -> Result<(String, Role), String> {
        let (value, role) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("{text:?}: expected CLAIM_VALUE=ROLE"))?;
        let role = Role::parse(role.trim())
            .ok_or_else(|| format!("{text:?}: the role must be one of viewer, reader, admin"))?;
        if value.trim().is_empty() {
            return Err(format!("{text:?}: the claim value is empty"));
        }
        Ok((value.trim().to_string(), role))
    }

    /// The server's front page as browsers reach it: the callback's address without
    /// [`CALLBACK_PATH`] (a proxy's path prefix kept).
    pub fn front_page(&self) -> Url {
        let mut page = self.redirect_url.clone();
        let path = page
            .path()
            .strip_suffix(CALLBACK_PATH)
            .unwrap_or_default()
            .to_string();
        page.set_path(&format!("{path}/"));
        page.set_query(None);
        page.set_fragment(None);
        page
    }

    /// Refuses settings that cannot work, naming the key: a provider over plain HTTP but
    /// on this machine, a callback that is not the server's, an empty client id or claim.
    pub(crate) fn check(&self) -> Result<(), SignOnError> {
        let bad = |text: String| Err(SignOnError::Settings(text));
        if self.issuer.scheme() != "https" && !on_loopback(&self.issuer) {
            return bad(format!(
                "oidc_issuer {}: a provider elsewhere must be reached over https",
                self.issuer
            ));
        }
        if !self.redirect_url.path().ends_with(CALLBACK_PATH) {
            return bad(format!(
                "oidc_redirect_url {}: must be this server's {CALLBACK_PATH}",
                self.redirect_url
            ));
        }
        if self.client_id.trim().is_empty() {
            return bad("oidc_client_id is empty".to_string());
        }
        if self.role_claim.trim().is_empty() {
            return bad("oidc_role_claim is empty".to_string());
        }
        Ok(())
    }
}

/// Whether `url` names this machine.
fn on_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str, redirect: &str) -> SignOnSettings {
        SignOnSettings {
            issuer: Url::parse(issuer).expect("a URL"),
            client_id: "hounsfield".into(),
            client_secret: None,
            redirect_url: Url::parse(redirect).expect("a URL"),
            role_claim: "groups".into(),
            roles: Vec::new(),
        }
    }

    #[test]
    fn a_provider_elsewhere_needs_https_and_the_callback_must_be_ours() {
        let good = settings(
            "https://idp.example/realms/x",
            "https://pacs3d.example/auth/callback",
        );
        good.check().expect("good");
        settings(
            "http://127.0.0.1:9400",
            "http://127.0.0.1:8080/auth/callback",
        )
        .check()
        .expect("a provider on this machine");
        let plain = settings("http://idp.example", "https://pacs3d.example/auth/callback");
        let error = plain.check().expect_err("plain HTTP elsewhere").to_string();
        assert!(error.contains("oidc_issuer"), "{error}");
        let proxied = settings(
            "https://idp.example",
            "https://site.example/3d/auth/callback",
        );
        assert_eq!(proxied.front_page().as_str(), "https://site.example/3d/");
        assert_eq!(good.front_page().as_str(), "https://pacs3d.example/");
        let elsewhere = settings("https://idp.example", "https://pacs3d.example/other");
        let error = elsewhere.check().expect_err("another path").to_string();
        assert!(error.contains("oidc_redirect_url"), "{error}");
    }

    #[test]
    fn a_mapping_names_a_known_role() {
        assert_eq!(
            SignOnSettings::role_mapping("radiology=reader"),
            Ok(("radiology".to_string(), Role::Reader))
        );
        assert!(SignOnSettings::role_mapping("radiology").is_err());
        assert!(SignOnSettings::role_mapping("radiology=chief").is_err());
        assert!(SignOnSettings::role_mapping("=viewer").is_err());
    }
}
