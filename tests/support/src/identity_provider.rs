//! An OpenID Connect provider for the single sign-on tests: `oidc-provider-mock` (PyPI,
//! pinned in `scripts/identity-provider-requirements.txt`, installed by
//! `scripts/setup-debian.sh`) on a loopback port, signing in the users the test gives with
//! their claims in RS256-signed ID tokens; killed when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the provider may take to start.
const STARTING: Duration = Duration::from_secs(60);

/// A running provider; killed on drop.
pub struct IdentityProvider {
    child: Child,
    /// Its issuer URL (`http://127.0.0.1:PORT`).
    pub issuer: String,
}

impl IdentityProvider {
    /// Starts the provider with `users` (each a JSON object of claims with its `sub`),
    /// requiring a nonce of every sign-in, and waits until it answers.
    pub fn start(users: &[serde_json::Value]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(binary());
        command
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--require-nonce", "true"]);
        for user in users {
            command.arg("--user-claims").arg(user.to_string());
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "{} starts (scripts/setup-debian.sh installs it): {error}",
                    binary().display()
                )
            });
        let provider = Self {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < STARTING,
                "the identity provider did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        provider
    }
}

/// The claim the test sites name for roles, and their table: `radiology` gives a reader,
/// `ward` a viewer.
pub const ROLE_CLAIM: &str = "groups";

/// A server in the test process of `library` whose users sign in through `provider` (the
/// token `a-token-beside-sign-on` beside it), recording to `audit`: its address.
pub fn signing_on_server(
    provider: &IdentityProvider,
    audit: &std::path::Path,
    library: &[PathBuf],
) -> SocketAddr {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let settings = hounsfield_sign_on::SignOnSettings {
        issuer: provider.issuer.parse().expect("the issuer"),
        client_id: "hounsfield-tests".to_string(),
        // A confidential client, as most hospitals' providers register a server.
        client_secret: Some("the-clients-secret".to_string()),
        redirect_url: format!("http://{address}/auth/callback")
            .parse()
            .expect("the callback"),
        role_claim: ROLE_CLAIM.to_string(),
        roles: ["radiology=reader", "ward=viewer"]
            .iter()
            .map(|text| hounsfield_sign_on::SignOnSettings::role_mapping(text).expect("a mapping"))
            .collect(),
    };
    let mut config = crate::server::loopback_config();
    config.bind = address;
    config.token = Some("a-token-beside-sign-on".to_string());
    config.h264_encoders = Vec::new();
    config.audit = Arc::new(hounsfield_server::AuditLog::open(audit).expect("an audit log"));
    config.sign_on = Some(Arc::new(
        hounsfield_sign_on::SignOn::new(settings).expect("good settings"),
    ));
    crate::server::start_serving(config, library)
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The provider's program: `HOUNSFIELD_IDENTITY_PROVIDER`, or the virtual environment
/// `scripts/setup-debian.sh` makes under the cache folder.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HOUNSFIELD_IDENTITY_PROVIDER") {
        return PathBuf::from(path);
    }
    crate::data::cache_folder().join("identity-provider/bin/oidc-provider-mock")
}
