//! The command line: what `hounsfield` accepts, as clap parses it.

mod admin;
mod bench;
mod movie;
mod serve;
mod values;

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hounsfield_server::users::{Expiry, Role};
use render_core::view::CropBox;

pub use admin::{ConfigCommand, FindingsCommand, UsersCommand};
#[cfg(feature = "test-bench")]
pub use bench::SoakArgs;
pub use bench::{BenchCommand, StreamArgs, StreamCodec, StreamTransport};
pub use movie::MovieArgs;
pub use serve::ServeOptions;
pub use values::{PathPoints, parse_size};
use values::{parse_crop, parse_path, parse_point, parse_window};

/// CT and MR volumes in 3D: on this workstation, or streamed from a server.
#[derive(Debug, Parser)]
#[command(name = "hounsfield", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; with none, Hounsfield opens the built-in sample volume in the desktop window.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server mode (`--serve` and its options).
    #[command(flatten)]
    pub serve: ServeOptions,
    /// Where the desktop window's frames come from (without a subcommand).
    #[command(flatten)]
    pub rendering: RenderingArgs,
    /// Bearer token sent to a DICOMweb source: wherever a folder is accepted, a PACS's
    /// `http(s)://host:port/dicom-web` URL is too (with `--series`; `info URL` searches it).
    #[arg(
        long,
        global = true,
        value_name = "T",
        env = "HOUNSFIELD_DICOMWEB_TOKEN",
        hide_env_values = true
    )]
    pub dicomweb_token: Option<String>,
    /// User name for a DICOMweb source that asks for HTTP basic authentication; the
    /// password comes from the environment variable HOUNSFIELD_DICOMWEB_PASSWORD (never
    /// on the command line, where other users of the machine could read it).
    #[arg(
        long,
        global = true,
        value_name = "USER",
        env = "HOUNSFIELD_DICOMWEB_USER",
        conflicts_with = "dicomweb_token"
    )]
    pub dicomweb_user: Option<String>,
}

/// `info`'s study search, for a DICOMweb URL (QIDO-RS): every field given must match.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StudySearchArgs {
    /// Patient name (DICOM wildcards `*` and `?`, e.g. `DOE*`).
    #[arg(long, value_name = "NAME")]
    pub patient: Option<String>,
    /// Patient id.
    #[arg(long, value_name = "ID")]
    pub patient_id: Option<String>,
    /// Study date `YYYYMMDD`, or a range `FROM-TO` (either end may be left out).
    #[arg(long, value_name = "FROM-TO")]
    pub date: Option<String>,
    /// A modality in the study (CT, MR…).
    #[arg(long, value_name = "MODALITY")]
    pub modality: Option<String>,
    /// Accession number.
    #[arg(long, value_name = "NUMBER")]
    pub accession: Option<String>,
    /// Studies in the page.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Studies skipped before the page.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

/// How a slab combines its voxels, as `render --slab-mode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SlabModeArg {
    /// The brightest voxel (vessels, nodules).
    #[default]
    Mip,
    /// The darkest voxel (airways).
    Minip,
    /// The mean.
    Average,
}

/// Where the desktop window renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RenderPreference {
    /// A GPU renders here; with only a software adapter, a configured server that answers
    /// renders instead, else this machine at reduced quality.
    #[default]
    Auto,
    /// Always render on this machine.
    Local,
    /// Always stream from the server (`--server`, or the first one in the settings).
    Remote,
}

/// What may carry the frames a server streams to this window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FrameTransport {
    /// WebRTC (RTP over UDP) when the server offers it, else the WebSocket.
    #[default]
    Auto,
    /// The WebSocket only, with no WebRTC attempt (a network that blocks UDP).
    Websocket,
}

impl FrameTransport {
    /// Whether WebRTC is offered to the server.
    pub fn offers_webrtc(self) -> bool {
        self == Self::Auto
    }
}

