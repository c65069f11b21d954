//! What `hounsfield --serve` accepts: the server's options ([`ServeOptions`]), one type
//! that the command line and the configuration file both fill (each option a key of the
//! file, `_` for `-`).

use std::net::IpAddr;
use std::path::PathBuf;

use hounsfield_workstation::values::parse_non_empty_path;

/// What `--serve` accepts. Each option can also come from the configuration file
/// (`--config`, a key of the same name with `_` for `-`): what the command line gives wins,
/// and what neither gives takes the default named in its help.
#[derive(Debug, Default, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeOptions {
    /// Stream rendered frames over WebSocket to browsers and thin clients (HTTP and
    /// WebSocket on one port).
    #[arg(long)]
    #[serde(skip)]
    pub serve: bool,
    /// The configuration file (TOML): every option below as a key; relative paths in it are
    /// taken from its folder. `hounsfield config check FILE` validates one.
    #[arg(long, value_name = "FILE", requires = "serve")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// A folder of DICOM, or a PACS's DICOMweb base URL (http(s)://host:port/dicom-web: its
    /// studies listed at start, a series retrieved when opened), to serve; repeat for more.
    /// None: the built-in sample volume.
    #[arg(long = "library", value_name = "DIR|URL", requires = "serve", value_parser = parse_non_empty_path)]
    #[serde(default)]
    pub library: Vec<PathBuf>,
    /// Receive studies over DICOM networking on this TCP port (a Storage SCP answering
    /// C-STORE and C-ECHO, on the address of `--bind`): what arrives is stored in
    /// `--dicom-store` and listed when its association ends.
    #[arg(long, value_name = "PORT", requires = "serve")]
    pub dicom_port: Option<u16>,
    /// This server's AE title, which callers must call it by [default: HOUNSFIELD].
    #[arg(long, value_name = "NAME", requires = "dicom_port")]
    pub ae_title: Option<String>,
    /// A DICOM caller allowed to store, as AE@HOST (its calling AE title and its host's
    /// address or name); repeat for more. None: any caller on loopback alone.
    #[arg(long = "dicom-allow", value_name = "AE@HOST", requires = "dicom_port")]
    #[serde(default)]
    pub dicom_allow: Vec<String>,
    /// The folder received studies are stored in (`STUDY/SERIES/SOP.dcm`), catalogued with
    /// the library [default: `received` in the state folder].
    #[arg(long, value_name = "DIR", requires = "dicom_port", value_parser = parse_non_empty_path)]
    pub dicom_store: Option<PathBuf>,
    /// The most the store folder may hold (GB); an instance past it is refused (out of
    /// resources) [default: 100].
    #[arg(long, value_name = "GB", requires = "dicom_port")]
    pub dicom_store_gb: Option<u64>,
    /// DICOM associations one address may open in a minute [default: 60].
    #[arg(long, value_name = "N", requires = "dicom_port")]
    pub dicom_associations_per_minute: Option<usize>,
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
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The access token clients must present; generated and printed when needed and absent.
    #[arg(long, value_name = "T", requires = "serve")]
    pub token: Option<String>,
    /// Read the access token from this file (its first line).
    #[arg(long, value_name = "F", requires = "serve", value_parser = parse_non_empty_path)]
    pub token_file: Option<PathBuf>,
    /// Named users with roles (TOML, see `hounsfield users`), instead of one token; read
    /// again when it changes.
    #[arg(long, value_name = "FILE", requires = "serve", value_parser = parse_non_empty_path)]
    pub users: Option<PathBuf>,
    /// The site's OpenID Connect provider (its issuer URL): users sign in there from the
    /// web page (authorization code with PKCE), beside the token or the users file.
    #[arg(long, value_name = "URL", requires = "serve")]
    pub oidc_issuer: Option<String>,
    /// This server's client id at the provider.
    #[arg(long, value_name = "ID", requires = "serve")]
    pub oidc_client_id: Option<String>,
    /// A file whose first line is the client secret, where the provider treats this
    /// server as a confidential client (else PKCE alone proves it).
    #[arg(long, value_name = "FILE", requires = "serve", value_parser = parse_non_empty_path)]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Where the provider sends browsers back: this server's `/auth/callback` as browsers
    /// reach it (behind a proxy, the proxy's address), registered at the provider.
    #[arg(long, value_name = "URL", requires = "serve")]
    pub oidc_redirect_url: Option<String>,
    /// The ID token's claim whose values give the user's role; a dotted name reaches into
    /// objects (`realm_access.roles`) [default: roles].
    #[arg(long, value_name = "CLAIM", requires = "serve")]
    pub oidc_role_claim: Option<String>,
    /// A claim value and the role it gives (`radiology=reader`); repeat for more. Without
    /// any, values that are role names (viewer, reader, admin) give those roles.
    #[arg(long = "oidc-role", value_name = "VALUE=ROLE", requires = "serve")]
    #[serde(default)]
    pub oidc_roles: Vec<String>,
    /// Sessions served at once [default: 16].
    #[arg(long, value_name = "N", requires = "serve")]
    pub max_sessions: Option<usize>,
    /// Connections open at once (pages, WebSockets and requests together); when all are
    /// taken, a new one takes the place of one that has sent no whole request (or no
    /// `hello`) for a second, else it is closed [default: 256].
    #[arg(long, value_name = "N", requires = "serve")]
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address (an IPv6 /64; trusted proxies
    /// excepted); more are closed as they arrive [default: 32].
    #[arg(long, value_name = "N", requires = "serve")]
    pub max_connections_per_address: Option<usize>,
    /// A web origin (`https://host[:port]`) whose pages may open this server's WebSocket,
    /// besides the server's own page; repeat for more.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "serve")]
    #[serde(default)]
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
    #[arg(long, value_name = "FILE", requires = "serve", value_parser = parse_non_empty_path)]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "serve", value_parser = parse_non_empty_path)]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS and WSS with a self-signed certificate for this machine's names and
    /// addresses, made once and kept in the state folder; its SHA-256 fingerprint is
    /// printed for clients to check.
    #[arg(long, requires = "serve")]
    #[serde(default)]
    pub tls_self_signed: bool,
    /// Where the server keeps what it makes (the self-signed certificate). Default:
    /// `$STATE_DIRECTORY` under systemd, else ~/.local/state/hounsfield.
    #[arg(long, value_name = "DIR", requires = "serve", value_parser = parse_non_empty_path)]
    pub state_dir: Option<PathBuf>,
    /// Append the audit log (JSON lines: sessions, authentication failures, series opened,
    /// refusals, renderer restarts) to this file. Default under systemd:
    /// `$LOGS_DIRECTORY/audit.jsonl`; otherwise none.
    #[arg(long, value_name = "FILE", requires = "serve", value_parser = parse_non_empty_path)]
    pub audit_log: Option<PathBuf>,
    /// A segmentation model the site provides (ONNX; see `segment --model`): readers run
    /// it on the open series from the page or `connect` (`run_model`). Read and checked at
    /// start.
    #[arg(long, value_name = "FILE.onnx", requires = "serve", value_parser = parse_non_empty_path)]
    pub model: Option<PathBuf>,
    /// A folder of the site's hanging protocols (`*.toml`, as `presets/hanging/` writes
    /// them): how a study opened from the web page's browser or a worklist's link is laid
    /// out, beside the built-in ones (a site's protocol replaces a built-in of its name).
    /// Read and checked at start.
    #[arg(long, value_name = "DIR", requires = "serve", value_parser = parse_non_empty_path)]
    pub hanging_protocols: Option<PathBuf>,
    /// Let the host of a shared session hand its controls to a viewer (readers may always
    /// be given them).
    #[arg(long, requires = "serve")]
    #[serde(default)]
    pub viewers_may_steer: bool,
    /// Let sessions make their next frame fail on purpose (`test_fault` messages: a render
    /// thread panic, a wgpu validation error, a lost device, an encoder panic), so tests can
    /// see the server recover. For tests only, in the developer build (`--features
    /// test-bench`); hidden from `--help`.
    #[cfg(feature = "test-bench")]
    #[arg(long, hide = true, requires = "serve")]
    #[serde(skip)]
    pub test_faults: bool,
    /// The file holding the bearer token for the library's PACS (the file only).
    #[arg(skip)]
    pub dicomweb_token_file: Option<PathBuf>,
    /// The user for the library's PACS, with `dicomweb_password_file` (the file only).
    #[arg(skip)]
    pub dicomweb_user: Option<String>,
    /// The file holding that user's password (the file only).
    #[arg(skip)]
    pub dicomweb_password_file: Option<PathBuf>,
}
