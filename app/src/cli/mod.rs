//! The command line: what `hounsfield` accepts, as clap parses it.

mod admin;
mod light;
mod movie;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hounsfield_segment::{FillPlane, GridPlane};

pub use admin::{ConfigCommand, FindingsCommand, SegmentsCommand, UsersCommand};
pub use hounsfield_desktop::launch::{ConnectArgs, OpenArgs, RenderingArgs};
use hounsfield_findings::arteries::NamedRegion;
use hounsfield_workstation::values::{
    KnownDensity, LpsBox, parse_box, parse_colour_map, parse_known_density, parse_named_region,
    parse_non_empty_path, parse_opacity, parse_path, parse_point, parse_value_range, parse_window,
};
pub use hounsfield_workstation::values::{PathPoints, parse_size};
pub use light::LightArgs;
pub use movie::MovieArgs;
use render_core::colour_map::ColourMap;
pub use serve::ServeOptions;

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

impl Cli {
    /// Whether the command keeps running until it is told to stop (the server, the
    /// desktop window, a thin client), rather than printing what it was asked and ending.
    pub fn keeps_running(&self) -> bool {
        self.serve.serve
            || matches!(
                self.command,
                None | Some(Command::Open(_)) | Some(Command::Connect(_))
            )
    }
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

/// The plane `segment --fill-between` fills the slices of: a plane of the voxel grid by
/// its name (axial: slices of one k; coronal: one j; sagittal: one i), or any plane, a
/// turned one too, by its normal `X,Y,Z` (LPS).
pub fn parse_fill_plane(text: &str) -> Result<FillPlane, String> {
    match GridPlane::from_name(text) {
        Some(plane) => Ok(FillPlane::Grid(plane)),
        None => parse_point(text)
            .map(|normal| FillPlane::Across(glam::DVec3::from(normal)))
            .map_err(|_| {
                format!(
                    "'{text}': give axial, coronal or sagittal (a plane of the voxel grid), \
                     or the plane's normal X,Y,Z (LPS)"
                )
            }),
    }
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
        /// Files, folders or DICOMDIRs, or one DICOMweb URL, or one PACS over DICOM
        /// networking (dimse://AE@HOST:PORT, called as --ae-title); none: the built-in
        /// sample volume.
        paths: Vec<PathBuf>,
        /// The study search of a DICOMweb URL.
        #[command(flatten)]
        search: StudySearchArgs,
        /// The AE title to call a PACS over DICOM networking as (one it knows).
        #[arg(long, value_name = "NAME", default_value = "HOUNSFIELD")]
        ae_title: String,
    },
    /// Print the voxel index and value at points given in patient coordinates (LPS mm).
    Probe {
        /// A file, folder or DICOMDIR, or a DICOMweb URL or dimse://AE@HOST:PORT (with
        /// --series); none: the built-in sample volume.
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
        /// Print the points' time-intensity curves as CSV (a row a volume: its label,
        /// time and each point's value) instead of a table.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// A second series of PATH, of the same frame of reference, drawn over the first:
        /// its value at each point too (`over_value`).
        #[arg(long, value_name = "SERIES")]
        over: Option<String>,
    },
    /// Score the coronary calcium of a CT without contrast: Agatston, volume (mm³) and
    /// mass (mg) per lesion and in total, with the risk category.
    Calcium {
        /// A file, folder or DICOMDIR, or a DICOMweb URL or dimse://AE@HOST:PORT (with
        /// --series); none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// Score only inside this box: two opposite corners in LPS millimetres.
        #[arg(long, value_name = "X0,Y0,Z0,X1,Y1,Z1", allow_hyphen_values = true, value_parser = parse_box)]
        roi: Option<LpsBox>,
        /// A region of known calcium density (a phantom's insert) and its density: the
        /// mass score's calibration. Default: 0.743 mg/cm³ per HU.
        #[arg(long, value_name = "X0,Y0,Z0,X1,Y1,Z1:MG_PER_CM3", allow_hyphen_values = true, value_parser = parse_known_density)]
        calibration: Option<KnownDensity>,
        /// A region drawn round an artery's calcium: the lesions whose centres it holds are
        /// that artery's (LM, LAD, LCx, RCA or other); repeatable, a later region naming
        /// again what an earlier one took.
        #[arg(long, value_name = "ARTERY:X0,Y0,Z0,X1,Y1,Z1", allow_hyphen_values = true, value_parser = parse_named_region)]
        artery: Vec<NamedRegion>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A PET's uptake in SUV normalised by body weight (QIBA's vendor-neutral formula):
    /// the factor from Bq/ml and what it comes from, SUVmax, SUVmean and SUVpeak (1 cm³)
    /// of a region (the whole series without --roi), and the SUV at points.
    Suv {
        /// A PET series' file or folder.
        path: PathBuf,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// The region: two opposite corners in LPS millimetres.
        #[arg(long, value_name = "X0,Y0,Z0,X1,Y1,Z1", allow_hyphen_values = true, value_parser = parse_box)]
        roi: Option<LpsBox>,
        /// A point X,Y,Z in LPS millimetres whose SUV to print; repeat for more points.
        #[arg(long = "at", value_name = "X,Y,Z", allow_hyphen_values = true, value_parser = parse_point)]
        at: Vec<[f64; 3]>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a segment (a value range, or the region grown from a seed within it; its
    /// largest island; a margin in mm), or take the segments of a Segmentation of the
    /// series (--from), print their volume and statistics, and write them as a DICOM
    /// Segmentation that references the series.
    Segment {
        /// A file, folder or DICOMDIR, or a DICOMweb URL or dimse://AE@HOST:PORT (with
        /// --series); none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// The values inside the segment, both ends included (HU for a CT).
        #[arg(long, value_name = "LOW,HIGH", allow_hyphen_values = true, value_parser = parse_value_range, required_unless_present_any = ["from", "model"])]
        threshold: Option<[f64; 2]>,
        /// Make the segments with this segmentation model (ONNX; one input [1,1,D,H,W] of
        /// the series' values, one output [1,C,D,H,W] of scores), run in patches: each
        /// class but the first (the background) becomes a segment, AUTOMATIC by the model.
        #[arg(long, value_name = "FILE.onnx", conflicts_with_all = ["threshold", "seed", "from"])]
        model: Option<PathBuf>,
        /// Start from the segments of this DICOM Segmentation of the series instead of a
        /// threshold: the tools then apply to each of them, and all are written.
        #[arg(long, value_name = "SEG.dcm", conflicts_with_all = ["threshold", "seed"])]
        from: Option<PathBuf>,
        /// Grow from this point (LPS mm): the voxels joined to it through faces whose
        /// values are all in the range.
        #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true, value_parser = parse_point)]
        seed: Option<[f64; 3]>,
        /// Fill the slices of this plane between the slices drawn (shape-based
        /// interpolation), first of the tools: axial, coronal or sagittal (the voxel
        /// grid's), or a turned plane's normal X,Y,Z (LPS).
        #[arg(long, value_name = "PLANE|X,Y,Z", allow_hyphen_values = true, value_parser = parse_fill_plane)]
        fill_between: Option<FillPlane>,
        /// Share the region around the segments read (--from) between them: each voxel
        /// goes to the segment whose seeds reach it at the least cost; after
        /// --fill-between, before the other tools.
        #[arg(long)]
        grow_from_seeds: bool,
        /// Keep only the largest island (face-connected part).
        #[arg(long)]
        largest: bool,
        /// Remove the islands smaller than this volume (mm³).
        #[arg(long, value_name = "MM3")]
        min_island: Option<f64>,
        /// Grow (positive) or shrink (negative) the segment by this many millimetres.
        #[arg(long, value_name = "MM", allow_hyphen_values = true)]
        margin: Option<f64>,
        /// Smooth the segment by a closing of this radius (mm), after the margin: gaps
        /// and notches narrower than it are filled.
        #[arg(long, value_name = "MM", allow_hyphen_values = true)]
        closing: Option<f64>,
        /// Smooth the segment by the median of the ball of this radius (mm), last of the
        /// tools: each voxel takes the majority of its ball.
        #[arg(long, value_name = "MM", allow_hyphen_values = true)]
        median: Option<f64>,
        /// The segment's name in the Segmentation.
        #[arg(long, default_value = "Segment 1")]
        label: String,
        /// Write the segment as a DICOM Segmentation (binary SEG) to this file.
        #[arg(long, value_name = "FILE.dcm")]
        out: Option<PathBuf>,
        /// Write the segment's numbers to this file as CSV (a header line and its row).
        #[arg(long, value_name = "FILE.csv")]
        csv: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The DICOM Segmentations in files and folders.
    Segments {
        #[command(subcommand)]
        which: SegmentsCommand,
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
    /// Measure how fast things run and print the figures: runs `hounsfield-bench`,
    /// installed beside this program, with the arguments that follow (`hounsfield bench
    /// --help` lists the benchmarks).
    #[command(disable_help_flag = true)]
    Bench {
        /// The benchmark and its arguments, as `hounsfield-bench` takes them.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "BENCHMARK"
        )]
        args: Vec<std::ffi::OsString>,
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

/// What `render` accepts.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// A file, folder or DICOMDIR, or a DICOMweb URL or dimse://AE@HOST:PORT (with
    /// --series); none: the built-in sample volume.
    pub path: Option<PathBuf>,
    /// Series id (from `info`) or series number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
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
    /// A second series of PATH, of the same frame of reference, drawn over the --mpr
    /// slice (a PET over its CT) in a colour map, or over the 3D view as its maximum
    /// intensity projection.
    #[arg(long, value_name = "SERIES", conflicts_with = "cpr")]
    pub over: Option<String>,
    /// The colour map of --over: hot, rainbow or grey.
    #[arg(long, value_name = "MAP", default_value = "hot", value_parser = parse_colour_map)]
    pub over_colours: ColourMap,
    /// How opaque --over is, 0 to 1.
    #[arg(long, value_name = "OPACITY", default_value_t = 0.5, value_parser = parse_opacity)]
    pub over_opacity: f64,
    /// --over's own window WIDTH,CENTER; default: its header's, else its value range.
    #[arg(long, value_name = "WIDTH,CENTER", value_parser = parse_window, allow_hyphen_values = true, requires = "over")]
    pub over_window: Option<[f64; 2]>,
    /// The 3D view's light.
    #[command(flatten)]
    pub light: LightArgs,
    /// Cinematic rendering: the 3D view path traced (the light's shadows, an environment
    /// light and light scattered several times), --samples paths a pixel.
    #[arg(long, conflicts_with_all = ["mpr", "cpr", "interactive"])]
    pub cinematic: bool,
    /// Paths a pixel of --cinematic (1 to 65536): the more, the less noise.
    #[arg(long, default_value_t = 64, requires = "cinematic")]
    pub samples: u32,
    /// The seed of --cinematic's random numbers: the same seed draws the same picture.
    #[arg(long, default_value_t = 1, requires = "cinematic")]
    pub seed: u32,
    /// The PNG file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

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
