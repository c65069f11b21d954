//! The web page the server serves, in Debian's Chromium: the viewer, its findings and
//! planes, movies, pointers and recordings. One test binary: its suites are its modules.

mod browser;
mod browser_findings;
mod browser_planes;
mod movies;
mod pointers;
mod recordings;
