//! Oblique reformats and slabs from the command line, on the oblique sagittal MR of the
//! shared data: `render --mpr oblique --json` reports the normal asked and the matrix
//! taking each pixel to LPS, and every pixel it drew agrees with an independent trilinear
//! resampling of the DICOM files in Python (pydicom and numpy, the geometry from the
//! headers) for several normals and each slab mode. A normal along a standard axis, of
//! either sign, draws exactly that standard plane.

use hounsfield_test_support as support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glam::{DMat4, DVec3, DVec4};
use serde_json::Value;

/// The grey window the slices are drawn with (this MR's values run to about 1000).
const WINDOW: &str = "600,300";
const SIZE: &str = "256x256";
/// Largest mean grey difference (of 255) from the independent resampling: rounding to
/// 8 bits alone gives 0.25.
const MEAN_GREY_TOLERANCE: f64 = 1.0;
/// Largest 95th percentile of the grey difference.
const P95_GREY_TOLERANCE: f64 = 2.0;

fn series() -> PathBuf {
    support::data("mr-sag-oblique")
}

/// Runs `hounsfield render` on the MR with `args`.
fn render(args: &[&str], out: &Path) -> Output {
    Command::new(support::hounsfield_binary())
        .arg("render")
        .arg(series())
        .args(["--size", SIZE, "--window", WINDOW, "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("hounsfield runs")
}

/// Renders with `args` and `--json`; the report it printed, kept beside the image.
fn drawn(args: &[&str], out: &Path) -> Value {
    let output = render(&[args, &["--json"]].concat(), out);
    assert!(
        output.status.success(),
        "render {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(out.with_extension("json"), &output.stdout).expect("the report kept");
    serde_json::from_slice(&output.stdout).expect("render --json prints JSON")
}

/// `X,Y,Z` as the command line takes it.
fn vector_of(text: &str) -> DVec3 {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|n| n.parse().expect("a number"))
        .collect();
    DVec3::from_slice(&numbers)
}

fn vector(value: &Value) -> DVec3 {
    let numbers: Vec<f64> = value
        .as_array()
        .expect("an array")
        .iter()
        .map(|n| n.as_f64().expect("a number"))
        .collect();
    DVec3::from_slice(&numbers)
}

fn matrix(value: &Value) -> DMat4 {
    let rows: Vec<DVec4> = value
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let numbers: Vec<f64> = row
                .as_array()
                .expect("a row")
                .iter()
                .map(|n| n.as_f64().expect("a number"))
                .collect();
            DVec4::from_slice(&numbers)
        })
        .collect();
    DMat4::from_cols(rows[0], rows[1], rows[2], rows[3]).transpose()
}

/// The reference's comparison of the image at `out` with the slice its report describes.
fn compared(out: &Path) -> (f64, f64) {
    let report = out.with_extension("json");
    let result = support::python_script(
        "reformat_reference.py",
        &[
            &series().to_string_lossy(),
            &report.to_string_lossy(),
            &out.to_string_lossy(),
        ],
    );
    assert!(
        result["pixels"].as_u64().expect("a count") > 10_000,
        "most of the slice lies in the volume: {result}"
    );
    (
        result["mean_abs_grey"].as_f64().expect("a mean"),
        result["p95_abs_grey"].as_f64().expect("a percentile"),
    )
}

