//! Segments on a volume's grid and the tools that make them, one implementation for the
//! desktop, the server and the command line: threshold, grow from a click, the brush,
//! islands, margins in millimetres, median smoothing, filling between slices, growing
//! several segments from their seeds and logical operations, and each segment's
//! measurements (volume, value statistics, surface, extent). DICOM SEG is written and
//! read by `hounsfield-findings`; nothing here knows a GPU, a window or a socket.

mod distance;
pub mod edit;
mod error;
pub mod fill_between;
pub mod grow;
pub mod islands;
pub mod margin;
pub mod mask;
pub mod measure;
pub mod paint;
pub mod seeds;
pub mod segment;
pub mod smooth;
#[cfg(test)]
mod testing;
pub mod values;

pub use edit::{Edit, Edited, apply, edited};
pub use error::SegmentError;
pub use fill_between::{FillPlane, GridPlane};
pub use mask::{Grid, Mask};
pub use measure::{SegmentMeasures, measure};
pub use paint::Brush;
pub use segment::{Algorithm, Code, Segment};
pub use values::{ValueInterval, threshold};
