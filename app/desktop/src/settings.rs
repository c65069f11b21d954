//! The desktop's settings, kept between runs in a TOML file: the servers to stream from,
//! the layout, the recent studies and an extra presets folder. A broken file is reported
//! and replaced by defaults; it is never a reason not to start.

use std::path::{Path, PathBuf};

use hounsfield_files::Permissions;
use hounsfield_tls::Fingerprint;
use render_core::view::Layout;
use serde::{Deserialize, Serialize};

/// How many recent studies are remembered.
pub const RECENT_LIMIT: usize = 10;

/// A server the desktop can stream from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEntry {
    /// `http://host:port` as the user gave it.
    pub url: String,
    /// Its access token, when it wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A server certificate the user chose to trust (trust on first use): from then on that
/// server must present this certificate and no other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedCertificate {
    /// The server, `host:port`.
    pub server: String,
    /// The certificate's SHA-256 fingerprint (hex).
    pub fingerprint: String,
}

/// A study opened before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentStudy {
    /// The file, folder or DICOMDIR.
    pub path: PathBuf,
    /// The series shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
}

/// Everything remembered between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Servers, the preferred one first.
    pub servers: Vec<ServerEntry>,
    /// The view layout.
    pub layout: Layout,
    /// Whether patient and study text is drawn over the views.
    pub show_overlay: bool,
    /// An extra folder of transfer-function presets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presets_folder: Option<PathBuf>,
    /// Studies opened before, the newest first.
    pub recent: Vec<RecentStudy>,
    /// Server certificates trusted by their fingerprint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_certificates: Vec<TrustedCertificate>,
    /// The PACS the studies panel searches (a DICOMweb base URL), the last one searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacs_url: Option<String>,
}

impl Default for Settings {
    /// No servers or recent studies, the 3D view alone, the overlay shown.
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            layout: Layout::Single,
            show_overlay: true,
            presets_folder: None,
            recent: Vec::new(),
            trusted_certificates: Vec::new(),
            pacs_url: None,
        }
    }
}

impl Settings {
    /// The settings file: `$HOUNSFIELD_SETTINGS`, else `hounsfield/settings.toml` in the
    /// user's configuration folder.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("HOUNSFIELD_SETTINGS") {
            return Some(PathBuf::from(path));
        }
        dirs::config_dir().map(|dir| dir.join("hounsfield").join("settings.toml"))
    }

    /// Reads `path`; a missing file gives the defaults, a broken one the defaults and a
    /// warning that names the file and what is wrong.
    pub fn load(path: &Path) -> (Self, Option<String>) {
        let text = match hounsfield_files::read_text_at_most(
            path,
            MAX_SETTINGS_BYTES,
            "a settings file",
        ) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return (Self::fresh(), None);
            }
            Err(error) => {
                return (
                    Self::fresh(),
                    Some(format!("settings {} unreadable: {error}", path.display())),
                );
            }
        };
        match toml::from_str(&text) {
            Ok(settings) => (settings, None),
            Err(error) => (
                Self::fresh(),
                Some(format!(
                    "settings {} ignored: {}",
                    path.display(),
                    error.message()
                )),
            ),
        }
    }

    /// The settings of a first run.
    pub fn fresh() -> Self {
        Self::default()
    }

    /// Writes the settings to `path` (creating its folder), readable by the user alone
    /// since it may hold server tokens.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = toml::to_string_pretty(self)
            .map_err(|error| format!("settings could not be written: {error}"))?;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
        }
        hounsfield_files::write_whole(path, text.as_bytes(), Permissions::OwnerOnly)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))
    }

    /// Puts `url` first among the servers (adding it, keeping a token already known when
    /// `token` is none).
    pub fn remember_server(&mut self, url: &str, token: Option<String>) {
        let known = self
            .servers
            .iter()
            .position(|entry| entry.url == url)
            .map(|at| self.servers.remove(at));
        let token = token.or_else(|| known.and_then(|entry| entry.token));
        self.servers.insert(
            0,
            ServerEntry {
                url: url.to_string(),
                token,
            },
        );
    }

    /// The certificate trusted for `server` (`host:port`), if the user trusted one; a
    /// fingerprint that does not read back is ignored.
    pub fn trusted_certificate(&self, server: &str) -> Option<Fingerprint> {
        self.trusted_certificates
            .iter()
            .find(|trusted| trusted.server.eq_ignore_ascii_case(server))
            .and_then(|trusted| Fingerprint::parse(&trusted.fingerprint))
    }

    /// Trusts `fingerprint` for `server` (`host:port`), instead of any trusted before.
    pub fn trust_certificate(&mut self, server: &str, fingerprint: Fingerprint) {
        self.trusted_certificates
            .retain(|trusted| !trusted.server.eq_ignore_ascii_case(server));
        self.trusted_certificates.push(TrustedCertificate {
            server: server.to_ascii_lowercase(),
            fingerprint: fingerprint.to_compact(),
        });
    }

    /// Puts a study first among the recent ones, keeping at most [`RECENT_LIMIT`].
    pub fn remember_study(&mut self, path: &Path, series: Option<&str>) {
        self.recent.retain(|recent| recent.path != path);
        self.recent.insert(
            0,
            RecentStudy {
                path: path.to_path_buf(),
                series: series.map(str::to_string),
            },
        );
        self.recent.truncate(RECENT_LIMIT);
    }
}

