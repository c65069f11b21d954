//! Why a sign-in did not happen, said so that the person (or IT) knows what to do.

/// Why a sign-in did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SignOnError {
    /// The site's settings are wrong (named by key).
    #[error("sign-on settings: {0}")]
    Settings(String),
    /// The provider's metadata could not be had.
    #[error("the sign-in provider {issuer} did not answer as a provider: {detail}")]
    Unreachable {
        /// The issuer asked.
        issuer: String,
        /// What went wrong.
        detail: String,
    },
    /// Too many sign-ins are under way at once.
    #[error("too many sign-ins are under way: try again in a minute")]
    TooManyPending,
    /// The provider sent back a sign-in the server did not start, or one long ago.
    #[error("this sign-in is unknown or has expired: sign in again")]
    UnknownState,
    /// The provider refused to exchange the code.
    #[error("the sign-in provider refused the sign-in: {0}")]
    Exchange(String),
    /// The provider's answer carried no ID token.
    #[error("the sign-in provider sent no ID token")]
    NoIdToken,
    /// The ID token did not verify.
    #[error("the ID token did not verify: {0}")]
    IdToken(String),
    /// The user's name from the claims is empty, too long or has control characters.
    #[error("the provider's user name {0:?} is not one this server takes")]
    UserName(String),
    /// The user's claims give no role here.
    #[error("{user} has no role on this server (claim {claim:?}): ask the site's IT for one")]
    NoRole {
        /// The user.
        user: String,
        /// The claim the site names.
        claim: String,
    },
    /// An app's sign-in request is not one this server takes (named by field).
    #[error("an app's sign-in: {0}")]
    App(String),
    /// An app presented a grant that is unknown, used or expired.
    #[error("this sign-in's grant is unknown, used or expired: sign in again")]
    UnknownGrant,
    /// An app presented a grant with a verifier not of its challenge.
    #[error("this sign-in's grant was presented with the wrong verifier: sign in again")]
    WrongVerifier,
    /// No HTTP client could be made.
    #[error("no HTTP client for the sign-in provider: {0}")]
    Client(String),
}
