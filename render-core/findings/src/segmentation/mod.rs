//! Segments as DICOM Segmentation objects (binary SEG): written beside the reports, and
//! read back (ours or another program's) onto a series' grid.

mod colour;
mod read;
mod write;

pub use read::{
    ReadSegmentation, SegmentationHeader, read_segmentation, read_segmentation_file,
    read_segmentation_header,
};
pub use write::{SEGMENTATION_STORAGE, segmentation};

/// The most segments one SEG may carry, written or read.
pub const MOST_SEGMENTS: usize = 255;
/// The most frames a SEG read back may hold (255 segments over 1,000 slices would be
/// more than any reading makes).
pub const MOST_FRAMES: usize = 65_536;
/// The most bytes a SEG read back may have.
pub const MOST_SEGMENTATION_BYTES: u64 = 512 * 1024 * 1024;
