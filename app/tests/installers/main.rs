//! What the installers make: the container image, the Kubernetes manifests and the Debian
//! package, unpacked and run; and the crates they are built from, in their layers. One
//! test binary: its suites are its modules.

mod container;
mod kubernetes;
mod layers;
mod package;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root folder.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("app/ lies in the workspace")
        .to_path_buf()
}

/// The packages the workspace's `packages` are built with (normal dependencies, on this
/// machine's platform) and `extra` arguments: `(package, features)` per line of `cargo
/// tree`.
fn built_features(packages: &[&str], extra: &[&str]) -> Vec<(String, String)> {
    let mut tree = Command::new(env!("CARGO"));
    tree.current_dir(workspace()).arg("tree");
    for package in packages {
        tree.args(["-p", package]);
    }
    let output = tree
        .args(["-e", "normal", "--locked", "--offline"])
        .args(["--prefix", "none", "--format", "{p}|{f}"])
        .args(extra)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (package, features) = line.split_once('|')?;
            let name = package.split_whitespace().next()?.to_string();
            let features = features.trim_end_matches(" (*)").to_string();
            Some((name, features))
        })
        .collect()
}
