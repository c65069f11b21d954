//! What the tests that run `hounsfield --serve` share: the server process on a loopback
//! port ([`Served`]), plain HTTP requests to it, its audit log and its metrics, and a time
//! limit on a whole async test.

#![allow(dead_code)] // Each test file uses its own share of these.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A `hounsfield --serve` process on loopback, killed when dropped.
pub struct Served {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// The line it printed when it started listening.
    pub banner: String,
    /// Kept open: the server's stdout must not be a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Served {
    /// Starts the server on any free loopback port (JPEG only) with `args` added, and
    /// waits until it says where it listens.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// As [`Served::start`], with environment variables set for the server.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
            .args([
                "--serve",
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--h264",
                "off",
            ])
            .args(args)
            .envs(env.iter().copied())
            .env(
                "HOUNSFIELD_SETTINGS",
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-settings.toml"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("hounsfield starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut banner = String::new();
        let _ = stdout.read_line(&mut banner);
        let port = banner
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not say where it listens: {banner:?}");
        };
        Self {
            child,
            port,
            banner,
            _stdout: stdout,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line the server prints.
    pub fn next_line(&mut self) -> String {
        let mut line = String::new();
        let _ = self._stdout.read_line(&mut line);
        line
    }

    /// The WebSocket address, with `query` (`?token=…`) appended.
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/ws{query}", self.port)
    }

    /// A plain HTTP GET (`Host: localhost`): the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_request(
            self.port,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
    }

    /// A metric's value from `/metrics` (no token).
    pub fn metric(&self, name: &str) -> u64 {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {body}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` as it is to the loopback port and reads the whole answer (within 10 s):
/// the status code (0 when none came) and the body.
pub fn http_request(port: u16, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut response = Vec::new();
    // A server that closes after answering may reset instead of closing cleanly.
    let _ = stream.read_to_end(&mut response);
    status_and_body(&response)
}

/// `GET path` over HTTPS from `address` (`127.0.0.1:PORT`), trusting only the certificate
/// with `fingerprint`: the status code and the body.
pub fn https_get(
    address: &str,
    fingerprint: hounsfield_tls::Fingerprint,
    path: &str,
) -> (u16, String) {
    let (config, _) = hounsfield_tls::ServerTrust::pinned(fingerprint)
        .client_config()
        .expect("a TLS client configuration");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
    let connection = rustls::ClientConnection::new(std::sync::Arc::clone(&config), name)
        .expect("a TLS client connection");
    let socket = std::net::TcpStream::connect(address)
        .unwrap_or_else(|error| panic!("connect {address}: {error}"));
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let mut stream = rustls::StreamOwned::new(connection, socket);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|error| panic!("HTTPS request to {address}: {error}"));
    let mut response = Vec::new();
    // A server that closes without TLS close_notify ends the read with an error after the
    // whole response; what was read is still the answer.
    let _ = stream.read_to_end(&mut response);
    status_and_body(&response)
}

/// An HTTP/1.1 answer's status code (0 when there is none) and body.
fn status_and_body(response: &[u8]) -> (u16, String) {
    let response = String::from_utf8_lossy(response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The audit log's events, one JSON object per line (the test fails on any other line).
pub fn audit_events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// Runs an async test body on a runtime of its own, failing when it takes longer than
/// `limit` (a hung test, not a slow one).
pub fn run_within(limit: Duration, body: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::time::timeout(limit, body)
            .await
            .expect("the test finished in time");
    });
}

/// Runs `hounsfield ARGS` in a fresh X server with settings of its own, killing it after
/// `limit`: whether it succeeded, and what it printed. Panics (no silent skip) when
/// `xvfb-run` is missing, since CI installs it with scripts/setup-debian.sh.
pub fn hounsfield_under_xvfb(args: &[&str], limit: Duration) -> (bool, String) {
    // Settings of its own, so the user's servers and layout do not leak into the test.
    let settings = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_hounsfield"))
        .args(args)
        .env("HOUNSFIELD_SETTINGS", settings.path().join("settings.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("xvfb-run could not start ({error}): install xvfb and xauth (scripts/setup-debian.sh)")
        });
    let started = Instant::now();
    loop {
        match child.try_wait().expect("waiting for xvfb-run") {
            Some(_) => break,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("collecting output");
                panic!(
                    "the window did not close within {limit:?}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let output = child.wait_with_output().expect("collecting output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
