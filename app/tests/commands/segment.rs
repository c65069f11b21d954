//! `hounsfield segment` and `hounsfield segments` on the real CT (`ct-head-neck`, 0.54 ×
//! 0.54 × 1 mm voxels): each segment equals, voxel for voxel, what independent tools make
//! of the same files (SimpleITK's connected threshold and connected components, SciPy's
//! exact distance transform, median filter and Dijkstra, NumPy's threshold), its numbers
//! equal NumPy's; segments highdicom writes are filled between slices and grown from
//! their seeds (`--from`) as SciPy does it, read back with pydicom; and the
//! Segmentation it writes passes `dciodvfy` and reads in highdicom with the same voxels,
//! codes and plane positions. A Segmentation highdicom writes is measured where it
//! belongs; `segments list` finds ours; a segmentation model the test builds with onnx
//! (`--model`) makes the classes NumPy finds, AUTOMATIC in the Segmentation; bad requests
//! and bad models are refused by name.

use hounsfield_test_support as support;

use std::path::Path;

use serde_json::Value;
use support::hounsfield;

/// A small bone of the skull base: 11,499 voxels at or above 1,200 HU, joined by faces.
const SKULL_BASE_SEED: &str = "--seed=-72.31,-172.86,583";
/// A larger one of the face: 37,461 voxels.
const FACE_SEED: &str = "--seed=20.75,-254.01,670";

/// Runs `segment` on the CT with `args`, writing `out`; its JSON.
fn segmented(args: &[&str], out: &Path) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let out = out.to_string_lossy();
    support::hounsfield_json(&[&["segment", ct.as_str(), "--json", "--out", &out], args].concat())
}

/// What the independent tools make of the same request, and what highdicom reads of
/// the Segmentation `seg`.
fn reference(seg: &Path, args: &[&str]) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let seg = seg.to_string_lossy();
    support::imaging_python_script(
        "segment_reference.py",
        &[&[ct.as_str(), &seg], args].concat(),
    )
}

