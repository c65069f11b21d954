//! The streaming server a benchmark drives: in this process, on a loopback port (any free
//! one), serving the series at a path (the built-in phantom without one), with its render
//! thread and encoders as `--serve` starts them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use hounsfield_server::BackgroundServer;
use hounsfield_server::{Library, Scheduler, ServerConfig};
use hounsfield_tls::{CertificateFiles, ServerTls, ServerTrust, self_signed};

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
    start_serving(library, configure)
}

/// [`start`] serving `library` (a PACS's, say).
pub(super) fn start_serving(
    library: Arc<Library>,
    configure: impl FnOnce(&mut ServerConfig),
) -> anyhow::Result<LoopbackServer> {
    let scheduler = hounsfield_workstation::renderer::start_renderer()?;
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

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM files in a
/// temporary folder that lives as long as it does.
pub(super) struct LoopbackCertificate {
    /// Its files, as a server reads them.
    pub(super) files: CertificateFiles,
    /// The certificate (PEM), for the proxy bench's HAProxy.
    #[cfg(feature = "test-bench")]
    pub(super) pem: String,
    /// The key (PEM), for the proxy bench's HAProxy.
    #[cfg(feature = "test-bench")]
    pub(super) key_pem: String,
    /// What its clients trust: its fingerprint.
    pub(super) trust: ServerTrust,
    _folder: tempfile::TempDir,
}

impl LoopbackCertificate {
    /// Makes one for `whom` (named in errors).
    pub(super) fn make(whom: &str) -> anyhow::Result<Self> {
        let made = self_signed::make(&["localhost".to_string()], &[Ipv4Addr::LOCALHOST.into()])
            .with_context(|| format!("making a certificate for {whom}"))?;
        let folder =
            tempfile::tempdir().with_context(|| format!("a folder for {whom}'s certificate"))?;
        let files = CertificateFiles {
            certificate: folder.path().join("bench.crt"),
            key: folder.path().join("bench.key"),
        };
        std::fs::write(&files.certificate, &made.certificate_pem)
            .and_then(|()| std::fs::write(&files.key, &made.key_pem))
            .with_context(|| format!("writing {whom}'s certificate"))?;
        Ok(Self {
            files,
            #[cfg(feature = "test-bench")]
            pem: made.certificate_pem,
            #[cfg(feature = "test-bench")]
            key_pem: made.key_pem,
            trust: ServerTrust::pinned(made.fingerprint),
            _folder: folder,
        })
    }
}

/// A server serving TLS beside another (`plain`), on the same series and renderer with the
/// same configuration; its self-signed certificate stays in a temporary folder until the
/// server is dropped.
pub(super) struct TlsTwin {
    /// The server; stopped when dropped.
    pub(super) server: BackgroundServer,
    /// What its clients trust: its certificate's fingerprint.
    pub(super) trust: ServerTrust,
    _certificate: LoopbackCertificate,
}

/// Starts a [`TlsTwin`] of `plain`.
pub(super) fn start_tls_twin(plain: &LoopbackServer) -> anyhow::Result<TlsTwin> {
    let certificate = LoopbackCertificate::make("the TLS server")?;
    let mut config = plain.config.clone();
    config.tls = Some(ServerTls::from_files(certificate.files.clone())?);
    let server = BackgroundServer::start(
        "bench-tls-server",
        config,
        plain.library.clone(),
        plain.scheduler.clone(),
    )?;
    Ok(TlsTwin {
        server,
        trust: certificate.trust.clone(),
        _certificate: certificate,
    })
}
