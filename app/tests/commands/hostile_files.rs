//! Hostile files next to a good series: each case the test writes (a file claiming
//! 4294967295 frames, a series with one slice at z = 1e15 mm, 65535 × 65535 images native
//! and compressed, Rows = 0, an OB element declaring 0xFFFFFFFE bytes in a 200-byte file,
//! sequences nested 100,000 deep, a named pipe, a link out of the library)
//! goes through `info`, `probe`, `render`, `bench load`, the desktop window (under Xvfb)
//! and a real `--serve` process. Each must be refused with a
//! specific reason, the processes must exit (or keep serving) normally, their peak memory
//! must stay under a stated bound, and the good series must still be listed and served.

use hounsfield_test_support as support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use dicom_core::value::{PixelFragmentSequence, PrimitiveValue};
use dicom_core::{DataElement, DicomValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

/// Each hostile case's folder, and what its refusal must say.
const REFUSED_CASES: [(&str, &str); 8] = [
    ("frames", "NumberOfFrames"),
    ("far-slice", "too sparse"),
    ("huge-native", "65535 × 65535"),
    ("huge-compressed", "over the 2.1 GB"),
    ("zero-rows", "Rows (0028,0010)"),
    ("huge-ob", "4294967294"),
    ("deep-nesting", "nest deeper than 32 levels"),
    ("pipe", "a named pipe"),
];

/// The series whose SeriesDescription runs to megabytes, and its length (characters).
const LONG_TEXT_SERIES: &str = "2.25.980";
const LONG_TEXT_CHARS: usize = 4_000_000;

/// Sequences the deeply nested file nests: far past any real file, and deep enough that
/// a parser recursing once per level overflows its stack.
const HOSTILE_NESTING: usize = 100_000;

/// Peak resident memory any command here may reach. The good series is 256 × 256 × 192
/// of i16 (24 MiB); a hostile file followed would take gigabytes.
pub(super) const PEAK_LIMIT_KB: u64 = 600 * 1024;

const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";

/// What one hostile image declares.
struct Declared<'a> {
    name: &'a str,
    study_uid: &'a str,
    series_uid: &'a str,
    rows: u16,
    columns: u16,
    frames: Option<&'a str>,
    z_mm: f64,
    transfer_syntax: &'a str,
    /// SeriesDescription, when not empty.
    description: &'a str,
}

impl Default for Declared<'_> {
    fn default() -> Self {
        Self {
            name: "image.dcm",
            study_uid: "2.25.800",
            series_uid: "2.25.900",
            rows: 2,
            columns: 2,
            frames: None,
            z_mm: 0.0,
            transfer_syntax: EXPLICIT_VR_LE,
            description: "",
        }
    }
}

/// Writes a small CT image that declares what `declared` says, with one small frame of pixels (8 bytes for huge declared sizes).
fn write_image(folder: &Path, declared: &Declared<'_>) -> PathBuf {
    let mut object = InMemDicomObject::new_empty();
    let mut text = |tag, vr, value: &str| {
        object.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    let instance = format!(
        "{}.{}",
        declared.series_uid,
        declared.z_mm.abs() as u64 % 1000
    );
    text(tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE);
    text(tags::SOP_INSTANCE_UID, VR::UI, &instance);
    text(tags::MODALITY, VR::CS, "CT");
    text(tags::PATIENT_NAME, VR::PN, "Hostile^Files");
    text(tags::PATIENT_ID, VR::LO, "HOSTILE");
    text(tags::STUDY_INSTANCE_UID, VR::UI, declared.study_uid);
    text(tags::SERIES_INSTANCE_UID, VR::UI, declared.series_uid);
    text(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0");
    text(
        tags::IMAGE_POSITION_PATIENT,
        VR::DS,
        &format!("0\\0\\{}", declared.z_mm),
    );
    text(tags::PIXEL_SPACING, VR::DS, "1\\1");
    text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    if let Some(frames) = declared.frames {
        text(tags::NUMBER_OF_FRAMES, VR::IS, frames);
    }
    if !declared.description.is_empty() {
        // UT: a 4-byte length, so that the text can run to megabytes.
        text(tags::SERIES_DESCRIPTION, VR::UT, declared.description);
    }
    let short = |object: &mut InMemDicomObject, tag, value: u16| {
        object.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    };
    short(&mut object, tags::ROWS, declared.rows);
    short(&mut object, tags::COLUMNS, declared.columns);
    short(&mut object, tags::SAMPLES_PER_PIXEL, 1);
    short(&mut object, tags::BITS_ALLOCATED, 16);
    short(&mut object, tags::BITS_STORED, 16);
    short(&mut object, tags::HIGH_BIT, 15);
    short(&mut object, tags::PIXEL_REPRESENTATION, 1);
    if declared.transfer_syntax == EXPLICIT_VR_LE {
        object.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::from(vec![0u8; pixel_bytes(declared)]),
        ));
    } else {
        let fragments = PixelFragmentSequence::new(vec![], vec![vec![0xFF, 0xD8, 0xFF, 0xD9]]);
        object.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OB,
            DicomValue::from(fragments),
        ));
    }
    let file = object
        .with_meta(
            FileMetaTableBuilder::new()
                .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                .media_storage_sop_instance_uid(&instance)
                .transfer_syntax(declared.transfer_syntax),
        )
        .expect("meta group");
    let path = folder.join(declared.name);
    file.write_to_file(&path).expect("image written");
    path
}