/// `--render`, `--server` and `--transport`, for the desktop window.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RenderingArgs {
    /// Render here (`local`), stream from a server (`remote`), or decide by this
    /// machine's adapter (`auto`).
    #[arg(long, value_enum, default_value_t = RenderPreference::Auto)]
    pub render: RenderPreference,
    /// A Hounsfield server to stream from (`http://host:port`); remembered in the settings.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// What carries the server's frames: WebRTC when the server offers it (`auto`), or the
    /// WebSocket only (`websocket`, where UDP is blocked).
    #[arg(long, value_enum, default_value_t = FrameTransport::Auto)]
    pub transport: FrameTransport,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a volume in the desktop window.
    Open(OpenArgs),
    /// Show a series rendered by a Hounsfield server (thin client: only pixels arrive).
    Connect(ConnectArgs),
    /// List the studies and series in files, folders or DICOMDIRs (headers only), or
    /// search a PACS's studies (a DICOMweb URL, QIDO-RS) and list their series.
    Info {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Files, folders or DICOMDIRs, or one DICOMweb URL; none: the built-in sample volume.
        paths: Vec<PathBuf>,
        /// The study search of a DICOMweb URL.
        #[command(flatten)]
        search: StudySearchArgs,
    },
    /// Print the voxel index and value at points given in patient coordinates (LPS mm).
    Probe {
        /// A file, folder or DICOMDIR, or a DICOMweb URL (with --series); none: the
        /// built-in sample volume.
        path: Option<PathBuf>,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// A point X,Y,Z in LPS millimetres; repeat for more points.
        #[arg(long = "at", value_name = "X,Y,Z", required = true, allow_hyphen_values = true, value_parser = parse_point)]
        at: Vec<[f64; 3]>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Render a volume (3D or a reformatted slice) to a PNG file.
    Render(Box<RenderArgs>),
    /// Render a series frame by frame into an MP4 (H.264): an orbit about the patient or a
    /// sweep of a slice through the volume.
    Movie(Box<MovieArgs>),
    /// What this machine can render with: adapters, a short render probe, encoders, and
    /// whether to render locally or stream from a server.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Measure how fast things run and print the figures.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Check a `--serve` configuration file without starting the server.
    Config {
        /// What to do.
        #[command(subcommand)]
        which: ConfigCommand,
    },
    /// The findings kept for a series: list them, or export their DICOM SR.
    Findings {
        /// What to do.
        #[command(subcommand)]
        which: FindingsCommand,
    },
    /// Manage the users file of `--serve --users`: named users, each with a role and a
    /// token (the file keeps only its SHA-256).
    Users {
        /// What to do.
        #[command(subcommand)]
        which: UsersCommand,
    },
    /// Print the manual page (roff) to standard output, for packagers.
    #[command(hide = true)]
    Manual,
}

/// What `open` accepts.
#[derive(Debug, Default, clap::Args)]
pub struct OpenArgs {
    /// A file, folder or DICOMDIR, or a DICOMweb URL (with --series); none: the built-in
    /// sample volume.
    pub path: Option<PathBuf>,
    /// Series id (from `info`) or series number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// Save a screenshot of the window to this PNG once the first full-quality frame is
    /// shown, then close (for tests).
    #[arg(long, value_name = "OUT.png", hide = true)]
    pub screenshot: Option<PathBuf>,
    /// A second series to read beside the first (a prior, or another series of the study):
    /// a file, folder or DICOMDIR. Linked by frame of reference when both have the same,
    /// else by an offset set in the window.
    #[arg(long, value_name = "PATH")]
    pub beside: Option<PathBuf>,
    /// The series id (or number) of `--beside`'s path; default: its largest series.
    #[arg(long, value_name = "SERIES", requires = "beside")]
    pub beside_series: Option<String>,
    /// Start with the 3D view cropped to a box: fractions 0..1 of the volume along i, j, k
    /// (towards the patient's left, posterior, superior), e.g. `0.5,0,0,1,1,1` for the
    /// left half.
    #[arg(long, value_name = "IMIN,JMIN,KMIN,IMAX,JMAX,KMAX", value_parser = parse_crop)]
    pub crop: Option<CropBox>,
    /// Where frames come from.
    #[command(flatten)]
    pub rendering: RenderingArgs,
}

