//! Curved reformats from the command line on a helical tube the test makes: a bright tube
//! of 3 mm radius wound 1.5 turns about the patient's long axis, written as a classic CT
//! series. `render --cpr` along points clicked on the helix (every 15°, running on 30°
//! past each end of the tube) straightens it: the tube keeps its width down the whole
//! picture, and its length down the picture equals the helix's analytic arc length
//! within 1 %, at the cut's start and turned 90° about the path.

use hounsfield_test_support as support;

use std::f64::consts::{PI, TAU};
use std::path::Path;
use std::process::Command;

use glam::{DMat4, DVec3};
use render_core::{Modality, Volume, Voxels};
use serde_json::Value;

/// The helix's radius (mm).
const HELIX_RADIUS_MM: f64 = 25.0;
/// Rise per turn (mm).
const PITCH_MM: f64 = 30.0;
/// The tube's extent in turns of the helix (radians).
const TUBE_TURN: f64 = 3.0 * PI;
/// The tube's radius (mm).
const TUBE_RADIUS_MM: f64 = 3.0;
const TUBE_HU: i16 = 300;
const SPACING_MM: f64 = 0.6;
/// The window: the tube white, the background black, grey 128 half way.
const WINDOW: &str = "300,150";
const SIZE: [u32; 2] = [64, 600];
/// Largest share the length down the picture may differ from the arc length.
const LENGTH_TOLERANCE: f64 = 0.01;
/// Largest difference of a row's tube width from the tube's diameter (mm).
const WIDTH_TOLERANCE_MM: f64 = 1.0;

/// Rise per radian (mm).
fn rise() -> f64 {
    PITCH_MM / TAU
}

fn helix(t: f64) -> DVec3 {
    DVec3::new(
        HELIX_RADIUS_MM * t.cos(),
        HELIX_RADIUS_MM * t.sin(),
        rise() * t,
    )
}

/// The helix's parameter nearest `p` among the turns near it, and the distance.
fn nearest_on_helix(p: DVec3) -> (f64, f64) {
    let angle = p.y.atan2(p.x);
    let turns = ((p.z / rise() - angle) / TAU).round();
    [-1.0, 0.0, 1.0]
        .into_iter()
        .map(|extra| {
            let mut t = angle + (turns + extra) * TAU;
            // Newton on (H(t) − p)·H'(t) = 0.
            for _ in 0..4 {
                let (sin, cos) = t.sin_cos();
                let offset = helix(t) - p;
                let velocity = DVec3::new(-HELIX_RADIUS_MM * sin, HELIX_RADIUS_MM * cos, rise());
                let acceleration = DVec3::new(-HELIX_RADIUS_MM * cos, -HELIX_RADIUS_MM * sin, 0.0);
                let slope = velocity.length_squared() + offset.dot(acceleration);
                t -= offset.dot(velocity) / slope;
            }
            (t, helix(t).distance(p))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0.0, f64::INFINITY))
}

/// The helical tube: inside where the helix is within the tube's radius at a parameter
/// of the tube (its ends cut square across the helix).
fn helical_tube() -> Volume {
    let half = HELIX_RADIUS_MM + TUBE_RADIUS_MM + 3.0;
    let low = DVec3::new(-half, -half, -8.0);
    let high = DVec3::new(half, half, rise() * TUBE_TURN + 8.0);
    let count = |axis: f64| (axis / SPACING_MM).ceil() as usize + 1;
    let dims = [
        count(high.x - low.x),
        count(high.y - low.y),
        count(high.z - low.z),
    ];
    let mut voxels = vec![0_i16; dims[0] * dims[1] * dims[2]];
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let p = low + DVec3::new(i as f64, j as f64, k as f64) * SPACING_MM;
                if (p.truncate().length() - HELIX_RADIUS_MM).abs() > TUBE_RADIUS_MM + 1.0 {
                    continue;
                }
                let (t, distance) = nearest_on_helix(p);
                if distance <= TUBE_RADIUS_MM && (0.0..=TUBE_TURN).contains(&t) {
                    voxels[i + dims[0] * (j + dims[1] * k)] = TUBE_HU;
                }
            }
        }
    }
    let voxel_to_lps = DMat4::from_translation(low) * DMat4::from_scale(DVec3::splat(SPACING_MM));
    Volume::new(Voxels::I16(voxels), dims, voxel_to_lps, Modality::CT, None).expect("a volume")
}