/// `a` and `b` agree to 1e-4, relative to the larger (NumPy's float64 sums in another
/// order).
fn agree(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// The segment equals the reference voxel for voxel, its numbers NumPy's, and highdicom
/// reads the Segmentation back as written.
fn check_against_reference(ours: &Value, theirs: &Value, algorithm: &str) {
    assert_eq!(theirs["differing"], 0, "{theirs}");
    assert_eq!(ours["voxels"], theirs["voxels"], "{ours}\n{theirs}");
    assert_eq!(
        theirs["ours"], theirs["voxels"],
        "highdicom's voxels: {theirs}"
    );
    assert!(
        theirs["voxels"].as_u64().is_some_and(|n| n > 1000),
        "{theirs}"
    );
    for key in [
        "volume_ml",
        "mean",
        "sd",
        "min",
        "max",
        "median",
        "surface_mm2",
    ] {
        assert!(agree(&ours[key], &theirs[key]), "{key}: {ours}\n{theirs}");
    }
    let seg = &theirs["seg"];
    assert_eq!(seg["label"], "Segment 1");
    assert_eq!(seg["algorithm_type"], "SEMIAUTOMATIC");
    assert_eq!(seg["algorithm_name"], ours["algorithm"]);
    assert!(
        ours["algorithm"]
            .as_str()
            .is_some_and(|name| name.contains(algorithm)),
        "{ours}"
    );
    assert_eq!(seg["category"], "85756007");
    assert!(
        seg["worst_position_mm"]
            .as_f64()
            .is_some_and(|mm| mm < 1e-3),
        "{seg}"
    );
    assert_eq!(seg["referenced_series"][0], ours["series"]);
}

/// `dciodvfy` finds no error in the Segmentation.
fn verified(seg: &Path) {
    let said = support::dciodvfy_passes(seg);
    assert!(said.contains("Segmentation"), "dciodvfy:\n{said}");
}

#[test]
fn the_largest_island_of_a_threshold_equals_simpleitks_largest_component() {
    let folder = tempfile::tempdir().expect("a folder");
    let seg = folder.path().join("bone.dcm");
    let args = ["--threshold", "300,3000", "--largest"];
    let ours = segmented(&args, &seg);
    // Volume is the voxels times one voxel's volume, exactly.
    let voxel_ml = 0.541015625 * 0.541015625 * 1.0 / 1000.0;
    let voxels = ours["voxels"].as_f64().expect("voxels");
    assert!(
        (ours["volume_ml"].as_f64().expect("mL") - voxels * voxel_ml).abs() < 1e-9,
        "{ours}"
    );
    verified(&seg);
    check_against_reference(&ours, &reference(&seg, &args), "largest island");
    // `segments list` finds it among the CT's own files, and only it.
    let ct = support::data_arg("ct-head-neck");
    let folder_arg = folder.path().to_string_lossy();
    let listed = hounsfield(&["segments", "list", &ct, &folder_arg, "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["sop_instance_uid"], ours["sop_instance_uid"]);
    assert_eq!(listed[0]["segments"][0], "Segment 1");
    assert_eq!(listed[0]["referenced_series"][0], ours["series"]);
    // Read back onto the series, it measures what it measured when made.
    let measured = measure(&seg, &[]);
    let again = &measured["segments"][0];
    for key in ["voxels", "volume_ml", "mean", "median", "surface_mm2"] {
        assert_eq!(again[key], ours[key], "{key}");
    }
}

#[test]
fn growing_from_a_seed_and_a_margin_equal_simpleitk_and_scipys_distance_transform() {
    let folder = tempfile::tempdir().expect("a folder");
    let grown = folder.path().join("grown.dcm");
    let args = ["--threshold", "1200,3000", SKULL_BASE_SEED, "--margin", "3"];
    let ours = segmented(&args, &grown);
    verified(&grown);
    check_against_reference(&ours, &reference(&grown, &args), "margin 3 mm");
    let shrunk = folder.path().join("shrunk.dcm");
    let args = ["--threshold", "1200,3000", FACE_SEED, "--margin=-1"];
    let ours = segmented(&args, &shrunk);
    check_against_reference(&ours, &reference(&shrunk, &args), "margin -1 mm");
    // Grown alone, the region is SimpleITK's connected threshold.
    let plain = folder.path().join("plain.dcm");
    let args = ["--threshold", "1200,3000", SKULL_BASE_SEED];
    let ours = segmented(&args, &plain);
    assert_eq!(ours["voxels"], 11_499, "{ours}");
    check_against_reference(&ours, &reference(&plain, &args), "grow from seed");
    // Smoothed by a closing of 1.5 mm: SciPy's binary closing by the same ball.
    let closed = folder.path().join("closed.dcm");
    let args = [
        "--threshold",
        "1200,3000",
        SKULL_BASE_SEED,
        "--closing",
        "1.5",
    ];
    let ours = segmented(&args, &closed);
    check_against_reference(&ours, &reference(&closed, &args), "closing 1.5 mm");
    assert!(ours["voxels"].as_u64() > Some(11_499), "{ours}");
    // The dense bone's islands of at least 50 mm³, as SimpleITK's components.
    let kept = folder.path().join("kept.dcm");
    let args = ["--threshold", "1500,3000", "--min-island", "50"];
    let ours = segmented(&args, &kept);
    let theirs = reference(&kept, &args);
    check_against_reference(&ours, &theirs, "islands under 50 mm3 removed");
    let all = segmented(
        &["--threshold", "1500,3000"],
        &folder.path().join("all.dcm"),
    );
    assert!(
        ours["voxels"].as_u64() < all["voxels"].as_u64(),
        "{ours}\n{all}"
    );
}

#[test]
fn a_median_equals_scipys_median_filter_by_the_same_ball() {
    let folder = tempfile::tempdir().expect("a folder");
    // The skull base's bone smoothed by the median of a 1.5 mm ball: its 11,499 voxels
    // lose their spurs and gain their pits.
    let smoothed = folder.path().join("median.dcm");
    let args = [
        "--threshold",
        "1200,3000",
        SKULL_BASE_SEED,
        "--median",
        "1.5",
    ];
    let ours = segmented(&args, &smoothed);
    let theirs = reference(&smoothed, &args);
    assert_eq!(theirs["ties"], 0, "{theirs}");
    check_against_reference(&ours, &theirs, "median 1.5 mm");
    assert_ne!(ours["voxels"], 11_499, "{ours}");
}

/// The segments of the Segmentation `from`, edited by `segment --from` with `args` and
/// written to `out`: its JSON.
fn from_segmentation(from: &Path, out: &Path, args: &[&str]) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let (from, out) = (from.to_string_lossy(), out.to_string_lossy());
    support::hounsfield_json(
        &[
            &[
                "segment",
                ct.as_str(),
                "--from",
                &from,
                "--json",
                "--out",
                &out,
            ],
            args,
        ]
        .concat(),
    )
}

/// The starting Segmentation of `kind` (`slices` or `seeds`), written by highdicom to
/// `seg`: each segment's voxels by label.
fn highdicom_segments(seg: &Path, kind: &str) -> Value {
    let ct = support::data_arg("ct-head-neck");
    support::imaging_python_script(
        "segments_from_reference.py",
        &["make", &ct, &seg.to_string_lossy(), "--kind", kind],
    )
}

/// What SciPy makes of the segments of `from`, beside what pydicom reads of `out`.
fn from_reference(from: &Path, out: &Path, tool: &[&str]) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let (from, out) = (from.to_string_lossy(), out.to_string_lossy());
    support::imaging_python_script(
        "segments_from_reference.py",
        &[&["check", ct.as_str(), &from, &out], tool].concat(),
    )
}

/// Segment `label` of `segment --from`'s JSON.
fn segment_labelled<'a>(ours: &'a Value, label: &str) -> &'a Value {
    ours["segments"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["label"] == label))
        .unwrap_or_else(|| panic!("{label}: {ours}"))
}

