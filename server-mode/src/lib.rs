//! Server mode: protocol v1, sessions, encoding, the WebSocket server and the Rust thin client.