#[test]
fn oblique_slices_and_slabs_match_an_independent_resampling_of_the_files() {
    let folder = tempfile::tempdir().expect("a folder");
    let cases: [(&str, &str, &str); 6] = [
        ("0.3,0.2,1", "0", "mip"),
        ("1,0.4,-0.3", "0", "mip"),
        ("0.2,-1,0.5", "0", "mip"),
        ("0.3,0.2,1", "8", "mip"),
        ("0.3,0.2,1", "8", "minip"),
        ("-0.6,0.5,0.4", "8", "average"),
    ];
    for (n, (normal, slab, mode)) in cases.into_iter().enumerate() {
        let out = folder.path().join(format!("slice-{n}.png"));
        let report = drawn(
            &[
                "--mpr",
                "oblique",
                &format!("--normal={normal}"),
                "--slab",
                slab,
                "--slab-mode",
                mode,
            ],
            &out,
        );
        let plane = &report["mpr"];
        let case = format!("--normal {normal} --slab {slab} --slab-mode {mode}");
        let asked = vector_of(normal).normalize();
        assert!(
            vector(&plane["normal"]).distance(asked) < 1e-12,
            "{case}: the normal reported is the one asked: {plane}"
        );
        assert_eq!(plane["slab_mode"], mode, "{case}");
        // The picture's axes are orthonormal and in the plane; the matrix steps by them.
        let (right, up) = (vector(&plane["right"]), vector(&plane["up"]));
        assert!((right.length() - 1.0).abs() < 1e-9 && (up.length() - 1.0).abs() < 1e-9);
        assert!(right.dot(up).abs() < 1e-9 && right.dot(asked).abs() < 1e-9);
        assert!(up.dot(asked).abs() < 1e-9, "{case}");
        let pixel_to_lps = matrix(&plane["pixel_to_lps"]);
        let mm = plane["mm_per_pixel"].as_f64().expect("a size");
        let step =
            pixel_to_lps.transform_point3(DVec3::X) - pixel_to_lps.transform_point3(DVec3::ZERO);
        assert!(step.distance(right * mm) < 1e-9, "{case}: {step}");
        let (mean, p95) = compared(&out);
        assert!(
            mean < MEAN_GREY_TOLERANCE && p95 < P95_GREY_TOLERANCE,
            "{case}: mean grey difference {mean:.3} (under {MEAN_GREY_TOLERANCE}), 95th percentile {p95:.3} (under {P95_GREY_TOLERANCE})"
        );
    }

    // The comparison tells planes apart: the picture of a plane tilted 1° further, with
    // the report of the first, is outside the tolerance.
    let first = folder.path().join("slice-0.png");
    let tilted = folder.path().join("tilted.png");
    drawn(&["--mpr", "oblique", "--normal=0.32,0.2,1"], &tilted);
    std::fs::copy(first.with_extension("json"), tilted.with_extension("json"))
        .expect("the first report beside the tilted picture");
    let (mean, p95) = compared(&tilted);
    assert!(
        mean > MEAN_GREY_TOLERANCE || p95 > P95_GREY_TOLERANCE,
        "a 1° tilt must be seen: mean {mean:.3}, 95th percentile {p95:.3}"
    );
}

#[test]
fn a_normal_along_a_standard_axis_draws_that_standard_plane_whatever_its_sign() {
    let folder = tempfile::tempdir().expect("a folder");
    let pixels = |name: &str, args: &[&str]| {
        let out = folder.path().join(format!("{name}.png"));
        let output = render(args, &out);
        assert!(
            output.status.success(),
            "render {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        image::open(&out).expect("a PNG").to_rgba8()
    };
    for (plane, normals) in [
        ("sagittal", ["1,0,0", "-1,0,0"]),
        ("coronal", ["0,1,0", "0,-2,0"]),
        ("axial", ["0,0,1", "0,0,-1"]),
    ] {
        let at = "--at=-3,20,15";
        let standard = pixels(plane, &["--mpr", plane, at]);
        for normal in normals {
            let oblique = pixels(
                &format!("{plane}{normal}"),
                &["--mpr", "oblique", &format!("--normal={normal}"), at],
            );
            assert!(
                standard == oblique,
                "--normal {normal} draws --mpr {plane}'s picture"
            );
        }
    }
}

#[test]
fn an_oblique_plane_without_a_direction_is_refused_by_name() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("refused.png");
    for (args, named) in [
        (vec!["--mpr", "oblique"], "--normal"),
        (vec!["--mpr", "oblique", "--normal=0,0,0"], "normal 0,0,0"),
        (
            vec!["--mpr", "oblique", "--normal=0,0,1", "--up=0,0,3"],
            "up vector 0,0,3",
        ),
        (vec!["--mpr", "axial", "--normal=0,0,1"], "--mpr oblique"),
    ] {
        let output = render(&args, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} is refused");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} writes no image");
    }
}