#[test]
fn filling_between_slices_equals_scipys_shape_based_interpolation() {
    let folder = tempfile::tempdir().expect("a folder");
    let given = folder.path().join("slices.dcm");
    let drawn = highdicom_segments(&given, "slices");
    let mut by_name = Vec::new();
    for plane in ["axial", "coronal"] {
        let out = folder.path().join(format!("{plane}.dcm"));
        let ours = from_segmentation(&given, &out, &["--fill-between", plane]);
        by_name.push(ours.clone());
        verified(&out);
        let theirs = from_reference(&given, &out, &["--fill-between", plane]);
        assert!(
            theirs["worst_position_mm"].as_f64() < Some(1e-3),
            "{theirs}"
        );
        for label in ["Axial", "Coronal"] {
            let reference = &theirs["segments"][label];
            assert_eq!(reference["differing"], 0, "{plane} {label}: {theirs}");
            assert_eq!(reference["ours"], reference["voxels"], "{theirs}");
            let segment = segment_labelled(&ours, label);
            assert_eq!(segment["voxels"], reference["voxels"], "{ours}\n{theirs}");
            assert_eq!(reference["given"], drawn[label], "{theirs}\n{drawn}");
        }
        // Each plane fills the segment drawn across it, several times over.
        let label = if plane == "axial" { "Axial" } else { "Coronal" };
        let filled = theirs["segments"][label]["voxels"]
            .as_u64()
            .unwrap_or_default();
        assert!(
            filled > 3 * drawn[label].as_u64().unwrap_or(u64::MAX),
            "{plane}: {theirs}"
        );
        assert!(
            segment_labelled(&ours, label)["algorithm"]
                .as_str()
                .is_some_and(|name| name.contains(&format!("fill between {plane} slices"))),
            "{ours}"
        );
    }
    // A plane given by its normal (the CT's slices are axial, its rows along L, its columns
    // along P): the axial one and the coronal one fill as by their names.
    for (normal, named) in ["0,0,-1", "0,1,0"].into_iter().zip(&by_name) {
        let out = folder.path().join("by-normal.dcm");
        let ours = from_segmentation(&given, &out, &["--fill-between", normal]);
        for label in ["Axial", "Coronal"] {
            let (a, b) = (
                segment_labelled(&ours, label),
                segment_labelled(named, label),
            );
            for field in ["voxels", "volume_ml", "mean", "surface_mm2", "extent_mm"] {
                assert_eq!(
                    a[field], b[field],
                    "{normal} {label} {field}: {ours}\n{named}"
                );
            }
            assert!(
                a["algorithm"]
                    .as_str()
                    .is_some_and(|n| n.contains("slices across")),
                "{a}"
            );
        }
    }
}

