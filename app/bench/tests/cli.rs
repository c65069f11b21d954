//! `hounsfield-bench` as a program: it lists the benchmarks, refuses one it does not know
//! with a clear error, and runs one to its figures. (The benchmarks' figures are tested
//! through `hounsfield bench …` in the app's `commands` suite, which runs this binary.)

use std::process::{Command, Output};

fn hounsfield_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hounsfield-bench"))
        .args(args)
        .output()
        .expect("hounsfield-bench runs")
}

/// Runs a benchmark that must succeed; the JSON figures it printed.
fn figures(args: &[&str]) -> serde_json::Value {
    let output = hounsfield_bench(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the figures are JSON")
}

#[test]
fn the_help_lists_the_benchmarks() {
    let output = hounsfield_bench(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for benchmark in [
        "load", "render", "stream", "planes", "movie", "findings", "together", "quantify",
    ] {
        assert!(
            help.contains(benchmark),
            "{benchmark} missing from:\n{help}"
        );
    }
}

#[test]
fn an_unknown_benchmark_is_refused_by_name() {
    let output = hounsfield_bench(&["gallop"]);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("gallop"), "{said}");
}

#[test]
fn render_prints_figures_of_the_built_in_sample() {
    let figures = figures(&["render", "--size", "64x48", "--frames", "10", "--json"]);
    assert!(
        figures["full_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{figures}"
    );
}

#[test]
fn quantify_times_the_calcium_score_of_the_built_in_sample() {
    let figures = figures(&["quantify", "--runs", "2", "--json"]);
    let whole = &figures["calcium"][0];
    assert_eq!(whole["region"], "whole", "{figures}");
    // The sample's bones are calcium to the score's rules.
    assert!(
        whole["lesions"].as_u64().is_some_and(|n| n > 0),
        "{figures}"
    );
    assert!(whole["ms"].as_f64().is_some_and(|ms| ms > 0.0), "{figures}");
    assert!(
        whole["packed_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{figures}"
    );
    // A click on the smallest lesion names its plaque: one lesion or more.
    let naming = &figures["naming"];
    assert!(
        naming["lesions_named"].as_u64().is_some_and(|n| n >= 1),
        "{figures}"
    );
    for figure in ["scored_ms", "named_ms"] {
        assert!(
            naming[figure].as_f64().is_some_and(|ms| ms > 0.0),
            "{figures}"
        );
    }
}

#[test]
fn quantify_over_time_loads_a_4d_series_and_times_its_curves() {
    let epi = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ge-epi/mr_0004");
    let epi = std::env::var("HOUNSFIELD_DATA")
        .map(|data| std::path::PathBuf::from(data).join("ge-epi/mr_0004"))
        .unwrap_or(epi);
    let figures = figures(&[
        "quantify",
        "--runs",
        "2",
        "--over-time",
        &epi.to_string_lossy(),
        "--json",
    ]);
    let over_time = &figures["over_time"];
    assert_eq!(over_time["volumes"], 10, "{figures}");
    assert_eq!(
        over_time["dims"],
        serde_json::json!([64, 64, 15]),
        "{figures}"
    );
    // Ten volumes of 64 × 64 × 15 at 2 bytes a voxel.
    let voxel_mib = over_time["voxel_mib"].as_f64().unwrap_or(0.0);
    assert!(
        (voxel_mib - 10.0 * 64.0 * 64.0 * 15.0 * 2.0 / 1048576.0).abs() < 1e-9,
        "{figures}"
    );
    for figure in ["load_ms", "peak_mib", "region_curve_ms"] {
        assert!(
            over_time[figure].as_f64().is_some_and(|v| v > 0.0),
            "{figure}: {figures}"
        );
    }
    assert!(over_time["dcm2niix_ms"].is_null(), "not asked for");
}
