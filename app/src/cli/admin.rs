//! What `config`, `users` and `segments` accept: a configuration file checked, the users file edited, the Segmentations listed.

use std::path::PathBuf;

use clap::Subcommand;
use hounsfield_server::users::{Expiry, Role};

/// What `config` does.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read FILE as `--serve --config` would: every key and value checked, the files it
    /// names opened; prints the settings, or names the key at fault and exits 1.
    Check {
        /// The configuration file (TOML).
        file: PathBuf,
        /// Check the keys and values only, not the files and folders they name: for a file
        /// meant for another machine (a container image, a Kubernetes ConfigMap).
        #[arg(long)]
        keys_only: bool,
    },
}

/// What `findings` does.
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List the findings kept for a series (its last saved report, or its newest on a
    /// PACS) with their numbers.
    List {
        /// The file, folder or DICOMDIR holding the series, or a DICOMweb URL.
        path: PathBuf,
        /// Series id (from `info`) or series number; default: the largest series. For a
        /// DICOMweb URL: the SeriesInstanceUID (required).
        #[arg(long)]
        series: Option<String>,
        /// The server's state folder (its findings are in `findings/` there); default: the
        /// one `--serve` uses without `--state-dir`.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write the series' kept findings as their DICOM Measurement Report (SR).
    Export {
        /// The file, folder or DICOMDIR holding the series.
        path: PathBuf,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// The server's state folder; default: the one `--serve` uses.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// The DICOM file to write.
        #[arg(long, value_name = "FILE.dcm")]
        out: PathBuf,
    },
}

/// `hounsfield segments …`: the DICOM Segmentations of a study.
#[derive(Debug, Subcommand)]
pub enum SegmentsCommand {
    /// List the Segmentations among files and folders: each one's segments and the
    /// series it was drawn on.
    List {
        /// Files and folders to look through.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Read a Segmentation (this program's or another's) onto a series of the same frame
    /// of reference and print each segment's volume and statistics there.
    Measure {
        /// The Segmentation file.
        seg: PathBuf,
        /// The file, folder or DICOMDIR holding the series, or a DICOMweb URL.
        #[arg(long, value_name = "PATH")]
        on: PathBuf,
        /// Series id (from `info`) or series number; default: the largest series.
        #[arg(long)]
        series: Option<String>,
        /// Write each segment's numbers to this file as CSV (a header line, a row a
        /// segment).
        #[arg(long, value_name = "FILE.csv")]
        csv: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// What `users` does.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user with a new token, printed once on the last line.
    Add {
        /// The user's name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// viewer (joins shared sessions, view only), reader (opens any series, shares),
        /// or admin (reader, plus /metrics and the admin view).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// When access ends: a date (valid through that day, UTC) or an RFC 3339 time.
        #[arg(long, value_name = "DATE", value_parser = parse_expiry)]
        expires: Option<Expiry>,
        /// The users file (created when missing).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List the users: name, role, expiry and whether it has passed (never the hashes).
    List {
        /// The users file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove a user; a server reading the file ends their sessions within seconds.
    Remove {
        /// The user's name.
        name: String,
        /// The users file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

/// Parses a role's name.
pub(crate) fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text.trim())
        .ok_or_else(|| format!("{text:?} is not a role: viewer, reader or admin"))
}

/// Parses an expiry: a date or an RFC 3339 time.
pub(crate) fn parse_expiry(text: &str) -> Result<Expiry, String> {
    Expiry::parse(text)
}
