//! Why a finding could not be drawn, measured, kept or read back.

use std::path::PathBuf;

/// A finding refused, or a findings document that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FindingError {
    /// The points do not fit the kind.
    #[error("points: {kind} takes {expected} points, not {found}")]
    PointCount {
        /// The kind's name.
        kind: &'static str,
        /// How many it takes.
        expected: String,
        /// How many came.
        found: usize,
    },
    /// A point is not a finite position.
    #[error("points: point {index} is not a finite position")]
    NotFinite {
        /// Which point (from 0).
        index: usize,
    },
    /// The shape has no extent (its points coincide, or a box is flat).
    #[error("points: the {kind} has no {what}")]
    Degenerate {
        /// The kind's name.
        kind: &'static str,
        /// What it lacks: area, length or angle.
        what: &'static str,
    },
    /// The region's slice is outside the volume.
    #[error("points: the region's slice lies outside the volume")]
    OutsideVolume,
    /// The region encloses no voxel centre.
    #[error("points: the region encloses no voxel centre; draw it larger")]
    NoVoxels,
    /// The note is over its bound.
    #[error("note: {chars} characters is over the {limit}-character limit")]
    NoteTooLong {
        /// Its length.
        chars: usize,
        /// The bound.
        limit: usize,
    },
    /// The note holds a control character other than a line break or a tab.
    #[error(
        "note: character {index} is a control character (U+{code:04X}); text, line breaks and tabs are kept"
    )]
    NoteControl {
        /// Its place in the note (characters, from 0).
        index: usize,
        /// Its code point.
        code: u32,
    },
    /// A findings document could not be made into DICOM.
    #[error("could not write the findings as DICOM: {0}")]
    Encode(String),
    /// A findings document could not be written or read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A DICOM document is not a findings report this program can read.
    #[error("{what}: {reason}")]
    NotAReport {
        /// The file or source read.
        what: String,
        /// Why.
        reason: String,
    },
}
