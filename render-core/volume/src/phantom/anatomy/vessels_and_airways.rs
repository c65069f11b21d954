//! The phantom's tubes laid out once: the aorta and its branches, the pulmonary trunk and
//! arteries, the venae cavae and the oesophagus; the trachea and bronchial tree; and seeded
//! trees of lung arteries out from each hilum.

use glam::DVec3;

use crate::phantom::hu;
use crate::phantom::tube::{Branching, Seeded, Tube, grow_tree, polyline};

/// Where the pulmonary arteries enter the right and left lungs (LPS mm).
const RIGHT_HILUM_MM: [f64; 3] = [-40.0, -4.0, 42.0];
const LEFT_HILUM_MM: [f64; 3] = [44.0, 8.0, 52.0];

/// Aorta and its branches, pulmonary trunk and arteries, venae cavae, oesophagus.
pub(super) fn great_vessels() -> Vec<Tube> {
    let mut vessels = Vec::new();
    // Aorta: root, ascending on the right, arch over the left main bronchus,
    // descending left of the spine, abdominal in front of it.
    vessels.extend(polyline(
        &[
            [2.0, -18.0, 22.0],
            [-8.0, -34.0, 55.0],
            [-6.0, -30.0, 88.0],
            [4.0, -20.0, 102.0],
            [20.0, -2.0, 100.0],
            [26.0, 16.0, 84.0],
            [26.0, 18.0, 40.0],
            [22.0, 14.0, -40.0],
            [12.0, 8.0, -100.0],
            [8.0, 6.0, -150.0],
        ],
        &[14.0, 15.0, 14.0, 13.0, 12.0, 12.0, 11.5, 11.0, 10.5, 10.0],
        hu::AORTA,
    ));
    // Arch branches: brachiocephalic, left common carotid, left subclavian.
    for (from, to, radius) in [
        ([-2.0, -24.0, 100.0], [-16.0, -26.0, 152.0], 7.0),
        ([8.0, -16.0, 103.0], [14.0, -18.0, 152.0], 5.0),
        ([17.0, -6.0, 101.0], [32.0, 0.0, 152.0], 6.0),
    ] {
        vessels.extend(polyline(&[from, to], &[radius, radius], hu::AORTA));
    }
    // Coeliac trunk and renal arteries.
    vessels.extend(polyline(
        &[
            [10.0, 0.0, -92.0],
            [12.0, -22.0, -94.0],
            [30.0, -26.0, -96.0],
        ],
        &[4.0, 3.5, 3.0],
        hu::AORTA,
    ));
    vessels.extend(polyline(
        &[[9.0, 8.0, -118.0], [58.0, 42.0, -124.0]],
        &[3.5, 3.0],
        hu::AORTA,
    ));
    vessels.extend(polyline(
        &[[5.0, 8.0, -121.0], [-58.0, 42.0, -136.0]],
        &[3.5, 3.0],
        hu::AORTA,
    ));
    // Pulmonary trunk from the right ventricle, and its two branches.
    vessels.extend(polyline(
        &[
            [10.0, -46.0, 20.0],
            [14.0, -34.0, 45.0],
            [12.0, -22.0, 54.0],
        ],
        &[13.0, 13.0, 12.0],
        hu::PULMONARY_ARTERY,
    ));
    vessels.extend(polyline(
        &[[12.0, -22.0, 54.0], [-14.0, -16.0, 46.0], RIGHT_HILUM_MM],
        &[10.0, 9.5, 9.0],
        hu::PULMONARY_ARTERY,
    ));
    vessels.extend(polyline(
        &[[12.0, -22.0, 54.0], [34.0, -4.0, 58.0], LEFT_HILUM_MM],
        &[9.5, 9.0, 8.5],
        hu::PULMONARY_ARTERY,
    ));
    // Superior and inferior venae cavae (less contrast than the arteries).
    vessels.extend(polyline(
        &[[-30.0, -24.0, 152.0], [-26.0, -18.0, 35.0]],
        &[9.0, 10.0],
        hu::VENA_CAVA,
    ));
    vessels.extend(polyline(
        &[
            [-18.0, 20.0, -152.0],
            [-16.0, 14.0, -40.0],
            [-14.0, 2.0, -18.0],
        ],
        &[11.0, 11.0, 12.0],
        hu::VENA_CAVA,
    ));
    // Oesophagus: behind the trachea, down through the hiatus to the stomach.
    vessels.extend(polyline(
        &[
            [4.0, 14.0, 152.0],
            [8.0, 14.0, 40.0],
            [14.0, 8.0, -40.0],
            [45.0, -10.0, -80.0],
        ],
        &[7.0, 7.0, 7.0, 8.0],
        hu::SOFT_TISSUE,
    ));

    vessels
}

