//! A lossy IPv4 link for TCP, for `bench stream --transport websocket --loss …` in the
//! developer build (`--features test-bench`; [`link`]): a network namespace, two TUN
//! devices and a thread between them that loses a seeded share of the packets toward the
//! client. The packaged binary has none of it ([`absent`]).

mod counts;
#[cfg(feature = "test-bench")]
mod forward;
#[cfg(feature = "test-bench")]
mod link;
#[cfg(feature = "test-bench")]
mod namespace;
#[cfg(feature = "test-bench")]
mod pump;

#[cfg(not(feature = "test-bench"))]
mod absent;

#[cfg(not(feature = "test-bench"))]
pub use absent::LossyLink;
pub use counts::PacketCounts;
#[cfg(feature = "test-bench")]
pub use link::LossyLink;
