//! One series over another: `probe --over` tells both series' values at a point, and
//! `render --mpr … --over` draws the second series over the slice in a colour map, each
//! checked against what pydicom reads from the files or what `probe` says at the pixels'
//! positions; a series of another frame of reference is refused by both.

use hounsfield_test_support as support;

use super::stdout_json;
use std::path::Path;
use support::{data_arg as data, hounsfield};

/// A folder holding one file of the Siemens mosaic (series 1) and one of the GE EPI
/// (series 4): two frames of reference.
fn two_frames_of_reference(folder: &Path) {
    for file in [
        "transfer-syntaxes/In/1.dcm",
        "ge-epi/mr_0004/axial_epi_fmri_interleaved_i_to_s-00001.dcm",
    ] {
        let from = support::data(file);
        let name = from.file_name().expect("a name").to_owned();
        std::fs::copy(&from, folder.join(name)).expect("a copy");
    }
}

fn rgba(path: &Path) -> Vec<u8> {
    image::open(path)
        .expect("a PNG was written")
        .to_rgba8()
        .into_raw()
}

/// One series over another: `probe --over` gives both series' values at a point, each
/// equal to what pydicom reads from that series' files there (the Philips ASL's first
/// volume over the MPRAGE, one frame of reference); a series of another frame of
/// reference is refused.
#[test]
fn probe_over_a_second_series_gives_both_values_as_pydicom_reads_them() {
    let folder = data("philips-enhanced/In/cl");
    let json = stdout_json(&hounsfield(&["info", "--json", &folder]));
    let asl = json["studies"][0]["series"]
        .as_array()
        .expect("series")
        .iter()
        .find(|s| s["number"] == 1903)
        .expect("the ASL")
        .clone();
    // Voxel centres of the ASL, inside the head.
    let points: Vec<String> = [[48.0, 48.0, 20.0], [30.0, 60.0, 10.0], [70.0, 40.0, 30.0]]
        .iter()
        .map(|ijk: &[f64; 3]| {
            let row = |r: usize| -> f64 {
                (0..3)
                    .map(|c| asl["voxel_to_lps"][r][c].as_f64().unwrap_or(f64::NAN) * ijk[c])
                    .sum::<f64>()
                    + asl["voxel_to_lps"][r][3].as_f64().unwrap_or(f64::NAN)
            };
            format!("{},{},{}", row(0), row(1), row(2))
        })
        .collect();
    let mut args = vec![
        "probe", &folder, "--series", "1903", "--over", "1301", "--json",
    ];
    for point in &points {
        args.extend(["--at", point.as_str()]);
    }
    let ours = stdout_json(&hounsfield(&args));
    let read = |series: &str| {
        let folder = support::data(&format!("philips-enhanced/In/cl/{series}"));
        let mut args = vec![folder.to_string_lossy().to_string()];
        args.extend(points.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::imaging_python_script("voxel_at_point.py", &args)
    };
    let (asl_read, mprage_read) = (read("1903"), read("1301"));
    for n in 0..points.len() {
        assert_eq!(
            ours[n]["value"].as_f64(),
            asl_read[n]["value"].as_f64().map(|v| f64::from(v as f32)),
            "the ASL at {}: pydicom read {}",
            points[n],
            asl_read[n]
        );
        let (over, theirs) = (
            ours[n]["over_value"].as_f64().unwrap_or(f64::NAN),
            mprage_read[n]["value"].as_f64().unwrap_or(f64::NAN),
        );
        assert!(
            (over - theirs).abs() <= 1e-4 * theirs.abs().max(1.0),
            "the MPRAGE at {}: ours {over}, pydicom {}",
            points[n],
            mprage_read[n]
        );
    }
    assert!(
        ours.as_array()
            .is_some_and(|p| p.iter().any(|p| p["over_value"].as_f64() != Some(0.0))),
        "the points fall inside the head: {ours}"
    );

    // A series of another frame of reference is not drawn over.
    let mixed = tempfile::tempdir().expect("a folder");
    for file in [
        "transfer-syntaxes/In/1.dcm",
        "ge-epi/mr_0004/axial_epi_fmri_interleaved_i_to_s-00001.dcm",
    ] {
        let from = support::data(file);
        let name = from.file_name().expect("a name").to_owned();
        std::fs::copy(&from, mixed.path().join(name)).expect("a copy");
    }
    let mixed_arg = mixed.path().to_string_lossy().to_string();
    let output = hounsfield(&[
        "probe", &mixed_arg, "--series", "1", "--over", "4", "--at", "0,0,0",
    ]);
    assert!(!output.status.success(), "other frames of reference");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("frame of reference"), "{stderr}");
}

