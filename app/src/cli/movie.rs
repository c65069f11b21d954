//! What `movie` accepts.

use std::path::PathBuf;

use hounsfield_workstation::values::{parse_non_empty_path, parse_size, parse_window};

/// What `movie` accepts: a series, one motion, and the file's size and length.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("motion").required(true).args(["orbit", "sweep", "recording"])))]
pub struct MovieArgs {
    /// A file, folder or DICOMDIR, or a DICOMweb URL or dimse://AE@HOST:PORT (with
    /// --series); none: the built-in sample volume.
    pub path: Option<PathBuf>,
    /// Series id (from `info`) or series number; default: the recording's series with
    /// --recording, else the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// Turn the camera DEG degrees about the patient's vertical axis, starting from the
    /// anterior view (360: a full turn; the first frame is `render`'s for the same
    /// arguments).
    #[arg(long, value_name = "DEG", allow_hyphen_values = true)]
    pub orbit: Option<f64>,
    /// Step a standard slice through the volume from one end to the other: axial (feet to
    /// head), coronal (front to back) or sagittal (right to left).
    #[arg(long, value_name = "PLANE")]
    pub sweep: Option<String>,
    /// Play a session recording (a file from the server's recordings folder): its views
    /// at evenly spaced times from its start to its end, as the session showed them.
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// How many frames (at most 3600).
    #[arg(long, default_value_t = 72)]
    pub frames: u32,
    /// Frame size, WIDTHxHEIGHT (even sides, as H.264 takes them).
    #[arg(long, default_value = "512x512", value_parser = parse_size)]
    pub size: [u32; 2],
    /// Frames a second the movie plays at (1 to 60).
    #[arg(long, default_value_t = 24)]
    pub fps: u32,
    /// A transfer function from a file, instead of a preset: this program's TOML (as in
    /// `presets/`), a 3D Slicer volume property (`.vp`) or a ParaView colour map (`.json`).
    #[arg(long, value_name = "FILE", conflicts_with = "preset", value_parser = parse_non_empty_path)]
    pub transfer: Option<PathBuf>,
    /// Transfer-function preset (e.g. ct-bone, ct-soft-tissue, mr-default); default: by modality.
    #[arg(long)]
    pub preset: Option<String>,
    /// composite, mip, minip or average; default: the preset's.
    #[arg(long)]
    pub mode: Option<String>,
    /// Grey window WIDTH,CENTER (for a sweep and projection modes).
    #[arg(long, value_parser = parse_window, allow_hyphen_values = true)]
    pub window: Option<[f64; 2]>,
    /// The 3D view's light (an orbit's; a sweep's slices are not lit).
    #[command(flatten)]
    pub light: super::LightArgs,
    /// Path trace each 3D frame (as `render --cinematic`), --samples paths a pixel from
    /// --seed: every frame from the same seed, so the noise does not flicker.
    #[arg(long, conflicts_with = "sweep")]
    pub cinematic: bool,
    /// Paths a pixel of each --cinematic frame (1 to 65536).
    #[arg(long, default_value_t = 64, requires = "cinematic")]
    pub samples: u32,
    /// The seed of --cinematic's random numbers.
    #[arg(long, default_value_t = 1, requires = "cinematic")]
    pub seed: u32,
    /// Print what was written as JSON, with the time a frame took to render and to encode.
    #[arg(long)]
    pub json: bool,
    /// The MP4 file to write.
    #[arg(long)]
    pub out: PathBuf,
}
