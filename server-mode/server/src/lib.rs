//! The streaming server (`hounsfield --serve`): the HTTP and WebSocket server ([`Server`]),
//! one task per connection feeding its [`session::Session`], the render
//! [`scheduler::Scheduler`] that owns the GPU, the frame encoders (JPEG and PNG in
//! [`encode`], H.264 from `hounsfield-video`, WebRTC from `hounsfield-webrtc`), the 2×2 layout
//! ([`compose`]), the library of series and its cache, shared sessions ([`sharing`]), the
//! admin view of the sessions open, the counters at `/metrics`, and a server run in the
//! background of another program ([`BackgroundServer`]). Who may connect (users, roles,
//! logins, origins, the audit log) is `hounsfield-access`'s, asked at its door.
//!
//! The state every handler shares ([`state`]) and the refusals they send ([`answers`]) sit
//! below both the connections and the HTTP routes, so that neither imports the other.

mod answers;
mod background;
mod config;
mod connection;
mod http;
mod listener;
mod roster;
mod state;

pub mod compose;
pub mod dicom_reception;
pub mod encode;
pub mod faults;
pub mod findings;
pub mod library;
pub mod metrics;
pub mod movie;
pub mod preview;
pub mod rate;
pub mod recording;
pub mod scheduler;
pub mod segments;
pub mod series_volumes;
pub mod session;
pub mod sharing;
pub mod study_query;
mod thumbnail;
pub mod web;

pub use background::BackgroundServer;
pub use config::{ServerConfig, ServerError};
pub use hounsfield_access::{
    AuditEvent, AuditLog, OriginPolicy, Role, UserTable, UsersFile, generate_token, users,
};
pub use http::{STOPPING_GRACE, Server};
pub use library::Library;
pub use listener::ConnectionLimits;
pub use roster::SessionSummary;
pub use scheduler::Scheduler;
