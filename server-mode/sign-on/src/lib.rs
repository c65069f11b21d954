//! Single sign-on: the hospital's OpenID Connect provider signs a user in, and the server
//! gives them a role from a claim the site names.
//!
//! The flow is the authorization code flow with PKCE (RFC 7636) and a nonce:
//! [`SignOn::begin`] keeps a pending sign-in under a random `state` and sends the browser
//! to the provider; the provider sends it back to the server's callback with a code;
//! [`SignOn::finish`] takes the pending sign-in by its `state` (once), exchanges the code
//! with the PKCE verifier, verifies the ID token (the provider's signature by the keys it
//! publishes, issuer, audience, expiry, nonce) and reads the user and the role from its
//! claims. The server then starts a login as it does for a token, or, for an app that
//! signed in through the system's browser ([`app`]), hands it a one-time grant. Nothing
//! here knows HTTP routes, cookies or sessions.

pub mod app;
mod error;
mod next;
mod pending;
mod provider;
mod roles;
mod settings;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hounsfield_access::Role;
use openidconnect::core::CoreResponseType;
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, CsrfToken, LogoutRequest, Nonce, PkceCodeChallenge,
    PostLogoutRedirectUrl, Scope, TokenResponse,
};
use url::Url;

pub use app::{AppReturn, GRANT_LIFETIME, MOST_GRANTS};
pub use error::SignOnError;
pub use next::local_path;
pub use pending::{MOST_PENDING, MOST_PENDING_PER_ADDRESS, PENDING_LIFETIME};
pub use roles::role_of;
pub use settings::{CALLBACK_PATH, SignOnSettings};

use app::AppGrants;
use pending::{Pending, PendingSignIns};
use provider::Provider;

/// How long the provider's discovered metadata and keys are used before they are asked
/// for again (a provider rotates its signing keys; a token that fails verification asks
/// again at once too).
const PROVIDER_KEPT: Duration = Duration::from_secs(3600);

/// The longest user name taken from a provider's claims.
pub const MOST_USER_NAME_CHARS: usize = 128;

/// Where a signed-in browser goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Back to the server's page it started from: its path and query (a local path).
    Page(String),
    /// On to the app that started it, with a grant for it.
    App(AppReturn),
}

/// Who the provider signed in, and where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOn {
    /// The user's name: `preferred_username`, else `email`, else the subject.
    pub user: String,
    /// The role the site's claim gives.
    pub role: Role,
    /// Where the browser goes now.
    pub to: Destination,
}

/// A sign-in that did not finish: why, and where the browser was to go (none when the
/// sign-in was unknown), so that an app waiting for it can be told.
#[derive(Debug)]
pub struct NotSignedOn {
    /// Why.
    pub error: SignOnError,
    /// Where the signed-in browser would have gone.
    pub to: Option<Destination>,
}

/// A sign-in started: where the browser goes, and the state that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInStarted {
    /// The provider's authorization address, with the request's parameters.
    pub provider: Url,
    /// The sign-in's random `state`, as the provider will send it back.
    pub state: String,
}

/// What a pending sign-in keeps until the provider sends the browser back.
struct Started {
    verifier: openidconnect::PkceCodeVerifier,
    nonce: Nonce,
    to: Destination,
}

/// A server's single sign-on through one OpenID Connect provider.
pub struct SignOn {
    settings: SignOnSettings,
    http: reqwest::Client,
    provider: tokio::sync::Mutex<Option<(Arc<Provider>, Instant)>>,
    pending: PendingSignIns<Started>,
    grants: AppGrants,
}

