//! Pictures the render core and the server draw, compared with golden images and with each
//! other at a stated tolerance: rendering, crop, curved and oblique reformats, the MPR
//! layouts and the measurements on them. One test binary: its suites are its modules.

mod crop;
mod curved_reformat;
mod measurements;
mod mpr_layout;
mod oblique_reformat;
mod rendering;