/// Trachea, main and lobar bronchi, and seeded segmental branches.
pub(super) fn airways(seeded: &mut Seeded) -> Vec<Tube> {
    let mut airways = Vec::new();
    let carina = [0.0, -2.0, 64.0];
    airways.extend(polyline(
        &[[0.0, -3.0, 152.0], carina],
        &[9.0, 9.0],
        hu::AIR,
    ));
    // (from, to, radius): main, intermediate and lobar bronchi.
    let bronchi = [
        (carina, [-26.0, 0.0, 50.0], 7.0),
        ([-26.0, 0.0, 50.0], [-36.0, 4.0, 28.0], 5.5),
        ([-26.0, 0.0, 50.0], [-50.0, -2.0, 68.0], 4.5),
        ([-36.0, 4.0, 28.0], [-50.0, -24.0, 14.0], 3.5),
        ([-36.0, 4.0, 28.0], [-52.0, 20.0, 0.0], 4.5),
        (carina, [36.0, 6.0, 44.0], 6.0),
        ([36.0, 6.0, 44.0], [54.0, -6.0, 64.0], 4.5),
        ([40.0, 4.0, 40.0], [58.0, -26.0, 22.0], 3.5),
        ([36.0, 6.0, 44.0], [54.0, 22.0, 14.0], 4.5),
    ];
    for (from, to, radius) in bronchi {
        airways.extend(polyline(&[from, to], &[radius, radius * 0.9], hu::AIR));
    }
    // Segmental bronchi: from each lobar bronchus's end toward the lobe's periphery.
    let segmental = Branching {
        generations: 2,
        length_ratio: 0.75,
        radius_ratio: 0.8,
        spread_degrees: 26.0,
        hounsfield: hu::AIR,
    };
    for (start, target) in [
        ([-50.0, -2.0, 68.0], [-70.0, -10.0, 115.0]),
        ([-50.0, -24.0, 14.0], [-72.0, -58.0, 0.0]),
        ([-52.0, 20.0, 0.0], [-78.0, 45.0, -55.0]),
        ([54.0, -6.0, 64.0], [70.0, -10.0, 115.0]),
        ([58.0, -26.0, 22.0], [80.0, -52.0, 0.0]),
        ([54.0, 22.0, 14.0], [78.0, 45.0, -55.0]),
    ] {
        grow_tree(
            &mut airways,
            DVec3::from_array(start),
            DVec3::from_array(target),
            0.35,
            3.2,
            segmental,
            seeded,
        );
    }

    airways
}

/// Lung arteries: seeded trees from each hilum toward the lobes.
pub(super) fn lung_arteries(seeded: &mut Seeded) -> Vec<Tube> {
    // Lung arteries: from each hilum toward the lobes, three generations of branches.
    let mut lung_vessels = Vec::new();
    let arterial = Branching {
        generations: 4,
        length_ratio: 0.72,
        radius_ratio: 0.75,
        spread_degrees: 30.0,
        hounsfield: hu::PULMONARY_ARTERY,
    };
    for (hilum, targets) in [
        (
            RIGHT_HILUM_MM,
            [
                [-65.0, -12.0, 118.0],
                [-72.0, -58.0, 5.0],
                [-75.0, 45.0, -55.0],
                [-108.0, 0.0, -20.0],
            ],
        ),
        (
            LEFT_HILUM_MM,
            [
                [65.0, -12.0, 118.0],
                [82.0, -52.0, 0.0],
                [75.0, 45.0, -60.0],
                [108.0, 0.0, -28.0],
            ],
        ),
    ] {
        for target in targets {
            grow_tree(
                &mut lung_vessels,
                DVec3::from_array(hilum),
                DVec3::from_array(target),
                0.4,
                6.0,
                arterial,
                seeded,
            );
        }
    }

    lung_vessels
}
