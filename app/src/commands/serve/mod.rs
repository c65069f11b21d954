//! `hounsfield --serve`: the streaming server on the library folders (or the built-in
//! sample), until Ctrl-C or SIGTERM (systemd's and Kubernetes' stop), which close every
//! session with "going away" first.

pub mod config_file;
mod dicom;
pub mod settings;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use hounsfield_dicomweb::PacsCredentials;
use hounsfield_server::AuditLog;
use hounsfield_server::generate_token;
use hounsfield_server::library::PacsLibrary;
use hounsfield_server::users::UsersFile;
use hounsfield_server::{Library, Server, ServerConfig};
use hounsfield_tls::{CertificateFiles, ServerTls, self_signed};
use render_core::dicom::VoxelBudget;

use crate::cli::ServeOptions;
use hounsfield_workstation::renderer::{runtime, start_renderer};
use settings::{ClientAccess, PacsAuth, ServeSettings, TlsChoice};

/// Starts the server and serves until interrupted.
pub fn run(args: &ServeOptions) -> anyhow::Result<()> {
    let settings = ServeSettings::resolve(args)?;
    let mut config = ServerConfig::new(SocketAddr::new(settings.bind, settings.port));
    config.max_sessions = settings.max_sessions;
    config.connections.max_connections = settings.max_connections;
    config.connections.max_connections_per_address = settings.max_connections_per_address;
    config.allowed_origins = settings.allow_origin.clone();
    config.h264_encoders = settings.h264_encoders.clone();
    config.node_name = settings.node_name.clone();
    config.trusted_proxies = settings.trusted_proxies.clone();
    config.token = given_token(&settings.access)?;
    if let ClientAccess::Users(path) = &settings.access {
        config.users = Some(users_file(path)?);
    }
    config.sign_on = sign_on(&settings)?;
    config.webrtc = settings.webrtc;
    config.tls = server_tls(&settings)?;
    config.findings_folder = findings_folder(&settings);
    config.viewers_may_steer = settings.viewers_may_steer;
    config.model = settings.model.as_deref().map(site_model).transpose()?;
    if let Some(folder) = &settings.hanging_protocols {
        config.hanging = Arc::new(site_hanging_protocols(folder)?);
    }
    // The folder the render thread read its presets from at start.
    config.presets_folder = render_core::transfer::PresetLibrary::user_dir();
    // Without a state folder recording is refused (the findings' warning says so too).
    config.recordings_folder = state_folder(&settings)
        .ok()
        .map(|state| state.join("recordings"));
    if let Some(warning) = cleartext_warning(config.bind, config.tls.is_some()) {
        eprintln!("{warning}");
    }
    #[cfg(feature = "test-bench")]
    {
        config.test_faults = settings.test_faults;
        if config.test_faults {
            eprintln!(
                "warning: --test-faults: sessions may make frames fail on purpose (tests only)"
            );
        }
    }
    if let Some(path) = audit_log_path(&settings) {
        let log = AuditLog::open(&path)
            .with_context(|| format!("opening the audit log {}", path.display()))?;
        config.audit = Arc::new(log);
    }
    let generated = config.token.is_none()
        && config.users.is_none()
        && config.sign_on.is_none()
        && config.token_required();
    if generated {
        config.token = Some(generate_token().context("generating an access token")?);
    }
    let store = match &settings.dicom {
        Some(dicom_settings) => Some(dicom::store(dicom_settings, state_folder(&settings))?),
        None => None,
    };
    let (library, folders) = library(&settings, store.as_ref().map(|s| s.root().to_path_buf()))?;
    let library = Arc::new(library);
    let audit = config.audit.clone();
    Library::refresh_every(&library, settings.pacs_refresh);
    let nothing_found = format!(
        "no DICOM series found in {} (see `hounsfield info`)",
        settings
            .library
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let scheduler = start_renderer()?;
    let runtime = runtime()?;
    let served = runtime.block_on(async move {
        let token = config.token.clone();
        let fingerprint = config.tls.as_ref().map(ServerTls::fingerprint);
        let (http, ws) = if fingerprint.is_some() { ("https", "wss") } else { ("http", "ws") };
        let h264_wanted = !config.h264_encoders.is_empty();
        let server = Server::bind(config, library.clone(), scheduler.clone()).await?;
        let address = server.local_addr()?;
        // A token the operator gave stays out of the output (and so out of service logs);
        // a generated one is printed once, since nobody else knows it.
        let query = token
            .as_deref()
            .filter(|_| generated)
            .map(|t| format!("?token={t}"))
            .unwrap_or_default();
        let video = match &server.h264().chosen {
            Some(encoder) => format!("H.264 by {encoder}"),
            None => "JPEG only".to_string(),
        };
        let node = settings
            .node_name
            .as_deref()
            .map(|name| format!(" as node {name}"))
            .unwrap_or_default();
        let listed = match &folders {
            None => format!("{} series", library.series_count()),
            Some(_) => "a library being catalogued".to_string(),
        };
        say(format_args!(
            "serving {listed} on {} ({video}){node} at {http}://{address}/{query} (WebSocket {ws}://{address}/ws{query}); Ctrl-C stops",
            scheduler.adapter(),
        ));
        if let Some(file) = &settings.config_file {
            say(format_args!("configuration from {}", file.display()));
        }
        if let (Some(dicom_settings), Some(store)) = (&settings.dicom, store) {
            let line = dicom::serve(dicom_settings, settings.bind, store, library.clone(), audit)?;
            say(format_args!("{line}"));
        }
        if let Some(fingerprint) = fingerprint {
            say(format_args!("TLS certificate SHA-256 fingerprint: {fingerprint}"));
        }
        if h264_wanted && let Some(why) = server.h264().why_none() {
            eprintln!("warning: {why}; interactive frames are JPEG");
        }
        match (&token, generated, &settings.access) {
            (Some(token), true, _) => say(format_args!("access token (generated): {token}")),
            (Some(_), false, access) => say(format_args!(
                "clients need the access token ({}): ?token= in the page's address, or in hello",
                if matches!(access, ClientAccess::TokenFile(_)) { "from the token file" } else { "as configured" }
            )),
            (None, _, _) => {}
        }
        if let ClientAccess::Users(path) = &settings.access {
            say(format_args!(
                "clients need a user's token (users from {}, read again when it changes): ?token= in the page's address, or in hello",
                path.display()
            ));
        }
        // The folders are catalogued while the server already answers (`/readyz` says how
        // far it has come); a library with no series at all ends the server.
        let (empty, found_empty) = tokio::sync::oneshot::channel();
        let receiving = settings.dicom.is_some();
        match folders {
            None => {
                let line = catalogue_line(library.series_count(), library.studies().len(), 0);
                say(format_args!("{line}"));
            }
            Some(folders) => Library::catalogue_in_background(&library, folders, move |summary| {
                if let Some(error) = &summary.pacs_error {
                    eprintln!("warning: listing the studies of the library's PACS: {error}");
                }
                // A server receiving DICOM waits for its studies.
                if summary.series == 0 && !receiving {
                    let _ = empty.send(());
                } else {
                    let line = catalogue_line(summary.series, summary.studies, summary.skipped);
                    say(format_args!("{line}"));
                }
            }),
        }
        tokio::select! {
            served = server.run(stop_asked()) => served?,
            Ok(()) = found_empty => anyhow::bail!(nothing_found),
        }
        say(format_args!("stopped: every session was told the server is going away"));
        anyhow::Ok(())
    });
    // Work still running on the runtime's threads (a series arriving from a slow PACS,
    // a movie's last frame) is not waited for: the process ends within seconds of the
    // signal, whatever it was doing.
    runtime.shutdown_timeout(ABANDON_AFTER);
    served
}

/// How long the work still running once the server has stopped may take to end before
/// the process ends without it.
const ABANDON_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Completes on Ctrl-C (SIGINT) or SIGTERM, the signal systemd and Kubernetes stop a
/// service with; without signal handlers, never.
async fn stop_asked() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The users file, read at start (and again by the server when it changes).
fn users_file(path: &std::path::Path) -> anyhow::Result<UsersFile> {
    let users = UsersFile::load(path)
        .with_context(|| format!("reading the users file {}", path.display()))?;
    if users.table.users().is_empty() {
        eprintln!(
            "warning: no users in {}: every client is refused until one is added (hounsfield users add)",
            path.display()
        );
    }
    Ok(users)
}

/// The library of the library paths, within the memory settings, and its folders, to be
/// catalogued (headers only) before its PACSes (DICOMweb URLs, their catalogs listed over
/// QIDO-RS, series retrieved into the DICOMweb cache) are listed; with no path at all, the
/// built-in phantom, and nothing to catalogue.
fn library(
    settings: &ServeSettings,
    store: Option<PathBuf>,
) -> anyhow::Result<(Library, Option<Vec<PathBuf>>)> {
    let series_budget = settings
        .max_series_mb
        .map_or_else(VoxelBudget::for_machine, |mib| {
            VoxelBudget::new(mib.saturating_mul(1 << 20))
        });
    let (dimse, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = settings
        .library
        .iter()
        .partition(|path| hounsfield_workstation::source::dimse_address(path).is_some());
    let (urls, folders): (Vec<&PathBuf>, Vec<&PathBuf>) = paths
        .into_iter()
        .partition(|path| hounsfield_workstation::source::dicomweb_url(path).is_some());
    let mut folders: Vec<PathBuf> = folders.into_iter().cloned().collect();
    let mut pacs = Vec::with_capacity(settings.library.len());
    for path in dimse {
        let text = path.to_string_lossy();
        let remote = hounsfield_dimse::RemoteAe::parse(&text).context("--library")?;
        // With a Storage SCP of its own, the server has each series moved to it (C-MOVE);
        // without, it retrieves it with C-GET into the cache, calling as the command line
        // does.
        pacs.push(match (&settings.dicom, &store) {
            (Some(dicom), Some(store)) => PacsLibrary::dimse(
                hounsfield_dimse::Scu::new(remote, &dicom.ae_title),
                &dicom.ae_title,
                store.clone(),
            ),
            _ => PacsLibrary::dimse_get(
                hounsfield_dimse::Scu::new(remote, &hounsfield_workstation::source::calling_ae()),
                dicom::get_store(state_folder(settings))?,
            ),
        });
    }
    // The DICOM store is a library folder, unless one of them holds it already.
    if let Some(store) = store
        && !folders.iter().any(|folder| store.starts_with(folder))
    {
        folders.push(store);
    }
    let credentials = match &settings.pacs_auth {
        Some(auth)
            if !urls.is_empty()
                && !hounsfield_workstation::source::has_command_line_credentials() =>
        {
            Some(pacs_credentials(auth)?)
        }
        _ => None,
    };
    for url in urls
        .iter()
        .filter_map(|path| hounsfield_workstation::source::dicomweb_url(path))
    {
        let mut source = hounsfield_workstation::source::dicomweb(url)?;
        if credentials.is_some() {
            source = source.with_credentials(credentials.clone());
        }
        pacs.push(PacsLibrary::new(
            source,
            hounsfield_workstation::source::dicomweb_cache()?,
        ));
    }
    let cache_bytes = settings.cache_mb.saturating_mul(1 << 20);
    if folders.is_empty() && pacs.is_empty() {
        return Ok((Library::scan(&[], cache_bytes), None));
    }
    Ok((
        Library::to_catalogue(pacs, cache_bytes, series_budget),
        Some(folders),
    ))
}

/// How the line that says the library's catalogue is complete begins (tests and scripts
/// wait for it).
pub const CATALOGUE_COMPLETE: &str = "catalogue complete:";

/// The line that says the library's catalogue is complete.
fn catalogue_line(series: usize, studies: usize, skipped: usize) -> String {
    let skipped = match skipped {
        0 => String::new(),
        n => format!("; {n} files not catalogued (`hounsfield info` says why)"),
    };
    format!("{CATALOGUE_COMPLETE} {series} series in {studies} studies{skipped}")
}

/// Prints a line for the operator; a closed or full standard output (a pipe nobody reads
/// any more) never stops the server.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// The loud warning of a server reachable from other machines without TLS.
fn cleartext_warning(bind: SocketAddr, tls: bool) -> Option<String> {
    (!tls && !bind.ip().is_loopback()).then(|| {
        format!(
            "WARNING: serving on {bind} without TLS: patient images and access tokens cross the network in clear text, \
             and browsers on other machines get JPEG only (no WebCodecs outside a secure context). \
             Give --tls-cert and --tls-key, or --tls-self-signed."
        )
    })
}

/// The certificate to serve: the files given, or the machine's self-signed one (made in
/// the state folder the first time); `None` for plain HTTP.
fn server_tls(settings: &ServeSettings) -> anyhow::Result<Option<ServerTls>> {
    let files = match &settings.tls {
        TlsChoice::Files { certificate, key } => CertificateFiles {
            certificate: certificate.clone(),
            key: key.clone(),
        },
        TlsChoice::SelfSigned => {
            let folder = state_folder(settings)?.join("tls");
            let names = self_signed::machine_names();
            let addresses = self_signed::machine_addresses(settings.bind);
            let (files, made) = self_signed::ensure(&folder, &names, &addresses)?;
            if made {
                say(format_args!(
                    "made a self-signed TLS certificate for {} and {} in {}",
                    names.join(", "),
                    addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    folder.display()
                ));
            }
            files
        }
        TlsChoice::Off => return Ok(None),
    };
    Ok(Some(ServerTls::from_files(files)?))
}

/// The folder the server keeps what it makes in: `--state-dir`, systemd's
/// `$STATE_DIRECTORY`, or the user's state folder.
fn state_folder(settings: &ServeSettings) -> anyhow::Result<std::path::PathBuf> {
    if let Some(folder) = &settings.state_dir {
        return Ok(folder.clone());
    }
    default_state_folder().context(
        "no state folder (for the self-signed certificate and the findings): give --state-dir",
    )
}

/// The state folder of a server given no `--state-dir`: systemd's `$STATE_DIRECTORY`, or
/// the user's state folder.
pub fn default_state_folder() -> Option<std::path::PathBuf> {
    // systemd separates several folders with ':'; the first is the service's own.
    if let Ok(folders) = std::env::var("STATE_DIRECTORY")
        && let Some(folder) = folders.split(':').next().filter(|f| !f.is_empty())
    {
        return Some(std::path::PathBuf::from(folder));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|folder| folder.join("hounsfield"))
}

/// The findings folder of the state folder; without a state folder, findings live while
/// the server runs (said once at start).
fn findings_folder(settings: &ServeSettings) -> Option<std::path::PathBuf> {
    match state_folder(settings) {
        Ok(folder) => Some(folder.join(hounsfield_findings::folder::FOLDER_NAME)),
        Err(_) => {
            eprintln!(
                "warning: no state folder: findings are kept only while the server runs and sessions cannot be recorded (give --state-dir)"
            );
            None
        }
    }
}

/// The audit log asked for, else the service's log folder when systemd gives one.
fn audit_log_path(settings: &ServeSettings) -> Option<std::path::PathBuf> {
    settings.audit_log.clone().or_else(|| {
        // systemd separates several folders with ':'; the first is the service's own.
        let folders = std::env::var("LOGS_DIRECTORY").ok()?;
        let folder = folders.split(':').next().filter(|f| !f.is_empty())?;
        Some(std::path::PathBuf::from(folder).join("audit.jsonl"))
    })
}

/// The token clients must present, when one is configured (from a file: its first line).
fn given_token(access: &ClientAccess) -> anyhow::Result<Option<String>> {
    let token = match access {
        ClientAccess::Token(token) => token.clone(),
        ClientAccess::TokenFile(file) => secret_in(file, "the token file")?,
        ClientAccess::Open | ClientAccess::Users(_) => return Ok(None),
    };
    if token.is_empty() {
        anyhow::bail!("the access token is empty");
    }
    Ok(Some(token))
}

/// The site's segmentation model in `file`, read and checked now.
fn site_model(file: &std::path::Path) -> anyhow::Result<Arc<hounsfield_model::SegmentationModel>> {
    let model = hounsfield_model::SegmentationModel::load(file).context("--model")?;
    eprintln!(
        "segmentation model {}: patches of {:?} voxels (k, j, i), {} classes",
        model.name(),
        model.patch(),
        model.classes()
    );
    Ok(Arc::new(model))
}

/// The built-in hanging protocols and the site's, every file of its folder read and
/// checked: one that is not stops the start, named.
fn site_hanging_protocols(
    folder: &std::path::Path,
) -> anyhow::Result<hounsfield_hanging::HangingProtocols> {
    let (protocols, errors) =
        hounsfield_hanging::HangingProtocols::builtin().with_site_folder(folder);
    if let Some(error) = errors.into_iter().next() {
        anyhow::bail!("--hanging-protocols: {error}");
    }
    eprintln!(
        "hanging protocols: {} (built in and from {})",
        protocols.all().len(),
        folder.display()
    );
    Ok(protocols)
}

/// Sign-on through the site's identity provider, its client secret read now.
fn sign_on(settings: &ServeSettings) -> anyhow::Result<Option<Arc<hounsfield_sign_on::SignOn>>> {
    let Some(choice) = &settings.sign_on else {
        return Ok(None);
    };
    let mut provider = choice.settings.clone();
    if let Some(file) = &choice.secret_file {
        provider.client_secret = Some(secret_in(
            file,
            "the client secret file (oidc_client_secret_file)",
        )?);
    }
    eprintln!(
        "users sign in through {} (client {}), roles from the claim {:?}",
        provider.issuer, provider.client_id, provider.role_claim
    );
    let sign_on = hounsfield_sign_on::SignOn::new(provider).context("the identity provider")?;
    Ok(Some(Arc::new(sign_on)))
}

/// The credentials the configuration gives the library's PACS, their secret read now.
fn pacs_credentials(auth: &PacsAuth) -> anyhow::Result<PacsCredentials> {
    Ok(match auth {
        PacsAuth::TokenFile(file) => PacsCredentials::Bearer(secret_in(
            file,
            "the PACS token file (dicomweb_token_file)",
        )?),
        PacsAuth::Basic {
            user,
            password_file,
        } => PacsCredentials::Basic {
            user: user.clone(),
            password: secret_in(
                password_file,
                "the PACS password file (dicomweb_password_file)",
            )?,
        },
    })
}

/// The first line of the secret file `file` (`what` in errors), trimmed; an empty or
/// oversized file is refused.
fn secret_in(file: &std::path::Path, what: &str) -> anyhow::Result<String> {
    /// A secret is a line: a few hundred bytes at most.
    const MAX_SECRET_BYTES: u64 = 4096;
    let text = hounsfield_files::read_text_at_most(file, MAX_SECRET_BYTES, "a secret file")
        .with_context(|| format!("reading {what} {}", file.display()))?;
    let secret = text.lines().next().unwrap_or_default().trim().to_string();
    if secret.is_empty() {
        anyhow::bail!("{what} {} is empty", file.display());
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_off_loopback_without_tls_is_warned_of() {
        let open: SocketAddr = "0.0.0.0:8080".parse().expect("an address");
        let local: SocketAddr = "127.0.0.1:8080".parse().expect("an address");
        let warning = cleartext_warning(open, false).expect("warned");
        assert!(warning.contains("without TLS") && warning.contains("--tls-self-signed"));
        assert_eq!(cleartext_warning(open, true), None);
        assert_eq!(cleartext_warning(local, false), None);
    }
}
