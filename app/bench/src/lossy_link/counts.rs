//! What a lossy link did with the packets toward the client: the figures the transport
//! comparison reports beside each lossy WebSocket run.

use serde::Serialize;

/// What the link did with the packets toward the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PacketCounts {
    /// Packets toward the client handed on.
    pub passed: u64,
    /// Packets toward the client lost.
    pub dropped: u64,
}

impl PacketCounts {
    /// The share of the packets toward the client that were lost (0 to 1).
    pub fn dropped_share(&self) -> f64 {
        let total = self.passed + self.dropped;
        if total == 0 {
            0.0
        } else {
            self.dropped as f64 / total as f64
        }
    }
}
