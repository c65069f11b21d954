//! Server mode: `hounsfield --serve` streams rendered frames over WebSocket (protocol v1)
//! to the browser client and to Rust clients.

pub mod encode;
pub mod library;
pub mod protocol;
pub mod scheduler;
pub mod session;

pub use library::Library;
pub use scheduler::Scheduler;
