//! The `--serve` configuration file: TOML whose keys are the `--serve` options, read with
//! every key known (an unknown one is an error naming it and the file) and relative paths
//! taken from the file's folder, as systemd units and most servers do.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The largest configuration file read: a real one is a few KiB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// What a configuration file sets; `None` (or an empty list) where it is silent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Folders of DICOM to serve.
    #[serde(default)]
    pub library: Vec<PathBuf>,
    /// The address to listen on.
    pub bind: Option<IpAddr>,
    /// The port to listen on.
    pub port: Option<u16>,
    /// The UDP port for WebRTC.
    pub webrtc_port: Option<u16>,
    /// The address WebRTC clients reach the server at.
    pub webrtc_address: Option<IpAddr>,
    /// This render node's name.
    pub node_name: Option<String>,
    /// Proxies in front of the server (addresses or networks).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// One access token.
    pub token: Option<String>,
    /// A file holding the access token.
    pub token_file: Option<PathBuf>,
    /// The users file.
    pub users: Option<PathBuf>,
    /// Sessions served at once.
    pub max_sessions: Option<usize>,
    /// Connections open at once.
    pub max_connections: Option<usize>,
    /// Web origins whose pages may open the WebSocket.
    #[serde(default)]
    pub allow_origin: Vec<String>,
    /// Memory for loaded volumes (MiB).
    pub cache_mb: Option<usize>,
    /// Memory one series may take while it loads (MiB).
    pub max_series_mb: Option<u64>,
    /// H.264 encoders: `auto`, `off` or FFmpeg names.
    pub h264: Option<String>,
    /// The certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Serve with a self-signed certificate made in the state folder.
    pub tls_self_signed: Option<bool>,
    /// Where the server keeps what it makes.
    pub state_dir: Option<PathBuf>,
    /// The audit log.
    pub audit_log: Option<PathBuf>,
    /// Seconds between listings of the library's PACS.
    pub pacs_refresh: Option<u64>,
    /// A file holding the bearer token for the library's PACS.
    pub dicomweb_token_file: Option<PathBuf>,
    /// The user name for the library's PACS (HTTP basic authentication).
    pub dicomweb_user: Option<String>,
    /// A file holding `dicomweb_user`'s password.
    pub dicomweb_password_file: Option<PathBuf>,
}

impl ConfigFile {
    /// Reads and parses `path`; an error names the file, and the key and line at fault.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open the configuration file {}", path.display()))?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| {
                format!(
                    "cannot read the configuration file {} (is it UTF-8 text?)",
                    path.display()
                )
            })?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            anyhow::bail!(
                "the configuration file {} is over {} KiB: not a configuration file?",
                path.display(),
                MAX_CONFIG_BYTES >> 10
            );
        }
        let mut config: Self = toml::from_str(&text).map_err(|error| {
            anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end())
        })?;
        config.anchor_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(config)
    }

    /// Makes every relative path in the file relative to `folder` (the file's own).
    fn anchor_paths(&mut self, folder: &Path) {
        let anchor = |path: &mut PathBuf| {
            if path.is_relative() && crate::source::dicomweb_url(path).is_none() {
                *path = folder.join(&*path);
            }
        };
        self.library.iter_mut().for_each(anchor);
        for path in [
            &mut self.token_file,
            &mut self.users,
            &mut self.tls_cert,
            &mut self.tls_key,
            &mut self.state_dir,
            &mut self.audit_log,
            &mut self.dicomweb_token_file,
            &mut self.dicomweb_password_file,
        ]
        .into_iter()
        .flatten()
        {
            anchor(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("hounsfield.toml");
        std::fs::write(&path, text).expect("written");
        (folder, path)
    }

    #[test]
    fn an_unknown_key_is_named_with_the_file() {
        let (_folder, path) = written("port = 8443\nmax_sesions = 4\n");
        let error = format!("{:#}", ConfigFile::read(&path).expect_err("refused"));
        assert!(error.contains("max_sesions"), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_named_with_its_key() {
        for (text, key) in [
            ("port = 70000\n", "port"),
            ("port = \"eighty\"\n", "port"),
            ("bind = \"localhost:80\"\n", "bind"),
            ("library = \"/srv/dicom\"\n", "library"),
            ("tls_self_signed = \"yes\"\n", "tls_self_signed"),
            ("max_sessions = -1\n", "max_sessions"),
        ] {
            let (_folder, path) = written(text);
            let error = format!("{:#}", ConfigFile::read(&path).expect_err(text));
            assert!(error.contains(key), "{text}: {error}");
            assert!(error.contains("hounsfield.toml"), "{text}: {error}");
        }
    }

    #[test]
    fn relative_paths_are_taken_from_the_files_folder() {
        let (folder, path) =
            written("library = [\"dicom\", \"/srv/other\"]\nusers = \"users.toml\"\n");
        let config = ConfigFile::read(&path).expect("read");
        assert_eq!(
            config.library,
            vec![folder.path().join("dicom"), PathBuf::from("/srv/other")]
        );
        assert_eq!(config.users, Some(folder.path().join("users.toml")));
    }

    #[test]
    fn a_file_that_is_not_text_or_too_large_is_refused() {
        let (_folder, path) = written("");
        std::fs::write(&path, [0xff, 0xfe, 0x00, 0x80]).expect("written");
        assert!(ConfigFile::read(&path).is_err());
        std::fs::write(&path, "# x\n".repeat(300_000)).expect("written");
        let error = format!("{:#}", ConfigFile::read(&path).expect_err("too large"));
        assert!(error.contains("KiB"), "{error}");
    }
}
