//! `hounsfield suv` on a PET the test writes (`tests/scripts/pet_phantom.py`, pydicom):
//! the body-weight SUV factor equals QIBA's formula computed in Python from the header
//! values written (a start the evening before the scan, across midnight), and SUVmax,
//! SUVmean and SUVpeak of a box equal NumPy's, and so do those of a segment `segment`
//! makes by a threshold (read back by `segments measure` too); a PET not in Bq/ml is
//! refused naming Units.

use hounsfield_test_support as support;

use std::process::Command;

use super::stdout_json;
use support::hounsfield;

/// The box the figures are taken over (LPS mm): around the hot ball, partly outside the
/// series along z.
const BOX: &str = "-20,-20,-15,20,20,30";

fn close(ours: &serde_json::Value, theirs: &serde_json::Value, what: &str) {
    let (ours, theirs) = (
        ours.as_f64().unwrap_or(f64::NAN),
        theirs.as_f64().unwrap_or(f64::NAN),
    );
    // Our voxels are kept as 32-bit floats: 1e-6 relative.
    assert!(
        (ours - theirs).abs() <= 1e-6 * theirs.abs(),
        "{what}: ours {ours}, Python's {theirs}"
    );
}

#[test]
fn suv_of_a_written_pet_equals_the_qiba_formula_and_numpys_region_figures() {
    let folder = tempfile::tempdir().expect("a folder");
    let folder_arg = folder.path().to_string_lossy().to_string();
    let theirs = support::imaging_python_script("pet_phantom.py", &[&folder_arg, BOX]);
    let centre = theirs["centre_lps_mm"]
        .as_array()
        .expect("a point")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN).to_string())
        .collect::<Vec<_>>()
        .join(",");
    let ours = stdout_json(&hounsfield(&[
        "suv",
        &folder_arg,
        &format!("--roi={BOX}"),
        "--at",
        &centre,
        "--json",
    ]));
    close(&ours["factor"], &theirs["factor"], "SUV factor");
    assert_eq!(
        ours["decay_s"], theirs["decay_s"],
        "15 minutes across midnight"
    );
    assert_eq!(ours["region"]["voxels"], theirs["voxels"]);
    for figure in ["suv_max", "suv_mean", "suv_peak"] {
        close(&ours["region"][figure], &theirs[figure], figure);
    }
    let point = &ours["points"][0];
    close(
        &point["bq_ml"],
        &theirs["centre_bq_ml"],
        "the centre's Bq/ml",
    );
    let expected_suv = theirs["centre_bq_ml"].as_f64().unwrap_or(f64::NAN)
        * theirs["factor"].as_f64().unwrap_or(f64::NAN);
    close(
        &point["suv"],
        &serde_json::json!(expected_suv),
        "the centre's SUV",
    );
    // `probe` tells the same SUV at the point.
    let probed = stdout_json(&hounsfield(&[
        "probe",
        &folder_arg,
        "--at",
        &centre,
        "--json",
    ]));
    close(
        &probed[0]["suv"],
        &serde_json::json!(expected_suv),
        "probe's SUV",
    );
    // The hot ball's peak is well above the background's SUV of about 0.43.
    assert!(
        ours["region"]["suv_peak"].as_f64().is_some_and(|p| p > 5.0),
        "{ours}"
    );

    // The same PET in counts: refused, naming the attribute.
    for file in std::fs::read_dir(folder.path()).expect("the PET").flatten() {
        let changed = Command::new("dcmodify")
            .args(["-nb", "-m", "(0054,1001)=CNTS"])
            .arg(file.path())
            .output()
            .expect("DCMTK's dcmodify runs");
        assert!(changed.status.success(), "{changed:?}");
    }
    let output = hounsfield(&["suv", &folder_arg, "--json"]);
    assert!(!output.status.success(), "counts are not Bq/ml");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Units (0054,1001)") && stderr.contains("CNTS"),
        "{stderr}"
    );
}

#[test]
fn a_segment_of_a_written_pet_has_numpys_suv_figures() {
    let folder = tempfile::tempdir().expect("a folder");
    let pet = folder.path().join("pet");
    let pet_arg = pet.to_string_lossy().to_string();
    std::fs::create_dir(&pet).expect("a folder");
    // The hot ball alone: its voxels are about 30,000 Bq/ml, the background about 2,000.
    let theirs =
        support::imaging_python_script("pet_phantom.py", &[&pet_arg, BOX, "--threshold", "10000"]);
    let theirs = &theirs["segment"];
    let seg = folder.path().join("hot.dcm");
    let seg_arg = seg.to_string_lossy().to_string();
    let ours = stdout_json(&hounsfield(&[
        "segment",
        &pet_arg,
        "--threshold",
        "10000,1000000",
        "--out",
        &seg_arg,
        "--json",
    ]));
    assert_eq!(ours["voxels"], theirs["voxels"], "{ours}\n{theirs}");
    assert!(theirs["voxels"].as_u64() > Some(20), "{theirs}");
    for figure in ["suv_max", "suv_mean", "suv_peak"] {
        close(&ours["suv"][figure], &theirs[figure], figure);
    }
    // Read back onto the PET, the Segmentation measures the same uptake.
    let measured = stdout_json(&hounsfield(&[
        "segments", "measure", &seg_arg, "--on", &pet_arg, "--json",
    ]));
    assert_eq!(measured["segments"][0]["suv"], ours["suv"], "{measured}");
    // A CT's segment has no SUV.
    let ct = stdout_json(&hounsfield(&[
        "segment",
        "--threshold",
        "300,3000",
        "--json",
    ]));
    assert!(ct.get("suv").is_none(), "{ct}");
}