impl std::fmt::Debug for SignOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOn")
            .field("issuer", &self.settings.issuer.as_str())
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl SignOn {
    /// Sign-on through the provider `settings` name, after checking them; the provider
    /// is asked for its metadata at the first sign-in, so a server starts while it is
    /// away.
    pub fn new(settings: SignOnSettings) -> Result<Self, SignOnError> {
        settings.check()?;
        Ok(Self {
            http: provider::http_client()?,
            settings,
            provider: tokio::sync::Mutex::new(None),
            pending: PendingSignIns::default(),
            grants: AppGrants::default(),
        })
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &SignOnSettings {
        &self.settings
    }

    /// Starts a sign-in from a browser at `from` (its address block) that comes back to
    /// `next` (a local path; anything else goes back to `/`): the provider's authorization
    /// address to send the browser to, and the sign-in's `state`, which the server also
    /// gives the browser (a cookie) so that the callback proves it is the same browser.
    pub async fn begin(
        &self,
        from: IpAddr,
        next: Option<&str>,
    ) -> Result<SignInStarted, SignOnError> {
        self.start(from, Destination::Page(local_path(next))).await
    }

    /// Starts an app's sign-in from a browser at `from` (see [`app`]): as [`Self::begin`],
    /// but the browser, once signed in, goes on to the app with a grant.
    pub async fn begin_for_app(
        &self,
        from: IpAddr,
        app: AppReturn,
    ) -> Result<SignInStarted, SignOnError> {
        self.start(from, Destination::App(app)).await
    }

    /// A sign-in started for `to`.
    async fn start(&self, from: IpAddr, to: Destination) -> Result<SignInStarted, SignOnError> {
        let provider = self.provider().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (address, state, nonce) = provider
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_string()))
            .add_scope(Scope::new("email".to_string()))
            .set_pkce_challenge(challenge)
            .url();
        self.pending.insert(
            state.secret().clone(),
            Pending::new(
                Started {
                    verifier,
                    nonce,
                    to,
                },
                Instant::now(),
                from,
            ),
            Instant::now(),
        )?;
        Ok(SignInStarted {
            provider: address,
            state: state.secret().clone(),
        })
    }

    /// Finishes the sign-in `state` names with the provider's `code`: who it is and
    /// their role. The pending sign-in is used up whatever the outcome.
    pub async fn finish(&self, state: &str, code: &str) -> Result<SignedOn, NotSignedOn> {
        let Started {
            verifier,
            nonce,
            to,
        } = self
            .pending
            .take(state, Instant::now())
            .ok_or(NotSignedOn {
                error: SignOnError::UnknownState,
                to: None,
            })?;
        match self.signed_in(verifier, &nonce, code).await {
            Ok((user, role)) => Ok(SignedOn { user, role, to }),
            Err(error) => Err(NotSignedOn {
                error,
                to: Some(to),
            }),
        }
    }

    /// Who the provider's `code` signs in, with their role: the code exchanged with the
    /// PKCE `verifier`, the ID token verified with the `nonce`.
    async fn signed_in(
        &self,
        verifier: openidconnect::PkceCodeVerifier,
        nonce: &Nonce,
        code: &str,
    ) -> Result<(String, Role), SignOnError> {
        let provider = self.provider().await?;
        let response = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|error| SignOnError::Exchange(error.to_string()))?
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|error| SignOnError::Exchange(provider::describe(&error)))?;
        let id_token = response.id_token().ok_or(SignOnError::NoIdToken)?;
        let verifier = provider.client.id_token_verifier();
        let claims = match id_token.claims(&verifier, nonce) {
            Ok(claims) => claims,
            Err(error) => {
                // Perhaps the provider's keys changed: ask for them again next time.
                *self.provider.lock().await = None;
                return Err(SignOnError::IdToken(error.to_string()));
            }
        };
        let user = claims
            .preferred_username()
            .map(|name| name.as_str().to_string())
            .or_else(|| claims.email().map(|email| email.as_str().to_string()))
            .unwrap_or_else(|| claims.subject().as_str().to_string());
        if user.is_empty()
            || user.chars().count() > MOST_USER_NAME_CHARS
            || user.chars().any(char::is_control)
        {
            return Err(SignOnError::UserName(user.chars().take(40).collect()));
        }
        let role = role_of(
            &claims.additional_claims().claims,
            &self.settings.role_claim,
            &self.settings.roles,
        )
        .ok_or_else(|| SignOnError::NoRole {
            user: user.clone(),
            claim: self.settings.role_claim.clone(),
        })?;
        Ok((user, role))
    }

    /// Forgets the sign-in `state` names (the provider sent the browser back with an
    /// error): where it would have gone, if there was one.
    pub fn abandon(&self, state: &str) -> Option<Destination> {
        self.pending
            .take(state, Instant::now())
            .map(|started| started.to)
    }

    /// A one-time grant for the app `to` of who the provider signed in: the app's
    /// address carrying it, where the browser goes next.
    pub fn grant(&self, user: &str, role: Role, to: &AppReturn) -> Result<Url, SignOnError> {
        let code = self.grants.issue(user, role, to, Instant::now())?;
        Ok(to.with_grant(&code))
    }

    /// The user and role of an app's `grant`, presented with its PKCE `verifier`; the
    /// grant is spent whatever the outcome.
    pub fn redeem(&self, grant: &str, verifier: &str) -> Result<(String, Role), SignOnError> {
        self.grants.redeem(grant, verifier, Instant::now())
    }

    /// Sign-ins started and not yet back.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The provider's address that ends the user's sign-in there too and comes back to
    /// `after` (RP-initiated logout); none where the provider offers none or is away.
    pub async fn end_session(&self, after: &Url) -> Option<Url> {
        let provider = self.provider().await.ok()?;
        let end = provider.end_session.clone()?;
        let mut request = LogoutRequest::from(end).set_client_id(openidconnect::ClientId::new(
            self.settings.client_id.clone(),
        ));
        if let Ok(back) = PostLogoutRedirectUrl::new(after.to_string()) {
            request = request.set_post_logout_redirect_uri(back);
        }
        Some(request.http_get_url())
    }

    /// The provider's metadata and keys: kept for [`PROVIDER_KEPT`], else discovered.
    async fn provider(&self) -> Result<Arc<Provider>, SignOnError> {
        let mut kept = self.provider.lock().await;
        if let Some((provider, since)) = kept.as_ref()
            && since.elapsed() < PROVIDER_KEPT
        {
            return Ok(provider.clone());
        }
        let provider = Arc::new(Provider::discover(&self.settings, &self.http).await?);
        *kept = Some((provider.clone(), Instant::now()));
        Ok(provider)
    }
}
