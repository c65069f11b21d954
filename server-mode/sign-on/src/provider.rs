//! The provider as discovered: its endpoints and signing keys, and the HTTP client that
//! talks to it.

use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, Client, ClientId, ClientSecret, EmptyExtraTokenFields, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::{SignOnError, SignOnSettings};

/// The longest a request to the provider may take, and to connect.
const REQUEST_TIME: Duration = Duration::from_secs(10);
const CONNECT_TIME: Duration = Duration::from_secs(5);

/// The claims of an ID token beyond the standard ones: where the site's role claim is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SiteClaims {
    /// Every other claim, by name.
    #[serde(flatten)]
    pub(crate) claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for SiteClaims {}

/// The token endpoint's answer, its ID token carrying [`SiteClaims`].
type SiteTokenResponse = StandardTokenResponse<
    IdTokenFields<
        SiteClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The core client, but for its ID token's claims, set up from discovery.
pub(crate) type SiteClient = Client<
    SiteClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    SiteTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider.
pub(crate) struct Provider {
    /// The client set up with its endpoints and keys.
    pub(crate) client: SiteClient,
    /// Where it ends a user's sign-in, if it says.
    pub(crate) end_session: Option<EndSessionUrl>,
}

impl Provider {
    /// Asks the provider `settings` name for its metadata and keys.
    pub(crate) async fn discover(
        settings: &SignOnSettings,
        http: &reqwest::Client,
    ) -> Result<Self, SignOnError> {
        let unreachable = |detail: String| SignOnError::Unreachable {
            issuer: settings.issuer.to_string(),
            detail,
        };
        // The issuer as the site wrote it, without the slash a URL parser adds to a bare
        // host: the provider's `issuer` must match it exactly.
        let issuer = IssuerUrl::new(settings.issuer.as_str().trim_end_matches('/').to_string())
            .map_err(|error| unreachable(error.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, http)
            .await
            .map_err(|error| unreachable(error_chain(&error)))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(settings.redirect_url.to_string())
            .map_err(|error| SignOnError::Settings(format!("oidc_redirect_url: {error}")))?;
        let client = SiteClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Self {
            client,
            end_session,
        })
    }
}

/// The HTTP client for the provider: rustls with the system's roots, bounded in time,
/// following no redirect (a redirect from a token endpoint would send the code elsewhere).
pub(crate) fn http_client() -> Result<reqwest::Client, SignOnError> {
    // reqwest asks rustls for the process's provider even for http: make it ours.
    hounsfield_tls::provider();
    let (tls, _) = hounsfield_tls::ServerTrust::system()
        .client_config()
        .map_err(|error| SignOnError::Client(error.to_string()))?;
    reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIME)
        .timeout(REQUEST_TIME)
        .user_agent(concat!("hounsfield/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .build()
        .map_err(|error| SignOnError::Client(error.to_string()))
}

/// A token request's failure in words: the provider's own error and description where it
/// sent one.
pub(crate) fn describe<RE, T>(error: &RequestTokenError<RE, T>) -> String
where
    RE: std::error::Error + 'static,
    T: openidconnect::ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => response.to_string(),
        other => error_chain(other),
    }
}

/// An error and its sources, joined.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
