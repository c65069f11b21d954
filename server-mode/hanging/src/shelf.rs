//! The hanging protocols a server or a desktop knows: those built into the binary
//! (`presets/hanging/*.toml`) and those of the site's folder, which replace built-ins of
//! the same name.

use std::path::Path;

use crate::{HangingError, HangingProtocol};

/// The largest protocol file read, in bytes.
pub const MOST_PROTOCOL_BYTES: u64 = 64 * 1024;
/// The most files read from a site's folder.
pub const MOST_SITE_PROTOCOLS: usize = 256;

/// The built-in protocol files, as (file name, TOML text).
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "mr-lumbar-prior.toml",
        include_str!("../../../presets/hanging/mr-lumbar-prior.toml"),
    ),
    (
        "ct-head-prior.toml",
        include_str!("../../../presets/hanging/ct-head-prior.toml"),
    ),
];

/// The protocols known, in the order they were read (built-ins first).
#[derive(Debug, Clone, PartialEq)]
pub struct HangingProtocols {
    protocols: Vec<HangingProtocol>,
}

impl HangingProtocols {
    /// No protocol: every study opens its first volume series.
    pub fn none() -> Self {
        Self {
            protocols: Vec::new(),
        }
    }

    /// The protocols built into the binary.
    pub fn builtin() -> Self {
        let protocols = BUILTIN_FILES
            .iter()
            .filter_map(
                |(file, text)| match HangingProtocol::from_toml(text, file) {
                    Ok(protocol) => Some(protocol),
                    // The build's own files are checked by this crate's tests.
                    Err(error) => {
                        tracing::error!(%error, "built-in hanging protocol left out");
                        None
                    }
                },
            )
            .collect();
        Self { protocols }
    }

    /// These protocols and those of `folder`'s `*.toml` files (read in name order, a
    /// protocol of a known name replacing it); the files not taken, each with why.
    pub fn with_site_folder(mut self, folder: &Path) -> (Self, Vec<HangingError>) {
        let mut errors = Vec::new();
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(source) => {
                errors.push(HangingError::Read {
                    file: folder.display().to_string(),
                    source,
                });
                return (self, errors);
            }
        };
        let mut files: Vec<_> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"))
            })
            .collect();
        files.sort();
        if files.len() > MOST_SITE_PROTOCOLS {
            files.truncate(MOST_SITE_PROTOCOLS);
            errors.push(HangingError::TooMany {
                folder: folder.display().to_string(),
            });
        }
        for file in files {
            let name = file.display().to_string();
            let read = hounsfield_files::read_text_at_most(
                &file,
                MOST_PROTOCOL_BYTES,
                "a hanging protocol",
            )
            .map_err(|source| HangingError::Read {
                file: name.clone(),
                source,
            })
            .and_then(|text| HangingProtocol::from_toml(&text, &name));
            match read {
                Ok(protocol) => self.insert(protocol),
                Err(error) => errors.push(error),
            }
        }
        (self, errors)
    }

    /// Adds `protocol`, in place of one of the same name.
    pub(crate) fn insert(&mut self, protocol: HangingProtocol) {
        match self.protocols.iter_mut().find(|p| p.name == protocol.name) {
            Some(known) => *known = protocol,
            None => self.protocols.push(protocol),
        }
    }

    /// Every protocol, in the order read.
    pub fn all(&self) -> &[HangingProtocol] {
        &self.protocols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_protocol_reads() {
        for (file, text) in BUILTIN_FILES {
            HangingProtocol::from_toml(text, file).expect("a built-in protocol reads");
        }
        assert_eq!(HangingProtocols::builtin().all().len(), BUILTIN_FILES.len());
    }

    #[test]
    fn a_site_protocol_replaces_a_builtin_of_its_name_and_a_bad_one_is_named() {
        let folder = tempfile::tempdir().expect("a folder");
        let builtin = HangingProtocols::builtin();
        let first = &builtin.all()[0];
        let replaced = format!(
            "name = \"{}\"\n[[cells]]\nstudy = \"current\"\nseries = [\"ax\"]\n",
            first.name
        );
        std::fs::write(folder.path().join("a.toml"), replaced).expect("written");
        std::fs::write(folder.path().join("b.toml"), "name = \"no cells\"\n").expect("written");
        std::fs::write(folder.path().join("c.txt"), "not read").expect("written");
        let (shelf, errors) = builtin.clone().with_site_folder(folder.path());
        assert_eq!(shelf.all().len(), builtin.all().len());
        assert_eq!(shelf.all()[0].cells[0].series, ["ax"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].to_string().contains("b.toml"), "{}", errors[0]);
    }
}
