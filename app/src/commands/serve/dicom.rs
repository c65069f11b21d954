//! `--dicom-port`: the Storage SCP beside the server, storing into its store folder (a
//! folder the library catalogues) and telling the library what each association stored.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use hounsfield_dimse::{Callers, StorageScp, StoreFolder};
use hounsfield_server::AuditLog;
use hounsfield_server::dicom_reception::LibraryReception;
use hounsfield_server::library::Library;

use super::settings::DicomSettings;

/// The store folder, opened (made if missing) with what it holds counted.
pub(super) fn store(
    dicom: &DicomSettings,
    state: anyhow::Result<PathBuf>,
) -> anyhow::Result<Arc<StoreFolder>> {
    let root = match &dicom.store {
        Some(folder) => folder.clone(),
        None => state
            .context("--dicom-port without --dicom-store: no state folder to store into")?
            .join("received"),
    };
    let store = StoreFolder::open(&root, dicom.store_bytes)
        .with_context(|| format!("the DICOM store folder {}", root.display()))?;
    Ok(Arc::new(store))
}

/// Where a PACS's series retrieved with C-GET land on a server without a Storage SCP of
/// its own (`--library dimse://…` without `--dicom-port`): `retrieved/` of the state
/// folder, within the Storage SCP's default bound.
pub(super) fn get_store(state: anyhow::Result<PathBuf>) -> anyhow::Result<Arc<StoreFolder>> {
    let root = state
        .context("--library dimse://… without --dicom-port: no state folder to retrieve into")?
        .join("retrieved");
    let most = super::settings::DEFAULT_DICOM_STORE_GB << 30;
    let store = StoreFolder::open(&root, most).with_context(|| {
        format!(
            "the folder of series retrieved with C-GET, {}",
            root.display()
        )
    })?;
    Ok(Arc::new(store))
}

/// Binds the Storage SCP on `bind`'s address and serves it on its own threads; the line
/// that says where.
pub(super) fn serve(
    dicom: &DicomSettings,
    bind: std::net::IpAddr,
    store: Arc<StoreFolder>,
    library: Arc<Library>,
    audit: Arc<AuditLog>,
) -> anyhow::Result<String> {
    let root = store.root().to_path_buf();
    let scp = StorageScp::bind(
        SocketAddr::new(bind, dicom.port),
        &dicom.ae_title,
        Callers::new(dicom.allowed.clone()),
        store,
        dicom.associations_per_minute,
    )
    .with_context(|| format!("--dicom-port {}", dicom.port))?;
    let address = scp.local_addr()?;
    scp.serve(Arc::new(LibraryReception::new(
        library,
        audit,
        root.clone(),
    )))
    .context("starting the DICOM listener")?;
    let callers = if dicom.allowed.is_empty() {
        "callers on loopback".to_string()
    } else {
        format!("{} allowed callers", dicom.allowed.len())
    };
    Ok(format!(
        "receiving DICOM (C-STORE, C-ECHO) as {} on {address} from {callers}, stored in {}",
        dicom.ae_title,
        root.display()
    ))
}
