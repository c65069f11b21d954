//! The streaming server a benchmark drives: in this process, on a loopback port (any free
//! one), serving the series at a path (the built-in phantom without one), with its render
//! thread and encoders as `--serve` starts them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use server_mode::server::BackgroundServer;
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
    let server =
        BackgroundServer::start("bench-server", config.clone(), library, scheduler.clone())?;
    Ok(LoopbackServer {
        server,
        scheduler,
        config,
    })
}
