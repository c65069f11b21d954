//! `--serve --config FILE` and `config check FILE` as IT runs them: the file's keys reach
//! the server (the command line winning), a bad key or value stops it with the key and the
//! file named, readiness follows the session places, and SIGTERM closes every session with
//! "going away" before the process exits 0.

use hounsfield_test_support as support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_client::ClientError;
use hounsfield_protocol::Viewport;
use support::serve;

/// A CT of the shared data, as a library folder.
fn ct_folder() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/ct-head-neck")
        .to_string_lossy()
        .into_owned()
}

fn hounsfield(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .args(args)
        .output()
        .expect("hounsfield runs")
}

fn written(folder: &Path, name: &str, text: &str) -> String {
    let path = folder.join(name);
    std::fs::write(&path, text).expect("written");
    path.to_string_lossy().into_owned()
}

#[test]
fn the_files_keys_reach_the_server_and_sigterm_ends_sessions_cleanly() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    // The port in the file is overridden by the command line's --port 0 (Served gives it).
    let config = written(
        folder.path(),
        "hounsfield.toml",
        &format!(
            "library = [{:?}]\nport = 1\nnode_name = \"hounsfield-7\"\nmax_sessions = 1\nh264 = \"off\"\n",
            ct_folder()
        ),
    );
    let mut served = serve(&["--config", &config]);
    assert!(
        served.banner.contains("as node hounsfield-7"),
        "{}",
        served.banner
    );
    assert_eq!(served.get("/readyz"), (200, "ready\n".to_string()));
    let url = served.ws_url("");
    support::run_within(Duration::from_secs(60), async {
        let mut client = Client::connect(&url).await.expect("connected");
        let welcome = client
            .hello_offering(
                None,
                Viewport {
                    width: 64,
                    height: 64,
                },
                &[hounsfield_protocol::Codec::Jpeg],
            )
            .await
            .expect("welcome");
        assert_eq!(welcome.node.as_deref(), Some("hounsfield-7"));
        let studies = client.list_studies().await.expect("the catalog");
        assert!(
            !studies.is_empty() && studies.iter().all(|study| study.id != "phantom"),
            "the file's library is served, not the sample"
        );
        // max_sessions = 1: the one place is taken, so the node is not ready.
        let (status, body) = served.get("/readyz");
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("session places taken"), "{body}");

        let terminated = Command::new("kill")
            .args(["-TERM", &served.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(terminated.success());
        let closed = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Err(error) = client.next_event().await {
                    break error;
                }
            }
        })
        .await
        .expect("closed in time");
        match closed {
            ClientError::Closed(Some(reason)) => {
                assert!(reason.contains("shutting down"), "{reason}")
            }
            other => panic!("not a clean close: {other}"),
        }
    });
    let mut said = String::new();
    for _ in 0..8 {
        let line = served.next_line();
        if line.is_empty() {
            break;
        }
        said.push_str(&line);
    }
    assert!(
        said.contains("stopped"),
        "the server said it stopped: {said}"
    );
}

#[test]
fn a_bad_key_or_value_stops_the_server_naming_it_and_the_file() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    for (text, key) in [
        ("max_sesions = 4\n", "max_sesions"),
        ("max_sessions = 0\n", "max_sessions"),
        ("bind = \"everywhere\"\n", "bind"),
        ("node_name = \"two words\"\n", "node_name"),
    ] {
        let config = written(folder.path(), "bad.toml", text);
        let output = hounsfield(&["--serve", "--port", "0", "--config", &config]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{text}: {stderr}");
        assert!(
            stderr.contains(key) && stderr.contains("bad.toml"),
            "{text}: {stderr}"
        );
    }
}

