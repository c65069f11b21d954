//! End-to-end tests: real DICOM from `../shared/data` through the render core, the server
//! and its clients, with real PACSes, browsers and proxies. One test binary: each suite is
//! a module (its folder), so the suites compile their shared code once and, run together,
//! keep both cores busy; `cargo test --test end_to_end pacs::` runs one suite.

#[path = "pacs/main.rs"]
mod pacs;
#[path = "pictures/main.rs"]
mod pictures;
#[path = "sessions/main.rs"]
mod sessions;
#[path = "studies/main.rs"]
mod studies;
#[path = "web_page/main.rs"]
mod web_page;