#[test]
fn growing_from_seeds_equals_scipys_dijkstra_from_every_seed() {
    let folder = tempfile::tempdir().expect("a folder");
    let given = folder.path().join("seeds.dcm");
    let seeds = highdicom_segments(&given, "seeds");
    let out = folder.path().join("grown.dcm");
    let ours = from_segmentation(&given, &out, &["--grow-from-seeds"]);
    verified(&out);
    let theirs = from_reference(&given, &out, &["--grow-from-seeds"]);
    assert!(
        theirs["worst_position_mm"].as_f64() < Some(1e-3),
        "{theirs}"
    );
    // The region is about 60 × 60 × 30 voxels and every voxel of it is shared out.
    let region: u64 = theirs["region"]
        .as_array()
        .expect("the region")
        .iter()
        .filter_map(Value::as_u64)
        .product();
    assert!((60_000..200_000).contains(&region), "{theirs}");
    let mut shared = 0;
    for label in ["Bone seed", "Second seed", "Third seed"] {
        let reference = &theirs["segments"][label];
        // Where SciPy's winner differs, the two segments reach the voxel at the same
        // cost; and each of our voxels is one its segment reaches at the least cost.
        assert_eq!(reference["differing_beyond_ties"], 0, "{label}: {theirs}");
        assert_eq!(reference["not_cheapest"], 0, "{label}: {theirs}");
        assert_eq!(reference["outside_region"], 0, "{label}: {theirs}");
        assert_eq!(reference["given"], seeds[label], "{theirs}\n{seeds}");
        let segment = segment_labelled(&ours, label);
        assert_eq!(segment["voxels"], reference["ours"], "{ours}\n{theirs}");
        assert!(segment["voxels"].as_u64() > seeds[label].as_u64(), "{ours}");
        shared += segment["voxels"].as_u64().unwrap_or_default();
    }
    assert_eq!(shared, region, "{ours}");
    // Ties are few: the values and the spacing make equal costs rare.
    assert!(theirs["ties"].as_u64() < Some(region / 100), "{theirs}");
}

/// `segments measure` of `seg` on the CT with `args`, as JSON.
fn measure(seg: &Path, args: &[&str]) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let seg = seg.to_string_lossy();
    support::hounsfield_json(
        &[
            &["segments", "measure", &seg, "--on", ct.as_str(), "--json"],
            args,
        ]
        .concat(),
    )
}

#[test]
fn a_segmentation_highdicom_writes_is_measured_where_it_belongs() {
    let folder = tempfile::tempdir().expect("a folder");
    let seg = folder.path().join("highdicom.dcm");
    let ct = support::data_arg("ct-head-neck");
    let seg_arg = seg.to_string_lossy();
    let theirs = support::imaging_python_script(
        "highdicom_segmentation.py",
        &[
            &ct,
            &seg_arg,
            "--threshold",
            "200,3000",
            "--slices",
            "100,140",
        ],
    );
    let csv = folder.path().join("numbers.csv");
    let measured = measure(&seg, &["--csv", &csv.to_string_lossy()]);
    assert_eq!(measured["pixels_outside"], 0, "{measured}");
    // The CSV holds a header and the segment's row, the numbers the JSON gives.
    let text = std::fs::read_to_string(&csv).expect("the CSV");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(
        rows[0][..4],
        ["series", "label", "voxels", "volume_ml"],
        "{text}"
    );
    let cell = |name: &str| {
        let column = rows[0].iter().position(|h| *h == name).expect(name);
        rows[1][column]
    };
    assert_eq!(cell("label"), "Bone by highdicom");
    assert_eq!(
        cell("voxels"),
        measured["segments"][0]["voxels"].to_string()
    );
    for name in ["volume_ml", "mean", "median", "surface_mm2"] {
        let value: f64 = cell(name).parse().expect("a number");
        assert_eq!(
            Some(value),
            measured["segments"][0][name].as_f64(),
            "{name}"
        );
    }
    let segment = &measured["segments"][0];
    assert_eq!(segment["label"], "Bone by highdicom");
    assert_eq!(segment["voxels"], theirs["voxels"], "{segment}\n{theirs}");
    for key in ["volume_ml", "mean", "sd", "min", "max", "median"] {
        assert!(
            agree(&segment[key], &theirs[key]),
            "{key}: {segment}\n{theirs}"
        );
    }
    // Slices 100 to 140 counted from the first along the normal: the volume's own k.
    assert_eq!(segment["first_voxel"][2], 100, "{segment}");
    assert_eq!(segment["last_voxel"][2], 140, "{segment}");
}

