//! `render --transfer FILE`: a transfer function from a file draws what the same curve
//! written as a preset draws. 3D Slicer's volume property (`.vp`, its documented example)
//! renders within a stated tolerance of the same points written by hand in this program's
//! TOML, and both differ from the default preset's picture; a bad file is refused naming
//! the file, the line and the list; `movie --transfer` draws a movie with it.

use hounsfield_test_support as support;

use std::path::Path;

use render_core::gpu::FrameImage;
use support::hounsfield;
use support::render::{Tolerance, assert_similar, differing_share};

/// Slicer's documented `.vp` example: shading on, diffuse 0.9, ambient 0.1, specular 0.2,
/// power 10, then the scalar opacity, the gradient opacity and the colour.
const SLICER_VP: &str = "1\n1\n0.9\n0.1\n0.2\n10\n\
    14 -3024 0 -86.9767 0 45.3791 0.169643 139.919 0.589286 347.907 0.607143 1224.16 0.607143 3071 0.616071\n\
    4 0 1 255 1\n\
    28 -3024 0 0 0 -86.9767 0 0.25098 1 45.3791 1 0 0 139.919 1 0.894893 0.894893 347.907 1 1 0.25098 1224.16 1 1 1 3071 0.827451 0.658824 1\n";

/// The same curve written by hand as this program's preset.
const BY_HAND: &str = r#"
name = "by-hand"
modality = "CT"
domain = "hu"
mode = "composite"
opacity_unit_mm = 1.0
colour = [
  { value = -3024, rgb = [0.0, 0.0, 0.0] },
  { value = -86.9767, rgb = [0.0, 0.25098, 1.0] },
  { value = 45.3791, rgb = [1.0, 0.0, 0.0] },
  { value = 139.919, rgb = [1.0, 0.894893, 0.894893] },
  { value = 347.907, rgb = [1.0, 1.0, 0.25098] },
  { value = 1224.16, rgb = [1.0, 1.0, 1.0] },
  { value = 3071, rgb = [0.827451, 0.658824, 1.0] },
]
opacity = [
  { value = -3024, opacity = 0.0 },
  { value = -86.9767, opacity = 0.0 },
  { value = 45.3791, opacity = 0.169643 },
  { value = 139.919, opacity = 0.589286 },
  { value = 347.907, opacity = 0.607143 },
  { value = 1224.16, opacity = 0.607143 },
  { value = 3071, opacity = 0.616071 },
]
[shading]
enabled = true
ambient = 0.1
diffuse = 0.9
specular = 0.2
specular_power = 10.0
"#;

