//! The lossy link in a build without the test bench (`hounsfield` is packaged without the
//! `test-bench` feature): there `--loss` does not exist, so no run asks for a link, and
//! [`LossyLink`] has no value.

use std::net::SocketAddr;

use super::PacketCounts;

/// No lossy link can be made in this build.
pub enum LossyLink {}

impl LossyLink {
    /// Fails: this build has no lossy link.
    pub fn open(_loss: f64, _seed: u64, _runtime: &tokio::runtime::Handle) -> anyhow::Result<Self> {
        anyhow::bail!("this build has no lossy link: build hounsfield with --features test-bench")
    }

    /// Never called: no link exists.
    pub fn address(&self) -> SocketAddr {
        match *self {}
    }

    /// Never called: no link exists.
    pub fn forward_to(&self, _server: SocketAddr) {
        match *self {}
    }

    /// Never called: no link exists.
    pub fn counts(&self) -> PacketCounts {
        match *self {}
    }

    /// Never called: no link exists.
    pub fn namespace(&self) -> &str {
        match *self {}
    }
}
