//! The Debian package (installers/deb/build.sh), built from the binary this test run
//! built: it lists the binary, the systemd unit, the configuration, the log rotation and
//! the manual page where they belong, lintian finds no error in it, systemd accepts its
//! unit, and the binary unpacked from it serves HTTPS with the configuration it ships.
//!
//! Needs dpkg-dev, lintian and systemd (scripts/setup-debian.sh installs them).

use hounsfield_test_support as support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hounsfield_tls::Fingerprint;
use hounsfield_tls::self_signed::{CERTIFICATE_FILE, KEY_FILE};

/// Where each part of the package must be (as `dpkg-deb --contents` lists them).
const PACKAGED: &[&str] = &[
    "./usr/bin/hounsfield",
    "./usr/bin/hounsfield-bench",
    "./usr/lib/systemd/system/hounsfield.service",
    "./etc/hounsfield/hounsfield.toml",
    "./etc/logrotate.d/hounsfield",
    "./usr/share/man/man1/hounsfield.1.gz",
    "./usr/share/man/man1/hounsfield-bench.1.gz",
    "./usr/share/doc/hounsfield/copyright",
    "./usr/share/doc/hounsfield/changelog.Debian.gz",
    "./usr/share/applications/hounsfield.desktop",
];

/// The configuration files dpkg must keep an administrator's edits of.
const CONFFILES: &[&str] = &[
    "/etc/hounsfield/hounsfield.toml",
    "/etc/logrotate.d/hounsfield",
];

/// Runs `program` with `args`, panicking with a hint when it is not installed.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("{program} could not run ({error}): install it (scripts/setup-debian.sh)")
        })
}

/// What a command printed, both streams.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Builds the package into `out` from the binary of this test run; its path. Its xz
/// compression runs at level 1 (dpkg-deb's `DPKG_DEB_COMPRESSOR_LEVEL`): the same files,
/// read by the same tools, packed in about 8 s instead of 52 s (37 MB instead of 31).
fn build_package(out: &Path) -> PathBuf {
    let output = Command::new(super::workspace().join("installers/deb/build.sh"))
        .arg("--out")
        .arg(out)
        .env("HOUNSFIELD_BINARY", env!("CARGO_BIN_EXE_hounsfield"))
        .env("DPKG_DEB_COMPRESSOR_LEVEL", "1")
        .output()
        .expect("installers/deb/build.sh runs");
    assert!(
        output.status.success(),
        "build.sh failed: {}",
        printed(&output)
    );
    // This test run's binary is the developer build (`--all-features`): the script must
    // tell it apart from the product's.
    let warned = String::from_utf8_lossy(&output.stderr).contains("is a developer build");
    assert_eq!(
        warned,
        cfg!(feature = "test-bench"),
        "build.sh's warning about a developer build: {}",
        printed(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let deb = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    assert!(
        deb.starts_with(out) && deb.extension().is_some_and(|e| e == "deb") && deb.is_file(),
        "build.sh did not print the package it made: {stdout}"
    );
    deb
}

/// The packages `hounsfield` and `hounsfield-bench` are built with, with their features, as
/// `cargo build` with `extra` arguments builds them.
fn packaged_features(extra: &[&str]) -> Vec<(String, String)> {
    super::built_features(&["hounsfield", "hounsfield-bench"], extra)
}

/// Whether `package` is built with `feature` among `built`.
fn has_feature(built: &[(String, String)], package: &str, feature: &str) -> bool {
    built
        .iter()
        .any(|(name, features)| name == package && features.split(',').any(|f| f == feature))
}

/// The test bench (soak, proxy harness, lossy link and relay, fault injection) is a
/// developer build's: the build the installers make (`cargo build --release --locked -p
/// hounsfield -p hounsfield-bench`, no feature named) turns none of it on and links
/// neither the TUN crate nor the relay; `test-bench` of both turns it all on.
#[test]
fn the_packaged_build_carries_no_test_bench() {
    const BENCH: &[(&str, &str)] = &[
        ("hounsfield", "test-bench"),
        ("hounsfield-bench", "test-bench"),
        ("hounsfield-server", "fault-injection"),
        ("hounsfield-client", "lossy-relay"),
    ];
    let product = packaged_features(&[]);
    assert!(
        product.iter().any(|(name, _)| name == "hounsfield-server"),
        "{product:?}"
    );
    for (package, feature) in BENCH {
        assert!(
            !has_feature(&product, package, feature),
            "the packaged build turns on {package}'s {feature}"
        );
    }
    assert!(
        !product.iter().any(|(name, _)| name == "tun-rs"),
        "the packaged build links tun-rs"
    );
    let developer = packaged_features(&[
        "--features",
        "hounsfield/test-bench,hounsfield-bench/test-bench",
    ]);
    for (package, feature) in BENCH {
        assert!(
            has_feature(&developer, package, feature),
            "the developer build lacks {package}'s {feature}"
        );
    }
    // Both installers build the product: no cargo line of theirs names a feature.
    for script in ["installers/deb/build.sh", "installers/container/build.sh"] {
        let text = std::fs::read_to_string(super::workspace().join(script)).expect("the script");
        for line in text.lines().filter(|line| line.contains("cargo build")) {
            assert!(
                !line.contains("--features") && !line.contains("--all-features"),
                "{script}: {line}"
            );
        }
    }
}

/// A server process, killed when dropped (the test's failures included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` with `args` and waits (60 s at most) for the line saying where it
/// listens and the one with its certificate's fingerprint.
fn serve(binary: &Path, args: &[String], home: &Path) -> (Running, String, String) {
    let mut child = Command::new(binary)
        .args(args)
        // Nothing of the machine's user: settings and state folders in the scratch home.
        .env("HOME", home)
        .env("HOUNSFIELD_SETTINGS", home.join("settings.toml"))
        .env_remove("STATE_DIRECTORY")
        .env_remove("LOGS_DIRECTORY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the unpacked hounsfield starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let running = Running(child);
    let (lines, arrived) = mpsc::channel();
    for (stream, name) in [
        (Box::new(stdout) as Box<dyn Read + Send>, "stdout"),
        (Box::new(stderr), "stderr"),
    ] {
        let lines = lines.clone();
        std::thread::Builder::new()
            .name(format!("server {name}"))
            .spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            })
            .expect("a reader thread");
    }
    // Only the readers send: once both streams close, the server has exited.
    drop(lines);
    let mut seen = Vec::new();
    let (mut banner, mut fingerprint) = (None, None);
    while banner.is_none() || fingerprint.is_none() {
        let line = match arrived.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the server exited before serving: {seen:#?}")
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("the server did not start serving within 60 s: {seen:#?}")
            }
        };
        if line.starts_with("serving ") {
            banner = Some(line.clone());
        } else if let Some(text) = line.strip_prefix("TLS certificate SHA-256 fingerprint: ") {
            fingerprint = Some(text.trim().to_string());
        }
        seen.push(line);
    }
    (
        running,
        banner.unwrap_or_default(),
        fingerprint.unwrap_or_default(),
    )
}

