//! `hounsfield config check FILE`: reads a `--serve` configuration as the server would,
//! opens the files it names, and prints the settings, so IT can validate an edit before a
//! restart.

use std::path::Path;

use anyhow::Context;
use hounsfield_server::users::UsersFile;
use hounsfield_tls::{CertificateFiles, ServerTls};

use crate::cli::ServeOptions;
use crate::commands::serve::settings::{ClientAccess, PacsAuth, ServeSettings, TlsChoice};

/// Checks `file`: every key and value, and (with `open_files`) the files and folders it
/// names.
pub fn check(file: &Path, open_files: bool) -> anyhow::Result<()> {
    let args = ServeOptions {
        serve: true,
        config: Some(file.to_path_buf()),
        ..ServeOptions::default()
    };
    let settings = ServeSettings::resolve(&args)?;
    if !open_files {
        println!(
            "{}: keys and values valid (the files they name were not opened)",
            file.display()
        );
        return Ok(());
    }
    for folder in &settings.library {
        // A PACS is listed when the server starts (its answer depends on the network).
        if hounsfield_workstation::source::dicomweb_url(folder).is_some() {
            continue;
        }
        if !folder.is_dir() {
            anyhow::bail!(
                "library in {}: {} is not a folder this user can read",
                file.display(),
                folder.display()
            );
        }
    }
    if let Some(auth) = &settings.pacs_auth {
        let (key, secret) = match auth {
            PacsAuth::TokenFile(path) => ("dicomweb_token_file", path),
            PacsAuth::Basic { password_file, .. } => ("dicomweb_password_file", password_file),
        };
        std::fs::File::open(secret).with_context(|| {
            format!(
                "{key} in {}: cannot open {}",
                file.display(),
                secret.display()
            )
        })?;
    }
    let access = match &settings.access {
        ClientAccess::Open => "no token (loopback only; one is generated off loopback)".to_string(),
        ClientAccess::Token(_) => "one token (given in the file)".to_string(),
        ClientAccess::TokenFile(path) => {
            std::fs::File::open(path).with_context(|| {
                format!(
                    "token_file in {}: cannot open {}",
                    file.display(),
                    path.display()
                )
            })?;
            format!("one token, from {}", path.display())
        }
        ClientAccess::Users(path) => {
            let users = UsersFile::load(path)
                .with_context(|| format!("users in {}: {}", file.display(), path.display()))?;
            format!(
                "{} users, from {}",
                users.table.users().len(),
                path.display()
            )
        }
    };
    let tls = match &settings.tls {
        TlsChoice::Off => "off (plain HTTP)".to_string(),
        TlsChoice::SelfSigned => "self-signed, made in the state folder".to_string(),
        TlsChoice::Files { certificate, key } => {
            let tls = ServerTls::from_files(CertificateFiles {
                certificate: certificate.clone(),
                key: key.clone(),
            })
            .with_context(|| format!("tls_cert and tls_key in {}", file.display()))?;
            format!("{} (SHA-256 {})", certificate.display(), tls.fingerprint())
        }
    };
    let shown = |paths: &[std::path::PathBuf]| {
        if paths.is_empty() {
            "the built-in sample volume".to_string()
        } else {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    println!("{}: valid", file.display());
    println!("  library:      {}", shown(&settings.library));
    println!("  listen:       {}:{}", settings.bind, settings.port);
    println!(
        "  node name:    {}",
        settings.node_name.as_deref().unwrap_or("(none)")
    );
    if !settings.trusted_proxies.is_empty() {
        let proxies: Vec<String> = settings
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        println!("  proxies:      {}", proxies.join(", "));
    }
    println!("  clients:      {access}");
    println!("  TLS:          {tls}");
    println!(
        "  limits:       {} sessions, {} connections ({} per address), {} MiB cache",
        settings.max_sessions,
        settings.max_connections,
        settings.max_connections_per_address,
        settings.cache_mb
    );
    println!(
        "  H.264:        {}",
        if settings.h264_encoders.is_empty() {
            "off".to_string()
        } else {
            settings.h264_encoders.join(", ")
        }
    );
    if let Some(log) = &settings.audit_log {
        println!("  audit log:    {}", log.display());
    }
    if let Some(dir) = &settings.state_dir {
        println!("  state folder: {}", dir.display());
    }
    Ok(())
}
