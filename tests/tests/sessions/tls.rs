//! TLS over real sockets, with certificates the test makes (a CA of its own and server
//! certificates it signs): HTTPS and WSS on one port, HSTS, plain HTTP refused on it; the
//! Rust client checks the chain and the host name, names an untrusted certificate by its
//! fingerprint, follows a pinned fingerprint and refuses a changed one; and a renewed
//! certificate is served without a restart.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hounsfield_client::{Client, ClientError};
use hounsfield_protocol::Viewport;
use hounsfield_server::library::PHANTOM_ID;
use hounsfield_tls::{CertificateFiles, Fingerprint, ServerTls, ServerTrust};
use support::certificates::TestCa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VIEWPORT: Viewport = Viewport {
    width: 128,
    height: 96,
};
/// The longest any one test may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// The name the servers' certificates are issued for (with 127.0.0.1).
const SERVER_NAME: &str = "hounsfield.test";

/// The test's certificate authority and two servers: one whose certificate stays, one
/// whose certificate files the reload test replaces.
struct Servers {
    folder: tempfile::TempDir,
    ca: TestCa,
    steady: SocketAddr,
    steady_fingerprint: Fingerprint,
    renewed: SocketAddr,
    renewed_files: CertificateFiles,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let folder = tempfile::tempdir().expect("a temporary folder");
        // The servers, and so this folder, last until the process ends.
        hounsfield_test_support::remove_at_exit(folder.path());
        let ca = TestCa::new(folder.path());
        let steady = ca.issue(folder.path(), "steady", &[SERVER_NAME]);
        let (steady_files, steady_fingerprint) = (steady.files, steady.fingerprint);
        let renewed_files = ca.issue(folder.path(), "renewed", &[SERVER_NAME]).files;
        let configs = [&steady_files, &renewed_files]
            .map(|files| {
                let mut config = support::server::loopback_config();
                config.h264_encoders = Vec::new();
                config.tls =
                    Some(ServerTls::from_files(files.clone()).expect("the certificate loads"));
                config
            })
            .to_vec();
        let addresses = support::server::start(configs);
        Servers {
            folder,
            ca,
            steady: addresses[0],
            steady_fingerprint,
            renewed: addresses[1],
            renewed_files,
        }
    })
}

fn trusting_the_ca() -> ServerTrust {
    ServerTrust {
        ca_files: vec![servers().ca.certificate.clone()],
        pinned: None,
    }
}

/// Connects, says hello, opens the phantom and waits for its first frame.
async fn first_frame(url: &str, trust: &ServerTrust) -> Result<(), ClientError> {
    let mut client = Client::connect_trusting(url, trust).await?;
    client.hello(None, VIEWPORT).await?;
    client.open(PHANTOM_ID).await?;
    let frame = client.next_frame().await?;
    let (width, height, _) = frame.decode_rgba()?;
    assert_eq!((width, height), (VIEWPORT.width, VIEWPORT.height));
    Ok(())
}

/// One HTTP/1.1 GET over TLS; the response as text.
async fn https_get(address: SocketAddr, path: &str, trust: &ServerTrust) -> String {
    let (config, _) = trust.client_config().expect("a client configuration");
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let name = rustls::pki_types::ServerName::try_from(SERVER_NAME).expect("a name");
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.expect("sent");
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

fn run(body: impl std::future::Future<Output = ()>) {
    support::server::run_within(TEST_LIMIT, body);
}

#[test]
fn wss_carries_the_session_with_the_chain_checked() {
    run(async {
        let url = format!("wss://{}/ws", servers().steady);
        first_frame(&url, &trusting_the_ca())
            .await
            .expect("frames over wss with the test's CA trusted");
    });
}

#[test]
fn https_answers_with_hsts_and_plain_http_is_told_to_use_https() {
    run(async {
        let address = servers().steady;
        let response = https_get(address, "/healthz", &trusting_the_ca()).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response
                .to_ascii_lowercase()
                .contains("strict-transport-security: max-age=31536000"),
            "{response}"
        );
        let page = https_get(address, "/", &trusting_the_ca()).await;
        assert!(
            page.starts_with("HTTP/1.1 200") && page.contains("<html"),
            "{page}"
        );

        let mut plain = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        plain
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("sent");
        let mut answer = Vec::new();
        let _ = plain.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            answer.contains("https://") && !answer.contains("ok\n"),
            "{answer}"
        );

        let error = Client::connect(&format!("ws://{address}/ws"))
            .await
            .err()
            .expect("a plain WebSocket is refused");
        assert!(matches!(error, ClientError::Socket(_)), "{error}");
    });
}