/// Renders the built-in sample with `extra` arguments into `out`; the picture.
pub(crate) fn rendered(out: &Path, extra: &[&str]) -> FrameImage {
    let out_arg = out.to_string_lossy();
    let output = hounsfield(&[&["render", "--size", "160x120", "--out", &out_arg], extra].concat());
    assert!(
        output.status.success(),
        "{extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let picture = image::open(out).expect("a PNG").to_rgba8();
    FrameImage {
        width: picture.width(),
        height: picture.height(),
        rgba: picture.into_raw(),
    }
}

/// Renders the built-in sample with the transfer function `imported` (a file named
/// `file` in a folder of its own) and with `by_hand` (the same curve as this program's
/// TOML), and checks they draw the same picture, and not the default preset's.
fn assert_draws_as_written_by_hand(file: &str, imported: &str, by_hand: &str, what: &str) {
    let folder = tempfile::tempdir().expect("a folder");
    let imported_file = folder.path().join(file);
    std::fs::write(&imported_file, imported).expect("written");
    let by_hand_file = folder.path().join("by-hand.toml");
    std::fs::write(&by_hand_file, by_hand).expect("written");
    let imported = rendered(
        &folder.path().join("imported.png"),
        &["--transfer", &imported_file.to_string_lossy()],
    );
    let written = rendered(
        &folder.path().join("written.png"),
        &["--transfer", &by_hand_file.to_string_lossy()],
    );
    let default = rendered(&folder.path().join("default.png"), &[]);
    // The same curve: at most 0.5 % of pixels more than 2 levels apart.
    assert_similar(
        &imported,
        &written,
        Tolerance {
            per_pixel: 2,
            max_share: 0.005,
        },
        what,
    );
    // And the curve is what drew it: the default preset's picture is another.
    assert!(
        differing_share(&imported, &default, 8) > 0.05,
        "{what}: the imported curve drew the default preset's picture"
    );
}

#[test]
fn a_slicer_volume_property_draws_what_the_same_curve_written_by_hand_draws() {
    assert_draws_as_written_by_hand("ct-aaa.vp", SLICER_VP, BY_HAND, "slicer-vp-against-by-hand");
}

#[test]
fn a_bad_transfer_file_is_refused_naming_the_file_the_line_and_the_list() {
    let folder = tempfile::tempdir().expect("a folder");
    let bad = folder.path().join("miscounted.vp");
    std::fs::write(&bad, SLICER_VP.replace("14 -3024", "13 -3024")).expect("written");
    let out = folder.path().join("out.png");
    let output = hounsfield(&[
        "render",
        "--out",
        &out.to_string_lossy(),
        "--transfer",
        &bad.to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    for named in ["--transfer", "miscounted.vp", "line 7", "scalar opacity"] {
        assert!(stderr.contains(named), "{named:?} not in {stderr}");
    }
    assert!(!out.exists(), "nothing drawn");
    let both = hounsfield(&[
        "render",
        "--out",
        &out.to_string_lossy(),
        "--transfer",
        &bad.to_string_lossy(),
        "--preset",
        "ct-bone",
    ]);
    assert!(!both.status.success(), "--transfer and --preset together");
}

#[test]
fn a_movie_is_drawn_with_a_transfer_function_from_a_file() {
    let folder = tempfile::tempdir().expect("a folder");
    let slicer = folder.path().join("ct-aaa.vp");
    std::fs::write(&slicer, SLICER_VP).expect("written");
    let movie = folder.path().join("aaa.mp4");
    let output = hounsfield(&[
        "movie",
        "--out",
        &movie.to_string_lossy(),
        "--orbit",
        "90",
        "--frames",
        "4",
        "--size",
        "64x48",
        "--transfer",
        &slicer.to_string_lossy(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let probed = support::probed(&movie);
    assert_eq!((probed.codec.as_str(), probed.frames), ("h264", 4));
}

/// A ParaView colour map with its opacity, as ParaView's "Save preset" writes one.
const PARAVIEW_JSON: &str = r#"[{"ColorSpace": "RGB", "Name": "Warm bone",
    "RGBPoints": [-1000, 0, 0, 0, 150, 0.6, 0.3, 0.2, 700, 1, 0.9, 0.7, 3000, 1, 1, 1],
    "Points": [-1000, 0, 0.5, 0, 150, 0, 0.5, 0, 700, 0.7, 0.5, 0, 3000, 0.9, 0.5, 0]}]"#;

/// The same map written by hand (ParaView's maps are unlit).
const PARAVIEW_BY_HAND: &str = r#"
name = "warm-bone-by-hand"
modality = "CT"
domain = "hu"
colour = [
  { value = -1000, rgb = [0.0, 0.0, 0.0] },
  { value = 150, rgb = [0.6, 0.3, 0.2] },
  { value = 700, rgb = [1.0, 0.9, 0.7] },
  { value = 3000, rgb = [1.0, 1.0, 1.0] },
]
opacity = [
  { value = -1000, opacity = 0.0 },
  { value = 150, opacity = 0.0 },
  { value = 700, opacity = 0.7 },
  { value = 3000, opacity = 0.9 },
]
"#;

#[test]
fn a_paraview_colour_map_draws_what_the_same_map_written_by_hand_draws() {
    assert_draws_as_written_by_hand(
        "warm-bone.json",
        PARAVIEW_JSON,
        PARAVIEW_BY_HAND,
        "paraview-json-against-by-hand",
    );
}
