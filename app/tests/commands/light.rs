//! `render --light --shadows --occlusion`, `movie` with them, and `render --cinematic`: a
//! light from the patient's left brightens the picture's right (the anterior view puts
//! the patient's left there) and one from the right its left; shadows and ambient
//! occlusion darken the picture; a direction that is no direction is refused naming
//! `--light`; a cinematic picture is the same from the same seed and comes nearer a
//! picture of many paths as its own paths add up.

use hounsfield_test_support as support;

use render_core::gpu::FrameImage;
use support::hounsfield;
use support::render::brightness_halves;

use super::transfer_files::rendered;

/// Red + green + blue summed over the left and right halves of `picture`.
fn halves(picture: &FrameImage) -> [f64; 2] {
    brightness_halves(picture.width, &picture.rgba)
}

#[test]
fn a_side_light_brightens_its_side_and_shadows_and_occlusion_darken_the_sample() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("lit.png");
    let [left_a, right_a] = halves(&rendered(&out, &["--light", "left"]));
    let [left_b, right_b] = halves(&rendered(&out, &["--light", "right"]));
    assert!(
        right_a > 1.1 * right_b && left_b > 1.1 * left_a,
        "each half brighter lit from its own side: right {right_a:.0} against {right_b:.0}, left {left_b:.0} against {left_a:.0}"
    );
    // The same light as a vector draws the same picture as its side's name.
    assert_eq!(
        halves(&rendered(&out, &["--light", "-1,0,0"])),
        [left_b, right_b]
    );
    let [left_s, right_s] = halves(&rendered(
        &out,
        &["--light", "right", "--shadows", "--occlusion"],
    ));
    assert!(
        left_s + right_s < 0.98 * (left_b + right_b),
        "shadows and occlusion darken: {:.0} against {:.0}",
        left_s + right_s,
        left_b + right_b
    );
}

#[test]
fn a_light_that_is_no_direction_is_refused_naming_the_flag() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("never.png");
    let out_arg = out.to_string_lossy();
    for (light, said) in [
        ("0,0,0", "non-zero length"),
        ("sideways", "unknown light direction \"sideways\""),
        ("1,2", "three components"),
    ] {
        let output = hounsfield(&["render", "--light", light, "--out", &out_arg]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{light}: accepted");
        assert!(
            stderr.contains("--light") && stderr.contains(said),
            "{light}: {stderr}"
        );
        assert!(!out.exists(), "{light}: a picture written");
    }
}

#[test]
fn a_movie_orbits_under_a_light_that_stays_on_the_patient() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("lit.mp4");
    let out_arg = out.to_string_lossy();
    let output = hounsfield(&[
        "movie",
        "--orbit",
        "90",
        "--frames",
        "4",
        "--size",
        "96x96",
        "--light",
        "superior",
        "--shadows",
        "--json",
        "--out",
        &out_arg,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("movie --json prints JSON");
    assert_eq!(written["frames"], 4, "{written}");
    assert!(out.metadata().expect("the movie").len() > 0);
}

#[test]
fn render_cinematic_draws_the_same_picture_from_a_seed_and_refines_with_samples() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("cinematic.png");
    let cinematic = |samples: &str, seed: &str| {
        rendered(
            &out,
            &[
                "--light",
                "left",
                "--cinematic",
                "--samples",
                samples,
                "--seed",
                seed,
            ],
        )
    };
    let first = cinematic("4", "9");
    assert!(
        cinematic("4", "9").rgba == first.rgba,
        "a seed draws the same picture"
    );
    let [left, right] = halves(&first);
    assert!(
        right > 1.1 * left,
        "lit from the patient's left, the picture's right is brighter: {right:.0} against {left:.0}"
    );
    // Another seed's 64 paths come nearer a picture of 256 than its 4 do.
    let reference = cinematic("256", "3");
    let distance = |a: &FrameImage| -> f64 {
        a.rgba
            .iter()
            .zip(&reference.rgba)
            .map(|(p, q)| (f64::from(*p) - f64::from(*q)).powi(2))
            .sum()
    };
    let (few, many) = (
        distance(&cinematic("4", "5")),
        distance(&cinematic("64", "5")),
    );
    assert!(
        many < few / 4.0,
        "16 times the paths, under a quarter of the squared error: {many:.0} against {few:.0}"
    );
    let output = hounsfield(&["render", "--cinematic", "--mpr", "axial", "--out", "x.png"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("--cinematic") && stderr.contains("--mpr"),
        "{stderr}"
    );
}
