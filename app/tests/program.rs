//! The `hounsfield` program as its users run it: the command line, the server, the
//! installers' packages and the desktop window. One test binary: each suite is a module
//! (its folder), so the suites compile their shared code once and, run together, keep
//! both cores busy; `cargo test -p hounsfield --test program desktop::` runs one suite.

#[path = "commands/main.rs"]
mod commands;
#[path = "desktop/main.rs"]
mod desktop;
#[path = "installers/main.rs"]
mod installers;
#[path = "serving/main.rs"]
mod serving;