/// One frame's bytes for small images; 8 bytes for the huge ones (what the file holds,
/// not what it declares).
fn pixel_bytes(declared: &Declared<'_>) -> usize {
    let pixels = usize::from(declared.rows) * usize::from(declared.columns);
    if (1..=64).contains(&pixels) {
        2 * pixels
    } else {
        8
    }
}

/// A 200-byte-class file whose last element, (7FD0,0010) OB, declares 0xFFFFFFFE bytes.
fn write_huge_declared_length(folder: &Path) -> PathBuf {
    let mut object = InMemDicomObject::new_empty();
    object.put(DataElement::new(
        tags::SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from(CT_IMAGE_STORAGE),
    ));
    object.put(DataElement::new(
        tags::SOP_INSTANCE_UID,
        VR::UI,
        PrimitiveValue::from("2.25.901"),
    ));
    let file = object
        .with_meta(
            FileMetaTableBuilder::new()
                .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                .media_storage_sop_instance_uid("2.25.901")
                .transfer_syntax(EXPLICIT_VR_LE),
        )
        .expect("meta group");
    let path = folder.join("huge-ob.dcm");
    file.write_to_file(&path).expect("file written");
    let mut bytes = std::fs::read(&path).expect("file reads");
    // (7FD0,0010) OB, two reserved bytes, length 0xFFFFFFFE, then a few bytes only.
    bytes.extend_from_slice(&[0xD0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    bytes.extend_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&path, &bytes).expect("file extended");
    assert!(bytes.len() < 400, "a small file: {} bytes", bytes.len());
    path
}

/// A small image whose data set holds [`HOSTILE_NESTING`] sequences each inside the
/// last's item (ContentSequence, undefined lengths), before its pixel data.
fn write_deeply_nested(folder: &Path) -> PathBuf {
    let path = write_image(
        folder,
        &Declared {
            name: "deep.dcm",
            series_uid: "2.25.970",
            ..Declared::default()
        },
    );
    let bytes = std::fs::read(&path).expect("file reads");
    let pixel_data = [0xE0, 0x7F, 0x10, 0x00, b'O', b'W'];
    let at = bytes
        .windows(pixel_data.len())
        .position(|w| w == pixel_data)
        .expect("the image has pixel data");
    let nested = hounsfield_test_support::nested_sequences(HOSTILE_NESTING);
    let mut hostile = bytes[..at].to_vec();
    hostile.extend_from_slice(&nested);
    hostile.extend_from_slice(&bytes[at..]);
    std::fs::write(&path, hostile).expect("file rewritten");
    path
}

/// A named pipe where an image would be: opening it for reading waits for a writer that
/// never comes.
fn write_named_pipe(folder: &Path) {
    let made = Command::new("mkfifo")
        .arg(folder.join("pipe.dcm"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo made the pipe");
}

/// Every hostile case in `folder`, each in its own subfolder (so `probe` can take one).
fn write_hostile_cases(folder: &Path) {
    let case = |name: &str| {
        let dir = folder.join(name);
        std::fs::create_dir_all(&dir).expect("case folder");
        dir
    };
    write_image(
        &case("frames"),
        &Declared {
            name: "frames.dcm",
            series_uid: "2.25.910",
            frames: Some("4294967295"),
            ..Declared::default()
        },
    );
    let far = case("far-slice");
    for (n, z) in [0.0, 1.0, 2.0, 1e15].into_iter().enumerate() {
        write_image(
            &far,
            &Declared {
                name: &format!("slice{n}.dcm"),
                series_uid: "2.25.920",
                z_mm: z,
                ..Declared::default()
            },
        );
    }
    write_image(
        &case("huge-native"),
        &Declared {
            name: "huge.dcm",
            series_uid: "2.25.930",
            rows: 65535,
            columns: 65535,
            ..Declared::default()
        },
    );
    let compressed = case("huge-compressed");
    for z in [0.0, 1.0] {
        write_image(
            &compressed,
            &Declared {
                name: &format!("huge{z}.dcm"),
                series_uid: "2.25.940",
                rows: 65535,
                columns: 65535,
                z_mm: z,
                transfer_syntax: JPEG_BASELINE,
                ..Declared::default()
            },
        );
    }
    write_image(
        &case("zero-rows"),
        &Declared {
            name: "zero-rows.dcm",
            series_uid: "2.25.950",
            rows: 0,
            ..Declared::default()
        },
    );
    write_huge_declared_length(&case("huge-ob"));
    write_deeply_nested(&case("deep-nesting"));
    write_named_pipe(&case("pipe"));
    write_image(
        &case("long-text"),
        &Declared {
            name: "long-text.dcm",
            series_uid: LONG_TEXT_SERIES,
            description: &"Long ".repeat(LONG_TEXT_CHARS / 5),
            ..Declared::default()
        },
    );
    // A link to a file outside the library: never followed.
    std::os::unix::fs::symlink("/etc/hostname", case("link-out").join("outside.dcm"))
        .expect("link made");
    // One SeriesInstanceUID in two studies, with images of different sizes.
    for (study, side) in [("2.25.801", 2), ("2.25.802", 4)] {
        write_image(
            &case(&format!("study{side}")),
            &Declared {
                name: "shared-uid.dcm",
                study_uid: study,
                series_uid: "2.25.960",
                rows: side,
                columns: side,
                ..Declared::default()
            },
        );
    }
}

/// A library folder: the good MR series (192 files) beside every hostile case.
fn library() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("temporary folder");
    let good = folder.path().join("good");
    std::fs::create_dir_all(&good).expect("good folder");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mr-sag-oblique");
    for entry in std::fs::read_dir(&source).expect("the MR series is there") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "dcm") {
            std::fs::copy(&path, good.join(path.file_name().expect("a name"))).expect("copy");
        }
    }
    write_hostile_cases(folder.path());
    folder
}

