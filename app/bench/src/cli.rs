//! What the benchmarks accept: `hounsfield-bench load`, `render`, `stream` and the others
//! (`hounsfield bench …` runs the same); in the developer build (`--features test-bench`)
//! also `soak`, and `stream`'s `--proxy` and `--loss`, which need the test bench (HAProxy,
//! a lossy link, a lossy relay, fault injection).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hounsfield_workstation::values::parse_size;

/// Figures a hospital sizes its servers by, never pass or fail.
#[derive(Debug, Parser)]
#[command(name = "hounsfield-bench", version, about, long_about = None)]
pub struct BenchCli {
    /// The benchmark to run.
    #[command(subcommand)]
    pub which: BenchCommand,
}

/// The codec of interactive frames a benchmark client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamCodec {
    /// H.264 first (JPEG when the server cannot encode it).
    H264,
    /// JPEG.
    Jpeg,
}

/// How a benchmark client's interactive frames travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamTransport {
    /// Binary messages on the session's WebSocket.
    Websocket,
    /// RTP over WebRTC (H.264), input on a data channel, from a WebRTC endpoint on
    /// loopback UDP.
    Webrtc,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Print the manual page (roff), generated from this command line; the Debian package
    /// installs it as hounsfield-bench(1).
    #[command(hide = true)]
    Manual,
    /// Scan and load a series N times; print the median time, MB/s and slices.
    Load {
        /// A file, folder or DICOMDIR, or a DICOMweb URL (with --series: each run
        /// retrieves into an empty cache, then loads).
        path: PathBuf,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// How many times to load.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Render frames while rotating 5° a frame; print full and interactive ms per frame.
    Render {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// Transfer-function preset; default: by modality.
        #[arg(long)]
        preset: Option<String>,
        /// Output size, WIDTHxHEIGHT.
        #[arg(long, default_value = "1024x768", value_parser = parse_size)]
        size: [u32; 2],
        /// Frames per quality level (at least 10).
        #[arg(long, default_value_t = 20)]
        frames: usize,
        /// Also time interactive frames at each internal scale and sample distance the
        /// budget could choose, each with its PSNR against the full image (`ladder`).
        #[arg(long)]
        ladder: bool,
        /// Also time full frames with a light from the front, above and the left, its
        /// shadows and ambient occlusion, each against the headlight's on the same views
        /// (`lighting`, as ratios).
        #[arg(long)]
        lighting: bool,
        /// With --lighting: also time the peer, VTK's GPU ray caster, with and without its
        /// volumetric shadows on the same volume, preset and views, in the same run
        /// (`lighting_peer`), with this Python (one that has VTK and NumPy).
        #[arg(long, value_name = "PYTHON", requires = "lighting")]
        lighting_peer: Option<PathBuf>,
        /// Also measure the cinematic path tracer's convergence: a reference of
        /// --reference-samples paths a pixel, then another seed's picture refined pass by
        /// pass, its PSNR against the reference after 0.5, 1, 2 and 5 s (`cinematic`).
        #[arg(long)]
        cinematic: bool,
        /// Also time a drag in the transfer-function editor: each step moves an opacity
        /// point (a new function baked and uploaded) and draws its interactive frame,
        /// against the steps of an orbit (`transfer_edit`, as a ratio).
        #[arg(long)]
        transfer_edit: bool,
        /// Paths a pixel of --cinematic's reference.
        #[arg(long, default_value_t = 4096, requires = "cinematic")]
        reference_samples: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Render the 2×2 layout's slice cells while the planes turn (oblique, then double
    /// oblique) beside the standard planes scrolling, and a slab MIP beside a thin slice;
    /// print ms per frame and frames/s, side by side.
    Planes {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// The 2×2 frame's size, WIDTHxHEIGHT (the cells are half of each side).
        #[arg(long, default_value = "1024x768", value_parser = parse_size)]
        size: [u32; 2],
        /// Frames of each kind (at least 10).
        #[arg(long, default_value_t = 20)]
        frames: usize,
        /// The slab's thickness (mm).
        #[arg(long, default_value_t = 20.0)]
        slab: f64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Time the numbers computed from the pixels: a CT's coronary calcium score, over the
    /// whole series and over the region given, as loaded and as a server keeps it (packed).
    Quantify {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// A region to score too: two opposite corners in LPS millimetres.
        #[arg(long, value_name = "X0,Y0,Z0,X1,Y1,Z1", allow_hyphen_values = true, value_parser = hounsfield_workstation::values::parse_box)]
        roi: Option<hounsfield_workstation::values::LpsBox>,
        /// How many times to score each.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// A series over time to load whole and take curves over (ms a volume, memory
        /// against its voxels, a point's and a region's curve), measured first.
        #[arg(long, value_name = "PATH")]
        over_time: Option<PathBuf>,
        /// dcm2niix, to time converting the --over-time series to a 4D NIfTI in the same
        /// run.
        #[arg(long, value_name = "PROGRAM", requires = "over_time")]
        dcm2niix: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Time the segmentation tools on a series (threshold, the largest island, the region
    /// grown from a click, a margin, a Segmentation written and read), beside SimpleITK's
    /// time for the same operations in the same run.
    Segment {
        /// A file, folder or DICOMDIR of a DICOM series (the Segmentation references it).
        path: PathBuf,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// The value range of every tool (HU for a CT); the click is the first voxel of
        /// the range's largest island.
        #[arg(long, value_name = "LOW,HIGH", default_value = "300,3000", allow_hyphen_values = true, value_parser = hounsfield_workstation::values::parse_value_range)]
        threshold: [f64; 2],
        /// The margin (mm).
        #[arg(long, default_value_t = 5.0, allow_hyphen_values = true)]
        margin: f64,
        /// The median's radius (mm).
        #[arg(long, default_value_t = 1.0)]
        median: f64,
        /// How many times to run each.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// The Python that has SimpleITK and pydicom; default: the imaging tests' virtual
        /// environment that scripts/setup-debian.sh makes, when it is there.
        #[arg(long, value_name = "PYTHON")]
        peer_python: Option<PathBuf>,
        /// Time ours alone.
        #[arg(long)]
        no_peer: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Receive a series over DICOM networking: DCMTK's storescu pushes its files to this
    /// program's Storage SCP and to DCMTK's storescp in turn (MB/s and images/s of each,
    /// as a ratio), and the time from the association's end to the series listed.
    Dimse {
        /// A folder (or file) of the series' DICOM files.
        path: PathBuf,
        /// Pushes to each.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A PACS that answers DICOM networking and DICOMweb (dimse://AE@HOST:PORT): time
        /// `--series` retrieved from it with C-MOVE and over WADO-RS (`--dicomweb`).
        #[arg(long, value_name = "dimse://AE@HOST:PORT", requires_all = ["dicomweb", "series", "dicom_port"])]
        pacs: Option<String>,
        /// The same PACS's DICOMweb base URL.
        #[arg(long, value_name = "URL", requires = "pacs")]
        dicomweb: Option<String>,
        /// The SeriesInstanceUID to retrieve.
        #[arg(long, value_name = "UID", requires = "pacs")]
        series: Option<String>,
        /// The port our Storage SCP listens on for the C-MOVE (the PACS knows it).
        #[arg(long, value_name = "PORT", requires = "pacs")]
        dicom_port: Option<u16>,
        /// Our AE title, a destination the PACS knows.
        #[arg(long, value_name = "NAME", default_value = "HOUNSFIELD")]
        ae_title: String,
    },
    /// Serve a series in this process and time, from one client over loopback, a 100 cm²
    /// region's statistics (the mouse's release to the answer) and saving the findings,
    /// side by side with the plain `measure` round trip.
    Findings {
        /// A file, folder or DICOMDIR, or a DICOMweb URL (the save then goes to the PACS
        /// with STOW-RS).
        path: PathBuf,
        /// Series id or number; default: the largest series (the first, on a PACS).
        #[arg(long)]
        series: Option<String>,
        /// Round trips of each kind.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(3..=1000))]
        runs: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve a series in this process to a shared session: a host drags and points, a
    /// follower joined; print the pointer's latency host → follower beside the host's
    /// input → frame latency in the same run.
    Together {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// Frame size both ask for, WIDTHxHEIGHT.
        #[arg(long, default_value = "1024x768", value_parser = parse_size)]
        size: [u32; 2],
        /// Length of the drag (seconds, 1 to 600).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Codec of interactive frames.
        #[arg(long, value_enum, default_value = "jpeg")]
        codec: StreamCodec,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Time a movie a frame beside `render` a frame, in one run: an orbit's views drawn,
    /// the same orbit written as an MP4 here, and made by a server in this process for
    /// `export_movie`.
    Movie {
        /// A file, folder or DICOMDIR; none: the built-in sample volume.
        path: Option<PathBuf>,
        /// Series id or number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// Frame size, WIDTHxHEIGHT (even sides).
        #[arg(long, default_value = "512x512", value_parser = parse_size)]
        size: [u32; 2],
        /// Frames of the orbit.
        #[arg(long, default_value_t = 36)]
        frames: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve a series in this process and drag it from N clients at once; print first
    /// image, frames/s, input → frame latency and bit rate.
    Stream(StreamArgs),
    /// Serve a series in this process for minutes to dragging sessions, clients that stop
    /// reading, clients that reconnect and render-thread panics; print resident memory
    /// over time, frames/s against a single session's, and the restarts survived.
    #[cfg(feature = "test-bench")]
    Soak(SoakArgs),
}

/// What `bench stream` accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// A file, folder or DICOMDIR; none: the built-in sample volume.
    pub path: Option<PathBuf>,
    /// Series id or number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// Clients dragging at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub sessions: u16,
    /// Clients beside the dragging ones that only read stills: each turns to the next
    /// named view about once a second and waits for its final still (`still_reader_*`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=16))]
    pub still_readers: u16,
    /// Frame size each client asks for, WIDTHxHEIGHT.
    #[arg(long, default_value = "1024x768", value_parser = parse_size)]
    pub size: [u32; 2],
    /// Length of the drag (seconds).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Codec of interactive frames; several (`h264,jpeg`) run the same drag once each
    /// and print the figures side by side.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "h264")]
    pub codec: Vec<StreamCodec>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run the same drags over TLS too (a second server with a self-signed certificate,
    /// on the same renderer) and print what TLS costs: frames/s and latency side by side.
    #[arg(long)]
    pub tls: bool,
    /// Scale-out: start this many render nodes (each with its own render thread, over
    /// TLS) behind HAProxy configured as the Kubernetes manifests configure it, and drag
    /// straight to one node, through the proxy to that node, and through the proxy placed
    /// by load: prints the proxy's added latency and how evenly sessions spread (at most
    /// as many nodes as the manifests name: 3).
    #[cfg(feature = "test-bench")]
    #[arg(long, value_name = "NODES", conflicts_with_all = ["tls", "transport"], value_parser = clap::value_parser!(u16).range(1..=8))]
    pub proxy: Option<u16>,
    /// How frames travel; several (`webrtc,websocket`) run the same H.264 drag once each
    /// and print the figures side by side.
    #[arg(long, value_enum, value_delimiter = ',', conflicts_with = "tls")]
    pub transport: Vec<StreamTransport>,
    /// Packets lost on the way to the client, in percent: WebRTC's media packets (a seeded
    /// lossy UDP relay between client and server), the WebSocket's TCP packets (a seeded
    /// lossy link through a network namespace of its own; needs root). Several (`0,1,5`)
    /// run each transport once at each.
    #[cfg(feature = "test-bench")]
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0",
        requires = "transport"
    )]
    pub loss: Vec<f64>,
}

impl StreamArgs {
    /// The packet losses to run each transport at (percent): `--loss` in the developer
    /// build; none but 0 in the packaged one, which has no lossy link or relay.
    pub fn losses(&self) -> &[f64] {
        #[cfg(feature = "test-bench")]
        return &self.loss;
        #[cfg(not(feature = "test-bench"))]
        return &[0.0];
    }
}

/// What `bench soak` accepts.
#[cfg(feature = "test-bench")]
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// A file, folder or DICOMDIR; none: the built-in sample volume.
    pub path: Option<PathBuf>,
    /// Series id or number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// Well-behaved clients dragging all along.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub sessions: u16,
    /// Length of the soak (minutes; fractions too).
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Clients that open the series and send inputs but never read a frame.
    #[arg(long, value_name = "K", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub slow_readers: u16,
    /// Clients that connect, open, drag about 2 s and leave, over and over.
    #[arg(long, value_name = "R", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub reconnecters: u16,
    /// Seconds between render-thread panics made on purpose (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub fault_every: f64,
    /// Frame size each client asks for, WIDTHxHEIGHT.
    #[arg(long, default_value = "640x480", value_parser = parse_size)]
    pub size: [u32; 2],
    /// Codec of interactive frames the clients ask for.
    #[arg(long, value_enum, default_value = "jpeg")]
    pub codec: StreamCodec,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
