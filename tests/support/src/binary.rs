//! The workspace's `hounsfield` binary as the tests run it: found beside the test's
//! executable ([`hounsfield_binary`]), run to its end with no settings file
//! ([`hounsfield`]), served on a loopback port ([`serve`]), and opened in a virtual X
//! server ([`hounsfield_under_xvfb`]); what a served binary answers over HTTPS and writes
//! to its audit log.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::data::data;
use crate::served::{Served, status_and_body};

/// The folder of the profile the test was built in (`target/PROFILE`): the test's
/// executable lies in its `deps/`.
fn profile_folder() -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    test.ancestors()
        .nth(2)
        .expect("the test's executable lies in target/PROFILE/deps")
        .to_path_buf()
}

/// The `hounsfield` binary the workspace built, beside the test's executable.
pub fn hounsfield_binary() -> PathBuf {
    let binary = profile_folder().join("hounsfield");
    assert!(
        binary.exists(),
        "{} is missing: build the workspace first (cargo test --workspace builds it)",
        binary.display()
    );
    binary
}

/// The target folder's `tmp/`, where cargo keeps the integration tests' scratch files
/// (their `CARGO_TARGET_TMPDIR`).
pub fn target_tmp() -> PathBuf {
    let tmp = profile_folder()
        .parent()
        .expect("target/PROFILE lies in the target folder")
        .join("tmp");
    let _ = std::fs::create_dir_all(&tmp);
    tmp
}

/// A settings file that does not exist: a user's configured server and layout must not
/// change what the tests see.
fn no_settings() -> PathBuf {
    target_tmp().join("no-such-settings.toml")
}

/// Runs this package's `hounsfield` with `args` and no settings file (a user's configured
/// server must not change what the tests see), to its end.
pub fn hounsfield(args: &[&str]) -> std::process::Output {
    Command::new(hounsfield_binary())
        .args(args)
        .env("HOUNSFIELD_SETTINGS", no_settings())
        .output()
        .expect("hounsfield runs")
}

/// Runs `hounsfield` with `args` (which ask for `--json`) to its end, and reads the JSON
/// it prints; a failure fails the test with what it said.
pub fn hounsfield_json(args: &[&str]) -> serde_json::Value {
    let output = hounsfield(args);
    assert!(
        output.status.success(),
        "hounsfield {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("hounsfield prints JSON")
}

/// The shared data's `relative` path (a series folder), as an argument.
pub fn data_arg(relative: &str) -> String {
    data(relative).to_string_lossy().into_owned()
}

/// This package's `hounsfield --serve` on a free loopback port (JPEG only, no settings
/// file) with `args` added, once it says where it listens.
pub fn serve(args: &[&str]) -> Served {
    serve_with_env(args, &[])
}

/// As [`serve`], with environment variables set for the server.
pub fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
    let settings = no_settings();
    let mut env: Vec<(&str, &std::ffi::OsStr)> = env
        .iter()
        .map(|(key, value)| (*key, std::ffi::OsStr::new(*value)))
        .collect();
    env.push(("HOUNSFIELD_SETTINGS", settings.as_os_str()));
    let args: Vec<&str> = ["--h264", "off"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    Served::launch(&hounsfield_binary(), &args, &env).unwrap_or_else(|error| panic!("{error}"))
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

/// Runs `hounsfield ARGS` in a fresh X server with settings of its own, killing it after
/// `limit`: whether it succeeded, and what it printed. Panics (no silent skip) when
/// `xvfb-run` is missing, since CI installs it with scripts/setup-debian.sh.
pub fn hounsfield_under_xvfb(args: &[&str], limit: Duration) -> (bool, String) {
    // Settings of its own, so the user's servers and layout do not leak into the test.
    let settings = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(hounsfield_binary())
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

/// The name the test harness gives the test function `test` of the module at
/// `module_path` (its `module_path!()`, which begins with the test binary's own name): what
/// a test that runs its own binary as a child passes with `--exact`.
pub fn test_name(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_binary, module)) => format!("{module}::{test}"),
        None => test.to_string(),
    }
}

/// What `hounsfield probe FOLDER --at LPS --json` reads at `lps` of the series in `folder`
/// (its first report), and that point's values over the volumes of a series over time.
pub fn probe_read(folder: &str, lps: [f64; 3]) -> (serde_json::Value, Vec<f64>) {
    let at = format!("{},{},{}", lps[0], lps[1], lps[2]);
    let read = hounsfield_json(&["probe", folder, "--at", &at, "--json"]);
    let report = read[0].clone();
    let values = report["values"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(serde_json::Value::as_f64)
                .collect()
        })
        .unwrap_or_default();
    (report, values)
}

/// The volumes of a series over time as JSON lists them (`info --json`'s `volumes`, a
/// page's copy of `opened.volumes`): each one's label and time.
pub fn volumes_listed(volumes: &serde_json::Value) -> Vec<(String, Option<f64>)> {
    volumes
        .as_array()
        .map(|volumes| {
            volumes
                .iter()
                .map(|v| {
                    (
                        v["label"].as_str().unwrap_or_default().to_string(),
                        v["time_s"].as_f64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
