//! Server mode: `hounsfield --serve` streams rendered frames over WebSocket (protocol v1)
//! to the browser client and to Rust clients.
//!
//! Three parts, one folder each:
//! - [`protocol`], shared: the JSON messages both ways and the header of binary frames;
//! - [`server`]: a client's inputs update its [`server::session::Session`]; the session
//!   hands its latest view to the [`server::Scheduler`] (one render thread owns the GPU);
//!   frames are encoded off that thread and written back by the connection task. Series
//!   are opened by id through the [`server::Library`], never by path;
//! - [`client`]: the Rust client and the decoding of frames into pixels.
//!
//! [`video`] holds the FFmpeg plumbing both halves use for H.264, and [`tls`] their TLS
//! (certificates, self-signed ones, and what a client trusts).

pub mod client;
pub mod pacs;
pub mod protocol;
pub mod server;
pub mod tls;
pub mod video;

mod small_file;

pub use client::Client;
pub use server::{Library, Scheduler, Server, ServerConfig, ServerError};