#[test]
fn bad_requests_are_refused_by_name_and_write_nothing() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("refused.dcm");
    let out_arg = out.to_string_lossy().into_owned();
    let ct = support::data_arg("ct-head-neck");
    let refused = |args: &[&str], expected: &str| {
        let output = hounsfield(&[&["segment", ct.as_str(), "--out", &out_arg], args].concat());
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was taken");
        assert!(said.contains(expected), "{args:?}: {said}");
        assert!(!out.exists(), "{args:?} wrote a file");
    };
    refused(&["--threshold", "3000,300"], "LOW first");
    refused(&["--threshold", "300"], "LOW,HIGH");
    refused(&["--threshold", "300,3000", "--seed=0,0,5000"], "--seed");
    // Air, where the seed's value (bone) is not.
    refused(
        &["--threshold", "-1024,-900", SKULL_BASE_SEED],
        "outside the range",
    );
    refused(&["--threshold", "1200,3000", "--margin", "500"], "--margin");
    refused(&["--threshold", "1200,3000", "--median", "20"], "--median");
    refused(&["--threshold", "1200,3000", "--grow-from-seeds"], "--from");
    refused(
        &["--threshold", "1200,3000", "--fill-between", "oblique"],
        "oblique",
    );
    refused(
        &["--threshold", "1200,3000", "--min-island=-5"],
        "--min-island",
    );
    // The built-in sample has no study to reference.
    let output = hounsfield(&["segment", "--threshold", "100,200", "--out", &out_arg]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && said.contains("--out"), "{said}");
    // A file that is not a Segmentation is named.
    let image = std::fs::read_dir(support::data("ct-head-neck"))
        .expect("the CT's folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.is_file())
        .expect("an image");
    let output = hounsfield(&["segments", "measure", &image.to_string_lossy(), "--on", &ct]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "an image was read as a segmentation"
    );
    assert!(said.contains("not Segmentation Storage"), "{said}");
}

