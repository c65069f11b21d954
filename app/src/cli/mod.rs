//! The command line: what `hounsfield` accepts, as clap parses it.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hounsfield_server::users::{Expiry, Role};
use render_core::view::CropBox;

/// CT and MR volumes in 3D: on this workstation, or streamed from a server.
#[derive(Debug, Parser)]
#[command(name = "hounsfield", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; with none, Hounsfield opens the built-in sample volume in the desktop window.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server mode (`--serve` and its options).
    #[command(flatten)]
    pub serve: ServeArgs,
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

/// What `--serve` accepts. Each option can also come from the configuration file
/// (`--config`, a key of the same name with `_` for `-`): what the command line gives wins,
/// and what neither gives takes the default named in its help.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Stream rendered frames over WebSocket to browsers and thin clients (HTTP and
    /// WebSocket on one port).
    #[arg(long)]
    pub serve: bool,
    /// The configuration file (TOML): every option below as a key; relative paths in it are
    /// taken from its folder. `hounsfield config check FILE` validates one.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub config: Option<PathBuf>,
    /// A folder of DICOM, or a PACS's DICOMweb base URL (http(s)://host:port/dicom-web: its
    /// studies listed at start, a series retrieved when opened), to serve; repeat for more.
    /// None: the built-in sample volume.
    #[arg(long = "library", value_name = "DIR|URL", requires = "serve")]
    pub library: Vec<PathBuf>,
    /// Seconds between listings of the library's PACS, so that studies it receives appear
    /// [default: 300].
    #[arg(long, value_name = "SECONDS", requires = "serve")]
    pub pacs_refresh: Option<u64>,
    /// UDP port for WebRTC: sessions' H.264 frames as RTP (DTLS-SRTP), negotiated on their
    /// WebSocket, where UDP reaches the server; none: frames over the WebSocket only.
    #[arg(long, value_name = "PORT", requires = "serve")]
    pub webrtc_port: Option<u16>,
    /// The address WebRTC clients reach this server at, when it is not `--bind`'s (behind
    /// NAT, or `--bind 0.0.0.0`).
    #[arg(long, value_name = "ADDR", requires = "webrtc_port")]
    pub webrtc_address: Option<IpAddr>,
    /// Address to listen on; anything but loopback needs a token or users [default: 127.0.0.1].
    #[arg(long, value_name = "ADDR", requires = "serve")]
    pub bind: Option<IpAddr>,
    /// Port to listen on (0: any free port) [default: 8080].
    #[arg(long, value_name = "N", requires = "serve")]
    pub port: Option<u16>,
    /// This render node's name when several serve one site behind a proxy (letters,
    /// digits, '-', '.'; e.g. the pod's name): sessions carry it so the proxy sends their
    /// reconnections and followers back here.
    #[arg(
        long,
        value_name = "NAME",
        env = "HOUNSFIELD_NODE_NAME",
        requires = "serve"
    )]
    pub node_name: Option<String>,
    /// A proxy in front of this server, as an address or network (`10.0.0.0/8`): for
    /// connections from it the client is the address it appends to `X-Forwarded-For` (for
    /// the failed-token lockout and the audit log); repeat for more.
    #[arg(long = "trusted-proxy", value_name = "NET", requires = "serve")]
    pub trusted_proxy: Vec<String>,
    /// The access token clients must present; generated and printed when needed and absent.
    #[arg(long, value_name = "T", requires = "serve")]
    pub token: Option<String>,
    /// Read the access token from this file (its first line).
    #[arg(long, value_name = "F", requires = "serve")]
    pub token_file: Option<PathBuf>,
    /// Named users with roles (TOML, see `hounsfield users`), instead of one token; read
    /// again when it changes.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub users: Option<PathBuf>,
    /// Sessions served at once [default: 16].
    #[arg(long, value_name = "N", requires = "serve")]
    pub max_sessions: Option<usize>,
    /// Connections open at once (pages, WebSockets and requests together); more are closed
    /// as they arrive [default: 256].
    #[arg(long, value_name = "N", requires = "serve")]
    pub max_connections: Option<usize>,
    /// A web origin (`https://host[:port]`) whose pages may open this server's WebSocket,
    /// besides the server's own page; repeat for more.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "serve")]
    pub allow_origin: Vec<String>,
    /// Memory for loaded volumes shared by the sessions (MiB), least recently used out
    /// first [default: 4096].
    #[arg(long, value_name = "MIB", requires = "serve")]
    pub cache_mb: Option<usize>,
    /// Memory one series may take while it loads (MiB); larger series are listed as
    /// unavailable. Default: half the machine's memory, at most --cache-mb
    /// (HOUNSFIELD_MAX_SERIES_MB sets it for every command).
    #[arg(long, value_name = "MIB", requires = "serve")]
    pub max_series_mb: Option<u64>,
    /// H.264 encoders to try for interactive frames: `auto` (NVENC, VA-API, Quick Sync,
    /// then x264), `off` (JPEG only), or FFmpeg encoder names separated by commas
    /// [default: auto].
    #[arg(long, value_name = "auto|off|NAMES", requires = "serve")]
    pub h264: Option<String>,
    /// The server's certificate chain (PEM), to serve HTTPS and WSS on the port (with
    /// --tls-key); read again when the file changes, so a renewal needs no restart.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS and WSS with a self-signed certificate for this machine's names and
    /// addresses, made once and kept in the state folder; its SHA-256 fingerprint is
    /// printed for clients to check.
    #[arg(long, requires = "serve")]
    pub tls_self_signed: bool,
    /// Where the server keeps what it makes (the self-signed certificate). Default:
    /// `$STATE_DIRECTORY` under systemd, else ~/.local/state/hounsfield.
    #[arg(long, value_name = "DIR", requires = "serve")]
    pub state_dir: Option<PathBuf>,
    /// Append the audit log (JSON lines: sessions, authentication failures, series opened,
    /// refusals, renderer restarts) to this file. Default under systemd:
    /// `$LOGS_DIRECTORY/audit.jsonl`; otherwise none.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub audit_log: Option<PathBuf>,
    /// Let sessions make their next frame fail on purpose (`test_fault` messages: a render
    /// thread panic, a wgpu validation error, a lost device, an encoder panic), so tests can
    /// see the server recover. For tests only; hidden from `--help`.
    #[arg(long, hide = true, requires = "serve")]
    pub test_faults: bool,
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
    Render(RenderArgs),
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

