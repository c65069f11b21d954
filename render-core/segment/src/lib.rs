//! Segments on a volume's grid and the tools that make them, one implementation for the
//! desktop, the server and the command line: threshold, grow from a click, the brush,
//! islands, margins in millimetres and logical operations, and each segment's
//! measurements (volume, value statistics, surface, extent). DICOM SEG is written and
//! read by `hounsfield-findings`; nothing here knows a GPU, a window or a socket.

pub mod edit;
mod distance;
mod error;
pub mod grow;
pub mod islands;
pub mod margin;
pub mod mask;
pub mod measure;
pub mod paint;
pub mod segment;
#[cfg(test)]
mod testing;
pub mod values;

pub use edit::{Edit, apply};
pub use error::SegmentError;
pub use mask::{Grid, Mask};
pub use measure::{SegmentMeasures, measure};
pub use segment::{Algorithm, Code, Segment};
pub use values::{ValueInterval, threshold};
