//! A self-signed certificate for a machine: its host name, `localhost` and its addresses,
//! made once (rcgen, ECDSA P-256) and kept in a folder of its own, so its fingerprint stays
//! the same from one start to the next and clients that trusted it once keep trusting it.

use hounsfield_files::{Permissions, write_whole};
use std::net::IpAddr;
use std::path::Path;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

use super::{CertificateFiles, Fingerprint, TlsError};

/// The certificate's file name in its folder.
pub const CERTIFICATE_FILE: &str = "self-signed.crt";
/// The key's file name in its folder (readable by its owner only).
pub const KEY_FILE: &str = "self-signed.key";

/// A certificate just made.
#[derive(Debug)]
pub struct SelfSigned {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate's SHA-256 fingerprint.
    pub fingerprint: Fingerprint,
}

/// Makes a certificate for `names` (DNS names; the first is its common name) and
/// `addresses`, signed by its own new key.
pub fn make(names: &[String], addresses: &[IpAddr]) -> Result<SelfSigned, rcgen::Error> {
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .subject_alt_names
        .extend(addresses.iter().copied().map(SanType::IpAddress));
    let mut subject = DistinguishedName::new();
    subject.push(
        DnType::CommonName,
        names.first().map_or("Hounsfield server", String::as_str),
    );
    subject.push(DnType::OrganizationName, "Hounsfield (self-signed)");
    params.distinguished_name = subject;
    let key = KeyPair::generate()?;
    let certificate = params.self_signed(&key)?;
    Ok(SelfSigned {
        fingerprint: Fingerprint::of(certificate.der()),
        certificate_pem: certificate.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The certificate kept in `folder`, made there first if it is not (for `names` and
/// `addresses`); `true` when it was made now.
pub fn ensure(
    folder: &Path,
    names: &[String],
    addresses: &[IpAddr],
) -> Result<(CertificateFiles, bool), TlsError> {
    let files = CertificateFiles {
        certificate: folder.join(CERTIFICATE_FILE),
        key: folder.join(KEY_FILE),
    };
    if files.certificate.exists() && files.key.exists() {
        return Ok((files, false));
    }
    let failed = |reason: String| TlsError::SelfSigned {
        folder: folder.to_path_buf(),
        reason,
    };
    let made = make(names, addresses).map_err(|error| failed(error.to_string()))?;
    std::fs::create_dir_all(folder).map_err(|error| failed(error.to_string()))?;
    // The key first, owner-only from its creation; each file written whole under a
    // temporary name and renamed, so a crash never leaves half a key to be served.
    write_whole(&files.key, made.key_pem.as_bytes(), Permissions::OwnerOnly)
        .map_err(|error| failed(format!("writing {}: {error}", files.key.display())))?;
    write_whole(
        &files.certificate,
        made.certificate_pem.as_bytes(),
        Permissions::WorldReadable,
    )
    .map_err(|error| failed(format!("writing {}: {error}", files.certificate.display())))?;
    Ok((files, true))
}

/// The names a certificate for this machine carries: its host name (and the name with
/// its domain when the system knows one) and `localhost`.
pub fn machine_names() -> Vec<String> {
    let mut names = Vec::new();
    for file in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(text) = std::fs::read_to_string(file) {
            let name = text.trim().to_ascii_lowercase();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
            break;
        }
    }
    names.push("localhost".to_string());
    names
}

/// The addresses a certificate for this machine carries: `bound` when it is one address,
/// every interface's address when it is the unspecified one, and loopback.
pub fn machine_addresses(bound: IpAddr) -> Vec<IpAddr> {
    let mut addresses = Vec::new();
    if bound.is_unspecified() {
        if let Ok(interfaces) = if_addrs::get_if_addrs() {
            addresses.extend(interfaces.into_iter().map(|interface| interface.ip()));
        }
    } else {
        addresses.push(bound);
    }
    for loopback in [
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
    ] {
        if !addresses.contains(&loopback) {
            addresses.push(loopback);
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_once_and_kept() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let tls = folder.path().join("tls");
        let names = vec!["viewer.test".to_string()];
        let addresses = [IpAddr::from([127, 0, 0, 1])];
        let (files, made) = ensure(&tls, &names, &addresses).expect("made");
        assert!(made);
        let first = std::fs::read(&files.certificate).expect("kept");
        let (again, made) = ensure(&tls, &names, &addresses).expect("kept");
        assert!(!made);
        assert_eq!(again, files);
        assert_eq!(std::fs::read(&files.certificate).expect("kept"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key)
                .expect("a key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is its owner's only: {mode:o}");
        }
    }

    #[test]
    fn the_machine_is_named_with_its_loopback_addresses() {
        let addresses = machine_addresses(IpAddr::from([0, 0, 0, 0]));
        assert!(addresses.contains(&IpAddr::from([127, 0, 0, 1])));
        let one = machine_addresses(IpAddr::from([192, 0, 2, 7]));
        assert_eq!(one[0], IpAddr::from([192, 0, 2, 7]));
        assert!(machine_names().contains(&"localhost".to_string()));
    }
}