/// The ASL drawn over the MPRAGE's axial slice: in grey at full opacity each covered pixel
/// is the ASL's value at the pixel's centre (as `probe` reads it there) through the window
/// asked for; pixels the ASL does not reach keep the slice as drawn; at half opacity in
/// the hot map a pixel is half the slice's and half the map's colour.
#[test]
fn render_over_draws_the_second_series_through_its_window_and_colour_map() {
    let folder = data("philips-enhanced/In/cl");
    let out = tempfile::tempdir().expect("a folder");
    let png = |name: &str| out.path().join(name).to_string_lossy().to_string();
    let (base, grey, hot) = (png("base.png"), png("grey.png"), png("hot.png"));
    let common = [
        "render",
        &folder,
        "--series",
        "1301",
        "--mpr",
        "axial",
        "--size",
        "64x64",
        "--nearest",
        "--json",
    ];
    let drawn = stdout_json(&hounsfield(&[&common[..], &["--out", &base]].concat()));
    let over = ["--over", "1903", "--over-window", "400,300"];
    stdout_json(&hounsfield(
        &[
            &common[..],
            &over,
            &[
                "--over-colours",
                "grey",
                "--over-opacity",
                "1",
                "--out",
                &grey,
            ],
        ]
        .concat(),
    ));
    stdout_json(&hounsfield(
        &[
            &common[..],
            &over,
            &["--over-opacity", "0.5", "--out", &hot],
        ]
        .concat(),
    ));
    let (base, grey, hot) = (
        rgba(Path::new(&base)),
        rgba(Path::new(&grey)),
        rgba(Path::new(&hot)),
    );

    // Every 5th pixel's centre in LPS, and the ASL's value there by probe.
    let m = &drawn["mpr"]["pixel_to_lps"];
    let lps = |x: f64, y: f64| -> [f64; 3] {
        [0, 1, 2].map(|r| {
            let at = |c: usize| m[r][c].as_f64().unwrap_or(f64::NAN);
            at(0) * x + at(1) * y + at(3)
        })
    };
    let pixels: Vec<(usize, [f64; 3])> = (0..64 * 64)
        .step_by(5)
        .map(|n| (n, lps((n % 64) as f64, (n / 64) as f64)))
        .collect();
    let points: Vec<String> = pixels
        .iter()
        .map(|(_, p)| format!("{},{},{}", p[0], p[1], p[2]))
        .collect();
    let mut args = vec!["probe", &folder, "--series", "1903", "--json"];
    for point in &points {
        args.extend(["--at", point.as_str()]);
    }
    let probed = stdout_json(&hounsfield(&args));
    let (mut inside, mut outside) = (0, 0);
    for (index, (n, _)) in pixels.iter().enumerate() {
        let at = n * 4;
        match probed[index]["value"].as_f64() {
            Some(value) => {
                let expected = (((value - 100.0) / 400.0).clamp(0.0, 1.0) * 255.0).round();
                for channel in 0..3 {
                    let drawn = f64::from(grey[at + channel]);
                    assert!(
                        (drawn - expected).abs() <= 1.0,
                        "pixel {n}: grey {drawn}, the ASL's {value} windowed is {expected}"
                    );
                }
                let t = ((value - 100.0) / 400.0).clamp(0.0, 1.0);
                let hot_red = (t * 3.0).min(1.0) * 255.0;
                let blended = f64::from(base[at]) * 0.5 + hot_red * 0.5;
                assert!(
                    (f64::from(hot[at]) - blended).abs() <= 1.0,
                    "pixel {n}: red {} at half opacity, expected {blended}",
                    hot[at]
                );
                inside += 1;
            }
            None => {
                assert_eq!(
                    grey[at..at + 4],
                    base[at..at + 4],
                    "pixel {n} is outside the ASL"
                );
                outside += 1;
            }
        }
    }
    assert!(
        inside > 50 && outside > 50,
        "{inside} inside, {outside} outside"
    );

    // Over the 3D view: opaque and grey, every pixel it changes takes a grey of its
    // projection's, and it changes a good part of the picture.
    let three_d = |name: &str, over: &[&str]| {
        let path = png(name);
        let args = [
            &["render", &folder, "--series", "1301", "--size", "64x64"][..],
            over,
            &["--out", &path],
        ]
        .concat();
        assert!(hounsfield(&args).status.success(), "{args:?}");
        rgba(Path::new(&path))
    };
    let alone = three_d("3d.png", &[]);
    let drawn_over = three_d(
        "3d-over.png",
        &[
            &over[..],
            &["--over-colours", "grey", "--over-opacity", "1"],
        ]
        .concat(),
    );
    let changed: Vec<&[u8]> = alone
        .chunks_exact(4)
        .zip(drawn_over.chunks_exact(4))
        .filter(|(a, b)| a != b)
        .map(|(_, b)| b)
        .collect();
    assert!(
        changed.len() > 64 * 64 / 20,
        "the ASL changes {} pixels of the 3D view",
        changed.len()
    );
    for pixel in &changed {
        assert!(
            pixel[0].abs_diff(pixel[1]) <= 1 && pixel[1].abs_diff(pixel[2]) <= 1,
            "an opaque grey projection: {pixel:?}"
        );
    }

    // Another frame of reference is refused.
    let mixed = tempfile::tempdir().expect("a folder");
    two_frames_of_reference(mixed.path());
    let mixed_arg = mixed.path().to_string_lossy().to_string();
    let output = hounsfield(&[
        "render",
        &mixed_arg,
        "--series",
        "1",
        "--mpr",
        "axial",
        "--over",
        "4",
        "--out",
        &png("x.png"),
    ]);
    assert!(!output.status.success(), "other frames of reference");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("frame of reference"), "{stderr}");
}
