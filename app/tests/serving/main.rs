//! `hounsfield --serve` as hospital IT runs it: its configuration, faults, network and
//! users. One test binary: its suites are its modules.

mod serve_config;
mod serve_dicom;
mod serve_faults;
mod serve_network;
mod serve_users;
mod state_faults;
