//! The streaming server (`hounsfield --serve`): the HTTP and WebSocket server ([`Server`]),
//! one task per connection feeding its [`session::Session`], the render
//! [`scheduler::Scheduler`] that owns the GPU, the frame encoders (JPEG and PNG in
//! [`encode`], H.264 from `hounsfield-video`, WebRTC from `hounsfield-webrtc`), the 2×2 layout
//! ([`compose`]), the library of series and its cache, shared sessions ([`follow`]), named
//! users with roles ([`users`], [`access`]) and the admin view of the sessions open, the
//! counters at `/metrics`, and a server run in the background of another program
//! ([`BackgroundServer`]).

mod admin;
mod background;
mod connection;
mod http;
mod listener;
mod roster;

pub mod access;
pub mod audit;
pub mod auth_throttle;
pub mod compose;
pub mod encode;
pub mod faults;
pub mod findings;
pub mod follow;
mod forwarded;
pub mod library;
pub mod login;
pub mod login_sessions;
pub mod metrics;
pub mod movie;
pub mod origin;
pub mod pointers;
pub mod preview;
pub mod rate;
pub mod recording;
pub mod room;
pub mod scheduler;
pub mod session;
pub mod study_query;
mod thumbnail;
mod token_bucket;
pub mod users;
pub mod web;

pub use audit::{AuditEvent, AuditLog};
pub use background::BackgroundServer;
pub use http::{Server, ServerConfig, ServerError, generate_token};
pub use library::Library;
pub use listener::ConnectionLimits;
pub use origin::OriginPolicy;
pub use roster::SessionSummary;
pub use scheduler::Scheduler;
pub use users::{Role, UserTable, UsersFile};
