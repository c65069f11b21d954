//! Who may connect to a Hounsfield server: the users file with its roles and expiries, a
//! token resolved to an identity, the login sessions a browser's cookie names, failed
//! tokens counted per address, the pages and host names allowed to reach the server, the
//! client behind a trusted proxy, and the audit log that records who saw what. It knows
//! nothing of sessions, rendering or HTTP routes: the server asks it, at one door each.

pub mod audit;
pub mod auth_throttle;
pub mod forwarded;
pub mod identity;
pub mod login_sessions;
pub mod origin;
pub mod token;
pub mod token_bucket;
pub mod users;

pub use audit::{AuditEvent, AuditLog};
pub use identity::{Access, Authentication, Ending, Identity};
pub use origin::OriginPolicy;
pub use token::generate_token;
pub use users::{Role, UserTable, UsersFile};
