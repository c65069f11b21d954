//! Why a tool could not make a segment.

/// Why a tool could not make a segment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    /// A value range whose low end is above its high end, or not finite.
    #[error("the value range {low}..{high} is empty: give the low value first")]
    EmptyRange {
        /// Its low end.
        low: f64,
        /// Its high end.
        high: f64,
    },
    /// A seed outside the volume.
    #[error("the seed is outside the series (voxel {0:?})")]
    SeedOutside([f64; 3]),
    /// A seed whose value is outside the range it grows within.
    #[error("the seed's value {value} is outside the range {low}..{high}: nothing to grow")]
    SeedOutsideRange {
        /// The seed voxel's value.
        value: f64,
        /// The range's low end.
        low: f64,
        /// The range's high end.
        high: f64,
    },
    /// A distance that is not a finite number within the bound.
    #[error("{what}: {value} mm is not a distance from 0 to {most} mm")]
    Distance {
        /// What the distance was for.
        what: &'static str,
        /// Its value.
        value: f64,
        /// The largest allowed.
        most: f64,
    },
    /// A tool asked more work than its bound (the message says which and what to do).
    #[error("{0}")]
    Work(String),
    /// Grow from seeds given too few or too many segments (the message says which).
    #[error("{0}")]
    Seeds(String),
    /// Two segments given to grow from seeds share voxels.
    #[error(
        "the segments given {first} and {second} (counted from 0) share {voxels} voxels: \
         a voxel may seed one segment only"
    )]
    SeedsOverlap {
        /// The first of them, by its place in the list given.
        first: usize,
        /// The second.
        second: usize,
        /// The voxels they share.
        voxels: usize,
    },
    /// A brush stroke beyond its bounds.
    #[error("{0}")]
    Stroke(String),
    /// A mask made on another grid than the volume's.
    #[error("the segment is on a {found:?} grid, the series on {expected:?}")]
    OtherGrid {
        /// The series' voxel counts.
        expected: [usize; 3],
        /// The mask's.
        found: [usize; 3],
    },
}