#[test]
fn config_check_opens_what_the_file_names() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let users = written(folder.path(), "users.toml", "");
    let good = written(
        folder.path(),
        "good.toml",
        &format!(
            "library = [{:?}]\nusers = \"users.toml\"\nbind = \"0.0.0.0\"\nport = 8443\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
            ct_folder()
        ),
    );
    let output = hounsfield(&["config", "check", &good]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains("0.0.0.0:8443"), "{stdout}");
    assert!(
        stdout.contains(&users),
        "the users file, relative to the file's folder: {stdout}"
    );
    assert!(stdout.contains("10.0.0.0/8"), "{stdout}");

    let missing = written(
        folder.path(),
        "missing.toml",
        "library = [\"no-such-folder\"]\n",
    );
    let output = hounsfield(&["config", "check", &missing]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("library") && stderr.contains("no-such-folder"),
        "{stderr}"
    );
    // Checked for another machine: the keys only.
    assert!(
        hounsfield(&["config", "check", "--keys-only", &missing])
            .status
            .success()
    );

    let unknown = written(folder.path(), "unknown.toml", "prot = 8443\n");
    let output = hounsfield(&["config", "check", "--keys-only", &unknown]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("prot") && stderr.contains("unknown.toml"),
        "{stderr}"
    );
}

/// Files a careless site or a hostile one gives as configuration or users, each with what
/// the refusal must name besides the file: huge, nested past any parser's stack, of the
/// wrong type, a link to a device, a folder, a value that makes no sense.
fn hostile_files(folder: &Path) -> Vec<(&'static str, String, &'static str)> {
    let nested = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let device = folder.join("device.toml");
    std::os::unix::fs::symlink("/dev/zero", &device).expect("a link to a device");
    let device = device.to_string_lossy().into_owned();
    let a_folder = folder.join("folder.toml");
    std::fs::create_dir(&a_folder).expect("a folder");
    let a_folder = a_folder.to_string_lossy().into_owned();
    vec![
        (
            "huge",
            written(folder, "huge.toml", &"# a comment\n".repeat(200_000)),
            "1048576",
        ),
        (
            "nested",
            written(folder, "nested.toml", &nested),
            "nested.toml",
        ),
        ("device", device, "regular file"),
        ("folder", a_folder, "folder.toml"),
    ]
}

/// Runs `--serve` with `args`; its exit status and standard error, and whether it ever
/// said it serves.
fn refused_to_serve(args: &[&str]) -> (Option<i32>, String, bool) {
    let output = hounsfield(&[&["--serve", "--port", "0", "--bind", "127.0.0.1"], args].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr, stdout.contains("serving"))
}

#[test]
fn hostile_configuration_and_users_files_stop_the_server_naming_the_file_before_it_serves() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut cases = Vec::new();
    for (what, file, named) in hostile_files(folder.path()) {
        cases.push((
            format!("--config {what}"),
            vec!["--config".to_string(), file.clone()],
            named,
        ));
        cases.push((
            format!("--users {what}"),
            vec!["--users".to_string(), file],
            named,
        ));
    }
    let config = |name: &str, text: &str| written(folder.path(), name, text);
    cases.push((
        "a port of the wrong type".to_string(),
        vec![
            "--config".to_string(),
            config("port.toml", "port = \"eighty\"\n"),
        ],
        "port",
    ));
    cases.push((
        "a users table of the wrong type".to_string(),
        vec![
            "--users".to_string(),
            config("users-type.toml", "users = 5\n"),
        ],
        "users-type.toml",
    ));
    cases.push((
        "an empty audit-log path".to_string(),
        vec![
            "--config".to_string(),
            config("audit.toml", "audit_log = \"\"\n"),
        ],
        "audit_log",
    ));
    for (case, args, named) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr, served) = refused_to_serve(&args);
        assert_eq!(code, Some(1), "{case}: {stderr}");
        assert!(!served, "{case}: it began to serve");
        assert!(
            stderr.contains(named),
            "{case}: {named:?} not named in {stderr}"
        );
        assert!(
            stderr.lines().count() <= 6,
            "{case}: a short error, not {stderr}"
        );
    }
}
