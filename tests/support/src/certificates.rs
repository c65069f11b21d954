//! A certificate authority of the test's own (rcgen) and server certificates it signs,
//! written as PEM files the server and the clients read.

use std::path::{Path, PathBuf};

use base64::Engine;
use hounsfield_tls::{CertificateFiles, Fingerprint};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, PublicKeyData,
    SanType,
};
use sha2::Digest;

/// The test's CA.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// Its certificate, PEM, for clients to trust.
    pub certificate: PathBuf,
}

impl TestCa {
    /// A new CA, its certificate written in `folder`.
    pub fn new(folder: &Path) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Hounsfield test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key"))
            .expect("a CA certificate");
        let certificate = folder.join("test-ca.crt");
        std::fs::write(&certificate, issuer.pem()).expect("written");
        Self {
            issuer,
            certificate,
        }
    }

    /// A server certificate for `names` and 127.0.0.1, signed by the CA, written as
    /// `FILE.crt` and `FILE.key` in `folder`.
    pub fn issue(&self, folder: &Path, file: &str, names: &[&str]) -> Issued {
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        let mut params = CertificateParams::new(names).expect("server parameters");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        let key = KeyPair::generate().expect("a key");
        let certificate = params.signed_by(&key, &self.issuer).expect("signed");
        let files = CertificateFiles {
            certificate: folder.join(format!("{file}.crt")),
            key: folder.join(format!("{file}.key")),
        };
        std::fs::write(&files.certificate, certificate.pem()).expect("written");
        std::fs::write(&files.key, key.serialize_pem()).expect("written");
        Issued {
            files,
            fingerprint: Fingerprint::of(certificate.der()),
            spki_sha256_base64: base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(key.subject_public_key_info())),
        }
    }
}

/// A server certificate the CA issued.
pub struct Issued {
    /// Its PEM files.
    pub files: CertificateFiles,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// The base64 SHA-256 of its public key (SubjectPublicKeyInfo), as Chromium's
    /// `--ignore-certificate-errors-spki-list` takes it (Chromium honours the switch for
    /// the server's own certificate, not for its CA's).
    pub spki_sha256_base64: String,
}
