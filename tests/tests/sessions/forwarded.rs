//! Behind a proxy: a server that trusts the proxy's address records (and locks out) the
//! client that `X-Forwarded-For` names; one that does not ignores the header, which any
//! client can write.

use hounsfield_test_support as support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_protocol::Viewport;
use hounsfield_server::AuditLog;
use hounsfield_tls::ServerTrust;

/// The client a proxy says it forwards for (TEST-NET-3: no real host).
const FORWARDED_CLIENT: &str = "203.0.113.9";

fn audited_server(path: &Path, trusted: &[&str]) -> hounsfield_server::ServerConfig {
    let mut config = support::server::loopback_config();
    config.token = Some("the-right-token".to_string());
    config.h264_encoders = Vec::new();
    config.audit = Arc::new(AuditLog::open(path).expect("an audit log"));
    config.trusted_proxies = trusted
        .iter()
        .map(|net| net.parse().expect("a network"))
        .collect();
    config
}

/// The `client` of every `auth_failed` event in the log at `path`.
fn failed_clients(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"] == "auth_failed")
        .filter_map(|event| event["client"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn only_a_trusted_proxy_names_the_client() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let (trusting_log, wary_log) = (
        folder.path().join("trusting.jsonl"),
        folder.path().join("wary.jsonl"),
    );
    let addresses = support::server::start(vec![
        audited_server(&trusting_log, &["127.0.0.0/8"]),
        audited_server(&wary_log, &["10.0.0.0/8"]),
    ]);
    support::server::run_within(Duration::from_secs(60), async {
        for address in &addresses {
            let url = format!("ws://{address}/ws");
            let mut client = Client::connect_with_headers(
                &url,
                &ServerTrust::system(),
                &[("X-Forwarded-For", FORWARDED_CLIENT)],
            )
            .await
            .expect("connected");
            let refused = client
                .hello(
                    Some("a-wrong-token"),
                    Viewport {
                        width: 64,
                        height: 64,
                    },
                )
                .await;
            assert!(refused.is_err(), "a wrong token is refused");
        }
    });
    let recorded = |path: &Path| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let clients = failed_clients(path);
            if !clients.is_empty() || std::time::Instant::now() > deadline {
                return clients;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let trusting = recorded(&trusting_log);
    assert!(
        !trusting.is_empty()
            && trusting
                .iter()
                .all(|client| client.starts_with(FORWARDED_CLIENT)),
        "the trusting server records the forwarded client: {trusting:?}"
    );
    let wary = recorded(&wary_log);
    assert!(
        !wary.is_empty() && wary.iter().all(|client| client.starts_with("127.0.0.1")),
        "the wary server records the connection's address: {wary:?}"
    );
}
