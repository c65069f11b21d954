//! TLS for both halves, with rustls and one crypto provider (ring) for the whole binary:
//! the server's certificate, read again when its files change ([`server::ServerTls`]); a
//! self-signed certificate made once for a machine ([`self_signed`]); and what a client
//! trusts: the system's roots, a CA file, or one pinned certificate ([`client::ServerTrust`]).
//! Certificates are named by their SHA-256 [`Fingerprint`], as browsers and OpenSSL show it.

pub mod client;
pub mod self_signed;
pub mod server;

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

use hounsfield_files::{SmallFileError, read_at_most};

pub use client::ServerTrust;
pub use server::{CertificateFiles, ServerTls};

/// Largest certificate or key file read: a chain of a few certificates is a few KiB; this
/// leaves room for long chains and comments without reading whatever a wrong path names.
const PEM_FILE_LIMIT: u64 = 1 << 20;

/// The crypto provider of every TLS configuration the program makes (ring). It is also
/// installed as the process default, so a library that asks rustls for the default gets
/// the same one.
pub fn provider() -> Arc<CryptoProvider> {
    let ring = Arc::new(rustls::crypto::ring::default_provider());
    // Fails only when a provider is already installed: then it is this same one.
    let _ = CryptoProvider::install_default(rustls::crypto::ring::default_provider());
    ring
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is larger than any certificate or key.
    #[error("{} is {size} bytes: too large for a PEM certificate or key (at most {limit})", path.display(), limit = PEM_FILE_LIMIT)]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// A file holds no PEM object of the kind expected, or a broken one.
    #[error("{}: {what}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The key does not belong to the certificate, or rustls refused them.
    #[error("{} with {}: {reason}", certificate.display(), key.display())]
    Pair {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
    /// A certificate could not be made or written.
    #[error("self-signed certificate in {}: {reason}", folder.display())]
    SelfSigned {
        /// Where it was to be kept.
        folder: PathBuf,
        /// What failed.
        reason: String,
    },
    /// rustls refused a configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A certificate's SHA-256 fingerprint (of its DER encoding).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(certificate: &[u8]) -> Self {
        Self(Sha256::digest(certificate).into())
    }

    /// Parses 64 hex digits, with or without colons between the bytes, in either case
    /// (`AB:CD:…` as OpenSSL prints it, or as a link carries it).
    pub fn parse(text: &str) -> Option<Self> {
        let digits: Vec<u8> = text.trim().bytes().filter(|byte| *byte != b':').collect();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// Lower-case hex without separators, for URLs and settings files.
    pub fn to_compact(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Fingerprint {
    /// `AB:CD:…`, as OpenSSL and browsers show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, digit) in hex::encode_upper(self.0).chars().enumerate() {
            if i > 0 && i % 2 == 0 {
                f.write_char(':')?;
            }
            f.write_char(digit)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Reads a PEM file, refusing one larger than any certificate chain or key before reading.
fn read_pem(path: &Path) -> Result<Vec<u8>, TlsError> {
    read_at_most(path, PEM_FILE_LIMIT).map_err(|error| match error {
        SmallFileError::Io(source) => TlsError::Read {
            path: path.to_path_buf(),
            source,
        },
        SmallFileError::TooLarge(size) => TlsError::TooLarge {
            path: path.to_path_buf(),
            size,
        },
    })
}

/// The certificates in a PEM file, in order; an error names the file when there is none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::Pem {
            path: path.to_path_buf(),
            what: format!("broken PEM: {error}"),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            what: "no CERTIFICATE block".to_string(),
        });
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_in_both_spellings() {
        let fingerprint = Fingerprint::of(b"a certificate");
        let shown = fingerprint.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&shown), Some(fingerprint));
        assert_eq!(
            Fingerprint::parse(&fingerprint.to_compact()),
            Some(fingerprint)
        );
        assert_eq!(Fingerprint::parse(&shown.to_lowercase()), Some(fingerprint));
        let known = Fingerprint([0x0f; 32]);
        assert_eq!(known.to_string(), vec!["0F"; 32].join(":"));
        assert_eq!(known.to_compact(), "0f".repeat(32));
    }

    #[test]
    fn malformed_fingerprints_are_refused() {
        let compact = Fingerprint::of(b"x").to_compact();
        assert_eq!(Fingerprint::parse(&compact[..62]), None);
        assert_eq!(Fingerprint::parse(&format!("{}zz", &compact[..62])), None);
        assert_eq!(Fingerprint::parse(""), None);
        assert_eq!(Fingerprint::parse(&"é".repeat(32)), None);
    }

    #[test]
    fn oversized_and_empty_pem_files_are_named() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let big = folder.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; (PEM_FILE_LIMIT + 1) as usize]).expect("written");
        let error = read_certificates(&big).expect_err("too large");
        assert!(matches!(error, TlsError::TooLarge { .. }), "{error}");
        assert!(error.to_string().contains("big.pem"));
        let empty = folder.path().join("empty.pem");
        std::fs::write(&empty, "no pem here\n").expect("written");
        let error = read_certificates(&empty).expect_err("no certificate");
        assert!(
            error.to_string().contains("empty.pem: no CERTIFICATE"),
            "{error}"
        );
    }
}
