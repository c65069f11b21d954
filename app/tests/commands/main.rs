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