/// What `connect` accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// The server: `http://host:port`, `host:port` or `ws://host:port/ws`.
    pub url: String,
    /// The server's access token.
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// The series id to open; default: the first the server lists.
    #[arg(long)]
    pub series: Option<String>,
    /// Join the shared session with this id (from a reader's share link, `?join=ID`,
    /// which the URL may carry instead): its series opens and the view follows the
    /// host's; the participants see each other's pointers.
    #[arg(long, value_name = "ID", conflicts_with = "series")]
    pub join: Option<String>,
    /// A CA certificate (PEM) to trust for an `https` server, besides the system's; repeat
    /// for more.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Trust the `https` server's certificate with this SHA-256 fingerprint (as the server
    /// printed it), self-signed or not, and remember it; any other certificate is refused.
    #[arg(long, value_name = "SHA256")]
    pub fingerprint: Option<String>,
    /// What carries the frames: WebRTC when the server offers it (`auto`), or the
    /// WebSocket only (`websocket`, where UDP is blocked).
    #[arg(long, value_enum, default_value_t = FrameTransport::Auto)]
    pub transport: FrameTransport,
    /// Save a screenshot of the window to this PNG once the first final still is shown,
    /// then close (for tests).
    #[arg(long, value_name = "OUT.png", hide = true)]
    pub screenshot: Option<PathBuf>,
}

