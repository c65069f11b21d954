//! How a volume's values are spread ([`ValueHistogram`]): what a transfer-function editor
//! draws its curve over, in the volume's own units.

use serde::{Deserialize, Serialize};

/// The most bins a histogram has (a client asks for no more, and the render core makes
/// no more).
pub const MOST_HISTOGRAM_BINS: usize = 1024;

/// Counts of a volume's voxels in equal bins from `low` to `high` (the volume's smallest
/// and largest values, HU for CT): bin `n` holds the voxels from
/// `low + n · (high − low) / counts.len()`, the last one `high` too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueHistogram {
    /// The lower edge of the first bin: the smallest value.
    pub low: f32,
    /// The upper edge of the last bin: the largest value.
    pub high: f32,
    /// Voxels in each bin.
    pub counts: Vec<u64>,
}
