//! What `--serve` runs with: the command line over the configuration file over the
//! defaults, every value checked once here, so that an error names the key (or flag) and
//! where it was given before anything starts.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::cli::ServeOptions;
use crate::commands::serve::config_file;

/// The port served when neither the command line nor the file names one.
pub const DEFAULT_PORT: u16 = 8080;
/// Sessions served at once by default.
pub const DEFAULT_MAX_SESSIONS: usize = 16;
/// Connections open at once by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Connections open at once from one address by default.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 32;
/// Memory for loaded volumes by default (MiB).
pub const DEFAULT_CACHE_MB: usize = 4096;
/// Seconds between listings of the library's PACS when none is given.
pub const DEFAULT_PACS_REFRESH_S: u64 = 300;
/// The most sessions (and ten times the most connections) a node may be set to serve: a
/// bound on what a typing error can make it reserve.
const MOST_SESSIONS: usize = 10_000;

/// How clients prove who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAccess {
    /// No token given (generated when the address needs one).
    Open,
    /// One shared token.
    Token(String),
    /// One shared token, read from this file.
    TokenFile(PathBuf),
    /// Named users with roles, from this file.
    Users(PathBuf),
}

/// How the port is secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsChoice {
    /// Plain HTTP.
    Off,
    /// The certificate chain and key in these files.
    Files {
        /// The certificate chain (PEM).
        certificate: PathBuf,
        /// Its private key (PEM).
        key: PathBuf,
    },
    /// A self-signed certificate kept in the state folder.
    SelfSigned,
}

/// Everything `--serve` runs with, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeSettings {
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// Folders of DICOM (none: the built-in sample).
    pub library: Vec<PathBuf>,
    /// The address to listen on.
    pub bind: IpAddr,
    /// The port to listen on.
    pub port: u16,
    /// WebRTC's UDP address and the address announced, when WebRTC is on.
    pub webrtc: Option<hounsfield_webrtc::WebRtcConfig>,
    /// This render node's name, when it is one of several.
    pub node_name: Option<String>,
    /// Proxies in front of the server, whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How clients prove who they are.
    pub access: ClientAccess,
    /// Sessions served at once.
    pub max_sessions: usize,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one address (trusted proxies excepted).
    pub max_connections_per_address: usize,
    /// Web origins whose pages may open the WebSocket.
    pub allow_origin: Vec<String>,
    /// Memory for loaded volumes (MiB).
    pub cache_mb: usize,
    /// Memory one series may take while it loads (MiB); `None`: from the machine's memory.
    pub max_series_mb: Option<u64>,
    /// The H.264 encoders to try, in order (empty: JPEG only).
    pub h264_encoders: Vec<String>,
    /// How the port is secured.
    pub tls: TlsChoice,
    /// Where the server keeps what it makes, when given.
    pub state_dir: Option<PathBuf>,
    /// The audit log, when given.
    pub audit_log: Option<PathBuf>,
    /// The segmentation model, when given.
    pub model: Option<PathBuf>,
    /// The site's folder of hanging protocols, when given.
    pub hanging_protocols: Option<PathBuf>,
    /// Whether the host of a shared session may hand its controls to a viewer.
    pub viewers_may_steer: bool,
    /// Time between listings of the library's PACS.
    pub pacs_refresh: std::time::Duration,
    /// How the library's PACS is asked, from the configuration file (the command line's
    /// `--dicomweb-token` or `--dicomweb-user` win).
    pub pacs_auth: Option<PacsAuth>,
    /// The Storage SCP, when studies are received over DICOM networking.
    pub dicom: Option<DicomSettings>,
    /// The site's identity provider, when users sign in through one (its client secret
    /// still in its file).
    pub sign_on: Option<SignOnChoice>,
    /// Whether sessions may make frames fail on purpose (tests only, in the developer
    /// build).
    #[cfg(feature = "test-bench")]
    pub test_faults: bool,
}

/// The site's OpenID Connect provider, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnChoice {
    /// The provider and how its claims give roles (no secret yet).
    pub settings: hounsfield_sign_on::SignOnSettings,
    /// The file holding the client secret, when the server is a confidential client.
    pub secret_file: Option<PathBuf>,
}

/// The Storage SCP's settings (`--dicom-port` and the options beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DicomSettings {
    /// Its TCP port (on the address served).
    pub port: u16,
    /// Its AE title.
    pub ae_title: String,
    /// The callers allowed (none: loopback callers alone).
    pub allowed: Vec<hounsfield_dimse::AllowedCaller>,
    /// The store folder, when given (else `received` in the state folder).
    pub store: Option<PathBuf>,
    /// The most the store folder may hold (bytes).
    pub store_bytes: u64,
    /// Associations one address may open in a minute.
    pub associations_per_minute: usize,
}