#[test]
fn a_certificate_signed_by_no_trusted_authority_is_named_by_its_fingerprint() {
    run(async {
        let url = format!("wss://{}/ws", servers().steady);
        let error = first_frame(&url, &ServerTrust::system())
            .await
            .expect_err("the test's CA is not a system root");
        match error {
            ClientError::Untrusted { fingerprint, .. } => {
                assert_eq!(fingerprint, servers().steady_fingerprint);
                assert!(error.to_string().contains(&fingerprint.to_string()));
            }
            other => panic!("expected an untrusted certificate, got {other}"),
        }
    });
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    run(async {
        // Issued for hounsfield.test and 127.0.0.1, asked for as localhost.
        let url = format!("wss://localhost:{}/ws", servers().steady.port());
        let error = first_frame(&url, &trusting_the_ca())
            .await
            .expect_err("the name does not match");
        assert!(
            matches!(&error, ClientError::Untrusted { reason, .. } if reason.contains("another host name")),
            "{error}"
        );
    });
}

#[test]
fn a_pinned_certificate_is_trusted_and_a_changed_one_refused() {
    run(async {
        let url = format!("wss://localhost:{}/ws", servers().steady.port());
        // Pinned, the certificate is trusted whatever names it carries and whoever signed it.
        first_frame(&url, &ServerTrust::pinned(servers().steady_fingerprint))
            .await
            .expect("the pinned certificate is trusted");
        let other = Fingerprint::of(b"the certificate trusted before");
        let error = first_frame(&url, &ServerTrust::pinned(other))
            .await
            .expect_err("another certificate than the pinned one");
        match error {
            ClientError::CertificateChanged { trusted, presented } => {
                assert_eq!(trusted, other);
                assert_eq!(presented, servers().steady_fingerprint);
            }
            other => panic!("expected a changed certificate, got {other}"),
        }
    });
}

/// The fingerprint a server presents now (read from a pinned connection's refusal).
async fn presented(address: SocketAddr) -> Fingerprint {
    let url = format!("wss://{address}/ws");
    match Client::connect_trusting(&url, &ServerTrust::pinned(Fingerprint::of(b"none"))).await {
        Err(ClientError::CertificateChanged { presented, .. }) => presented,
        Err(other) => panic!("expected the presented certificate, got {other}"),
        Ok(_) => panic!("a certificate matched a made-up fingerprint"),
    }
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    run(async {
        let servers = servers();
        let before = presented(servers.renewed).await;
        let fresh = servers
            .ca
            .issue(servers.folder.path(), "fresh", &[SERVER_NAME]);
        let (fresh, fresh_fingerprint) = (fresh.files, fresh.fingerprint);
        assert_ne!(before, fresh_fingerprint);
        // Replaced as certificate tools do: new files renamed over the old.
        for (from, to) in [
            (&fresh.key, &servers.renewed_files.key),
            (&fresh.certificate, &servers.renewed_files.certificate),
        ] {
            std::fs::rename(from, to).expect("renamed over");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = presented(servers.renewed).await;
            if now == fresh_fingerprint {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still the old certificate after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let url = format!("wss://{}/ws", servers.renewed);
        first_frame(&url, &trusting_the_ca())
            .await
            .expect("frames with the renewed certificate");
    });
}
