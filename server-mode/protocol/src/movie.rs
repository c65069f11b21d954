//! Movies on the wire: `export_movie` asks the server for an MP4 of the series open (an
//! orbit of the camera, a sweep of a slice, or a recording played), and the server tells
//! how far it has come (`movie_progress`), where to download it (`movie_ready`) or why
//! it could not (`movie_failed`).

use serde::{Deserialize, Serialize};

/// Frames a movie has when `export_movie` does not say.
pub const DEFAULT_MOVIE_FRAMES: u32 = 36;
/// Frames a second a movie plays at when `export_movie` does not say.
pub const DEFAULT_MOVIE_FPS: u32 = 12;

/// What `export_movie` asks for: exactly one of `orbit`, `sweep` and `recording`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MovieOrder {
    /// Degrees the camera turns about the patient's vertical axis over the movie, from
    /// the session's view as it is (360: a full turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orbit: Option<f64>,
    /// A standard slice (`axial`, `coronal` or `sagittal`) stepping from one end of the
    /// volume to the other, with the session's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<String>,
    /// A kept recording's id (from `recordings`): its views from its start to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// Frames (default [`DEFAULT_MOVIE_FRAMES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u32>,
    /// Width in pixels, even (default: the session's viewport's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels, even (default: the session's viewport's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Frames a second it plays at (default [`DEFAULT_MOVIE_FPS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<u32>,
}

/// A movie made, as `movie_ready` tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovieMade {
    /// Its id (32 hex digits).
    pub id: String,
    /// Where the client downloads it (`/movies/ID.mp4`, behind the session's sign-in).
    pub url: String,
    /// The series it shows.
    pub series: String,
    /// Its frames.
    pub frames: u32,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// Frames a second it plays at.
    pub fps: u32,
    /// Its size in bytes.
    pub bytes: u64,
    /// FFmpeg's H.264 encoder that wrote it.
    pub encoder: String,
}
