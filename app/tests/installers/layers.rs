//! The crates stand in layers, as `docs/architecture.md`'s table of crates says: each uses
//! only the crates of rows above it (the table starts at the bottom), and uses none that
//! its row does not name; the crates that read studies, findings and who may connect link
//! no GPU stack. Read from `cargo metadata`, so that a new dependency that breaks a layer,
//! or a table that no longer tells the truth, fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// A package's name in the table's "uses" column: `volume` for `hounsfield-volume`.
fn short_name(package: &str) -> &str {
    package.strip_prefix("hounsfield-").unwrap_or(package)
}

/// The table of crates, bottom row first: each package with the short names it may use.
fn documented_layers() -> Vec<(String, BTreeSet<String>)> {
    let text = std::fs::read_to_string(super::workspace().join("docs/architecture.md"))
        .expect("docs/architecture.md");
    let section = text
        .split("## Crates")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a section of crates");
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            assert!(cells.len() >= 4, "a row of four cells: {line}");
            let package = cells[1].trim().trim_matches('`').to_string();
            let uses = cells[cells.len() - 1].trim();
            let uses = if uses == "nothing of ours" {
                BTreeSet::new()
            } else {
                uses.split(',')
                    .map(|name| name.trim().to_string())
                    .collect()
            };
            (package, uses)
        })
        .collect()
}

/// `cargo metadata` of the workspace's members, as their manifests declare them.
fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .current_dir(super::workspace())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--locked",
            "--offline",
        ])
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Each workspace member's name with the members it depends on (normal dependencies, the
/// ones its own code builds on; tests' dependencies are not layers).
fn member_dependencies(metadata: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let packages = metadata["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = metadata["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| {
            packages
                .iter()
                .find(|package| package["id"].as_str() == Some(id))
                .and_then(|package| package["name"].as_str())
                .map(String::from)
        })
        .collect();
    packages
        .iter()
        .filter_map(|package| {
            let name = package["name"].as_str()?.to_string();
            members.contains(&name).then_some(())?;
            let uses = package["dependencies"]
                .as_array()?
                .iter()
                .filter(|dependency| dependency["kind"].is_null())
                .filter_map(|dependency| dependency["name"].as_str())
                .filter(|dependency| members.contains(*dependency))
                .map(String::from)
                .collect();
            Some((name, uses))
        })
        .collect()
}

#[test]
fn each_crate_uses_only_the_layers_below_it_as_the_architecture_guide_says() {
    let layers = documented_layers();
    let actual = member_dependencies(&metadata());
    let documented: BTreeSet<&str> = layers.iter().map(|(package, _)| package.as_str()).collect();
    let members: BTreeSet<&str> = actual.keys().map(String::as_str).collect();
    assert_eq!(
        documented, members,
        "the table of crates and the workspace's members differ"
    );
    let mut below = BTreeSet::new();
    for (package, may_use) in &layers {
        for name in may_use {
            assert!(
                below.contains(name),
                "{package} may use {name}, which is not a row below it in the table"
            );
        }
        for dependency in &actual[package] {
            assert!(
                may_use.contains(short_name(dependency)),
                "{package} uses {dependency}, which its row does not name"
            );
        }
        below.insert(short_name(package).to_string());
    }
}

/// The packages `package` is built with (normal dependencies, on this machine's platform).
fn built_with(package: &str) -> BTreeSet<String> {
    super::built_features(&[package], &[])
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn studies_findings_dicomweb_and_access_link_no_gpu_stack() {
    for package in [
        "hounsfield-volume",
        "hounsfield-scene",
        "hounsfield-findings",
        "hounsfield-dicomweb",
        "hounsfield-access",
    ] {
        let built = built_with(package);
        assert!(built.contains(package), "{package}: {built:?}");
        let gpu: Vec<&String> = built
            .iter()
            .filter(|name| matches!(name.as_str(), "wgpu" | "wgpu-core" | "naga" | "render-core"))
            .collect();
        assert!(gpu.is_empty(), "{package} links {gpu:?}");
    }
    // The renderer itself does, so the test can tell.
    assert!(built_with("render-core").contains("wgpu"));
}
