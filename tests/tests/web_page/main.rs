//! The web page the server serves, in Debian's Chromium: the viewer, its findings, segments and
//! planes, movies, pointers and recordings. One test binary: its suites are its modules.

mod browser;
mod browser_findings;
mod browser_over;
mod browser_planes;
mod browser_priors;
mod browser_segments;
mod browser_sign_on;
mod browser_time;
mod browser_transfer;
mod movies;
mod pointers;
mod recordings;
