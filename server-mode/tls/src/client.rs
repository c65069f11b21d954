//! What a client trusts of a server's certificate ([`ServerTrust`]): the system's roots
//! and any CA files given (the certificate must name the host), or one certificate pinned
//! by its fingerprint, whatever signed it: a self-signed server the user chose to trust
//! (trust on first use). The certificate a server presented is kept ([`Presented`]), so a
//! refusal can show its fingerprint to the user.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{Fingerprint, TlsError, read_certificates};

/// What a client trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerTrust {
    /// CA certificates (PEM files) trusted besides the system's roots.
    pub ca_files: Vec<PathBuf>,
    /// Trust exactly the certificate with this fingerprint, and no other, whoever signed
    /// it and whatever names it carries.
    pub pinned: Option<Fingerprint>,
}

/// The fingerprint of the certificate the server presented in the last handshake.
#[derive(Debug, Default)]
pub struct Presented(Mutex<Option<Fingerprint>>);

impl Presented {
    /// The fingerprint seen, if a server presented a certificate.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record(&self, fingerprint: Fingerprint) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fingerprint);
    }
}

impl ServerTrust {
    /// Trusts the system's roots only.
    pub fn system() -> Self {
        Self::default()
    }

    /// Trusts only the certificate with `fingerprint`.
    pub fn pinned(fingerprint: Fingerprint) -> Self {
        Self {
            ca_files: Vec::new(),
            pinned: Some(fingerprint),
        }
    }

    /// A rustls client configuration for this trust, offering HTTP/1.1, and where the
    /// server's certificate will be recorded.
    pub fn client_config(&self) -> Result<(Arc<ClientConfig>, Arc<Presented>), TlsError> {
        let provider = super::provider();
        let presented = Arc::new(Presented::default());
        let chain = match self.pinned {
            Some(_) => None,
            None => {
                let mut roots = RootCertStore::empty();
                roots.extend(system_roots().roots.iter().cloned());
                for file in &self.ca_files {
                    for certificate in read_certificates(file)? {
                        roots.add(certificate).map_err(|error| TlsError::Pem {
                            path: file.clone(),
                            what: format!("not a CA certificate rustls can use: {error}"),
                        })?;
                    }
                }
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|error| {
                            TlsError::Config(rustls::Error::General(format!(
                                "no trusted root certificates ({error}): install the system's CA certificates or give the server's CA file"
                            )))
                        })?;
                Some(verifier)
            }
        };
        let verifier = Arc::new(Verifier {
            chain,
            pinned: self.pinned,
            presented: presented.clone(),
            provider: provider.clone(),
        });
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok((Arc::new(config), presented))
    }
}

/// The operating system's trusted roots, read once per process.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "a system root certificate was not read");
        }
        let mut roots = RootCertStore::empty();
        let (_, unusable) = roots.add_parsable_certificates(found.certs);
        if unusable > 0 {
            tracing::debug!(unusable, "system root certificates rustls cannot use");
        }
        roots
    })
}

/// Verifies a server's certificate: against the pin when there is one (the certificate
/// itself, not its chain or names: the user chose this certificate), otherwise against
/// the roots, chain and host name, as a browser does. Records what was presented.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    pinned: Option<Fingerprint>,
    presented: Arc<Presented>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of(end_entity);
        self.presented.record(fingerprint);
        match (self.pinned, &self.chain) {
            (Some(pinned), _) if pinned == fingerprint => Ok(ServerCertVerified::assertion()),
            (Some(pinned), _) => Err(rustls::Error::General(format!(
                "the server's certificate changed: trusted {pinned}, presented {fingerprint}"
            ))),
            (None, Some(chain)) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            (None, None) => Err(rustls::Error::General(
                "nothing to verify the certificate against".to_string(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
