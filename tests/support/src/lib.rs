//! The one harness of Hounsfield's test suites, so that each idea is written once: the
//! shared data and its series ([`data`]), the workspace's binary run to its end or served
//! on a loopback port ([`binary`], [`served`]), servers started in the test process
//! ([`server`]), a real browser ([`chromium`]), a real PACS ([`orthanc`]) and a proxy in
//! front of it that fails on demand ([`faulty_proxy`]), a certificate authority
//! ([`certificates`]), DICOM series written from a volume ([`phantom_dicom`]), a prior study
//! made from the shared data ([`prior`]), pictures
//! compared with a stated tolerance ([`render`]), what `ffprobe` reads of a movie
//! ([`probed`]), and an end to a test process that its GPU driver's teardown cannot crash
//! ([`end_before_the_gpu_driver_teardown`]), which removes the folders of servers kept
//! until then ([`remove_at_exit`]). The app's tests and the end-to-end tests both use it;
//! a test crate, never shipped.

pub mod binary;
pub mod certificates;
pub mod chromium;
pub mod data;
mod dicom_check;
mod exit;
pub mod faulty_proxy;
pub mod identity_provider;
mod movies;
pub mod nifti;
pub mod orthanc;
pub mod phantom_dicom;
pub mod prior;
pub mod render;
pub mod served;
pub mod server;

pub use binary::{
    audit_events, data_arg, hounsfield, hounsfield_binary, hounsfield_json, hounsfield_under_xvfb,
    https_get, probe_read, serve, serve_with_env, test_name, volumes_listed,
};
pub use data::{
    data, data_dir, dcm_files, dicom_files_under, imaging_python, imaging_python_script, load,
    python_script, scan, scan_folder, study_library, users_table,
};
pub use dicom_check::dciodvfy_passes;
pub use exit::{end_before_the_gpu_driver_teardown, remove_at_exit};
pub use hounsfield_volume::dicom::testing::{
    HostileFrame, nested_sequences, write_honest_series, write_hostile_library,
};
pub use movies::{Probed, probed};
pub use served::{Served, http_request, served_port, status_and_body};
pub use server::run_within;