/// The AE title of a server given none.
pub const DEFAULT_AE_TITLE: &str = "HOUNSFIELD";
/// The store folder's limit when none is given (GB).
pub const DEFAULT_DICOM_STORE_GB: u64 = 100;
/// Associations one address may open in a minute when no number is given.
pub const DEFAULT_DICOM_ASSOCIATIONS_PER_MINUTE: usize = 60;

/// Where the secret for the library's PACS is kept (read when the library is made, so it
/// never sits in the settings or their log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacsAuth {
    /// A bearer token, the first line of this file.
    TokenFile(PathBuf),
    /// HTTP basic authentication as `user`, the password the first line of a file.
    Basic {
        /// The user name.
        user: String,
        /// The file holding the password.
        password_file: PathBuf,
    },
}

/// Where a value was given: said in every error about it.
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// On the command line, as this flag.
    Flag(&'a str),
    /// In the configuration file, under this key.
    Key(&'a str, &'a Path),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "--{flag}"),
            Self::Key(key, file) => write!(f, "{key} in {}", file.display()),
        }
    }
}

impl ServeSettings {
    /// The settings `args` and its configuration file (`--config`) make together.
    pub fn resolve(args: &ServeOptions) -> anyhow::Result<Self> {
        let (file, path) = match &args.config {
            Some(path) => (config_file::read(path)?, Some(path.as_path())),
            None => (ServeOptions::default(), None),
        };
        Self::merge(args, &file, path)
    }

    /// The settings of `args` over `file` (read from `path`) over the defaults.
    fn merge(
        args: &ServeOptions,
        file: &ServeOptions,
        path: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let config_path = path.unwrap_or(Path::new("the configuration file"));
        // The command line's value and its flag, else the file's and its key.
        macro_rules! given {
            ($field:ident, $flag:literal) => {
                match (&args.$field, &file.$field) {
                    (Some(value), _) => Some((value.clone(), Place::Flag($flag))),
                    (None, Some(value)) => {
                        Some((value.clone(), Place::Key(stringify!($field), config_path)))
                    }
                    (None, None) => None,
                }
            };
        }
        let (library, _) = listed(
            &args.library,
            &file.library,
            "library",
            "library",
            config_path,
        );
        let (allow_origin, origin_place) = listed(
            &args.allow_origin,
            &file.allow_origin,
            "allow-origin",
            "allow_origin",
            config_path,
        );
        hounsfield_server::OriginPolicy::new(false, &allow_origin)
            .map_err(|why| anyhow::anyhow!("{origin_place}: {why}"))?;
        let (proxies, proxies_place) = listed(
            &args.trusted_proxies,
            &file.trusted_proxies,
            "trusted-proxy",
            "trusted_proxies",
            config_path,
        );
        let trusted_proxies = networks(&proxies, proxies_place)?;
        let node_name = given!(node_name, "node-name")
            .map(|(name, place)| checked_node_name(name, place))
            .transpose()?;
        let max_sessions = given!(max_sessions, "max-sessions")
            .map(|(n, place)| within(n, 1, MOST_SESSIONS, place))
            .transpose()?
            .unwrap_or(DEFAULT_MAX_SESSIONS);
        let max_connections = given!(max_connections, "max-connections")
            .map(|(n, place)| within(n, 1, MOST_SESSIONS * 10, place))
            .transpose()?
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        let max_connections_per_address =
            given!(max_connections_per_address, "max-connections-per-address")
                .map(|(n, place)| within(n, 1, MOST_SESSIONS * 10, place))
                .transpose()?
                .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
        let cache_mb = given!(cache_mb, "cache-mb")
            .map(|(n, place)| within(n, 16, 1 << 24, place))
            .transpose()?
            .unwrap_or(DEFAULT_CACHE_MB);
        let max_series_mb = given!(max_series_mb, "max-series-mb")
            .map(|(n, place)| within(n, 1, 1 << 24, place))
            .transpose()?;
        let h264_encoders = match given!(h264, "h264") {
            Some((choice, place)) => h264_encoders(&choice, place)?,
            None => h264_encoders("auto", Place::Flag("h264"))?,
        };
        let access = client_access(
            given!(token, "token"),
            given!(token_file, "token-file"),
            given!(users, "users"),
        )?;
        let tls_self_signed = if args.tls_self_signed {
            Some((true, Place::Flag("tls-self-signed")))
        } else {
            file.tls_self_signed
                .then_some((true, Place::Key("tls_self_signed", config_path)))
        };
        let tls = tls_choice(
            given!(tls_cert, "tls-cert"),
            given!(tls_key, "tls-key"),
            tls_self_signed,
        )?;
        let bind = given!(bind, "bind").map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |(ip, _)| ip);
        let webrtc = webrtc(
            bind,
            given!(webrtc_port, "webrtc-port"),
            given!(webrtc_address, "webrtc-address"),
        )?;
        let dicom = dicom(DicomGiven {
            port: given!(dicom_port, "dicom-port"),
            ae_title: given!(ae_title, "ae-title"),
            allow: listed(
                &args.dicom_allow,
                &file.dicom_allow,
                "dicom-allow",
                "dicom_allow",
                config_path,
            ),
            store: given!(dicom_store, "dicom-store"),
            store_gb: given!(dicom_store_gb, "dicom-store-gb"),
            per_minute: given!(
                dicom_associations_per_minute,
                "dicom-associations-per-minute"
            ),
        })?;
        let (roles, roles_place) = listed(
            &args.oidc_roles,
            &file.oidc_roles,
            "oidc-role",
            "oidc_roles",
            config_path,
        );
        let sign_on = sign_on(SignOnGiven {
            issuer: given!(oidc_issuer, "oidc-issuer"),
            client_id: given!(oidc_client_id, "oidc-client-id"),
            secret_file: given!(oidc_client_secret_file, "oidc-client-secret-file"),
            redirect_url: given!(oidc_redirect_url, "oidc-redirect-url"),
            role_claim: given!(oidc_role_claim, "oidc-role-claim"),
            roles: (roles, roles_place),
        })?;
        Ok(Self {
            config_file: path.map(Path::to_path_buf),
            library,
            bind,
            port: given!(port, "port").map_or(DEFAULT_PORT, |(port, _)| port),
            webrtc,
            node_name,
            trusted_proxies,
            access,
            max_sessions,
            max_connections,
            max_connections_per_address,
            allow_origin,
            cache_mb,
            max_series_mb,
            h264_encoders,
            tls,
            state_dir: given!(state_dir, "state-dir").map(|(dir, _)| dir),
            audit_log: given!(audit_log, "audit-log").map(|(file, _)| file),
            model: given!(model, "model").map(|(file, _)| file),
            hanging_protocols: given!(hanging_protocols, "hanging-protocols").map(|(dir, _)| dir),
            viewers_may_steer: args.viewers_may_steer || file.viewers_may_steer,
            pacs_refresh: std::time::Duration::from_secs(
                given!(pacs_refresh, "pacs-refresh")
                    .map(|(seconds, place)| within(seconds, 1, 86_400, place))
                    .transpose()?
                    .unwrap_or(DEFAULT_PACS_REFRESH_S),
            ),
            pacs_auth: pacs_auth(file, config_path)?,
            dicom,
            sign_on,
            #[cfg(feature = "test-bench")]
            test_faults: args.test_faults,
        })
    }
}

