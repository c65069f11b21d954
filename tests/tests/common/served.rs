//! `hounsfield --serve` as an operator runs it: the workspace's binary started through the
//! harness every test suite shares.

use std::ffi::OsStr;

#[allow(unused_imports)] // Each test file uses its own share of these.
pub use hounsfield_test_support::{Served, served_port};

/// Starts the workspace's `hounsfield --serve` on a free loopback port with `args` and
/// `env` (see [`Served::launch`]); the error is what the server said before it stopped.
pub fn start(args: &[&str], env: &[(&str, &OsStr)]) -> Result<Served, String> {
    Served::launch(&super::hounsfield_binary(), args, env)
}
