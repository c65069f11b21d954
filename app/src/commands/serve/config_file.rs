//! The `--serve` configuration file: TOML whose keys are the `--serve` options, read into
//! the same [`ServeOptions`] the command line fills, with every key known (an unknown one
//! is an error naming it and the file) and relative paths taken from the file's folder, as
//! systemd units and most servers do.

use std::path::Path;

use anyhow::Context;

use crate::cli::ServeOptions;

/// The largest configuration file read: a real one is a few KiB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads and parses `path`; an error names the file, and the key and line at fault.
pub fn read(path: &Path) -> anyhow::Result<ServeOptions> {
    let text = hounsfield_files::read_text_at_most(path, MAX_CONFIG_BYTES, "a configuration file")
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let mut options: ServeOptions = toml::from_str(&text)
        .map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end()))?;
    anchor_paths(&mut options, path)?;
    Ok(options)
}

/// Makes every relative path in the configuration file at `file` relative to the file's
/// own folder; an empty path is refused by its key (anchored, it would name the folder
/// itself: an audit log written over the configuration's folder).
fn anchor_paths(options: &mut ServeOptions, file: &Path) -> anyhow::Result<()> {
    let folder = file.parent().unwrap_or(Path::new("."));
    let library = options.library.iter_mut().map(|path| ("library", path));
    let single = [
        ("token_file", &mut options.token_file),
        ("users", &mut options.users),
        (
            "oidc_client_secret_file",
            &mut options.oidc_client_secret_file,
        ),
        ("tls_cert", &mut options.tls_cert),
        ("tls_key", &mut options.tls_key),
        ("state_dir", &mut options.state_dir),
        ("audit_log", &mut options.audit_log),
        ("dicom_store", &mut options.dicom_store),
        ("dicomweb_token_file", &mut options.dicomweb_token_file),
        (
            "dicomweb_password_file",
            &mut options.dicomweb_password_file,
        ),
    ]
    .into_iter()
    .filter_map(|(key, path)| path.as_mut().map(|path| (key, path)));
    for (key, path) in library.chain(single) {
        if path.as_os_str().is_empty() {
            anyhow::bail!("{}: {key} is an empty path", file.display());
        }
        let address = hounsfield_workstation::source::dicomweb_url(path).is_some()
            || hounsfield_workstation::source::dimse_address(path).is_some();
        if path.is_relative() && !address {
            *path = folder.join(&*path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn written(text: &str) -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("hounsfield.toml");
        std::fs::write(&path, text).expect("written");
        (folder, path)
    }

    #[test]
    fn an_empty_path_is_refused_by_its_key() {
        for key in [
            "audit_log",
            "state_dir",
            "users",
            "tls_cert",
            "oidc_client_secret_file",
        ] {
            let (_folder, path) = written(&format!("{key} = \"\"\n"));
            let error = format!("{:#}", read(&path).expect_err(key));
            assert!(
                error.contains(&format!("{key} is an empty path")),
                "{error}"
            );
            assert!(error.contains(&path.display().to_string()), "{error}");
        }
        let (_folder, path) = written("library = [\"a\", \"\"]\n");
        let error = format!("{:#}", read(&path).expect_err("an empty library path"));
        assert!(error.contains("library is an empty path"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_named_with_the_file() {
        let (_folder, path) = written("port = 8443\nmax_sesions = 4\n");
        let error = format!("{:#}", read(&path).expect_err("refused"));
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
            let error = format!("{:#}", read(&path).expect_err(text));
            assert!(error.contains(key), "{text}: {error}");
            assert!(error.contains("hounsfield.toml"), "{text}: {error}");
        }
    }

    #[test]
    fn relative_paths_are_taken_from_the_files_folder() {
        let (folder, path) = written(
            "library = [\"dicom\", \"/srv/other\", \"dimse://PACS@10.0.0.9:104\"]\nusers = \"users.toml\"\ndicom_store = \"received\"\n",
        );
        let config = read(&path).expect("read");
        assert_eq!(
            config.library,
            vec![
                folder.path().join("dicom"),
                PathBuf::from("/srv/other"),
                PathBuf::from("dimse://PACS@10.0.0.9:104")
            ]
        );
        assert_eq!(config.users, Some(folder.path().join("users.toml")));
        assert_eq!(config.dicom_store, Some(folder.path().join("received")));
    }

    #[test]
    fn a_file_that_is_not_text_too_large_or_not_a_file_is_refused() {
        let (_folder, path) = written("");
        std::fs::write(&path, [0xff, 0xfe, 0x00, 0x80]).expect("written");
        assert!(read(&path).is_err());
        std::fs::write(&path, "# x\n".repeat(300_000)).expect("written");
        let error = format!("{:#}", read(&path).expect_err("too large"));
        assert!(error.contains("is at most 1048576"), "{error}");
        let pipe = path.with_extension("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let error = format!("{:#}", read(&pipe).expect_err("a pipe is not read"));
        assert!(error.contains("a named pipe"), "{error}");
    }
}
