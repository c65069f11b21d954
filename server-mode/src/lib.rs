//! Server mode: `hounsfield --serve` streams rendered frames over WebSocket (protocol v1)
//! to the browser client and to Rust clients.
//!
//! A client's inputs update its [`session::Session`]; the session hands its latest view
//! to the [`scheduler::Scheduler`] (one render thread owns the GPU); frames are encoded
//! ([`encode`]) off that thread and written back by the [`connection`] task. Series are
//! opened by id through the [`library::Library`], never by path.

mod connection;

pub mod client;
pub mod compose;
pub mod decode;
pub mod encode;
pub mod follow;
pub mod library;
pub mod metrics;
pub mod preview;
pub mod protocol;
pub mod rate;
pub mod scheduler;
pub mod server;
pub mod session;
pub mod video;
pub mod web;

pub use client::Client;
pub use library::Library;
pub use scheduler::Scheduler;
pub use server::{Server, ServerConfig, ServerError};