/// What `config` does.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read FILE as `--serve --config` would: every key and value checked, the files it
    /// names opened; prints the settings, or names the key at fault and exits 1.
    Check {
        /// The configuration file (TOML).
        file: PathBuf,
        /// Check the keys and values only, not the files and folders they name: for a file
        /// meant for another machine (a container image, a Kubernetes ConfigMap).
        #[arg(long)]
        keys_only: bool,
    },
}

/// What `users` does.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user with a new token, printed once on the last line.
    Add {
        /// The user's name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// viewer (joins shared sessions, view only), reader (opens any series, shares),
        /// or admin (reader, plus /metrics and the admin view).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// When access ends: a date (valid through that day, UTC) or an RFC 3339 time.
        #[arg(long, value_name = "DATE", value_parser = parse_expiry)]
        expires: Option<Expiry>,
        /// The users file (created when missing).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List the users: name, role, expiry and whether it has passed (never the hashes).
    List {
        /// The users file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove a user; a server reading the file ends their sessions within seconds.
    Remove {
        /// The user's name.
        name: String,
        /// The users file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

/// Parses a role's name.
fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text.trim())
        .ok_or_else(|| format!("{text:?} is not a role: viewer, reader or admin"))
}

/// Parses an expiry: a date or an RFC 3339 time.
fn parse_expiry(text: &str) -> Result<Expiry, String> {
    Expiry::parse(text)
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
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
    #[arg(long, value_name = "NODES", conflicts_with = "tls", value_parser = clap::value_parser!(u16).range(1..=8))]
    pub proxy: Option<u16>,
    /// How frames travel; several (`webrtc,websocket`) run the same H.264 drag once each
    /// and print the figures side by side.
    #[arg(long, value_enum, value_delimiter = ',', conflicts_with_all = ["tls", "proxy"])]
    pub transport: Vec<StreamTransport>,
    /// Packets lost on the way to the client, in percent: WebRTC's media packets (a seeded
    /// lossy UDP relay between client and server), the WebSocket's TCP packets (a seeded
    /// lossy link through a network namespace of its own; needs root). Several (`0,1,5`)
    /// run each transport once at each.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0",
        requires = "transport"
    )]
    pub loss: Vec<f64>,
}

/// What `bench soak` accepts.
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
    /// Draw a reformatted slice through the volume's centre instead: axial, coronal or sagittal.
    #[arg(long)]
    pub mpr: Option<String>,
    /// Slab thickness for --mpr (mm), combined by maximum intensity.
    #[arg(long, default_value_t = 0.0)]
    pub slab: f64,
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

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(text: &str) -> Result<[u32; 2], String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got '{text}'"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (1..=16384).contains(&n))
            .ok_or_else(|| format!("'{part}' is not a size between 1 and 16384"))
    };
    Ok([parse(w)?, parse(h)?])
}

/// Parses `WIDTH,CENTER`.
fn parse_window(text: &str) -> Result<[f64; 2], String> {
    let (w, c) = text
        .split_once(',')
        .ok_or_else(|| format!("expected WIDTH,CENTER, got '{text}'"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{part}' is not a number"))
    };
    let (width, center) = (parse(w)?, parse(c)?);
    if width <= 0.0 {
        return Err(format!("window width must be positive, got {width}"));
    }
    Ok([width, center])
}

/// The comma-separated numbers of `text`, each trimmed.
fn parse_numbers(text: &str) -> Result<Vec<f64>, String> {
    text.split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{part}' is not a number"))
        })
        .collect()
}

/// Parses `X,Y,Z` into three millimetre values.
fn parse_point(text: &str) -> Result<[f64; 3], String> {
    let values = parse_numbers(text)?;
    match values.as_slice() {
        [x, y, z] if values.iter().all(|v| v.is_finite()) => Ok([*x, *y, *z]),
        _ => Err(format!("expected X,Y,Z in mm, got '{text}'")),
    }
}

/// A crop box from `IMIN,JMIN,KMIN,IMAX,JMAX,KMAX` (fractions of the volume).
fn parse_crop(text: &str) -> Result<CropBox, String> {
    match parse_numbers(text)?.as_slice() {
        [i0, j0, k0, i1, j1, k1] => CropBox::checked([*i0, *j0, *k0], [*i1, *j1, *k1]),
        _ => Err(format!(
            "expected six fractions IMIN,JMIN,KMIN,IMAX,JMAX,KMAX, got '{text}'"
        )),
    }
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
