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
    // The right kidney sits lower than the left: level with the left's upper pole, the
    // right has no kidney yet.
    assert_eq!(at([72.0, 52.0, -85.0]), hu::RENAL_CORTEX);
    assert_ne!(at([-72.0, 52.0, -85.0]), hu::RENAL_CORTEX);
    assert_eq!(volume.value_range.min, f64::from(hu::AIR));
    assert_eq!(volume.value_range.max, f64::from(hu::MARKER));
}

/// Heights (mm, every 0.5 mm from the top of the volume down) where a ray from the body's
/// axis, at `angle` from the anterior midline on `side` (−1 right, +1 left), meets
/// cortical bone; consecutive heights are merged into runs, one per rib crossed.
fn ribs_crossed(angle: f64, side: f64) -> Vec<(f64, f64)> {
    let top = (DIMS[2] as f64 - 1.0) / 2.0 * SPACING_MM[2];
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut inside = false;
    for step in 0..(4.0 * top) as usize {
        let z = top - step as f64 * 0.5;
        let bone = (40..200).any(|r| {
            let r = f64::from(r);
            // Cortex only: contrast-filled arteries share cancellous bone's HU.
            tissue_at(DVec3::new(side * r * angle.sin(), -r * angle.cos(), z)) == hu::CORTICAL_BONE
        });
        match (bone, inside, runs.last_mut()) {
            (true, true, Some(run)) => run.1 = z,
            (true, _, _) => runs.push((z, z)),
            _ => {}
        }
        inside = bone;
    }
    runs
}

#[test]
fn twelve_ribs_on_each_side_and_a_vertebra_at_every_level() {
    // Posterolaterally, where every rib runs, a ray crosses twelve separate ribs.
    for side in [-1.0, 1.0] {
        let runs = ribs_crossed(2.3, side);
        assert_eq!(runs.len(), 12, "side {side}: ribs at {runs:?}");
        for (top, bottom) in &runs {
            assert!((4.0..16.0).contains(&(top - bottom)), "rib {top}..{bottom}");
        }
    }
    // In front (0.8 rad from the midline) the ray meets the clavicle, then ribs 1–10 (11
    // and 12 float and end further back), each lower than at the back.
    let front = ribs_crossed(0.8, 1.0);
    let back = ribs_crossed(2.3, 1.0);
    assert_eq!(front.len(), 11, "clavicle and ribs at {front:?}");
    for (n, (rib_front, rib_back)) in front[1..].iter().zip(&back).enumerate() {
        assert!(
            rib_front.0 < rib_back.0 - 15.0,
            "rib {} falls toward the front: {rib_front:?} against {rib_back:?}",
            n + 1
        );
    }
    // A vertebral body (or disc) on the midline at every level, from the top slice down.
    let top = (DIMS[2] as f64 - 1.0) / 2.0 * SPACING_MM[2];
    for step in 0..(top as usize) {
        let z = top - 2.0 * step as f64;
        let t = tissue_at(DVec3::new(0.0, anatomy::SPINE_Y_MM, z));
        assert!(
            [hu::CANCELLOUS_BONE, hu::CORTICAL_BONE, hu::DISC].contains(&t),
            "spine at z = {z}: {t} HU"
        );
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
    // The same every time: a hash of the voxel's indices alone, pinned here.
    let pinned = [[0, 0, 0], [3, 4, 5], [104, 80, 60], [207, 159, 119]].map(noise_at);
    assert_eq!(pinned, PINNED_NOISE, "the noise changed");
}

/// `noise_at` of voxels (0, 0, 0), (3, 4, 5), (104, 80, 60) and (207, 159, 119).
const PINNED_NOISE: [i16; 4] = [-18, 3, 8, 1];

/// FNV-1a (64 bits) of the phantom's voxels, little-endian, `i` fastest: what the phantom
/// is, pinned. Change it only with the phantom, on purpose.
const PINNED_CHECKSUM: u64 = 0x8ecc_3570_bf54_4c0d;

/// Voxels of the phantom (i, j, k) and the HU they hold, pinned with the checksum.
const PINNED_VOXELS: [([usize; 3], i16); 5] = [
    ([0, 0, 0], hu::AIR),
    ([104, 80, 60], 268),
    ([60, 100, 90], -864),
    ([150, 40, 30], 45),
    ([207, 159, 119], hu::AIR),
];

/// FNV-1a (64 bits) of `voxels`' little-endian bytes.
fn checksum(voxels: &[i16]) -> u64 {
    voxels
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[test]
fn the_phantom_is_the_same_every_time() {
    // Built twice, the phantom holds the same voxels in the same geometry.
    let (first, second) = (ct_phantom(), ct_phantom());
    let (Voxels::I16(a), Voxels::I16(b)) = (&first.voxels, &second.voxels) else {
        panic!("the phantom is stored as i16");
    };
    assert_eq!(a.len(), DIMS.iter().product::<usize>());
    let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
    let first_differing = a.iter().zip(b).position(|(x, y)| x != y);
    assert_eq!(
        differing, 0,
        "{differing} voxels differ between two builds, the first at index {first_differing:?}"
    );
    assert_eq!(first.voxel_to_lps, second.voxel_to_lps);
    assert_eq!(first.value_range, second.value_range);
    // And the same as it was: a few voxels and a checksum of them all, pinned.
    for (voxel, hounsfield) in PINNED_VOXELS {
        assert_eq!(
            first.value(voxel),
            Some(f64::from(hounsfield)),
            "voxel {voxel:?}"
        );
    }
    assert_eq!(
        checksum(a),
        PINNED_CHECKSUM,
        "the phantom changed; if on purpose, pin the new checksum"
    );
}

/// Run by hand: `cargo test -p hounsfield-volume --release -- --ignored phantom_builds`.
#[test]
#[ignore = "timing; run by hand in release"]
fn phantom_builds_fast() {
    // The first build in a process includes laying out the anatomy's tubes.
    let start = std::time::Instant::now();
    let volume = ct_phantom();
    let elapsed = start.elapsed();
    eprintln!("phantom {:?}: {elapsed:?}", volume.dims);
    assert!(elapsed.as_millis() < 500, "{elapsed:?}");
}
