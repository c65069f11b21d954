//! Errors of DICOM reading, each naming the file and, where one is at fault, the attribute.

use std::path::PathBuf;

/// A DICOM attribute by keyword and tag, e.g. `ImagePositionPatient (0020,0032)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// DICOM keyword.
    pub keyword: &'static str,
    /// Group and element numbers.
    pub tag: (u16, u16),
}

impl Attribute {
    /// An attribute with its keyword and tag.
    pub const fn new(keyword: &'static str, group: u16, element: u16) -> Self {
        Self {
            keyword,
            tag: (group, element),
        }
    }
}

impl std::fmt::Display for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:04X},{:04X})",
            self.keyword, self.tag.0, self.tag.1
        )
    }
}

/// Why a DICOM file, a series or a folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DicomError {
    /// The file could not be read from disk.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file or folder.
        file: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a DICOM Part 10 file, or its header is broken.
    #[error("{}: not a readable DICOM file: {reason}", file.display())]
    NotDicom {
        /// The file.
        file: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The object holds no image (a report, a plan, a directory…).
    #[error("{}: not an image ({reason})", file.display())]
    NotAnImage {
        /// The file.
        file: PathBuf,
        /// Which image attribute is missing, and the SOP class when known.
        reason: String,
    },
    /// A required attribute is absent.
    #[error("{attribute} missing in {}", file.display())]
    MissingAttribute {
        /// The file.
        file: PathBuf,
        /// The attribute.
        attribute: Attribute,
    },
    /// An attribute is present but its value cannot be used.
    #[error("{attribute} in {} is invalid: {reason}", file.display())]
    InvalidAttribute {
        /// The file.
        file: PathBuf,
        /// The attribute.
        attribute: Attribute,
        /// What is wrong with it.
        reason: String,
    },
    /// The pixel data could not be decoded.
    #[error("{}: pixel data cannot be decoded: {reason}", file.display())]
    Decode {
        /// The file.
        file: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// A frame refused before any decoder saw it: its compressed data declares a size
    /// other than the header's or cannot be read, or one decoded frame would pass the
    /// memory budget.
    #[error("{}: frame {frame} refused before decoding: {reason}", file.display())]
    FrameRefused {
        /// The file.
        file: PathBuf,
        /// The frame's index in the file.
        frame: u32,
        /// What its data declares and what the header says.
        reason: String,
    },
    /// A valid file that Hounsfield cannot turn into a volume yet.
    #[error("{}: {what}", file.display())]
    Unsupported {
        /// The file.
        file: PathBuf,
        /// What is not supported, said whole (`Siemens mosaic images are not supported
        /// yet`): each thing said once.
        what: String,
    },
    /// A path holds no DICOM image at all.
    #[error("{}: no DICOM images found{}", path.display(), detail)]
    NoImages {
        /// The file or folder given.
        path: PathBuf,
        /// Extra detail, e.g. how many files were skipped and why.
        detail: String,
    },
    /// No series has the id asked for.
    #[error("no series with id '{id}' (run `hounsfield info` to list them)")]
    UnknownSeries {
        /// The id asked for.
        id: String,
    },
    /// A series larger than the memory one series may take.
    #[error(
        "series {series}: {} × {} × {} voxels need {} while loading, over the {} one series may take (set with --max-series-mb or HOUNSFIELD_MAX_SERIES_MB)",
        dims[0], dims[1], dims[2],
        human_bytes(*bytes),
        human_bytes(*budget)
    )]
    OverBudget {
        /// The series id.
        series: String,
        /// Planned volume dimensions.
        dims: [usize; 3],
        /// Bytes the load would take at its peak.
        bytes: u64,
        /// The budget.
        budget: u64,
    },
    /// A series over time whose volumes together are larger than the memory one series
    /// may take.
    #[error(
        "series {series}: {volumes} volumes of {} × {} × {} voxels need {} while loading, over the {} one series may take (set with --max-series-mb or HOUNSFIELD_MAX_SERIES_MB)",
        dims[0], dims[1], dims[2],
        human_bytes(*bytes),
        human_bytes(*budget)
    )]
    VolumesOverBudget {
        /// The series id.
        series: String,
        /// Volumes in the series.
        volumes: usize,
        /// The first volume's planned dimensions.
        dims: [usize; 3],
        /// Bytes the load of every volume would take at its peak.
        bytes: u64,
        /// The budget.
        budget: u64,
    },
    /// The images of a series do not form a volume.
    #[error("series {series}: {reason}")]
    InconsistentSeries {
        /// The series id.
        series: String,
        /// What does not fit.
        reason: String,
    },
}

impl DicomError {
    /// The message without the leading file name, for lists that already show the file.
    pub fn reason(&self) -> String {
        let message = self.to_string();
        match self.file() {
            Some(file) => message
                .strip_prefix(&format!("{}: ", file.display()))
                .map(str::to_string)
                .unwrap_or(message),
            None => message,
        }
    }

    /// The file this error is about, when it is about one file.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            DicomError::Io { file, .. }
            | DicomError::NotDicom { file, .. }
            | DicomError::NotAnImage { file, .. }
            | DicomError::MissingAttribute { file, .. }
            | DicomError::InvalidAttribute { file, .. }
            | DicomError::Decode { file, .. }
            | DicomError::FrameRefused { file, .. }
            | DicomError::Unsupported { file, .. } => Some(file),
            DicomError::NoImages { .. }
            | DicomError::UnknownSeries { .. }
            | DicomError::OverBudget { .. }
            | DicomError::VolumesOverBudget { .. }
            | DicomError::InconsistentSeries { .. } => None,
        }
    }
}

/// Bytes in a human unit, e.g. `34.4 GB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
