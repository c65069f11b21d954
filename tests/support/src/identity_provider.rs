//! An OpenID Connect provider for the single sign-on tests: `oidc-provider-mock` (PyPI,
//! pinned in `scripts/identity-provider-requirements.txt`, installed by
//! `scripts/setup-debian.sh`) on a loopback port, signing in the users the test gives with
//! their claims in RS256-signed ID tokens; killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
