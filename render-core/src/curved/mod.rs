//! Curved reformats: a path clicked along a vessel ([`path`]), straightened into one
//! picture in which lengths down the image are lengths along the path ([`straighten`]),
//! and turned about the path for the rotating view. Drawn on the CPU: the picture is a
//! few hundred thousand trilinear samples, not a ray cast.

pub mod path;
pub mod straighten;

pub use path::{CurvedPath, MAX_PATH_POINTS, PathStation};
pub use straighten::{Across, MAX_STRAIGHTENED_PIXELS, StraightenedReformat, straighten};
