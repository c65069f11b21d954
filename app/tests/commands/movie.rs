//! `hounsfield movie` on the shared data's real CT, its MP4 read by FFmpeg's own tools:
//! `ffprobe` counts the H.264 frames of the size asked, the first frame of an orbit
//! (decoded by `ffmpeg`) matches `render` of the same view within a stated tolerance, a
//! sweep's frames move through the volume, and bad sizes and motions are refused by name.

use hounsfield_test_support as support;

use std::path::Path;
use std::process::{Command, Output};

use hounsfield_test_support::probed;
use support::{data_arg as data, hounsfield};

fn ct() -> String {
    data("ct-head-neck")
}

fn succeeded(output: &Output) -> &Output {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Frame `n` of the movie as `ffmpeg` decodes it.
fn decoded_frame(movie: &Path, n: u32, out: &Path) -> image::RgbImage {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(movie)
        .args(["-vf", &format!("select=eq(n\\,{n})"), "-frames:v", "1"])
        .arg(out)
        .output()
        .expect("ffmpeg runs");
    succeeded(&output);
    image::open(out).expect("a PNG").to_rgb8()
}

/// The mean and 95th percentile of the absolute differences of two pictures' channels.
fn differences(a: &image::RgbImage, b: &image::RgbImage) -> (f64, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut all: Vec<u8> = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .collect();
    let mean = all.iter().map(|&d| f64::from(d)).sum::<f64>() / all.len() as f64;
    all.sort_unstable();
    (mean, all[all.len() * 95 / 100])
}

#[test]
fn an_orbit_is_an_h264_mp4_of_the_frames_asked_whose_first_frame_is_renders() {
    let folder = tempfile::tempdir().expect("a folder");
    let movie = folder.path().join("orbit.mp4");
    let movie_arg = movie.to_string_lossy().into_owned();
    let output = hounsfield(&[
        "movie",
        &ct(),
        "--orbit",
        "360",
        "--frames",
        "36",
        "--size",
        "192x144",
        "--json",
        "--out",
        &movie_arg,
    ]);
    let written: serde_json::Value =
        serde_json::from_slice(&succeeded(&output).stdout).expect("JSON");
    assert_eq!(written["frames"], 36);
    assert!(
        written["render_ms_per_frame"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0)
    );
    assert_eq!(probed(&movie).as_tuple(), ("h264", 192, 144, 36));

    let still = folder.path().join("render.png");
    succeeded(&hounsfield(&[
        "render",
        &ct(),
        "--size",
        "192x144",
        "--out",
        &still.to_string_lossy(),
    ]));
    let rendered = image::open(&still).expect("a PNG").to_rgb8();
    let first = decoded_frame(&movie, 0, &folder.path().join("first.png"));
    // H.264 at constant quality 20 over 4:2:0 chroma: a few grey levels on average.
    let (mean, p95) = differences(&first, &rendered);
    assert!(
        mean < 3.0 && p95 < 16,
        "first frame against render: mean {mean:.2}, p95 {p95}"
    );
    // A quarter turn later the picture is another one.
    let quarter = decoded_frame(&movie, 9, &folder.path().join("quarter.png"));
    let (mean, _) = differences(&quarter, &rendered);
    assert!(
        mean > 3.0,
        "a quarter turn changes the picture: mean {mean:.2}"
    );
}

#[test]
fn a_sweep_steps_a_slice_through_the_volume_and_bad_requests_are_refused_by_name() {
    let folder = tempfile::tempdir().expect("a folder");
    let movie = folder.path().join("sweep.mp4");
    let movie_arg = movie.to_string_lossy().into_owned();
    succeeded(&hounsfield(&[
        "movie",
        &ct(),
        "--sweep",
        "axial",
        "--frames",
        "6",
        "--size",
        "128x128",
        "--window",
        "400,40",
        "--out",
        &movie_arg,
    ]));
    assert_eq!(probed(&movie).as_tuple(), ("h264", 128, 128, 6));
    let low = decoded_frame(&movie, 1, &folder.path().join("low.png"));
    let high = decoded_frame(&movie, 4, &folder.path().join("high.png"));
    let (mean, _) = differences(&low, &high);
    assert!(mean > 3.0, "slices apart differ: mean {mean:.2}");

    for (args, said) in [
        (vec!["--orbit", "360", "--size", "127x128"], "even sides"),
        (vec!["--sweep", "oblique"], "axial, coronal or sagittal"),
        (vec!["--orbit", "360", "--frames", "0"], "--frames 0"),
        (
            vec!["--orbit", "360", "--sweep", "axial"],
            "cannot be used with",
        ),
        (vec!["--frames", "4"], "--orbit"),
    ] {
        let mut line = vec!["movie", "--out", &movie_arg];
        line.extend(args);
        let output = hounsfield(&line);
        assert!(!output.status.success(), "{line:?} was refused");
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(error.contains(said), "{line:?}: {error}");
    }
}

#[test]
fn a_cinematic_orbit_starts_on_render_cinematics_picture_from_the_same_seed() {
    let folder = tempfile::tempdir().expect("a folder");
    let movie = folder.path().join("cinematic.mp4");
    let movie_arg = movie.to_string_lossy().into_owned();
    let cinematic = [
        "--light",
        "left",
        "--cinematic",
        "--samples",
        "8",
        "--seed",
        "4",
    ];
    succeeded(&hounsfield(
        &[
            &["movie", "--orbit", "90", "--frames", "3", "--size", "96x96"][..],
            &cinematic,
            &["--out", &movie_arg],
        ]
        .concat(),
    ));
    assert_eq!(probed(&movie).as_tuple(), ("h264", 96, 96, 3));
    let still = folder.path().join("render.png");
    let still_arg = still.to_string_lossy().into_owned();
    succeeded(&hounsfield(
        &[
            &["render", "--size", "96x96"][..],
            &cinematic,
            &["--out", &still_arg],
        ]
        .concat(),
    ));
    let rendered = image::open(&still).expect("a PNG").to_rgb8();
    let first = decoded_frame(&movie, 0, &folder.path().join("first.png"));
    // The same paths, then H.264 at constant quality 20 over 4:2:0 chroma (path tracing's
    // grain costs it a little more than a ray-cast picture's edges do).
    let (mean, p95) = differences(&first, &rendered);
    assert!(
        mean < 4.0 && p95 < 24,
        "first frame against render --cinematic: mean {mean:.2}, p95 {p95}"
    );
    let refused = hounsfield(&[
        "movie",
        "--sweep",
        "axial",
        "--cinematic",
        "--out",
        &movie_arg,
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("--cinematic") && stderr.contains("--sweep"),
        "{stderr}"
    );
}
