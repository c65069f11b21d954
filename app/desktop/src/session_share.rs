//! "Share this session": the streaming server started inside the desktop, on the window's
//! own GPU device, serving only the series on screen; a colleague's browser or app sees
//! the view the radiologist steers, view-only unless she allows otherwise. A token is
//! always required, and the share speaks only TLS, with a self-signed certificate made once
//! for this machine and kept beside the settings (`share-tls/`), so a colleague who trusted
//! it once keeps trusting it; the link carries its fingerprint. The share and its viewers'
//! sessions are recorded in the desktop's audit log (`audit.jsonl` beside the settings
//! file).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use hounsfield_protocol::{SeriesInfo, SharedView, StudyInfo};
use hounsfield_server::sharing::{Follow, Host};

use crate::share_room::ShareRoom;
use hounsfield_server::{AuditEvent, AuditLog, BackgroundServer, generate_token};
use hounsfield_server::{Library, Scheduler, ServerConfig};
use hounsfield_tls::{Fingerprint, ServerTls, self_signed};
use render_core::Volume;
use render_core::gpu::GpuContext;
use render_core::transfer::PresetLibrary;

/// What the share dialog asks for.
#[derive(Debug, Clone)]
pub struct ShareOptions {
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// Listen on every network interface (a colleague's machine) or on this one only.
    pub all_interfaces: bool,
    /// Viewers may not change the view.
    pub view_only: bool,
}

impl Default for ShareOptions {
    fn default() -> Self {
        Self {
            port: 0,
            all_interfaces: true,
            view_only: true,
        }
    }
}

/// The series being shared.
pub struct SharedSeries {
    /// Its id (as the thin clients open it).
    pub id: String,
    /// Its modality code.
    pub modality: String,
    /// A line describing it for the studies list.
    pub description: String,
    /// The volume on screen.
    pub volume: Arc<Volume>,
}

/// A running share.
pub struct Sharing {
    /// Serving until the share is dropped (stopped before the host's channel goes).
    _server: BackgroundServer,
    host: Host,
    /// Where it listens.
    pub address: SocketAddr,
    /// The token viewers must present.
    pub token: String,
    /// Viewers may not change the view.
    pub view_only: bool,
    /// The fingerprint of the share's certificate.
    pub fingerprint: Fingerprint,
    /// Where the certificate is kept when there is no settings folder; removed with the
    /// share.
    _certificate_folder: Option<tempfile::TempDir>,
    /// The window in the share's room: its pointer and findings told to the followers, and theirs.
    pub room: ShareRoom,
}

impl Sharing {
    /// Starts serving `series` on `context` (the window's device), viewers starting at
    /// `view`; the share and its sessions are recorded in the audit log of the desktop's
    /// `folder` (beside its settings), which also keeps the share's certificate.
    pub fn start(
        context: GpuContext,
        presets: PresetLibrary,
        series: SharedSeries,
        view: SharedView,
        options: &ShareOptions,
        folder: Option<&Path>,
    ) -> Result<Self, String> {
        let audit = folder.map(|folder| folder.join("audit.jsonl"));
        let token = generate_token().map_err(|error| format!("no token could be made: {error}"))?;
        let (host, follow) = Follow::channel(&series.id, view, options.view_only);
        let room = ShareRoom::enter(&follow.room, host_name());
        let ip = if options.all_interfaces {
            Ipv4Addr::UNSPECIFIED
        } else {
            Ipv4Addr::LOCALHOST
        };
        let mut config = ServerConfig::new(SocketAddr::from((ip, options.port)));
        config.token = Some(token.clone());
        config.follow = Some(follow);
        config.max_sessions = 8;
        config.audit = Arc::new(
            audit
                .as_deref()
                .map_or_else(AuditLog::disabled, open_audit_log),
        );
        let (tls, certificate_folder) = share_certificate(folder, config.bind.ip())?;
        let fingerprint = tls.fingerprint();
        config.tls = Some(tls);
        let study = StudyInfo {
            id: format!("shared-{}", series.id),
            description: "Shared from a Hounsfield desktop".to_string(),
            date: String::new(),
            patient_name: String::new(),
            patient_id: String::new(),
            accession: String::new(),
            modalities: vec![series.modality.clone()],
            series: vec![SeriesInfo {
                id: series.id.clone(),
                number: None,
                modality: series.modality.clone(),
                description: series.description.clone(),
                body_part: String::new(),
                images: series.volume.dims[2],
                dims: Some(series.volume.dims),
                unavailable: None,
                kind: hounsfield_protocol::SeriesKind::Volume,
                thumbnail: Some(hounsfield_server::library::thumbnail_path(&series.id)),
            }],
        };
        let library = Arc::new(Library::single(&series.id, study, series.volume));
        let scheduler = Arc::new(
            Scheduler::start_on(context, presets, 2)
                .map_err(|error| format!("the share could not render: {error}"))?,
        );
        let audit = config.audit.clone();
        let server = BackgroundServer::start("share-server", config, library, scheduler)
            .map_err(|error| error.to_string())?;
        audit.record(&AuditEvent::ShareStarted {
            series: series.id.clone(),
            address: server.address(),
        });
        Ok(Self {
            host,
            address: server.address(),
            token,
            view_only: options.view_only,
            fingerprint,
            _certificate_folder: certificate_folder,
            _server: server,
            room,
        })
    }

