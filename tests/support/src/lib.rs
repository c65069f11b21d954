//! What the test suites share, so that each idea is written once: the served binary
//! ([`Served`]: `hounsfield --serve` as an operator runs it, on a free loopback port) and
//! plain HTTP requests to it ([`http_request`]), DICOM bytes no real file holds
//! ([`nested_sequences`]), what `ffprobe` reads of a movie ([`probed`]), and an end
//! to a test process that its GPU driver's teardown cannot crash
//! ([`end_before_the_gpu_driver_teardown`]), which removes the folders of servers kept
//! until then ([`remove_at_exit`]). The app's tests and the end-to-end tests
//! both start servers through it; a test crate, never shipped.

mod exit;
mod movies;
mod served;

pub use hounsfield_volume::dicom::testing::nested_sequences;
pub use exit::{end_before_the_gpu_driver_teardown, remove_at_exit};
pub use movies::{Probed, probed};

pub use served::{Served, http_request, served_port, status_and_body};