/// The unpacked package's desktop entry opens a worklist's study links
/// (`hounsfield://HOST/study/UID`) with `hounsfield open`.
fn assert_the_desktop_entry_opens_study_links(root: &Path) {
    let entry = std::fs::read_to_string(root.join("usr/share/applications/hounsfield.desktop"))
        .expect("the desktop entry");
    assert!(
        entry.lines().any(|line| line == "Exec=hounsfield open %u"),
        "{entry}"
    );
    let handled = entry
        .lines()
        .find_map(|line| line.strip_prefix("MimeType="))
        .unwrap_or_default();
    assert!(
        handled
            .split(';')
            .any(|kind| kind == "x-scheme-handler/hounsfield"),
        "{entry}"
    );
}

#[test]
fn the_debian_package_installs_a_server_that_answers_over_https() {
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let out = scratch.path().join("out");
    let deb = build_package(&out);
    let deb_arg = deb.to_str().expect("a UTF-8 path");

    // Everything at its path.
    let contents = run("dpkg-deb", &["--contents", deb_arg]);
    assert!(contents.status.success(), "{}", printed(&contents));
    let listed: Vec<String> = String::from_utf8_lossy(&contents.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().last().map(String::from))
        .collect();
    for path in PACKAGED {
        assert!(
            listed.iter().any(|listed| listed == path),
            "{path} is not in the package: {listed:#?}"
        );
    }
    let conffiles = run("dpkg-deb", &["--info", deb_arg, "conffiles"]);
    let conffiles = String::from_utf8_lossy(&conffiles.stdout);
    for conffile in CONFFILES {
        assert!(
            conffiles.lines().any(|line| line.trim() == *conffile),
            "{conffile} is not a conffile: {conffiles}"
        );
    }
    let depends = run("dpkg-deb", &["--field", deb_arg, "Depends"]);
    let depends = String::from_utf8_lossy(&depends.stdout);
    for needed in [
        "libavcodec",
        "libc6",
        "libssl3",
        "libvulkan1",
        "mesa-vulkan-drivers",
    ] {
        assert!(
            depends.contains(needed),
            "Depends lacks {needed}: {depends}"
        );
    }

    // No lintian error (warnings are listed in installers/README.md).
    let lintian = run("lintian", &["--fail-on", "error", deb_arg]);
    assert!(
        lintian.status.success(),
        "lintian found errors: {}",
        printed(&lintian)
    );

    // Unpacked into a throwaway root.
    let root = scratch.path().join("root");
    let unpacked = run(
        "dpkg",
        &["-x", deb_arg, root.to_str().expect("a UTF-8 path")],
    );
    assert!(unpacked.status.success(), "{}", printed(&unpacked));
    let binary = root.join("usr/bin/hounsfield");

    assert_the_desktop_entry_opens_study_links(&root);

    // The manual page comes from the command line (`manual`, hidden from --help).
    let manual = run(binary.to_str().expect("a UTF-8 path"), &["manual"]);
    let manual = String::from_utf8_lossy(&manual.stdout);
    for part in [
        ".TH hounsfield 1",
        ".SH OPTIONS",
        "\\-\\-serve",
        ".SH FILES",
    ] {
        assert!(
            manual.contains(part),
            "the manual page lacks {part}: {manual}"
        );
    }
    let bench = root.join("usr/bin/hounsfield-bench");
    let bench_manual = run(bench.to_str().expect("a UTF-8 path"), &["manual"]);
    let bench_manual = String::from_utf8_lossy(&bench_manual.stdout);
    for part in [".TH hounsfield-bench 1", "stream"] {
        assert!(
            bench_manual.contains(part),
            "hounsfield-bench's manual page lacks {part}: {bench_manual}"
        );
    }
    let help = run(binary.to_str().expect("a UTF-8 path"), &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    assert!(
        !help
            .lines()
            .any(|line| line.trim_start().starts_with("manual")),
        "`manual` is listed in --help: {help}"
    );

    // systemd accepts the unit. It checks that ExecStart's program exists, so a copy of
    // the unit points at the unpacked binary; the manual page is not installed here
    // (--man=no). Any warning (an unknown key, a misspelled system call group) fails.
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/hounsfield.service"))
        .expect("the unit is readable");
    let exec_start =
        "ExecStart=/usr/bin/hounsfield --serve --config /etc/hounsfield/hounsfield.toml";
    assert!(unit.lines().any(|line| line == exec_start), "{unit}");
    assert!(
        !unit
            .lines()
            .any(|line| line.trim_start().starts_with("MemoryDenyWriteExecute")),
        "lavapipe's JIT needs W+X memory: MemoryDenyWriteExecute must stay unset"
    );
    let verify_folder = scratch.path().join("verify");
    std::fs::create_dir_all(&verify_folder).expect("a folder");
    let verify_unit = verify_folder.join("hounsfield.service");
    std::fs::write(
        &verify_unit,
        unit.replace(
            "ExecStart=/usr/bin/hounsfield",
            &format!("ExecStart={}", binary.display()),
        ),
    )
    .expect("the unit's copy is written");
    let verify = run(
        "systemd-analyze",
        &[
            "verify",
            "--man=no",
            verify_unit.to_str().expect("a UTF-8 path"),
        ],
    );
    assert!(
        verify.status.success() && verify.stdout.is_empty() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        printed(&verify)
    );

    // The unpacked binary serves with the shipped configuration; only what points out
    // of the throwaway root is overridden. postinst makes the users file (empty: every
    // client is refused, /healthz answers anyway).
    let config = root.join("etc/hounsfield/hounsfield.toml");
    let users = root.join("etc/hounsfield/users.toml");
    std::fs::write(&users, "").expect("the empty users file");
    let state = scratch.path().join("state");
    let audit_log = scratch.path().join("log/audit.jsonl");
    let path_text = |path: &Path| path.to_str().expect("a UTF-8 path").to_string();
    let args: Vec<String> = [
        "--serve",
        "--config",
        &path_text(&config),
        "--port",
        "0",
        "--state-dir",
        &path_text(&state),
        "--users",
        &path_text(&users),
        "--audit-log",
        &path_text(&audit_log),
    ]
    .map(String::from)
    .to_vec();
    let (_server, banner, fingerprint) = serve(&binary, &args, scratch.path());
    let port: u16 = banner
        .split("https://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("not serving HTTPS on loopback: {banner}"));
    let pinned = Fingerprint::parse(&fingerprint)
        .unwrap_or_else(|| panic!("not a SHA-256 fingerprint: {fingerprint}"));
    let (status, body) = support::https_get(&format!("127.0.0.1:{port}"), pinned, "/healthz");
    assert_eq!((status, body.trim()), (200, "ok"), "GET /healthz");
    for made in [CERTIFICATE_FILE, KEY_FILE] {
        assert!(
            state.join("tls").join(made).is_file(),
            "the self-signed {made} is not in the state folder's tls/"
        );
    }
    assert!(
        audit_log.is_file(),
        "no audit log at {}",
        audit_log.display()
    );
}
