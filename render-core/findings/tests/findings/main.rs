//! Findings against independent tools and computations: the Measurement Report checked by
//! `dciodvfy` and `dsrdump` and read back, tampered reports refused, and region statistics
//! against the shapes' own equations. One test binary: its suites are its modules.

mod report;
mod report_fuzz;
mod statistics;
