//! The Kubernetes manifests of installers/kubernetes: every one checked, with no cluster and
//! no network, against the API schemas of a fixed Kubernetes version in strict mode (an
//! unknown or misplaced field fails); the kustomizations list files that exist and leave
//! none out; the HAProxy ConfigMap holds exactly haproxy.cfg; and haproxy.cfg, with its
//! cluster-only lines taken out and loopback addresses and certificates the test makes put
//! in, passes `haproxy -c` and names as many nodes as the StatefulSet runs; the WebRTC
//! overlay publishes the UDP port its nodes listen on and announces their host's address.
//!
//! Needs haproxy and the schema validator scripts/setup-debian.sh installs (found in its
//! virtual environment, or where HOUNSFIELD_KUBERNETES_VALIDATE points).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Kubernetes version the manifests are checked against: the oldest still common in
/// hospitals' clusters at the time of writing.
const KUBERNETES_VERSION: &str = "1.29.0";
/// The manifests that set up a cluster (the GPU patch, in gpu/, is checked as well).
const MANIFESTS_AT_LEAST: usize = 9;
/// Where the HAProxy configuration names its certificates.
const PROXY_TLS_FOLDER: &str = "/etc/hounsfield-proxy/tls/";

fn kubernetes_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../installers/kubernetes")
}

