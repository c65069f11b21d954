//! The server's certificate and key ([`ServerTls`]): read from PEM files at start, checked
//! to belong together, and read again when either file changes, so a renewed certificate
//! is served without a restart. A renewal that does not load (a key that does not match,
//! a half-written file) is logged and the previous certificate stays in service.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use super::{Fingerprint, TlsError, read_certificates, read_pem};

/// How often the certificate files are looked at for a change.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// The PEM files of a server's certificate chain and private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    /// The certificate chain, the server's own certificate first.
    pub certificate: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The server's TLS: the acceptor of its connections and the certificate it serves.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    certificate: Arc<ReloadingCertificate>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("files", &self.certificate.files)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Loads the certificate and key (an error names the file at fault) and makes the
    /// acceptor: TLS 1.2 and 1.3, HTTP/1.1 offered by ALPN.
    pub fn from_files(files: CertificateFiles) -> Result<Self, TlsError> {
        let provider = super::provider();
        let key = load(&files, &provider)?;
        let certificate = Arc::new(ReloadingCertificate {
            stamp: Mutex::new(FileStamp::of(&files)),
            current: RwLock::new(Arc::new(key)),
            files,
            provider: provider.clone(),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(certificate.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificate,
        })
    }

    /// The fingerprint of the certificate served now.
    pub fn fingerprint(&self) -> Fingerprint {
        self.certificate.fingerprint()
    }

    /// The files the certificate is read from.
    pub fn files(&self) -> &CertificateFiles {
        &self.certificate.files
    }

    /// Reads the certificate again if either file changed since it was last read; `Ok(true)`
    /// when a new one is now served, an error (the old one still served) when the new
    /// files do not load.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        self.certificate.reload_if_changed()
    }

    /// Looks at the files every [`RELOAD_CHECK_INTERVAL`] and serves a changed
    /// certificate from then on, until the returned task is dropped or aborted.
    ///
    /// Polling, not inotify: certificate renewals replace files by rename, often through
    /// symbolic links (certbot's `live/` folder), which a watch on the old file misses;
    /// two `stat` calls every two seconds cost nothing.
    pub fn watch(&self) -> tokio::task::JoinHandle<()> {
        let tls = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(RELOAD_CHECK_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match tls.reload_if_changed() {
                    Ok(true) => tracing::info!(
                        certificate = %tls.files().certificate.display(),
                        fingerprint = %tls.fingerprint(),
                        "TLS certificate read again: new connections get it"
                    ),
                    Ok(false) => {}
                    Err(error) => tracing::warn!(
                        %error,
                        "the changed TLS certificate does not load; the previous one is still served"
                    ),
                }
            }
        })
    }

    /// The acceptor new connections go through.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// The certificate served now, swapped when its files change.
#[derive(Debug)]
struct ReloadingCertificate {
    files: CertificateFiles,
    provider: Arc<CryptoProvider>,
    /// The files as last read (or last tried).
    stamp: Mutex<FileStamp>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCertificate {
    fn fingerprint(&self) -> Fingerprint {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Fingerprint::of(current.cert.first().map_or(&[][..], |der| der.as_ref()))
    }

    fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = FileStamp::of(&self.files);
        {
            let mut stamp = self
                .stamp
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if *stamp == now {
                return Ok(false);
            }
            // Tried once per change: a broken renewal is reported once, not every tick.
            *stamp = now;
        }
        let key = load(&self.files, &self.provider)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(key);
        Ok(true)
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

/// What tells that a file changed: its modification time and size (of the file a link
/// points to), for both files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp([Option<(SystemTime, u64)>; 2]);

impl FileStamp {
    fn of(files: &CertificateFiles) -> Self {
        let stamp = |path: &Path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        Self([stamp(&files.certificate), stamp(&files.key)])
    }
}

/// The chain and key from their files, checked to belong together.
fn load(files: &CertificateFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = read_certificates(&files.certificate)?;
    let key_pem = read_pem(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| TlsError::Pem {
        path: files.key.clone(),
        what: format!("no usable PRIVATE KEY block ({error})"),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|error| TlsError::Pair {
        certificate: files.certificate.clone(),
        key: files.key.clone(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::self_signed;

    fn write_pair(folder: &Path, name: &str) -> (CertificateFiles, Fingerprint) {
        let made = self_signed::make(&[name.to_string()], &[]).expect("a certificate");
        let files = CertificateFiles {
            certificate: folder.join(format!("{name}.crt")),
            key: folder.join(format!("{name}.key")),
        };
        std::fs::write(&files.certificate, &made.certificate_pem).expect("written");
        std::fs::write(&files.key, &made.key_pem).expect("written");
        (files, made.fingerprint)
    }

    #[test]
    fn a_changed_certificate_is_served_and_a_broken_one_is_not() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let (files, first) = write_pair(folder.path(), "first.test");
        let tls = ServerTls::from_files(files.clone()).expect("loads");
        assert_eq!(tls.fingerprint(), first);
        assert!(!tls.reload_if_changed().expect("unchanged"));

        let (second_files, second) = write_pair(folder.path(), "second.test");
        std::fs::copy(&second_files.certificate, &files.certificate).expect("copied");
        std::fs::copy(&second_files.key, &files.key).expect("copied");
        assert!(tls.reload_if_changed().expect("reloads"));
        assert_eq!(tls.fingerprint(), second);

        // A renewal whose key belongs to another certificate keeps the one served.
        let (third_files, _) = write_pair(folder.path(), "third.test-with-a-longer-name");
        std::fs::copy(&third_files.certificate, &files.certificate).expect("copied");
        let error = tls.reload_if_changed().expect_err("mismatched key");
        assert!(matches!(error, TlsError::Pair { .. }), "{error}");
        assert_eq!(tls.fingerprint(), second);
        // Reported once per change, not on every look.
        assert!(!tls.reload_if_changed().expect("same broken files"));
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_at_start() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let (one, _) = write_pair(folder.path(), "one.test");
        let (other, _) = write_pair(folder.path(), "other.test");
        let mixed = CertificateFiles {
            certificate: one.certificate,
            key: other.key.clone(),
        };
        let error = ServerTls::from_files(mixed).expect_err("mismatched");
        assert!(error.to_string().contains("other.test.key"), "{error}");
        let swapped = CertificateFiles {
            certificate: other.key.clone(),
            key: other.key,
        };
        let error = ServerTls::from_files(swapped).expect_err("a key is no certificate");
        assert!(error.to_string().contains("no CERTIFICATE"), "{error}");
    }
}