/// Runs `hounsfield ARGS` to its end: its output and its peak resident memory in KiB. It
/// runs under GNU time (`/usr/bin/time`, Debian package `time`), which writes the peak the
/// kernel kept for that one child (wait4's `ru_maxrss`); a peak that cannot be had fails
/// the test.
pub(super) fn run_measured(args: &[&str]) -> (Output, u64) {
    let report = tempfile::NamedTempFile::new().expect("a file for time's report");
    let output = Command::new("/usr/bin/time")
        .args(["--format", "%M", "--output"])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_hounsfield"))
        .args(args)
        .env("HOUNSFIELD_MAX_SERIES_MB", "2048")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| {
            panic!("/usr/bin/time runs (Debian package time, scripts/setup-debian.sh): {e}")
        });
    // The peak alone on the last line (after "Command exited with non-zero status N" when
    // it did).
    let text = std::fs::read_to_string(report.path()).expect("time's report reads");
    let peak_kb = text
        .lines()
        .last()
        .and_then(|line| line.trim().parse::<u64>().ok())
        .filter(|&kb| kb > 0)
        .unwrap_or_else(|| panic!("no peak memory of hounsfield {args:?} from time: {text:?}"));
    (output, peak_kb)
}

/// VmHWM (the kernel's peak resident set) of a running process, in kB.
pub(super) fn high_water_kb(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn series<'a>(report: &'a serde_json::Value, uid: &str) -> &'a serde_json::Value {
    report["studies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|study| study["series"].as_array().into_iter().flatten())
        .find(|s| s["uid"] == uid)
        .unwrap_or_else(|| panic!("series {uid} not listed: {report}"))
}

