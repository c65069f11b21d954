//! What the tests that run `hounsfield` share: the command run to its end ([`hounsfield`])
//! on the shared data ([`data`]); the server process on a loopback port ([`Served`]),
//! plain HTTP requests to it, its audit log and its metrics, and a time limit on a whole
//! async test.

#![allow(dead_code)] // Each test file uses its own share of these.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // Each test file uses its own share of these.
pub use hounsfield_test_support::{Served, http_request, status_and_body};

/// Runs this package's `hounsfield` with `args` and no settings file (a user's configured
/// server must not change what the tests see), to its end.
pub fn hounsfield(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .args(args)
        .env(
            "HOUNSFIELD_SETTINGS",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-settings.toml"),
        )
        .output()
        .expect("hounsfield runs")
}

/// The shared data's `relative` path (a series folder), as an argument.
pub fn data(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(relative);
    path.to_string_lossy().into_owned()
}

/// This package's `hounsfield --serve` on a free loopback port (JPEG only, no settings
/// file) with `args` added, once it says where it listens.
pub fn serve(args: &[&str]) -> Served {
    serve_with_env(args, &[])
}

/// As [`serve`], with environment variables set for the server.
pub fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
    let settings = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-settings.toml");
    let mut env: Vec<(&str, &std::ffi::OsStr)> = env
        .iter()
        .map(|(key, value)| (*key, std::ffi::OsStr::new(*value)))
        .collect();
    env.push(("HOUNSFIELD_SETTINGS", settings.as_os_str()));
    let args: Vec<&str> = ["--h264", "off"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    Served::launch(Path::new(env!("CARGO_BIN_EXE_hounsfield")), &args, &env)
        .unwrap_or_else(|error| panic!("{error}"))
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
