//! `hounsfield calcium`: on a phantom the test writes as DICOM (square calcium of known
//! value and size on 3 mm and on 0.5 mm slices) the scores are those worked out by hand
//! here, and the same calcium scores the same on either; on a region of a real CT the
//! scores equal an independent scoring by pydicom, NumPy and SciPy's connected components;
//! bad series and boxes are refused by name.

use hounsfield_test_support as support;

use std::path::Path;

use glam::DMat4;
use render_core::{Modality, Volume, Voxels};
use support::hounsfield;
use support::phantom_dicom::{Layout, write_series};

/// The default calibration (mg/cm³ per HU).
const FACTOR: f64 = 0.743;

/// Runs `calcium` with `args` and `--json`; its report.
fn scored(args: &[&str]) -> serde_json::Value {
    support::hounsfield_json(&[&["calcium", "--json"], args].concat())
}

/// A CT of 40 × 40 pixels of 0.5 mm, `slices` slices `slice_mm` apart at −50 HU: an
/// 8 × 8-pixel square (16 mm²) at 250 HU with one pixel at 410 through 6 mm of them, a
/// 2 × 2 square (1 mm²) at 450 HU on the first slice, a 3 × 1 strip (0.75 mm², too small
/// to count) at 600 HU on the first slice, and a 6 × 6 insert of 400 HU in a corner of
/// the last slice.
fn phantom(slices: usize, slice_mm: f64) -> Volume {
    let square = (6.0 / slice_mm) as usize;
    let mut voxels = vec![-50i16; 40 * 40 * slices];
    for k in 0..slices {
        for j in 0..40 {
            for i in 0..40 {
                let value = if (1..=square).contains(&k)
                    && (10..18).contains(&i)
                    && (10..18).contains(&j)
                {
                    if (i, j) == (12, 12) { 410 } else { 250 }
                } else if k == 0 && (30..32).contains(&i) && (30..32).contains(&j) {
                    450
                } else if k == 0 && (2..5).contains(&i) && j == 35 {
                    600
                } else if k == slices - 1 && i >= 34 && j < 6 {
                    400
                } else {
                    continue;
                };
                voxels[(k * 40 + j) * 40 + i] = value;
            }
        }
    }
    let affine = DMat4::from_cols_array(&[
        0.5, 0.0, 0.0, 0.0, //
        0.0, 0.5, 0.0, 0.0, //
        0.0, 0.0, slice_mm, 0.0, //
        -10.0, -10.0, 100.0, 1.0,
    ]);
    Volume::new(
        Voxels::I16(voxels),
        [40, 40, slices],
        affine,
        Modality::CT,
        None,
    )
    .expect("a phantom")
}

fn close(a: &serde_json::Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() <= 1e-6 * b.abs().max(1.0))
}

fn written(volume: &Volume, folder: &Path) -> String {
    write_series(volume, folder, Layout::Scrambled);
    folder.to_string_lossy().into_owned()
}

#[test]
fn a_phantom_written_as_dicom_scores_as_worked_out_by_hand_on_3_and_half_mm_slices() {
    let thick_folder = tempfile::tempdir().expect("a folder");
    let thin_folder = tempfile::tempdir().expect("a folder");
    let thick = written(&phantom(4, 3.0), thick_folder.path());
    let thin = written(&phantom(14, 0.5), thin_folder.path());
    // Left of the insert's corner, the insert is out of the region.
    let roi = "--roi=-10.2,-10.2,90,6.7,9.9,200";
    let thick = scored(&[&thick, roi]);
    // On 3 mm slices: the 1 mm² square, 1 × weight 4 × 3/3 = 4; the 16 mm² square on two
    // slices, 16 × 4 × 3/3 = 64 each; the strip left out.
    let lesions = thick["lesions"].as_array().expect("lesions");
    assert_eq!(lesions.len(), 3, "{thick}");
    assert!(close(&lesions[0]["agatston"], 4.0), "{}", lesions[0]);
    assert!(close(&lesions[1]["agatston"], 64.0), "{}", lesions[1]);
    assert_eq!(lesions[1]["weight"], 4);
    let total = &thick["total"];
    assert!(close(&total["agatston"], 132.0), "{total}");
    // Volume: (4 + 64 + 64) pixels of 0.25 mm² on 3 mm slices.
    assert!(close(&total["volume_mm3"], 99.0), "{total}");
    let square_mean = (63.0 * 250.0 + 410.0) / 64.0;
    let mass = (450.0 * 3.0 + 2.0 * square_mean * 48.0) / 1000.0 * FACTOR;
    assert!(close(&total["mass_mg"], mass), "{total}");
    assert_eq!(total["category"], "moderate");
    // On 0.5 mm slices the big square (twelve slices, 6 mm) scores what it scored on two
    // 3 mm slices: 12 × 16 × 4 × 0.5/3 = 128, and the same volume and mass.
    let thin = scored(&[&thin, roi]);
    let squares: Vec<&serde_json::Value> = thin["lesions"]
        .as_array()
        .expect("lesions")
        .iter()
        .filter(|lesion| {
            lesion["area_mm2"]
                .as_f64()
                .is_some_and(|a| (a - 16.0).abs() < 1e-6)
        })
        .collect();
    assert_eq!(squares.len(), 12);
    let agatston: f64 = squares.iter().filter_map(|l| l["agatston"].as_f64()).sum();
    let volume: f64 = squares
        .iter()
        .filter_map(|l| l["volume_mm3"].as_f64())
        .sum();
    assert!((agatston - 128.0).abs() < 1e-6, "{agatston}");
    assert!((volume - 96.0).abs() < 1e-6, "{volume}");
}

