//! The streaming server a benchmark drives: in this process, on a loopback port (any free
//! one), serving the series at a path (the built-in phantom without one), with its render
//! thread and encoders as `--serve` starts them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use server_mode::server::BackgroundServer;
use server_mode::tls::{CertificateFiles, ServerTls, ServerTrust, self_signed};
use server_mode::{Library, Scheduler, ServerConfig};

/// Voxel memory the server's cache may keep (MiB), as `--serve` by default.
const CACHE_MB: usize = 4096;

/// A server serving in the background of a benchmark, and the renderer behind it.
pub(super) struct LoopbackServer {
    /// The server; stopped when dropped.
    pub(super) server: BackgroundServer,
    /// Its renderer: the adapter and the render thread's health (restarts).
    pub(super) scheduler: Arc<Scheduler>,
    /// The configuration it was started with.
    pub(super) config: ServerConfig,
    /// The series it serves.
    pub(super) library: Arc<Library>,
}

/// Scans `path` (nothing: the phantom), starts the renderer and a server on 127.0.0.1 with
/// the defaults that `configure` changes, and returns once it listens.
pub(super) fn start(
    path: Option<&Path>,
    configure: impl FnOnce(&mut ServerConfig),
) -> anyhow::Result<LoopbackServer> {
    let folders: Vec<PathBuf> = path.map(Path::to_path_buf).into_iter().collect();
    let library = Arc::new(Library::scan(&folders, CACHE_MB << 20));
    if library.series_count() == 0 {
        anyhow::bail!(
            "no DICOM series found in {} (see `hounsfield info`)",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        );
    }
    let scheduler = crate::commands::serve::start_renderer()?;
    let mut config = ServerConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    configure(&mut config);
    let server = BackgroundServer::start(
        "bench-server",
        config.clone(),
        library.clone(),
        scheduler.clone(),
    )?;
    Ok(LoopbackServer {
        server,
        scheduler,
        config,
        library,
    })
}

/// A server serving TLS beside another (`plain`), on the same series and renderer with the
/// same configuration; its self-signed certificate stays in a temporary folder until the
/// server is dropped.
pub(super) struct TlsTwin {
    /// The server; stopped when dropped.
    pub(super) server: BackgroundServer,
    /// What its clients trust: its certificate's fingerprint.
    pub(super) trust: ServerTrust,
    _certificate: tempfile::TempDir,
}

/// Starts a [`TlsTwin`] of `plain`.
pub(super) fn start_tls_twin(plain: &LoopbackServer) -> anyhow::Result<TlsTwin> {
    let made = self_signed::make(&["localhost".to_string()], &[Ipv4Addr::LOCALHOST.into()])
        .context("making a certificate for the TLS server")?;
    let folder = tempfile::tempdir().context("a folder for the benchmark's certificate")?;
    let files = CertificateFiles {
        certificate: folder.path().join("bench.crt"),
        key: folder.path().join("bench.key"),
    };
    std::fs::write(&files.certificate, &made.certificate_pem)
        .and_then(|()| std::fs::write(&files.key, &made.key_pem))
        .context("writing the benchmark's certificate")?;
    let mut config = plain.config.clone();
    config.tls = Some(ServerTls::from_files(files)?);
    let server = BackgroundServer::start(
        "bench-tls-server",
        config,
        plain.library.clone(),
        plain.scheduler.clone(),
    )?;
    Ok(TlsTwin {
        server,
        trust: ServerTrust::pinned(made.fingerprint),
        _certificate: folder,
    })
}