    /// Shows `view` to the viewers.
    pub fn publish(&self, view: SharedView) {
        self.host.publish(view);
    }

    /// The address to give a colleague (the browser page or `hounsfield connect`), with
    /// the token and the certificate's fingerprint; the host part is this machine's name
    /// when listening on every interface.
    pub fn url(&self) -> String {
        let host = if self.address.ip().is_unspecified() {
            let name = self_signed::machine_names().into_iter().next();
            name.map_or(
                url::Host::Domain("localhost".to_string()),
                url::Host::Domain,
            )
        } else {
            match self.address.ip() {
                IpAddr::V4(ip) => url::Host::Ipv4(ip),
                IpAddr::V6(ip) => url::Host::Ipv6(ip),
            }
        };
        share_url(&host, self.address.port(), &self.token, &self.fingerprint)
    }
}

/// The name the share's followers know the desktop's pointer by: the user's on this
/// machine, as the host.
fn host_name() -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| !user.is_empty() && user.len() <= 64)
        .map_or_else(|| "host".to_string(), |user| format!("{user} (host)"))
}

/// `https://HOST:PORT/?token=…&fingerprint=…`, an IPv6 host in brackets and the query
/// escaped, as the `url` crate writes it.
fn share_url(host: &url::Host, port: u16, token: &str, fingerprint: &Fingerprint) -> String {
    let mut url = url::Url::parse(&format!("https://{host}:{port}/"))
        .unwrap_or_else(|_| url::Url::parse("https://localhost/").expect("a constant URL"));
    url.query_pairs_mut()
        .append_pair("token", token)
        .append_pair("fingerprint", &fingerprint.to_compact());
    url.to_string()
}

/// The share's certificate: made once in `share-tls/` of the desktop's folder and kept, or
/// in a temporary folder (returned, to be kept as long as the share) without one.
fn share_certificate(
    folder: Option<&Path>,
    bound: IpAddr,
) -> Result<(ServerTls, Option<tempfile::TempDir>), String> {
    let (folder, temporary) = match folder {
        Some(folder) => (folder.join("share-tls"), None),
        None => {
            let temporary = tempfile::tempdir()
                .map_err(|error| format!("no folder for the share's certificate: {error}"))?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    let names = self_signed::machine_names();
    let addresses = self_signed::machine_addresses(bound);
    let (files, _) = self_signed::ensure(&folder, &names, &addresses)
        .map_err(|error| format!("the share's certificate: {error}"))?;
    let tls = ServerTls::from_files(files)
        .map_err(|error| format!("the share's certificate: {error}"))?;
    Ok((tls, temporary))
}

/// The audit log at `path`; none (with a warning) when it cannot be opened: sharing goes
/// on without it.
fn open_audit_log(path: &Path) -> AuditLog {
    AuditLog::open(path).unwrap_or_else(|error| {
        tracing::warn!(path = %path.display(), %error, "the share is not audited");
        AuditLog::disabled()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint() -> Fingerprint {
        Fingerprint::parse(&"ab".repeat(32)).expect("a fingerprint")
    }

    #[test]
    fn an_ipv6_host_is_bracketed_and_the_link_parses_back() {
        let host = url::Host::Ipv6("fe80::1".parse().expect("an address"));
        let link = share_url(&host, 8443, "t0k+n", &fingerprint());
        assert!(link.starts_with("https://[fe80::1]:8443/?token="), "{link}");
        let parsed = url::Url::parse(&link).expect("the link parses");
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("token".to_string(), "t0k+n".to_string()));
        assert_eq!(pairs[1].1, fingerprint().to_compact());
    }

    #[test]
    fn a_name_or_an_ipv4_address_stays_as_it_is() {
        let named = share_url(
            &url::Host::Domain("ct-ws-7".to_string()),
            8443,
            "t",
            &fingerprint(),
        );
        assert!(
            named.starts_with("https://ct-ws-7:8443/?token=t&fingerprint="),
            "{named}"
        );
        let v4 = share_url(
            &url::Host::Ipv4([10, 1, 2, 3].into()),
            9000,
            "t",
            &fingerprint(),
        );
        assert!(v4.starts_with("https://10.1.2.3:9000/"), "{v4}");
    }
}