/// What `render` accepts.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// A file, folder or DICOMDIR, or a DICOMweb URL (with --series); none: the built-in
    /// sample volume.
    pub path: Option<PathBuf>,
    /// Series id (from `info`) or series number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// Transfer-function preset (e.g. ct-bone, ct-soft-tissue, mr-default); default: by modality.
    #[arg(long)]
    pub preset: Option<String>,
    /// composite, mip, minip or average; default: the preset's.
    #[arg(long)]
    pub mode: Option<String>,
    /// anterior, posterior, left, right, superior or inferior.
    #[arg(long, default_value = "anterior")]
    pub view: String,
    /// Rotate the camera about the screen's vertical axis (degrees).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub azimuth: f64,
    /// Rotate the camera about the screen's horizontal axis (degrees).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub elevation: f64,
    /// Magnification (1: the volume fits).
    #[arg(long, default_value_t = 1.0)]
    pub zoom: f64,
    /// Output size, WIDTHxHEIGHT.
    #[arg(long, default_value = "512x512", value_parser = parse_size)]
    pub size: [u32; 2],
    /// Draw a reformatted slice through the volume's centre (or --at) instead: axial,
    /// coronal, sagittal, or oblique (across --normal).
    #[arg(long)]
    pub mpr: Option<String>,
    /// The oblique plane's normal NX,NY,NZ (LPS); it is drawn as its nearest standard
    /// plane is, whatever the normal's sign.
    #[arg(long, value_parser = parse_point, allow_hyphen_values = true, value_name = "NX,NY,NZ")]
    pub normal: Option<[f64; 3]>,
    /// The direction UX,UY,UZ (LPS) towards the oblique picture's top (projected onto the
    /// plane); default: the nearest standard plane's top.
    #[arg(long, value_parser = parse_point, allow_hyphen_values = true, value_name = "UX,UY,UZ")]
    pub up: Option<[f64; 3]>,
    /// A point X,Y,Z (LPS, mm) the --mpr plane passes through; default: the volume's centre.
    #[arg(long, value_parser = parse_point, allow_hyphen_values = true, value_name = "X,Y,Z")]
    pub at: Option<[f64; 3]>,
    /// Slab thickness for --mpr (mm); 0 is a thin slice.
    #[arg(long, default_value_t = 0.0)]
    pub slab: f64,
    /// How a slab combines its voxels: mip, minip or average.
    #[arg(long, value_enum, default_value_t = SlabModeArg::Mip)]
    pub slab_mode: SlabModeArg,
    /// Draw a curved reformat instead: the path X,Y,Z;X,Y,Z;… (LPS, mm, at least two
    /// points) straightened down the picture, lengths down it being lengths along the path.
    #[arg(long, value_parser = parse_path, allow_hyphen_values = true, value_name = "X,Y,Z;…", conflicts_with = "mpr")]
    pub cpr: Option<PathPoints>,
    /// Turn the curved reformat's cut about the path (degrees): the rotating view.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_hyphen_values = true,
        requires = "cpr"
    )]
    pub cpr_angle: f64,
    /// Print what was drawn as JSON (for --mpr with `pixel_to_lps`, the matrix taking a
    /// pixel centre (x, y, 0, 1) to LPS mm; for --cpr the path's length and pixel size).
    #[arg(long)]
    pub json: bool,
    /// Grey window WIDTH,CENTER (for --mpr and projection modes).
    #[arg(long, value_parser = parse_window, allow_hyphen_values = true)]
    pub window: Option<[f64; 2]>,
    /// Orthographic (parallel) projection instead of perspective.
    #[arg(long)]
    pub orthographic: bool,
    /// Render at interactive quality (reduced resolution, longer step).
    #[arg(long)]
    pub interactive: bool,
    /// Nearest-voxel sampling instead of trilinear.
    #[arg(long)]
    pub nearest: bool,
    /// The PNG file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_boxes_parse_and_bad_ones_are_refused() {
        let left = parse_crop("0.5, 0,0,1,1,1").expect("the left half");
        assert_eq!((left.min, left.max), ([0.5, 0.0, 0.0], [1.0; 3]));
        assert!(parse_crop("0.5,0,0,1,1").is_err(), "five values");
        assert!(parse_crop("0.5,0,0,0.5,1,1").is_err(), "no thickness");
        assert!(parse_crop("0,0,0,1,1,2").is_err(), "beyond the volume");
        assert!(parse_crop("0,0,x,1,1,1").is_err(), "not a number");
    }

    #[test]
    fn points_parse_and_bad_points_are_refused() {
        assert_eq!(parse_point("1.5, -2,3e1"), Ok([1.5, -2.0, 30.0]));
        assert_eq!(
            parse_path("1,2,3; -4,5,6;"),
            Ok(PathPoints(vec![[1.0, 2.0, 3.0], [-4.0, 5.0, 6.0]]))
        );
        let bad = parse_path("1,2,3;4,5").expect_err("a point of two numbers");
        assert!(bad.starts_with("point 2:"), "{bad}");
        assert!(parse_point("1,2").is_err());
        assert!(parse_point("a,b,c").is_err());
        assert!(parse_point("1,2,inf").is_err());
    }

    #[test]
    fn sizes_and_windows_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_size("1024x768"), Ok([1024, 768]));
        assert!(parse_size("0x10").is_err());
        assert!(parse_size("1024").is_err());
        assert_eq!(parse_window("400,40"), Ok([400.0, 40.0]));
        assert_eq!(parse_window("1500,-600"), Ok([1500.0, -600.0]));
        assert!(parse_window("-1,40").is_err());
    }

    #[test]
    fn serve_options_need_serve_and_keep_subcommands_apart() {
        let cli = Cli::try_parse_from([
            "hounsfield",
            "--serve",
            "--port",
            "0",
            "--library",
            "a",
            "--library",
            "b",
        ])
        .expect("parses");
        assert!(cli.serve.serve && cli.command.is_none());
        assert_eq!(cli.serve.port, Some(0));
        assert_eq!(cli.serve.library.len(), 2);
        assert_eq!(cli.serve.bind, None, "the default comes from the settings");
        assert!(Cli::try_parse_from(["hounsfield", "--port", "9000"]).is_err());
        assert!(Cli::try_parse_from(["hounsfield", "--serve", "info"]).is_err());
        // One way of authenticating clients at a time, whichever way it is given.
        for line in [
            ["--token", "a", "--token-file", "f"],
            ["--token", "a", "--users", "u"],
            ["--users", "u", "--token-file", "f"],
        ] {
            let cli = Cli::try_parse_from(["hounsfield", "--serve"].into_iter().chain(line))
                .expect("parses");
            let error = crate::commands::serve::settings::ServeSettings::resolve(&cli.serve)
                .expect_err("refused");
            assert!(error.to_string().contains("not several"), "{error}");
        }
        let info = Cli::try_parse_from(["hounsfield", "info", "--json"]).expect("parses");
        assert!(!info.serve.serve);
    }
}
