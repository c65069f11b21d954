//! Hanging protocols: how a reading is laid out when a study opens. A protocol, a TOML
//! file, says which studies it is for (modality, study description), which prior of the
//! same patient it hangs beside them, and which series each cell shows with its layout,
//! window and preset. The built-in protocols come from `presets/hanging/`; a site's folder
//! adds to them and replaces those of the same name.
//!
//! - `rules`: a protocol file, read and checked within its bounds;
//! - `shelf`: the protocols a server or a desktop knows, built in and the site's;
//! - `hang`: a study and its priors laid out by the protocol that fits them best.

mod hang;
mod rules;
mod shelf;

pub use hang::{Hanging, first_volume, priors_of};
pub use rules::{
    CellRule, HangingProtocol, MOST_ALTERNATIVES, MOST_CELLS, MOST_RULE_CHARS, PriorRule, StudyRule,
};
pub use shelf::{HangingProtocols, MOST_PROTOCOL_BYTES, MOST_SITE_PROTOCOLS};

/// Why a protocol file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum HangingError {
    /// The file could not be read (missing, not a regular file, too large).
    #[error("hanging protocol {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a protocol's TOML.
    #[error("hanging protocol {file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What the TOML reader said.
        message: String,
    },
    /// A field is outside its bounds.
    #[error("hanging protocol {file}: {field}")]
    Field {
        /// The file.
        file: String,
        /// The field and its bounds.
        field: String,
    },
    /// The site's folder holds more protocols than are read.
    #[error(
        "hanging protocols in {folder}: more than {MOST_SITE_PROTOCOLS} files; the rest are left out"
    )]
    TooMany {
        /// The folder.
        folder: String,
    },
}
