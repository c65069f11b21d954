//! Server mode over real sockets with the Rust client: the protocol conversation, login,
//! TLS, forwarded addresses, reading together, scale-out behind HAProxy, WebRTC and the
//! study browser. One test binary: its suites are its modules.

mod cinematic;
mod forwarded;
mod hanging;
mod login;
mod over;
mod over_time;
mod presets;
mod reading_together;
mod scale_out;
mod server;
mod study_browser;
mod tls;
mod webrtc;
