//! The render node's container image (installers/container/build.sh): built from this very
//! binary into a temporary folder; its OCI configuration read back (user, entrypoint, port,
//! no node name baked in); its root file system unpacked and looked into (the binary, the
//! default configuration, lavapipe's Vulkan driver, the state folder's owner, no package
//! downloads left behind); then the server run from it as a container under runc (the
//! image's user, a read-only root, the host's loopback, a certificate, an empty users file
//! and a DICOM folder mounted read-only as Kubernetes mounts them) and asked `/healthz` over
//! HTTPS. A binary that reads configuration files runs with the image's own entrypoint and
//! hounsfield.toml (only the address and port changed); one that does not, with the same
//! settings as flags.
//!
//! Needs root, mmdebstrap, umoci and runc (scripts/setup-debian.sh installs them) and Debian's
//! archive. `HOUNSFIELD_CONTAINER_TEST=0` skips it.

use hounsfield_test_support as support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest the image build may take (a cold download of the packages included).
const BUILD_LIMIT: Duration = Duration::from_secs(600);
/// Longest the unpacking of the image may take.
const UNPACK_LIMIT: Duration = Duration::from_secs(180);
/// Longest the server in the container may take to say it listens.
const START_LIMIT: Duration = Duration::from_secs(90);
/// The image configuration's user: the image's unprivileged `hounsfield` user.
const IMAGE_USER: &str = "10001";
/// The server's port in the image.
const IMAGE_PORT: &str = "8443/tcp";

#[test]
fn image_builds_and_serves() {
    if std::env::var("HOUNSFIELD_CONTAINER_TEST").as_deref() == Ok("0") {
        eprintln!("skipped: HOUNSFIELD_CONTAINER_TEST=0");
        return;
    }
    let uid = output_of(Command::new("id").arg("-u"), Duration::from_secs(10));
    assert_eq!(
        uid.trim(),
        "0",
        "the image build needs root (mmdebstrap's root mode, files owned by uid 10001); \
         HOUNSFIELD_CONTAINER_TEST=0 skips this test"
    );
    let folder = tempfile::tempdir().expect("a temporary folder");
    let out = folder.path().join("container");
    let version = env!("CARGO_PKG_VERSION");

    // Build.
    let started = Instant::now();
    let mut build = Command::new(super::workspace().join("installers/container/build.sh"));
    build
        .arg("--out")
        .arg(&out)
        .env("HOUNSFIELD_BINARY", env!("CARGO_BIN_EXE_hounsfield"));
    output_of(&mut build, BUILD_LIMIT);
    eprintln!("image built in {:.0?}", started.elapsed());

    check_image(&out, version);

    // The root file system.
    let bundle = folder.path().join("bundle");
    output_of(
        Command::new("umoci")
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:{version}", out.join("oci").display()))
            .arg(&bundle),
        UNPACK_LIMIT,
    );
    let rootfs = bundle.join("rootfs");
    check_root_file_system(&rootfs);
    serve_from(&bundle, folder.path());
}

/// The OCI layout and its archive in `out`: the image configuration the runtime reads.
fn check_image(out: &Path, version: &str) {
    let layout = out.join("oci");
    let config = image_config(&layout, version);
    let settings = &config["config"];
    assert_eq!(settings["User"], IMAGE_USER, "image user in {config}");
    assert_eq!(
        settings["Entrypoint"],
        serde_json::json!([
            "/usr/bin/hounsfield",
            "--serve",
            "--config",
            "/etc/hounsfield/hounsfield.toml"
        ]),
        "image entrypoint in {config}"
    );
    assert!(
        settings["ExposedPorts"].get(IMAGE_PORT).is_some(),
        "{IMAGE_PORT} is not exposed in {config}"
    );
    let environment = settings["Env"].as_array().cloned().unwrap_or_default();
    assert!(
        !environment.iter().any(|variable| variable
            .as_str()
            .is_some_and(|variable| variable.starts_with("HOUNSFIELD_NODE_NAME="))),
        "the image must not set a node name: {environment:?}"
    );
    let archive = out.join(format!("hounsfield-{version}.oci.tar"));
    let listing = output_of(
        Command::new("tar").arg("-tf").arg(&archive),
        Duration::from_secs(60),
    );
    for entry in ["./oci-layout", "./index.json"] {
        assert!(
            listing.lines().any(|line| line == entry),
            "{} lacks {entry}",
            archive.display()
        );
    }
}