/// The schema validator's virtual environment's `bin` folder.
fn validator_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("HOUNSFIELD_KUBERNETES_VALIDATE") {
        let path = PathBuf::from(path);
        return path.parent().map(Path::to_path_buf).unwrap_or(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    cache.join("hounsfield/kubernetes-validate-1.37.0/bin")
}

/// Runs `command`, failing the test if it cannot start.
fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!("cannot run {command:?}: {error} (scripts/setup-debian.sh installs it)")
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every .yaml file under `folder`, sorted, kustomizations left out.
fn manifests(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(manifests(&path));
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml")
            && path
                .file_name()
                .is_some_and(|name| name != "kustomization.yaml")
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The strict schema check of `files`: whether it passed, and what it printed.
fn validate(files: &[PathBuf]) -> (bool, String) {
    let validator = validator_bin().join("kubernetes-validate");
    let output = run(Command::new(&validator)
        .arg("--strict")
        .arg("--kubernetes-version")
        .arg(KUBERNETES_VERSION)
        .arg("--no-warn")
        .args(files));
    (
        output.status.success(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

#[test]
fn manifests_pass_the_kubernetes_schemas() {
    let files = manifests(&kubernetes_folder());
    assert!(
        files.len() >= MANIFESTS_AT_LEAST,
        "only {} manifests in {}",
        files.len(),
        kubernetes_folder().display()
    );
    let (passed, printed) = validate(&files);
    assert!(
        passed,
        "the manifests do not match Kubernetes {KUBERNETES_VERSION}:\n{printed}"
    );
    // The validator itself: a manifest with a misspelt field must fail.
    let folder = tempfile::tempdir().expect("a temporary folder");
    let statefulset = std::fs::read_to_string(kubernetes_folder().join("statefulset.yaml"))
        .expect("statefulset.yaml reads");
    let broken = folder.path().join("broken.yaml");
    std::fs::write(
        &broken,
        statefulset.replacen("imagePullPolicy:", "imagePullPolicyy:", 1),
    )
    .expect("the broken copy is written");
    let (passed, printed) = validate(&[broken]);
    assert!(
        !passed,
        "a misspelt field passed the schema check:\n{printed}"
    );
}

/// The `resources:`/`patches:` entries a kustomization names (its `- x` and `- path: x`
/// lines).
fn kustomization_entries(path: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.trim_start().strip_prefix("- "))
        .map(|entry| entry.trim_start_matches("path:").trim().to_owned())
        .collect()
}

#[test]
fn kustomizations_list_every_manifest() {
    let folder = kubernetes_folder();
    for kustomization in [
        folder.join("kustomization.yaml"),
        folder.join("gpu/kustomization.yaml"),
        folder.join("webrtc/kustomization.yaml"),
    ] {
        let base = kustomization.parent().expect("a folder");
        for entry in kustomization_entries(&kustomization) {
            assert!(
                base.join(&entry).exists(),
                "{} names {entry}, which does not exist",
                kustomization.display()
            );
        }
    }
    let listed = kustomization_entries(&folder.join("kustomization.yaml"));
    for manifest in manifests(&folder) {
        if manifest.parent() == Some(folder.as_path()) {
            let name = manifest
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            assert!(
                listed.contains(&name),
                "kustomization.yaml leaves out {name}"
            );
        }
    }
}

#[test]
fn haproxy_configmap_holds_haproxy_cfg() {
    let folder = kubernetes_folder();
    let cfg = std::fs::read_to_string(folder.join("haproxy.cfg")).expect("haproxy.cfg reads");
    // Read with a YAML parser of its own (the validator's), not with the generator.
    let script = "import sys, yaml\n\
                  document = yaml.safe_load(open(sys.argv[1]))\n\
                  assert document['kind'] == 'ConfigMap', document['kind']\n\
                  sys.stdout.write(document['data']['haproxy.cfg'])\n";
    let output = run(Command::new(validator_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(folder.join("haproxy-configmap.yaml")));
    assert!(
        output.status.success(),
        "haproxy-configmap.yaml does not read: {}",
        text(&output.stderr)
    );
    assert!(
        output.stdout == cfg.as_bytes(),
        "haproxy-configmap.yaml differs from haproxy.cfg: run installers/kubernetes/sync-haproxy.sh"
    );
}

/// haproxy.cfg as the test runs it: no cluster-only lines, each node on a loopback port,
/// the certificates in `tls`.
fn local_haproxy_cfg(cfg: &str, tls: &Path) -> String {
    let mut port = 18443;
    let mut local = String::new();
    for line in cfg.lines().filter(|line| !line.contains("# cluster only")) {
        let line = line.replace(PROXY_TLS_FOLDER, &format!("{}/", tls.display()));
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"server") && words.len() > 2 {
            let address = format!("127.0.0.1:{port}");
            port += 1;
            local.push_str(&line.replacen(words[2], &address, 1));
        } else {
            local.push_str(&line);
        }
        local.push('\n');
    }
    local
}

#[test]
fn haproxy_cfg_passes_haproxy_check_and_names_every_node() {
    let folder = kubernetes_folder();
    let cfg = std::fs::read_to_string(folder.join("haproxy.cfg")).expect("haproxy.cfg reads");
    let temporary = tempfile::tempdir().expect("a temporary folder");
    let proxy = hounsfield_tls::self_signed::make(&["localhost".to_owned()], &[])
        .expect("a certificate for the proxy");
    let nodes_ca = hounsfield_tls::self_signed::make(&["nodes-ca".to_owned()], &[])
        .expect("a certificate for the nodes' CA");
    std::fs::write(
        temporary.path().join("proxy.pem"),
        format!("{}{}", proxy.certificate_pem, proxy.key_pem),
    )
    .expect("proxy.pem is written");
    std::fs::write(
        temporary.path().join("nodes-ca.pem"),
        nodes_ca.certificate_pem,
    )
    .expect("nodes-ca.pem is written");
    let local = local_haproxy_cfg(&cfg, temporary.path());
    assert!(
        !local.contains("cluster.local") && !local.contains(PROXY_TLS_FOLDER),
        "cluster addresses or paths left in the test's haproxy.cfg:\n{local}"
    );
    let path = temporary.path().join("haproxy.cfg");
    std::fs::write(&path, &local).expect("the test's haproxy.cfg is written");
    let output = run(Command::new("haproxy").arg("-c").arg("-f").arg(&path));
    assert!(
        output.status.success(),
        "haproxy -c refuses haproxy.cfg:\n{}{}\n{local}",
        text(&output.stdout),
        text(&output.stderr)
    );

    // One `server` and one `use-server` line per render node, hounsfield-0 … N-1.
    let statefulset =
        std::fs::read_to_string(folder.join("statefulset.yaml")).expect("statefulset.yaml reads");
    let replicas: usize = statefulset
        .lines()
        .find_map(|line| line.trim().strip_prefix("replicas:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("statefulset.yaml sets replicas");
    let names = |keyword: &str| -> Vec<String> {
        cfg.lines()
            .map(str::split_whitespace)
            .filter_map(|mut words| match (words.next(), words.next()) {
                (Some(first), Some(name)) if first == keyword => Some(name.to_owned()),
                _ => None,
            })
            .collect()
    };
    let expected: Vec<String> = (0..replicas).map(|n| format!("hounsfield-{n}")).collect();
    assert_eq!(names("server"), expected, "haproxy.cfg's server lines");
    assert_eq!(
        names("use-server"),
        expected,
        "haproxy.cfg's use-server lines"
    );
}

/// A YAML file as JSON (read by the validator's Python, which has PyYAML).
fn yaml_as_json(path: &Path) -> serde_json::Value {
    let script = "import sys, json, yaml\n\
                  json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)\n";
    let output = run(Command::new(validator_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(path));
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_webrtc_overlay_publishes_the_port_it_listens_on_and_announces_the_host() {
    let folder = kubernetes_folder();
    let base = yaml_as_json(&folder.join("statefulset.yaml"));
    let patch = yaml_as_json(&folder.join("webrtc/statefulset-webrtc-patch.yaml"));
    let container = &patch["spec"]["template"]["spec"]["containers"][0];
    let base_container = &base["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["name"], base_container["name"], "{container}");
    let args: Vec<&str> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    // A strategic merge replaces a list of strings: the base's arguments come first.
    let base_args: Vec<&str> = base_container["args"]
        .as_array()
        .expect("the base's args")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert!(
        args.starts_with(&base_args),
        "{args:?} against {base_args:?}"
    );
    let after = |flag: &str| {
        args.iter()
            .position(|arg| *arg == flag)
            .and_then(|at| args.get(at + 1).copied())
            .unwrap_or_else(|| panic!("{flag} in {args:?}"))
    };
    let port: u64 = after("--webrtc-port").parse().expect("a port number");
    let udp = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|entry| entry["protocol"] == "UDP")
        .expect("a UDP port");
    assert_eq!(udp["containerPort"].as_u64(), Some(port), "{udp}");
    assert_eq!(
        udp["hostPort"].as_u64(),
        Some(port),
        "the port announced is the one the host publishes: {udp}"
    );
    let announced = after("--webrtc-address");
    let variable = announced
        .strip_prefix("$(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("the address is a variable Kubernetes expands: {announced}"));
    let env = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|entry| entry["name"] == variable)
        .unwrap_or_else(|| panic!("{variable} is set"));
    assert_eq!(
        env["valueFrom"]["fieldRef"]["fieldPath"], "status.hostIP",
        "{env}"
    );
}

#[test]
fn shipped_configurations_pass_config_check() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let script = "import sys, yaml\n\
                  sys.stdout.write(yaml.safe_load(open(sys.argv[1]))['data']['hounsfield.toml'])\n";
    let output = run(Command::new(validator_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(kubernetes_folder().join("hounsfield-configmap.yaml")));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let from_configmap = folder.path().join("hounsfield.toml");
    std::fs::write(&from_configmap, &output.stdout).expect("the configuration is written");
    let image_default =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../installers/container/hounsfield.toml");
    for file in [from_configmap, image_default] {
        let output = run(Command::new(env!("CARGO_BIN_EXE_hounsfield"))
            .args(["config", "check", "--keys-only"])
            .arg(&file));
        assert!(
            output.status.success(),
            "{} fails config check:\n{}{}",
            file.display(),
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}
