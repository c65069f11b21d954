//! How the desktop window is started: what `open` and `connect` accept, where the window
//! renders (`--render`, `--server`, `--transport`). The command line flattens these into
//! its own; the window reads them.

use std::path::PathBuf;

use hounsfield_tls::Fingerprint;
use hounsfield_workstation::values::parse_crop;
use render_core::view::CropBox;

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

/// What `open` accepts.
#[derive(Debug, Default, clap::Args)]
pub struct OpenArgs {
    /// A file, folder or DICOMDIR, or a DICOMweb URL (with --series); none: the built-in
    /// sample volume.
    pub path: Option<PathBuf>,
    /// Series id (from `info`) or series number; default: the largest series.
    #[arg(long)]
    pub series: Option<String>,
    /// The study to read (its StudyInstanceUID), laid out by the hanging protocols with the
    /// same patient's newest fitting prior found in the same path: the first cell here, the
    /// second beside it; without a fitting protocol, the study's first volume.
    #[arg(long, value_name = "UID", requires = "path", conflicts_with_all = ["series", "beside"])]
    pub study: Option<String>,
    /// The site's hanging protocols (`*.toml`), beside the built-in ones, for `--study`.
    #[arg(long, value_name = "DIR", requires = "study")]
    pub hanging_protocols: Option<PathBuf>,
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
    /// A second series of PATH (its id or number) drawn over the slices: a PET over its
    /// CT, a perfusion map over an anatomical MR, of the same patient. Linked by frame of
    /// reference, else by the volumes' centres; the bar above the views restyles it.
    #[arg(
        long,
        value_name = "SERIES",
        requires = "path",
        conflicts_with = "study"
    )]
    pub over: Option<String>,
    /// Start with the 3D view cropped to a box: fractions 0..1 of the volume along i, j, k
    /// (towards the patient's left, posterior, superior), e.g. `0.5,0,0,1,1,1` for the
    /// left half.
    #[arg(long, value_name = "IMIN,JMIN,KMIN,IMAX,JMAX,KMAX", value_parser = parse_crop)]
    pub crop: Option<CropBox>,
    /// The site's segmentation model (ONNX): the segments panel's Run model runs it on
    /// the series rendered here, each class it finds becoming a segment. Read and
    /// checked before the window opens.
    #[arg(long, value_name = "FILE.onnx")]
    pub model: Option<PathBuf>,
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
    /// Sign in through the server's identity provider in the system's browser (`$BROWSER`
    /// when set), before the window opens. Without a token this happens by itself on a
    /// server that wants a login and signs users in that way.
    #[arg(long, conflicts_with = "token")]
    pub sign_on: bool,
    /// The login the sign-in gave (sent as the login cookie); not a flag.
    #[arg(skip)]
    pub login: Option<String>,
    /// The series id to open; default: the first the server lists.
    #[arg(long)]
    pub series: Option<String>,
    /// The study to open (its StudyInstanceUID): its first volume, as a worklist's link
    /// opens it.
    #[arg(long, value_name = "UID", conflicts_with_all = ["series", "join"])]
    pub study: Option<String>,
    /// Join the shared session with this id (from a reader's share link, `?join=ID`,
    /// which the URL may carry instead): its series opens and the view follows the
    /// host's; the participants see each other's pointers.
    #[arg(long, value_name = "ID", conflicts_with = "series")]
    pub join: Option<String>,
    /// Draw this series (of the same patient) over the slices, in the `hot` map at half
    /// opacity; the bar above the frame changes it.
    #[arg(long, value_name = "SERIES", conflicts_with = "join")]
    pub over: Option<String>,
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

impl ConnectArgs {
    /// The certificate fingerprint `--fingerprint` gives, read; why not, naming the flag.
    pub fn given_fingerprint(&self) -> Result<Option<Fingerprint>, String> {
        self.fingerprint
            .as_deref()
            .map(|given| {
                Fingerprint::parse(given).ok_or_else(|| {
                    format!("--fingerprint {given:?}: expected 64 hex digits (colons allowed)")
                })
            })
            .transpose()
    }
}
