//! The phantom's own checks: what the named organs hold, where the asymmetric landmarks
//! are, and the noise.

use super::*;

fn value_at(volume: &Volume, lps: [f64; 3]) -> ([usize; 3], f64) {
    volume
        .nearest_voxel(DVec3::from_array(lps))
        .unwrap_or_else(|| panic!("{lps:?} is inside the phantom"))
}

#[test]
fn the_named_organs_hold_the_hounsfield_units_the_generator_gives() {
    let volume = ct_phantom();
    for organ in ORGANS {
        let p = DVec3::from_array(organ.lps_mm);
        assert_eq!(
            tissue_at(p),
            organ.hounsfield,
            "{} at {:?}",
            organ.name,
            organ.lps_mm
        );
        let (voxel, value) = value_at(&volume, organ.lps_mm);
        // The voxel holds the tissue at its own centre, with that voxel's noise.
        let centre = volume.voxel_to_lps_point(DVec3::new(
            voxel[0] as f64,
            voxel[1] as f64,
            voxel[2] as f64,
        ));
        let clean = tissue_at(centre);
        assert_eq!(clean, organ.hounsfield, "{}: voxel centre", organ.name);
        let noisy = organ.hounsfield != hu::AIR || organ.name != "air outside the body";
        let expected = if noisy && organ.hounsfield != hu::MARKER {
            (clean + noise_at(voxel)).max(hu::AIR)
        } else {
            clean
        };
        assert_eq!(
            value,
            f64::from(expected),
            "{}: voxel {voxel:?}",
            organ.name
        );
        // The organ fills the neighbourhood: the mean of 3×3×3 voxels is its HU.
        let mut sum = 0.0;
        for dk in 0..3 {
            for dj in 0..3 {
                for di in 0..3 {
                    let around = [voxel[0] + di - 1, voxel[1] + dj - 1, voxel[2] + dk - 1];
                    sum += volume.value(around).expect("inside");
                }
            }
        }
        let mean = sum / 27.0;
        assert!(
            (mean - f64::from(organ.hounsfield)).abs() <= 6.0,
            "{}: mean {mean:.1} around {voxel:?}, expected {}",
            organ.name,
            organ.hounsfield
        );
    }
}

#[test]
fn landmarks_sit_on_the_anatomical_side() {
    let volume = ct_phantom();
    let at = |lps: [f64; 3]| tissue_at(DVec3::from_array(lps));
    // Mirror images of the marker are not marked: the phantom is asymmetric.
    let [x, y, z] = MARKER_LPS_MM;
    assert!(x > 0.0 && y < 0.0 && z > 0.0, "left, anterior, superior");
    for mirrored in [[-x, y, z], [x, -y, z], [x, y, -z]] {
        assert_ne!(at(mirrored), hu::MARKER, "{mirrored:?}");
    }
    // The heart's apex and the left ventricle lie left, the liver right, the spine
    // behind, the sternum in front, the aortic arch above the heart.
    assert_eq!(at([40.0, -20.0, -5.0]), hu::LEFT_HEART);
    assert_ne!(at([-40.0, -20.0, -5.0]), hu::LEFT_HEART);
    assert_eq!(at([-80.0, 0.0, -110.0]), hu::LIVER);
    assert_ne!(at([80.0, 0.0, -110.0]), hu::LIVER);
    assert_eq!(at([0.0, 38.0, -6.5]), hu::CANCELLOUS_BONE);
    assert_ne!(at([0.0, -38.0, -6.5]), hu::CANCELLOUS_BONE);
    // The right kidney sits lower than the left.
    assert!(anatomy::RIGHT_KIDNEY_MM[2] < anatomy::LEFT_KIDNEY_MM[2]);
    assert_eq!(volume.value_range.min, f64::from(hu::AIR));
    assert_eq!(volume.value_range.max, f64::from(hu::MARKER));
}

#[test]
fn every_rib_pair_and_vertebra_is_there() {
    // Twelve rib pairs: on each side, a lateral ray at each rib's height meets bone.
    for n in 1..=12usize {
        let rib_z = anatomy::T1_Z_MM + 4.0 - (n as f64 - 1.0) * anatomy::VERTEBRA_PITCH_MM;
        for side in [-1.0, 1.0] {
            let bone = (0..60).any(|step| {
                let z = rib_z + 10.0 - f64::from(step) * 0.5;
                // Posterolateral, where every rib runs.
                (0..80).any(|r| {
                    let x = side * (60.0 + f64::from(r));
                    let t = tissue_at(DVec3::new(x, 70.0, z));
                    t == hu::CORTICAL_BONE || t == hu::CANCELLOUS_BONE
                })
            });
            assert!(bone, "rib {n} on side {side}");
        }
    }
}

#[test]
fn the_noise_is_mild_centred_and_the_same_every_time() {
    let samples: Vec<i16> = (0..4000).map(|n| noise_at([n % 97, n / 97, 7])).collect();
    assert!(samples.iter().all(|n| n.abs() <= NOISE_HU));
    let mean = samples.iter().map(|&n| f64::from(n)).sum::<f64>() / samples.len() as f64;
    let sd = (samples
        .iter()
        .map(|&n| (f64::from(n) - mean).powi(2))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt();
    assert!(mean.abs() < 0.6, "mean {mean}");
    assert!((6.0..10.0).contains(&sd), "sd {sd}");
    assert_eq!(noise_at([3, 4, 5]), noise_at([3, 4, 5]));
}

/// Run by hand: `cargo test -p render-core --release -- --ignored phantom_builds`.
#[test]
#[ignore = "timing; run by hand in release"]
fn phantom_builds_fast() {
    let _ = &*anatomy::ANATOMY;
    let start = std::time::Instant::now();
    let volume = ct_phantom();
    let elapsed = start.elapsed();
    eprintln!("phantom {:?}: {elapsed:?}", volume.dims);
    assert!(elapsed.as_millis() < 500, "{elapsed:?}");
}