/// What the unpacked root file system must hold.
fn check_root_file_system(rootfs: &Path) {
    let binary = std::fs::metadata(rootfs.join("usr/bin/hounsfield"))
        .expect("the image holds /usr/bin/hounsfield");
    assert!(
        binary.permissions().mode() & 0o111 != 0,
        "/usr/bin/hounsfield is not executable"
    );
    let lavapipe = read(&rootfs.join("usr/share/vulkan/icd.d/lvp_icd.x86_64.json"));
    assert!(
        lavapipe.contains("libvulkan_lvp.so"),
        "lavapipe's ICD names no driver: {lavapipe}"
    );
    assert!(
        rootfs
            .join("usr/lib/x86_64-linux-gnu/libvulkan_lvp.so")
            .exists(),
        "lavapipe's driver is missing"
    );
    assert!(
        rootfs
            .join("usr/lib/x86_64-linux-gnu/libvulkan.so.1")
            .exists(),
        "the Vulkan loader is missing"
    );
    let default_config = read(&rootfs.join("etc/hounsfield/hounsfield.toml"));
    for line in [
        "bind = \"0.0.0.0\"",
        "port = 8443",
        "state_dir = \"/var/lib/hounsfield\"",
        "users = \"/etc/hounsfield/users/users.toml\"",
        "tls_cert = \"/etc/hounsfield/tls/cert.pem\"",
        "tls_key = \"/etc/hounsfield/tls/key.pem\"",
    ] {
        assert!(
            default_config.lines().any(|written| written == line),
            "the default configuration lacks `{line}`:\n{default_config}"
        );
    }
    let state = std::fs::metadata(rootfs.join("var/lib/hounsfield"))
        .expect("the image holds /var/lib/hounsfield");
    assert_eq!(
        (state.uid(), state.gid()),
        (10001, 10001),
        "owner of /var/lib/hounsfield"
    );
    let downloads: Vec<_> = std::fs::read_dir(rootfs.join("var/cache/apt/archives"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".deb"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        downloads.is_empty(),
        "package downloads left in the image: {downloads:?}"
    );
}

/// Runs the server from the unpacked `bundle` and asks it `/healthz`; `folder` holds what
/// is mounted into it.
fn serve_from(bundle: &Path, folder: &Path) {
    // The server, run from the image, with what Kubernetes mounts into it: a certificate,
    // a users file (empty: accepted, every client refused) and a DICOM library.
    let mounted = folder.join("mounted");
    let certificate = hounsfield_tls::self_signed::make(
        &["localhost".to_owned()],
        &["127.0.0.1".parse().expect("an address")],
    )
    .expect("a certificate for the node");
    for (file, content, mode) in [
        ("tls/cert.pem", certificate.certificate_pem.as_str(), 0o644),
        ("tls/key.pem", certificate.key_pem.as_str(), 0o600),
        ("users/users.toml", "", 0o644),
    ] {
        let path = mounted.join(file);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("a folder");
        std::fs::write(&path, content).expect("a mounted file is written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .expect("permissions");
        std::os::unix::fs::chown(&path, Some(10001), Some(10001)).expect("the owner");
    }
    let library = super::workspace().join("../shared/data/ct-head-neck");
    assert!(library.is_dir(), "no test series at {}", library.display());
    set_up_test_run(
        &bundle.join("config.json"),
        &[
            (mounted.join("tls"), "/etc/hounsfield/tls"),
            (mounted.join("users"), "/etc/hounsfield/users"),
            (library, "/srv/dicom"),
        ],
    );
    let container = Container::run(bundle);
    let (_, address) = container.wait_until_serving();
    // The library is catalogued once the server listens; it says so on a line of its own.
    let catalogued = container.wait_for_line("catalogue complete: ");
    let series: usize = catalogued
        .strip_prefix("catalogue complete: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no series count in `{catalogued}`"));
    assert!(
        series >= 1,
        "the node found no series in its library: {catalogued}"
    );
    let (status, body) = support::https_get(&address, certificate.fingerprint, "/healthz");
    assert_eq!(
        status, 200,
        "/healthz of the server in the container: {body}"
    );
    assert_eq!(body.trim(), "ok", "/healthz body");
}

/// Runs `command` to its end within `limit` and returns its standard output; fails the test
/// with its output when it fails or runs too long.
fn output_of(command: &mut Command, limit: Duration) -> String {
    let shown = format!("{command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {shown}: {error}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{shown} ran past {limit:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(error) => panic!("waiting for {shown}: {error}"),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    assert!(
        status.success(),
        "{shown} failed ({status}):\n{stdout}\n{stderr}"
    );
    stdout
}

/// Reads a pipe to its end on a thread of its own, so neither pipe of a child fills.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path))
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// The image configuration of the image tagged `tag` in the OCI layout `layout`:
/// index.json → manifest → configuration blob.
fn image_config(layout: &Path, tag: &str) -> serde_json::Value {
    let blob = |digest: &serde_json::Value| {
        let digest = digest.as_str().expect("a digest is a string");
        let hex = digest
            .strip_prefix("sha256:")
            .unwrap_or_else(|| panic!("not a sha256 digest: {digest}"));
        read_json(&layout.join("blobs/sha256").join(hex))
    };
    let index = read_json(&layout.join("index.json"));
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    let tagged = manifests
        .iter()
        .find(|manifest| manifest["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no image tagged {tag} in {index}"));
    let manifest = blob(&tagged["digest"]);
    let layers = manifest["layers"].as_array().map_or(0, Vec::len);
    assert!(layers > 0, "the image has no layer: {manifest}");
    blob(&manifest["config"]["digest"])
}

/// Turns the runtime bundle umoci wrote into the test's run: the server on a free loopback
/// port, the host's network namespace so the test reaches it, and what Kubernetes gives it:
/// a read-only root, empty writable folders for its state and /tmp, and `binds` (a folder
/// here, where it appears in the container) mounted read-only.
fn set_up_test_run(path: &Path, binds: &[(PathBuf, &str)]) {
    let mut config = read_json(path);
    config["process"]["terminal"] = false.into();
    let address = ["--bind", "127.0.0.1", "--port", "0"];
    // The image's entrypoint, as umoci put it in the bundle: its own configuration file,
    // with only the address and port given on the command line (which wins).
    let args: Vec<String> = config["process"]["args"]
        .as_array()
        .map(|args| {
            args.iter()
                .filter_map(|arg| arg.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        args.iter().any(|arg| arg == "--config"),
        "the bundle's command has no --config: {args:?}"
    );
    config["process"]["args"] = args.into_iter().chain(address.map(str::to_owned)).collect();
    config["root"]["readonly"] = true.into();
    if let Some(namespaces) = config["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|namespace| namespace["type"] != "network");
    }
    let mounts = config["mounts"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("{} has no mounts", path.display()));
    for (folder, options) in [
        (
            "/var/lib/hounsfield",
            ["nosuid", "nodev", "mode=0750", "uid=10001", "gid=10001"].as_slice(),
        ),
        ("/tmp", ["nosuid", "nodev", "mode=1777"].as_slice()),
    ] {
        mounts.push(serde_json::json!({
            "destination": folder, "type": "tmpfs", "source": "tmpfs", "options": options
        }));
    }
    for (source, destination) in binds {
        mounts.push(serde_json::json!({
            "destination": destination, "type": "bind", "source": source,
            "options": ["rbind", "ro", "nosuid", "nodev"]
        }));
    }
    let text = serde_json::to_string_pretty(&config).expect("JSON serializes");
    std::fs::write(path, text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// A container runc runs from a bundle; killed and deleted when dropped.
struct Container {
    id: String,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Container {
    fn run(bundle: &Path) -> Self {
        let id = format!("hounsfield-test-{}", std::process::id());
        let mut child = Command::new("runc")
            .arg("run")
            .arg("--bundle")
            .arg(bundle)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start runc: {error}"));
        let (sender, lines) = mpsc::channel();
        for pipe in [
            child
                .stdout
                .take()
                .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self { id, child, lines }
    }

    /// Waits for the server's `serving … at https://ADDRESS/` line: the line and the
    /// address; fails with what it printed when it exits or takes too long.
    fn wait_until_serving(&self) -> (String, String) {
        self.first_line("a `serving … at https://…` line", |line| {
            line.split(" at https://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned)
        })
    }

    /// The first line the server prints from now on that starts with `start`.
    fn wait_for_line(&self, start: &str) -> String {
        self.first_line(&format!("a `{start}` line"), |line| {
            line.starts_with(start).then_some(())
        })
        .0
    }

    /// The first line the server prints from now on that `pick` takes, with what it took,
    /// within the start's time limit; fails naming `what` and with what it printed.
    fn first_line<T>(&self, what: &str, pick: impl Fn(&str) -> Option<T>) -> (String, T) {
        let deadline = Instant::now() + START_LIMIT;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "the server in the container printed no {what} within {START_LIMIT:?}:\n{}",
                    printed.join("\n")
                )
            });
            if let Some(taken) = pick(&line) {
                return (line, taken);
            }
            printed.push(line);
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["kill", &self.id, "KILL"])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        let _ = Command::new("runc")
            .args(["delete", "--force", &self.id])
            .stderr(Stdio::null())
            .status();
    }
}