#[test]
fn a_calibration_insert_sets_the_mass_score() {
    let folder = tempfile::tempdir().expect("a folder");
    let series = written(&phantom(4, 3.0), folder.path());
    // The insert: 400 HU, said to be 200 mg/cm³ of calcium: 0.5 mg/cm³ per HU.
    let insert = "--calibration=7.1,-10.1,108.5,9.9,-7.4,109.5:200";
    let roi = "--roi=-10.2,-10.2,90,6.7,9.9,200";
    let report = scored(&[&series, roi, insert]);
    assert!(close(&report["mg_per_cm3_per_hu"], 0.5), "{report}");
    assert_eq!(report["calibrated"], true);
    let square_mean = (63.0 * 250.0 + 410.0) / 64.0;
    let mass = (450.0 * 3.0 + 2.0 * square_mean * 48.0) / 1000.0 * 0.5;
    assert!(close(&report["total"]["mass_mg"], mass), "{report}");
}

#[test]
fn a_ct_regions_scores_equal_an_independent_numpy_and_scipy_scoring() {
    let ct = support::data("ct-head-neck");
    let ct = ct.to_string_lossy();
    // The cervical spine and the vessels beside it: over a thousand lesions.
    let corners = "-40.3,-250.3,600.2,40.3,-150.3,640.7";
    let ours = scored(&[&ct, &format!("--roi={corners}")]);
    let theirs = support::python_script("calcium_score.py", &[&ct, corners]);
    let total = &ours["total"];
    for key in ["agatston", "volume_mm3", "mass_mg"] {
        let expected = theirs[key].as_f64().expect("a number");
        assert!(
            close(&total[key], expected),
            "{key}: {} against {expected}",
            total[key]
        );
    }
    assert_eq!(total["lesions"], theirs["lesions"]);
    assert!(theirs["lesions"].as_u64() > Some(100), "{theirs}");
}

#[test]
fn series_and_boxes_that_cannot_be_scored_are_refused_by_name() {
    let mr = support::data("mr-lumbar");
    let ct = support::data("ct-head-neck");
    for (args, named) in [
        (vec![mr.to_string_lossy().into_owned()], "needs a CT"),
        (
            vec![
                ct.to_string_lossy().into_owned(),
                "--roi=900,900,900,901,901,901".to_string(),
            ],
            "--roi",
        ),
        (
            vec![
                ct.to_string_lossy().into_owned(),
                "--calibration=0,0,600,1,1,601".to_string(),
            ],
            "MG_PER_CM3",
        ),
        (
            vec![
                ct.to_string_lossy().into_owned(),
                "--calibration=-10,-200,600,10,-190,601:200".to_string(),
            ],
            "calibration region",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = hounsfield(&[&["calcium"], args.as_slice()].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was scored");
        assert!(
            stderr.contains(named),
            "{args:?}: {named:?} not in {stderr}"
        );
    }
}

/// Regions drawn round arteries name the lesions whose centres they hold, and the scores
/// add up per artery: the 16 mm² square's two slices are the LAD's (64 + 64), the 1 mm²
/// square the RCA's (4), every other artery 0; a region drawn later names again what an
/// earlier one took (`other` round everything first). An unknown artery is refused.
#[test]
fn regions_named_by_artery_take_their_lesions_and_scores_add_up_per_artery() {
    let folder = tempfile::tempdir().expect("a folder");
    let series = written(&phantom(4, 3.0), folder.path());
    let roi = "--roi=-10.2,-10.2,90,6.7,9.9,200";
    let report = scored(&[
        &series,
        roi,
        "--artery=other:-100,-100,0,100,100,300",
        "--artery=LAD:-6,-6,99,-1,-1,110",
        "--artery=rca:4,4,99,6,6,101",
    ]);
    let lesions = report["lesions"].as_array().expect("lesions");
    let arteries: Vec<&str> = lesions
        .iter()
        .map(|l| l["artery"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(arteries, ["RCA", "LAD", "LAD"], "{report}");
    let by_artery: Vec<(&str, f64)> = report["arteries"]
        .as_array()
        .expect("arteries")
        .iter()
        .map(|a| {
            (
                a["artery"].as_str().unwrap_or(""),
                a["agatston"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect();
    assert_eq!(
        by_artery,
        [
            ("LM", 0.0),
            ("LAD", 128.0),
            ("LCx", 0.0),
            ("RCA", 4.0),
            ("other", 0.0)
        ],
        "{report}"
    );
    let lad = &report["arteries"][1];
    assert_eq!(lad["lesions"], 2);
    assert_eq!(lad["category"], "moderate");
    // Each artery's volume is its lesions': the LAD's 128 pixels of 0.25 mm² on 3 mm slices.
    assert!(close(&lad["volume_mm3"], 96.0), "{lad}");

    let output = hounsfield(&["calcium", &series, "--artery=aorta:0,0,0,1,1,1"]);
    assert!(!output.status.success(), "an unknown artery");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown artery 'aorta'"), "{stderr}");
}
