//! The `hounsfield` command line run to its end: its commands, movies, segments, and hostile files
//! and PACSes that get a clear error. One test binary: its suites are its modules.

mod calcium;
mod cli;
mod fusion;
mod hostile_files;
mod hostile_pacs;
mod light;
mod lying_frames;
mod movie;
mod segment;
mod suv;
mod transfer_files;

use std::process::Output;

/// Asserts a command succeeded; the status says a signal's end (a process killed says
/// nothing on stderr).
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The JSON a command that must succeed printed.
fn stdout_json(output: &Output) -> serde_json::Value {
    assert_success(output);
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}
