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