/// The Storage SCP's options as given, each with where it was given.
struct DicomGiven<'a> {
    port: Option<(u16, Place<'a>)>,
    ae_title: Option<(String, Place<'a>)>,
    allow: (Vec<String>, Place<'a>),
    store: Option<(PathBuf, Place<'a>)>,
    store_gb: Option<(u64, Place<'a>)>,
    per_minute: Option<(usize, Place<'a>)>,
}

/// The Storage SCP's settings, when a DICOM port is given; the options that need one are
/// refused without it.
fn dicom(given: DicomGiven<'_>) -> anyhow::Result<Option<DicomSettings>> {
    let (allow, allow_place) = given.allow;
    let Some((port, _)) = given.port else {
        let needing = [
            given.ae_title.map(|(_, place)| place),
            given.store.map(|(_, place)| place),
            given.store_gb.map(|(_, place)| place),
            given.per_minute.map(|(_, place)| place),
            (!allow.is_empty()).then_some(allow_place),
        ];
        if let Some(place) = needing.into_iter().flatten().next() {
            anyhow::bail!("{place} is given without dicom-port: no DICOM is received");
        }
        return Ok(None);
    };
    let ae_title = match given.ae_title {
        Some((title, place)) => {
            let trimmed = title.trim();
            if trimmed.is_empty()
                || trimmed.chars().count() > 16
                || trimmed.chars().any(|c| c == '\\' || c.is_control())
            {
                anyhow::bail!(
                    "{place} = {title:?}: an AE title is 1 to 16 characters, without backslashes"
                );
            }
            trimmed.to_string()
        }
        None => DEFAULT_AE_TITLE.to_string(),
    };
    let allowed = each_parsed(&allow, &allow_place, |caller| {
        hounsfield_dimse::AllowedCaller::parse(caller)
    })?;
    let store_gb = given
        .store_gb
        .map(|(gb, place)| within(gb, 1, 1 << 20, place))
        .transpose()?
        .unwrap_or(DEFAULT_DICOM_STORE_GB);
    let associations_per_minute = given
        .per_minute
        .map(|(n, place)| within(n, 1, 100_000, place))
        .transpose()?
        .unwrap_or(DEFAULT_DICOM_ASSOCIATIONS_PER_MINUTE);
    Ok(Some(DicomSettings {
        port,
        ae_title,
        allowed,
        store: given.store.map(|(dir, _)| dir),
        store_bytes: store_gb.saturating_mul(1_000_000_000),
        associations_per_minute,
    }))
}

/// WebRTC on `port` (UDP) of the address served, announced as `address` when given:
/// an address is needed to announce when the one served is unspecified (`0.0.0.0`).
fn webrtc(
    bind: IpAddr,
    port: Option<(u16, Place<'_>)>,
    address: Option<(IpAddr, Place<'_>)>,
) -> anyhow::Result<Option<hounsfield_webrtc::WebRtcConfig>> {
    let Some((port, port_place)) = port else {
        if let Some((_, place)) = address {
            anyhow::bail!("{place} is given without webrtc-port: WebRTC is off");
        }
        return Ok(None);
    };
    if let Some((announced, place)) = address
        && (announced.is_unspecified() || announced.is_multicast())
    {
        anyhow::bail!("{place} = {announced}: clients need an address they can reach");
    }
    if bind.is_unspecified() && address.is_none() {
        anyhow::bail!(
            "{port_place}: the server listens on {bind}, so WebRTC needs the address clients reach it at (webrtc-address)"
        );
    }
    Ok(Some(hounsfield_webrtc::WebRtcConfig {
        bind: std::net::SocketAddr::new(bind, port),
        announce: address.map(|(announced, _)| announced),
    }))
}

/// A list the command line gives (repeating `--flag`), else the file's under `key`: the
/// values and where they were given.
fn listed<'a, T: Clone>(
    given: &[T],
    in_file: &[T],
    flag: &'a str,
    key: &'a str,
    config_path: &'a Path,
) -> (Vec<T>, Place<'a>) {
    if given.is_empty() {
        (in_file.to_vec(), Place::Key(key, config_path))
    } else {
        (given.to_vec(), Place::Flag(flag))
    }
}

/// Addresses (`10.1.2.3`) and networks (`10.0.0.0/8`), each checked.
fn networks(texts: &[String], place: Place<'_>) -> anyhow::Result<Vec<ipnet::IpNet>> {
    texts
        .iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{place} = {:?}: not an address or network (e.g. 10.0.0.0/8)",
                        text.chars().take(80).collect::<String>()
                    )
                })
        })
        .collect()
}

/// `value` when it lies in `low..=high`, else an error naming where it was given.
fn within<T: PartialOrd + fmt::Display>(
    value: T,
    low: T,
    high: T,
    place: Place<'_>,
) -> anyhow::Result<T> {
    if value < low || value > high {
        anyhow::bail!("{place} = {value}: must be from {low} to {high}");
    }
    Ok(value)
}

/// A node name fit for a cookie, a URL parameter and a proxy's server name: letters,
/// digits, '-' and '.', 1 to 63 of them, as a DNS label (a pod's name is one).
fn checked_node_name(name: String, place: Place<'_>) -> anyhow::Result<String> {
    let fits = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !fits {
        anyhow::bail!(
            "{place} = {:?}: a node name is 1 to 63 letters, digits, '-' or '.' (a pod's name, say)",
            name.chars().take(80).collect::<String>()
        );
    }
    Ok(name)
}

/// The H.264 encoders `choice` names: `auto`, `off` or FFmpeg names separated by commas.
fn h264_encoders(choice: &str, place: Place<'_>) -> anyhow::Result<Vec<String>> {
    match choice.trim() {
        "auto" => Ok(hounsfield_video::encode::DEFAULT_ENCODERS
            .map(str::to_string)
            .to_vec()),
        "off" => Ok(Vec::new()),
        names => {
            let names: Vec<String> = names
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect();
            let well_formed = |name: &String| {
                name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            };
            if names.is_empty() || !names.iter().all(well_formed) {
                anyhow::bail!(
                    "{place} = {choice:?}: takes auto, off or FFmpeg encoder names separated by commas (e.g. libx264)"
                );
            }
            Ok(names)
        }
    }
}

/// How the file says the library's PACS is asked: a token file, or a user with a password
/// file (both or neither), not both ways.
fn pacs_auth(file: &ServeOptions, config_path: &Path) -> anyhow::Result<Option<PacsAuth>> {
    let place = |key| Place::Key(key, config_path);
    match (
        &file.dicomweb_token_file,
        &file.dicomweb_user,
        &file.dicomweb_password_file,
    ) {
        (None, None, None) => Ok(None),
        (Some(token_file), None, None) => Ok(Some(PacsAuth::TokenFile(token_file.clone()))),
        (None, Some(user), Some(password_file)) => {
            if user.trim().is_empty() || user.contains(':') {
                anyhow::bail!(
                    "{}: a user name, not empty and without ':'",
                    place("dicomweb_user")
                );
            }
            Ok(Some(PacsAuth::Basic {
                user: user.trim().to_string(),
                password_file: password_file.clone(),
            }))
        }
        (None, Some(_), None) => anyhow::bail!(
            "{}: give dicomweb_password_file with it",
            place("dicomweb_user")
        ),
        (None, None, Some(_)) => anyhow::bail!(
            "{}: give dicomweb_user with it",
            place("dicomweb_password_file")
        ),
        (Some(_), _, _) => anyhow::bail!(
            "{}: give either it or dicomweb_user, not both",
            place("dicomweb_token_file")
        ),
    }
}

/// One way for clients to prove who they are: a token, a token file or a users file.
fn client_access(
    token: Option<(String, Place<'_>)>,
    token_file: Option<(PathBuf, Place<'_>)>,
    users: Option<(PathBuf, Place<'_>)>,
) -> anyhow::Result<ClientAccess> {
    match (token, token_file, users) {
        (None, None, None) => Ok(ClientAccess::Open),
        (Some((token, place)), None, None) => {
            if token.trim().is_empty() {
                anyhow::bail!("{place}: the access token is empty");
            }
            Ok(ClientAccess::Token(token.trim().to_string()))
        }
        (None, Some((file, _)), None) => Ok(ClientAccess::TokenFile(file)),
        (None, None, Some((file, _))) => Ok(ClientAccess::Users(file)),
        (token, token_file, users) => {
            let places: Vec<String> = [
                token.map(|(_, place)| place.to_string()),
                token_file.map(|(_, place)| place.to_string()),
                users.map(|(_, place)| place.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            anyhow::bail!(
                "{}: give one of token, token_file and users, not several",
                places.join(" and ")
            )
        }
    }
}

/// The `oidc` options as given, each with where it was given.
struct SignOnGiven<'a> {
    issuer: Option<(String, Place<'a>)>,
    client_id: Option<(String, Place<'a>)>,
    secret_file: Option<(PathBuf, Place<'a>)>,
    redirect_url: Option<(String, Place<'a>)>,
    role_claim: Option<(String, Place<'a>)>,
    roles: (Vec<String>, Place<'a>),
}

/// The role claim read when the site names none.
const DEFAULT_ROLE_CLAIM: &str = "roles";

/// Sign-on through the provider the `oidc` options name, checked; none without an issuer
/// (and then no other `oidc` option may be given).
fn sign_on(given: SignOnGiven<'_>) -> anyhow::Result<Option<SignOnChoice>> {
    let Some((issuer, issuer_place)) = given.issuer else {
        let stray = [
            given.client_id.map(|(_, place)| place.to_string()),
            given.secret_file.map(|(_, place)| place.to_string()),
            given.redirect_url.map(|(_, place)| place.to_string()),
            given.role_claim.map(|(_, place)| place.to_string()),
            (!given.roles.0.is_empty()).then(|| given.roles.1.to_string()),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(place) = stray {
            anyhow::bail!("{place} is given without the provider (oidc_issuer, --oidc-issuer)");
        }
        return Ok(None);
    };
    let url = |text: &str, place: &Place<'_>| {
        url::Url::parse(text.trim()).map_err(|error| anyhow::anyhow!("{place} = {text:?}: {error}"))
    };
    let issuer = url(&issuer, &issuer_place)?;
    let (client_id, _) = given.client_id.ok_or_else(|| {
        anyhow::anyhow!("{issuer_place} needs the client id too (oidc_client_id, --oidc-client-id)")
    })?;
    let (redirect, redirect_place) = given.redirect_url.ok_or_else(|| {
        anyhow::anyhow!(
            "{issuer_place} needs this server's callback address too, as browsers reach it \
             (oidc_redirect_url, --oidc-redirect-url: https://HOST/auth/callback)"
        )
    })?;
    let redirect_url = url(&redirect, &redirect_place)?;
    let (roles, roles_place) = given.roles;
    let roles = each_parsed(
        &roles,
        &roles_place,
        hounsfield_sign_on::SignOnSettings::role_mapping,
    )?;
    Ok(Some(SignOnChoice {
        settings: hounsfield_sign_on::SignOnSettings {
            issuer,
            client_id: client_id.trim().to_string(),
            client_secret: None,
            redirect_url,
            role_claim: given.role_claim.map_or_else(
                || DEFAULT_ROLE_CLAIM.to_string(),
                |(claim, _)| claim.trim().to_string(),
            ),
            roles,
        },
        secret_file: given.secret_file.map(|(file, _)| file),
    }))
}

/// Each of `texts` (given at `place`) parsed by `parse`; the first refusal names the
/// place and why.
fn each_parsed<T, E: fmt::Display>(
    texts: &[String],
    place: &Place<'_>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> anyhow::Result<Vec<T>> {
    texts
        .iter()
        .map(|text| parse(text).map_err(|why| anyhow::anyhow!("{place}: {why}")))
        .collect()
}

/// TLS from a certificate and its key, or self-signed, or off.
fn tls_choice(
    certificate: Option<(PathBuf, Place<'_>)>,
    key: Option<(PathBuf, Place<'_>)>,
    self_signed: Option<(bool, Place<'_>)>,
) -> anyhow::Result<TlsChoice> {
    let self_signed = self_signed.filter(|(on, _)| *on);
    match (certificate, key, self_signed) {
        (Some((certificate, _)), Some((key, _)), None) => Ok(TlsChoice::Files { certificate, key }),
        (None, None, Some(_)) => Ok(TlsChoice::SelfSigned),
        (None, None, None) => Ok(TlsChoice::Off),
        (Some((_, place)), None, None) => {
            anyhow::bail!("{place} is given without its key (tls_key, --tls-key)")
        }
        (None, Some((_, place)), None) => {
            anyhow::bail!("{place} is given without its certificate (tls_cert, --tls-cert)")
        }
        (_, _, Some((_, place))) => {
            anyhow::bail!(
                "{place} and a certificate file (tls_cert, tls_key) are both given: choose one"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(line: &[&str]) -> ServeOptions {
        let mut argv = vec!["hounsfield", "--serve"];
        argv.extend_from_slice(line);
        crate::cli::Cli::try_parse_from(argv).expect("parsed").serve
    }

    fn file(text: &str) -> ServeOptions {
        toml::from_str(text).expect("a configuration")
    }

    fn merged(line: &[&str], text: &str) -> anyhow::Result<ServeSettings> {
        ServeSettings::merge(
            &args(line),
            &file(text),
            Some(Path::new("/etc/hounsfield/hounsfield.toml")),
        )
    }

    #[test]
    fn every_key_reaches_its_setting() {
        let settings = merged(
            &[],
            r#"
                library = ["/srv/ct", "/srv/mr"]
                bind = "0.0.0.0"
                port = 8443
                node_name = "hounsfield-2"
                users = "/etc/hounsfield/users.toml"
                max_sessions = 5
                max_connections = 77
                max_connections_per_address = 7
                allow_origin = ["https://viewer.hospital.example"]
                cache_mb = 1024
                max_series_mb = 512
                h264 = "libx264"
                tls_cert = "/etc/hounsfield/tls/cert.pem"
                tls_key = "/etc/hounsfield/tls/key.pem"
                state_dir = "/var/lib/hounsfield"
                audit_log = "/var/log/hounsfield/audit.jsonl"
                trusted_proxies = ["10.0.0.0/8", "192.0.2.1"]
                pacs_refresh = 60
            "#,
        )
        .expect("valid");
        assert_eq!(
            settings.library,
            [PathBuf::from("/srv/ct"), PathBuf::from("/srv/mr")]
        );
        assert_eq!(settings.bind, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(settings.port, 8443);
        assert_eq!(settings.node_name.as_deref(), Some("hounsfield-2"));
        assert_eq!(
            settings.access,
            ClientAccess::Users("/etc/hounsfield/users.toml".into())
        );
        assert_eq!((settings.max_sessions, settings.max_connections), (5, 77));
        assert_eq!(settings.max_connections_per_address, 7);
        assert_eq!(settings.allow_origin, ["https://viewer.hospital.example"]);
        assert_eq!(
            (settings.cache_mb, settings.max_series_mb),
            (1024, Some(512))
        );
        assert_eq!(settings.h264_encoders, ["libx264"]);
        assert_eq!(
            settings.tls,
            TlsChoice::Files {
                certificate: "/etc/hounsfield/tls/cert.pem".into(),
                key: "/etc/hounsfield/tls/key.pem".into()
            }
        );
        assert_eq!(settings.state_dir, Some("/var/lib/hounsfield".into()));
        assert_eq!(settings.pacs_refresh, std::time::Duration::from_secs(60));
        assert_eq!(
            settings.audit_log,
            Some("/var/log/hounsfield/audit.jsonl".into())
        );
        assert_eq!(
            settings.trusted_proxies,
            [
                "10.0.0.0/8".parse::<ipnet::IpNet>().expect("a network"),
                "192.0.2.1/32".parse().expect("a network")
            ]
        );

        let token = merged(
            &[],
            "token = \" s3cret \"\nh264 = \"off\"\ntls_self_signed = true\n",
        )
        .expect("valid");
        assert_eq!(token.access, ClientAccess::Token("s3cret".into()));
        assert!(token.h264_encoders.is_empty());
        assert_eq!(token.tls, TlsChoice::SelfSigned);
        let token_file = merged(&[], "token_file = \"/etc/hounsfield/token\"\n").expect("valid");
        assert_eq!(
            token_file.access,
            ClientAccess::TokenFile("/etc/hounsfield/token".into())
        );
    }

    #[test]
    fn the_identity_provider_is_read_from_the_file_and_the_command_line() {
        let settings = merged(
            &["--oidc-role", "ward=viewer"],
            r#"
                oidc_issuer = "https://idp.hospital.example/realms/radiology"
                oidc_client_id = "hounsfield"
                oidc_client_secret_file = "oidc-secret"
                oidc_redirect_url = "https://pacs3d.hospital.example/auth/callback"
                oidc_role_claim = "realm_access.roles"
                oidc_roles = ["radiology=reader"]
            "#,
        )
        .expect("valid");
        let chosen = settings.sign_on.expect("sign-on");
        assert_eq!(
            chosen.settings.issuer.as_str(),
            "https://idp.hospital.example/realms/radiology"
        );
        assert_eq!(chosen.settings.role_claim, "realm_access.roles");
        assert_eq!(
            chosen.settings.roles,
            [(
                "ward".to_string(),
                hounsfield_sign_on::SignOnSettings::role_mapping("ward=viewer")
                    .expect("a role")
                    .1
            )],
            "the command line's table wins"
        );
        assert_eq!(chosen.secret_file, Some(PathBuf::from("oidc-secret")));
        let default_claim = merged(
            &[
                "--oidc-issuer",
                "https://idp.example",
                "--oidc-client-id",
                "h",
                "--oidc-redirect-url",
                "https://h.example/auth/callback",
            ],
            "",
        )
        .expect("valid");
        assert_eq!(
            default_claim.sign_on.expect("sign-on").settings.role_claim,
            DEFAULT_ROLE_CLAIM
        );
    }

    #[test]
    fn an_incomplete_identity_provider_is_refused_by_its_key() {
        for (line, text, named) in [
            (vec![], "oidc_client_id = \"h\"\n", "oidc_client_id in"),
            (
                vec!["--oidc-role", "ward=viewer"],
                "",
                "--oidc-role is given without",
            ),
            (
                vec!["--oidc-issuer", "https://idp.example"],
                "",
                "the client id",
            ),
            (
                vec![
                    "--oidc-issuer",
                    "https://idp.example",
                    "--oidc-client-id",
                    "h",
                ],
                "",
                "callback address",
            ),
            (
                vec![
                    "--oidc-issuer",
                    "https://idp.example",
                    "--oidc-client-id",
                    "h",
                    "--oidc-redirect-url",
                    "https://h.example/auth/callback",
                    "--oidc-role",
                    "ward=chief",
                ],
                "",
                "--oidc-role: \"ward=chief\"",
            ),
            (
                vec!["--oidc-issuer", "not a url"],
                "",
                "--oidc-issuer = \"not a url\"",
            ),
        ] {
            let error = format!("{:#}", merged(&line, text).expect_err(named));
            assert!(error.contains(named), "{named}: {error}");
        }
    }

    #[test]
    fn without_a_file_the_defaults_hold() {
        let settings =
            ServeSettings::merge(&args(&[]), &ServeOptions::default(), None).expect("valid");
        assert_eq!(settings.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(settings.port, DEFAULT_PORT);
        assert_eq!(settings.max_sessions, DEFAULT_MAX_SESSIONS);
        assert_eq!(settings.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            settings.max_connections_per_address,
            DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
        );
        assert_eq!(settings.cache_mb, DEFAULT_CACHE_MB);
        assert_eq!(
            settings.pacs_refresh,
            std::time::Duration::from_secs(DEFAULT_PACS_REFRESH_S)
        );
        assert_eq!(settings.access, ClientAccess::Open);
        assert_eq!(settings.tls, TlsChoice::Off);
        assert!(settings.library.is_empty() && settings.node_name.is_none());
        assert!(
            !settings.h264_encoders.is_empty(),
            "auto tries the encoders"
        );
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let settings = merged(
            &[
                "--port",
                "0",
                "--library",
                "/data/cli",
                "--max-sessions",
                "3",
                "--node-name",
                "cli-node",
                "--tls-self-signed",
                "--token",
                "t",
            ],
            "port = 8443\nlibrary = [\"/srv/file\"]\nmax_sessions = 9\nnode_name = \"file-node\"\n",
        )
        .expect("valid");
        assert_eq!(settings.port, 0);
        assert_eq!(settings.library, [PathBuf::from("/data/cli")]);
        assert_eq!(settings.max_sessions, 3);
        assert_eq!(settings.node_name.as_deref(), Some("cli-node"));
        assert_eq!(settings.tls, TlsChoice::SelfSigned);
        assert_eq!(settings.access, ClientAccess::Token("t".into()));
    }

    #[test]
    fn the_pacs_credentials_come_from_the_file_as_files() {
        assert_eq!(merged(&[], "").expect("valid").pacs_auth, None);
        let basic = merged(
            &[],
            "dicomweb_user = \"reader\"\ndicomweb_password_file = \"/etc/hounsfield/pacs-password\"\n",
        )
        .expect("valid");
        assert_eq!(
            basic.pacs_auth,
            Some(PacsAuth::Basic {
                user: "reader".to_string(),
                password_file: "/etc/hounsfield/pacs-password".into(),
            })
        );
        let bearer = merged(
            &[],
            "dicomweb_token_file = \"/etc/hounsfield/pacs-token\"\n",
        )
        .expect("valid");
        assert_eq!(
            bearer.pacs_auth,
            Some(PacsAuth::TokenFile("/etc/hounsfield/pacs-token".into()))
        );
    }

    #[test]
    fn webrtc_listens_on_the_address_served_and_announces_the_one_given() {
        let off = merged(&[], "").expect("valid");
        assert_eq!(off.webrtc, None, "off unless a port is given");
        let on = merged(
            &["--webrtc-port", "8443"],
            "bind = \"192.0.2.7\"\ntoken = \"t\"\n",
        )
        .expect("valid");
        assert_eq!(
            on.webrtc,
            Some(hounsfield_webrtc::WebRtcConfig {
                bind: "192.0.2.7:8443".parse().expect("an address"),
                announce: None,
            })
        );
        let behind_nat = merged(
            &[],
            "bind = \"0.0.0.0\"\ntoken = \"t\"\nwebrtc_port = 8443\nwebrtc_address = \"198.51.100.4\"\n",
        )
        .expect("valid");
        assert_eq!(
            behind_nat.webrtc.and_then(|webrtc| webrtc.announce),
            Some("198.51.100.4".parse().expect("an address"))
        );
    }

    #[test]
    fn a_dicom_port_receives_as_its_ae_title_from_the_callers_named() {
        let settings = merged(
            &["--dicom-port", "11112", "--dicom-allow", "CT1@10.0.0.5"],
            "ae_title = \"READING1\"\ndicom_store_gb = 2",
        )
        .expect("valid");
        let dicom = settings.dicom.expect("receiving");
        assert_eq!((dicom.port, dicom.ae_title.as_str()), (11112, "READING1"));
        assert_eq!(dicom.allowed.len(), 1);
        assert_eq!(dicom.allowed[0].ae_title, "CT1");
        assert_eq!(dicom.store_bytes, 2_000_000_000);
        assert_eq!(
            dicom.associations_per_minute,
            DEFAULT_DICOM_ASSOCIATIONS_PER_MINUTE
        );
        let plain = merged(&[], "").expect("valid");
        assert_eq!(plain.dicom, None);
    }

    #[test]
    fn each_bad_value_names_its_key_and_the_file() {
        for (text, key) in [
            ("max_sessions = 0", "max_sessions"),
            ("max_connections = 100000000", "max_connections"),
            (
                "max_connections_per_address = 0",
                "max_connections_per_address",
            ),
            ("cache_mb = 1", "cache_mb"),
            ("max_series_mb = 0", "max_series_mb"),
            ("node_name = \"node one\"", "node_name"),
            ("node_name = \"\"", "node_name"),
            ("h264 = \"\"", "h264"),
            ("h264 = \"libx264; rm -rf\"", "h264"),
            ("token = \"  \"", "token"),
            ("token = \"a\"\nusers = \"u.toml\"", "users"),
            ("tls_cert = \"c.pem\"", "tls_cert"),
            ("tls_key = \"k.pem\"", "tls_key"),
            (
                "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\ntls_self_signed = true",
                "tls_self_signed",
            ),
            ("allow_origin = [\"not an origin\"]", "allow_origin"),
            ("trusted_proxies = [\"10.0.0.0/33\"]", "trusted_proxies"),
            ("trusted_proxies = [\"haproxy\"]", "trusted_proxies"),
            ("dicomweb_user = \"reader\"", "dicomweb_user"),
            ("pacs_refresh = 0", "pacs_refresh"),
            ("webrtc_address = \"192.0.2.10\"", "webrtc_address"),
            (
                "bind = \"0.0.0.0\"\ntoken = \"t\"\nwebrtc_port = 8443",
                "webrtc_port",
            ),
            (
                "webrtc_port = 8443\nwebrtc_address = \"0.0.0.0\"",
                "webrtc_address",
            ),
            ("dicomweb_password_file = \"pw\"", "dicomweb_password_file"),
            (
                "dicomweb_user = \"a:b\"\ndicomweb_password_file = \"pw\"",
                "dicomweb_user",
            ),
            (
                "dicomweb_token_file = \"t\"\ndicomweb_user = \"r\"\ndicomweb_password_file = \"pw\"",
                "dicomweb_token_file",
            ),
            ("dicom_allow = [\"CT1@10.0.0.5\"]", "dicom_allow"),
            ("ae_title = \"HF\"", "ae_title"),
            ("dicom_port = 104\nae_title = \"A\\\\B\"", "ae_title"),
            (
                "dicom_port = 104\nae_title = \"SEVENTEEN_LETTERS\"",
                "ae_title",
            ),
            ("dicom_port = 104\ndicom_allow = [\"CT1\"]", "dicom_allow"),
            ("dicom_port = 104\ndicom_store_gb = 0", "dicom_store_gb"),
        ] {
            let error = format!("{:#}", merged(&[], text).expect_err(text));
            assert!(error.contains(key), "{text}: {error}");
            assert!(
                error.contains("/etc/hounsfield/hounsfield.toml"),
                "{text}: {error}"
            );
        }
        let error = format!(
            "{:#}",
            merged(&["--max-sessions", "0"], "").expect_err("refused")
        );
        assert!(error.contains("--max-sessions"), "{error}");
    }
}