/// The largest settings file read: a real one is well under a KiB.
const MAX_SETTINGS_BYTES: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_save_and_load() {
        let folder = tempfile::tempdir().expect("temp folder");
        let path = folder.path().join("nested").join("settings.toml");
        let mut settings = Settings::fresh();
        settings.layout = Layout::Quad;
        settings.remember_server("http://a:8080", Some("secret".to_string()));
        settings.remember_server("http://b:8080", None);
        settings.remember_server("http://a:8080", None);
        settings.remember_study(Path::new("/data/ct"), Some("1.2.3"));
        let (first, second) = (Fingerprint::of(b"first"), Fingerprint::of(b"second"));
        settings.trust_certificate("viewer.test:8443", first);
        settings.trust_certificate("Viewer.test:8443", second);
        settings.save(&path).expect("saved");
        let (loaded, warning) = Settings::load(&path);
        assert_eq!(warning, None);
        assert_eq!(loaded, settings);
        assert_eq!(loaded.servers[0].url, "http://a:8080");
        assert_eq!(
            loaded.servers[0].token.as_deref(),
            Some("secret"),
            "the token is kept"
        );
        assert_eq!(loaded.servers.len(), 2);
        assert_eq!(
            loaded.trusted_certificate("viewer.test:8443"),
            Some(second),
            "one certificate trusted per server, the latest"
        );
        assert_eq!(loaded.trusted_certificates.len(), 1);
        assert_eq!(loaded.trusted_certificate("other.test:8443"), None);
    }

    #[test]
    fn layouts_written_by_earlier_versions_still_load() {
        let folder = tempfile::tempdir().expect("temp folder");
        let path = folder.path().join("settings.toml");
        for (text, layout) in [("quad", Layout::Quad), ("single", Layout::Single)] {
            std::fs::write(&path, format!("layout = \"{text}\"\n")).expect("written");
            let (loaded, warning) = Settings::load(&path);
            assert_eq!(warning, None, "{text}");
            assert_eq!(loaded.layout, layout, "{text}");
        }
    }

    #[test]
    fn a_broken_file_gives_defaults_and_names_the_file_and_field() {
        let folder = tempfile::tempdir().expect("temp folder");
        let path = folder.path().join("settings.toml");
        std::fs::write(&path, "layout = \"hexagonal\"\n").expect("written");
        let (loaded, warning) = Settings::load(&path);
        assert_eq!(loaded, Settings::fresh());
        let warning = warning.expect("a warning");
        assert!(
            warning.contains("settings.toml") && warning.contains("hexagonal"),
            "{warning}"
        );
        let (missing, none) = Settings::load(&folder.path().join("absent.toml"));
        assert_eq!((missing, none), (Settings::fresh(), None));
    }

    #[test]
    fn recent_studies_are_newest_first_without_repeats_and_bounded() {
        let mut settings = Settings::fresh();
        for n in 0..15 {
            settings.remember_study(Path::new(&format!("/data/{n}")), None);
        }
        settings.remember_study(Path::new("/data/12"), None);
        assert_eq!(settings.recent.len(), RECENT_LIMIT);
        assert_eq!(settings.recent[0].path, Path::new("/data/12"));
        assert_eq!(settings.recent[1].path, Path::new("/data/14"));
    }
}