fn skipped_reason(report: &serde_json::Value, name: &str) -> String {
    report["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["file"].as_str().is_some_and(|f| f.ends_with(name)))
        .and_then(|s| s["reason"].as_str())
        .unwrap_or_else(|| panic!("{name} not skipped: {}", report["skipped"]))
        .to_string()
}

#[test]
fn info_lists_the_good_series_and_names_each_hostile_file() {
    let folder = library();
    let path = folder.path().to_string_lossy().into_owned();
    let (output, peak_kb) = run_measured(&["info", "--json", &path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "info failed: {stderr}");
    assert!(peak_kb < PEAK_LIMIT_KB, "info peaked at {peak_kb} kB");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("info prints JSON");

    let good = report["studies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|study| study["series"].as_array().into_iter().flatten())
        .find(|s| s["images"] == 192)
        .expect("the good MR series is listed");
    assert_eq!(good["loadable"], true, "{good}");

    let frames = skipped_reason(&report, "frames.dcm");
    assert!(frames.contains("NumberOfFrames (0028,0008)"), "{frames}");
    let zero = skipped_reason(&report, "zero-rows.dcm");
    assert!(
        zero.contains("Rows (0028,0010)") && zero.contains("0"),
        "{zero}"
    );
    let native = skipped_reason(&report, "huge.dcm");
    assert!(native.contains("65535 × 65535"), "{native}");
    let ob = skipped_reason(&report, "huge-ob.dcm");
    assert!(
        ob.contains("(7FD0,0010)") && ob.contains("4294967294"),
        "{ob}"
    );

    let deep = skipped_reason(&report, "deep.dcm");
    assert!(deep.contains("nest deeper than 32 levels"), "{deep}");
    let pipe = skipped_reason(&report, "pipe.dcm");
    assert!(
        pipe.contains("not a regular file but a named pipe"),
        "{pipe}"
    );
    let outside = skipped_reason(&report, "outside.dcm");
    assert!(outside.contains("out of the library"), "{outside}");

    let long = series(&report, LONG_TEXT_SERIES)["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(long.chars().count(), 1024, "a header keeps 1024 characters");
    assert!(long.ends_with('…'), "cut with a mark");

    let far = series(&report, "2.25.920");
    assert_eq!(far["loadable"], false, "{far}");
    assert!(far["warnings"].to_string().contains("too sparse"), "{far}");
    let compressed = series(&report, "2.25.940");
    assert_eq!(compressed["loadable"], false, "{compressed}");
    let why = compressed["warnings"].to_string();
    assert!(
        why.contains("65535 × 65535 × 2") && why.contains("over the 2.1 GB"),
        "{why}"
    );
}

#[test]
fn probe_refuses_each_hostile_series_with_its_reason() {
    let folder = library();
    for (case, reason) in REFUSED_CASES {
        let path = folder.path().join(case).to_string_lossy().into_owned();
        let (output, peak_kb) = run_measured(&["probe", &path, "--at", "0,0,0"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
        assert!(stderr.contains(reason), "{case}: {stderr}");
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        assert!(
            peak_kb < PEAK_LIMIT_KB,
            "{case}: probe peaked at {peak_kb} kB"
        );
    }
    let good = folder.path().join("good").to_string_lossy().into_owned();
    let (output, _) = run_measured(&["probe", &good, "--at", "0,0,0"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn render_and_bench_load_refuse_each_hostile_series_and_take_the_good_one_beside_them() {
    let folder = library();
    let out = folder.path().join("frame.png");
    let out_arg = out.to_string_lossy().into_owned();
    for (case, reason) in REFUSED_CASES {
        let path = folder.path().join(case).to_string_lossy().into_owned();
        for args in [
            vec!["render", &path, "--size", "64x48", "--out", &out_arg],
            vec!["bench", "load", &path, "--runs", "1"],
        ] {
            let (output, peak_kb) = run_measured(&args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains(reason), "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(peak_kb < PEAK_LIMIT_KB, "{args:?} peaked at {peak_kb} kB");
        }
        assert!(!out.exists(), "{case}: no picture of a refused series");
    }
    // The whole folder: the largest series that can be loaded is the good one.
    let path = folder.path().to_string_lossy().into_owned();
    let (output, peak_kb) = run_measured(&["render", &path, "--size", "64x48", "--out", &out_arg]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "render of the library: {stderr}");
    assert!(peak_kb < PEAK_LIMIT_KB, "render peaked at {peak_kb} kB");
    assert!(out.exists(), "a picture of the good series");
    let (output, _) = run_measured(&["bench", "load", &path, "--runs", "1", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench load of the library: {stderr}"
    );
    let figures: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(figures["slices"], 192, "{figures}");
}

#[test]
fn the_desktop_window_opens_the_good_series_beside_the_hostile_ones_and_names_a_bad_one() {
    let folder = library();
    let out = folder.path().join("window.png");
    let out_arg = out.to_string_lossy().into_owned();
    let path = folder.path().to_string_lossy().into_owned();
    let limit = Duration::from_secs(240);
    let (ok, text) =
        support::hounsfield_under_xvfb(&["open", &path, "--screenshot", &out_arg], limit);
    assert!(ok, "the window on the hostile library failed: {text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(out.exists(), "a screenshot of the good series");
    std::fs::remove_file(&out).expect("removed");
    let bad = folder
        .path()
        .join("huge-native")
        .to_string_lossy()
        .into_owned();
    let (ok, text) =
        support::hounsfield_under_xvfb(&["open", &bad, "--screenshot", &out_arg], limit);
    assert!(
        !ok,
        "a window on a hostile series alone should fail: {text}"
    );
    assert!(text.contains("65535 × 65535"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.exists(), "no screenshot of a refused series");
}

#[test]
fn a_server_on_the_hostile_library_starts_and_serves_the_good_series() {
    let folder = library();
    let path = folder.path().to_string_lossy().into_owned();
    let served = support::serve(&["--library", &path, "--max-series-mb", "2048"]);
    let status_file = format!("/proc/{}/status", served.pid());
    let address = format!("127.0.0.1:{}", served.port);
    support::run_within(Duration::from_secs(120), serve_checks(&address));
    let peak_kb = high_water_kb(&status_file).expect("the server runs");
    assert!(peak_kb < PEAK_LIMIT_KB, "the server peaked at {peak_kb} kB");
}

async fn serve_checks(address: &str) {
    use hounsfield_client::Client;
    use hounsfield_protocol::Viewport;
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    client
        .hello(
            None,
            Viewport {
                width: 256,
                height: 256,
            },
        )
        .await
        .expect("welcome");
    let studies = client.list_studies().await.expect("studies");
    let all: Vec<_> = studies.iter().flat_map(|s| s.series.iter()).collect();
    let long = all
        .iter()
        .find(|s| s.id == LONG_TEXT_SERIES)
        .expect("the series of megabyte texts is listed");
    assert_eq!(
        long.description.chars().count(),
        hounsfield_protocol::MAX_LISTED_CHARS,
        "its description arrives cut to the bound"
    );
    assert!(long.description.ends_with('…'), "{}", long.description);
    let far = all
        .iter()
        .find(|s| s.id == "2.25.920")
        .expect("the far-slice series is listed");
    let reason = far.unavailable.as_deref().unwrap_or_default();
    assert!(reason.contains("too sparse"), "{reason}");
    let compressed = all
        .iter()
        .find(|s| s.id == "2.25.940")
        .expect("the compressed series is listed");
    let reason = compressed.unavailable.as_deref().unwrap_or_default();
    assert!(reason.contains("over the"), "{reason}");
    for series in &all {
        let text = series.unavailable.as_deref().unwrap_or_default();
        assert!(
            !text.contains("/tmp"),
            "a server path reached a client: {text}"
        );
    }
    let good = all
        .iter()
        .find(|s| s.images == 192)
        .expect("the good series is listed");
    assert!(good.unavailable.is_none());
    client.open(&good.id).await.expect("the good series opens");
    client.next_frame().await.expect("a frame of it");
    // One SeriesInstanceUID in two studies: two ids, each opening its own images.
    for (id, side) in [("2.25.960.s1", 2), ("2.25.960.s2", 4)] {
        assert!(all.iter().any(|s| s.id == id), "{id} is listed");
        let opened = client.open(id).await.expect("each opens");
        assert_eq!(opened.dims[..2], [side, side], "{id}");
    }
}
