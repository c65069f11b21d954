//! Studies read from files, as a radiologist's folders hold them: bad input refused with a
//! clear error, every transfer syntax decoded, missing slices and reference geometry, load
//! progress, and hostile or fuzzed files that cannot take the loader down. One test binary:
//! its suites are its modules.

mod bad_input;
mod decoding;
mod load_progress;
mod missing_slice;
mod over_time;
mod reference_geometry;
mod robustness;
mod structured_fuzz;