#[test]
fn bench_segment_times_every_tool_beside_simpleitk_in_one_run() {
    // The MPRAGE, a sixth of the CT's voxels and no JPEG 2000 to decode: the test checks
    // what the benchmark reports, not its figures (docs/performance.md has the CT's).
    let mr = support::data_arg("mr-sag-oblique");
    let python = support::imaging_python();
    let figures = support::hounsfield_json(&[
        "bench",
        "segment",
        &mr,
        "--threshold",
        "250,1000",
        "--runs",
        "2",
        "--peer-python",
        &python.to_string_lossy(),
        "--json",
    ]);
    let operations = figures["operations"].as_array().expect("operations");
    let named = |name: &str| {
        operations
            .iter()
            .find(|o| o["operation"] == name)
            .unwrap_or_else(|| panic!("{name}: {figures}"))
    };
    for name in [
        "threshold",
        "islands",
        "grow",
        "margin",
        "median",
        "fill_between",
        "grow_from_seeds",
        "seg_write",
        "seg_read",
        "brush_stroke_to_frame",
        "brush_stroke_to_3d_frame",
    ] {
        let timed = named(name);
        let (p50, p95) = (timed["p50_ms"].as_f64(), timed["p95_ms"].as_f64());
        assert!(p50.is_some_and(|ms| ms > 0.0) && p95 >= p50, "{timed}");
    }
    // The click is the first voxel of the largest island, so the region grown is that
    // island. SimpleITK makes as many voxels in each operation.
    assert_eq!(named("grow")["voxels"], named("islands")["voxels"]);
    // The strokes painted on the server: discs of 5 mm across the axial cell.
    assert!(named("brush_stroke_to_frame")["voxels"].as_u64() > Some(100));
    // The slices show a stroke first; the frame whose 3D cell shows it comes after.
    assert!(
        named("brush_stroke_to_3d_frame")["p50_ms"].as_f64()
            > named("brush_stroke_to_frame")["p50_ms"].as_f64(),
        "{figures}"
    );
    for name in ["threshold", "islands", "grow", "margin"] {
        let timed = named(name);
        let (ours, theirs) = (timed["p50_ms"].as_f64(), timed["simpleitk_p50_ms"].as_f64());
        let ratio = timed["ratio"].as_f64().expect("a ratio beside SimpleITK");
        assert_eq!(timed["simpleitk_voxels"], timed["voxels"], "{timed}");
        assert!(
            (ratio - ours.unwrap_or_default() / theirs.unwrap_or(f64::NAN)).abs() < 1e-9,
            "{timed}"
        );
    }
}

#[test]
fn a_segmentation_model_the_test_builds_makes_the_classes_numpy_finds_and_bad_models_are_refused() {
    let folder = tempfile::tempdir().expect("a folder");
    let model = folder.path().join("three-classes.onnx");
    let model_arg = model.to_string_lossy().into_owned();
    // Patches of 16 × 64 × 64 voxels: the CT's 295 slices end in a part patch.
    support::imaging_python_script(
        "onnx_model.py",
        &["make", &model_arg, "--patch", "16,64,64"],
    );
    let out = folder.path().join("model.dcm");
    let ours = segmented(&["--model", &model_arg], &out);
    let ct = support::data_arg("ct-head-neck");
    let numpy = support::imaging_python_script("onnx_model.py", &["expect", &ct]);
    let segments = ours["segments"].as_array().expect("segments");
    assert_eq!(segments.len(), 2, "{ours}");
    for (segment, class) in segments.iter().zip(["class 1", "class 2"]) {
        assert_eq!(
            segment["label"],
            format!("three-classes {class}").as_str(),
            "{segment}"
        );
        assert_eq!(
            segment["voxels"], numpy[class],
            "{class}: {segment}\n{numpy}"
        );
    }
    // The Segmentation says the model made them.
    verified(&out);
    let read = support::imaging_python_script("onnx_model.py", &["seg", &out.to_string_lossy()]);
    for segment in read.as_array().expect("segments") {
        assert_eq!(segment["algorithm_type"], "AUTOMATIC", "{segment}");
        assert_eq!(segment["algorithm_name"], "three-classes", "{segment}");
    }
    // A model of two channels, and a file that is no model, are refused by name.
    let two = folder.path().join("two-channels.onnx");
    let two_arg = two.to_string_lossy().into_owned();
    support::imaging_python_script(
        "onnx_model.py",
        &["make", &two_arg, "--patch", "8,8,8", "--channels", "2"],
    );
    let out_arg = folder.path().join("refused.dcm");
    for (model, expected) in [
        (two_arg.as_str(), "[1, 1, D, H, W]"),
        (&*out.to_string_lossy(), "not an ONNX model"),
    ] {
        let output = hounsfield(&[
            "segment",
            ct.as_str(),
            "--model",
            model,
            "--out",
            &out_arg.to_string_lossy(),
        ]);
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{model} was taken");
        assert!(said.contains(expected) && said.contains(model), "{said}");
        assert!(!out_arg.exists(), "{model} wrote a file");
        // The desktop checks it before its window opens.
        let output = hounsfield(&["open", ct.as_str(), "--model", model]);
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "open took {model}");
        assert!(
            said.contains(expected) && said.contains(&format!("--model {model}")),
            "{said}"
        );
    }
}