/// The path a radiologist would click: points on the helix every 15°, from 30° before
/// the tube to 30° after it.
fn clicked_path() -> String {
    let step = PI / 12.0;
    let first = -2.0 * step;
    let count = ((TUBE_TURN + 4.0 * step) / step).round() as usize;
    (0..=count)
        .map(|n| {
            let p = helix(first + n as f64 * step);
            format!("{:.6},{:.6},{:.6}", p.x, p.y, p.z)
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The straightened picture's grey levels (rows of columns) and its report.
fn straightened(series: &Path, angle: &str, out: &Path) -> (Vec<Vec<u8>>, Value) {
    let output = Command::new(support::hounsfield_binary())
        .arg("render")
        .arg(series)
        .arg(format!("--cpr={}", clicked_path()))
        .arg(format!("--cpr-angle={angle}"))
        .args(["--window", WINDOW, "--json"])
        .arg(format!("--size={}x{}", SIZE[0], SIZE[1]))
        .arg("--out")
        .arg(out)
        .output()
        .expect("hounsfield runs");
    assert!(
        output.status.success(),
        "render --cpr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let image = image::open(out).expect("a PNG").to_luma8();
    assert_eq!(image.dimensions(), (SIZE[0], SIZE[1]));
    let rows = (0..SIZE[1])
        .map(|y| (0..SIZE[0]).map(|x| image.get_pixel(x, y)[0]).collect())
        .collect();
    (rows, report)
}

/// Whether a grey level is the tube's (above half way).
fn bright(grey: u8) -> bool {
    grey > 127
}

/// The run of tube pixels through the path's column in `row` (pixels).
fn width_through_the_path(row: &[u8]) -> usize {
    let middle = row.len() / 2;
    let left = row[..middle]
        .iter()
        .rev()
        .take_while(|&&g| bright(g))
        .count();
    let right = row[middle..].iter().take_while(|&&g| bright(g)).count();
    left + right
}

#[test]
fn a_helical_tube_straightens_to_its_arc_length_and_keeps_its_width() {
    let folder = tempfile::tempdir().expect("a folder");
    let series = folder.path().join("helix");
    std::fs::create_dir(&series).expect("a series folder");
    support::phantom_dicom::write_series(
        &helical_tube(),
        &series,
        support::phantom_dicom::Layout::Standard,
    );
    let arc_length = TUBE_TURN * (HELIX_RADIUS_MM.powi(2) + rise().powi(2)).sqrt();
    for angle in ["0", "90"] {
        let (rows, report) = straightened(
            &series,
            angle,
            &folder.path().join(format!("cpr-{angle}.png")),
        );
        let cpr = &report["cpr"];
        let mm = cpr["mm_per_pixel"].as_f64().expect("a pixel size");
        let path_length = cpr["path_length_mm"].as_f64().expect("a length");
        assert!(
            (path_length - mm * f64::from(SIZE[1])).abs() < 1e-6,
            "the path fills the picture's height: {cpr}"
        );
        // The tube's rows: those whose pixels on the path are the tube's, one run.
        let on_path: Vec<bool> = rows
            .iter()
            .map(|row| bright(row[row.len() / 2 - 1]) || bright(row[row.len() / 2]))
            .collect();
        let first = on_path.iter().position(|&b| b).expect("the tube shows");
        let last = on_path.iter().rposition(|&b| b).expect("the tube shows");
        assert!(
            on_path[first..=last].iter().all(|&b| b),
            "--cpr-angle {angle}: the path stays in the tube from row {first} to {last}"
        );
        let length = (last - first + 1) as f64 * mm;
        assert!(
            (length / arc_length - 1.0).abs() < LENGTH_TOLERANCE,
            "--cpr-angle {angle}: the tube is {length:.2} mm down the picture, its arc length {arc_length:.2} mm"
        );
        // Its width, away from the square ends: the tube's diameter on every row.
        let margin = (TUBE_RADIUS_MM * 2.0 / mm).ceil() as usize;
        let widths: Vec<f64> = rows[first + margin..=last - margin]
            .iter()
            .map(|row| width_through_the_path(row) as f64 * mm)
            .collect();
        let diameter = 2.0 * TUBE_RADIUS_MM;
        eprintln!(
            "--cpr-angle {angle}: {length:.2} mm down the picture for {arc_length:.2} mm of helix; widths {:.2} to {:.2} mm",
            widths.iter().copied().fold(f64::INFINITY, f64::min),
            widths.iter().copied().fold(0.0, f64::max)
        );
        let worst = widths
            .iter()
            .map(|w| (w - diameter).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < WIDTH_TOLERANCE_MM,
            "--cpr-angle {angle}: widths from {:.2} to {:.2} mm for a {diameter} mm tube",
            widths.iter().copied().fold(f64::INFINITY, f64::min),
            widths.iter().copied().fold(0.0, f64::max)
        );
    }
}

#[test]
fn a_path_of_one_point_or_a_bad_one_is_refused_by_point() {
    let folder = tempfile::tempdir().expect("a folder");
    let out = folder.path().join("refused.png");
    for (path, named) in [
        ("1,2,3", "at least 2 points"),
        ("1,2,3;1,2,3", "points 1 and 2"),
        ("1,2,3;4,5", "point 2"),
    ] {
        let output = Command::new(support::hounsfield_binary())
            .args(["render", &format!("--cpr={path}"), "--out"])
            .arg(&out)
            .output()
            .expect("hounsfield runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{path} is refused");
        assert!(stderr.contains(named), "{path}: {stderr}");
        assert!(!out.exists(), "{path} writes no image");
    }
}
