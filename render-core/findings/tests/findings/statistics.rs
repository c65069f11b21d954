//! Region statistics against a computation of their own: every voxel of the slice tested
//! against the shape's equation in the volume's own millimetres.

use glam::{DMat4, DVec3, DVec4};
use hounsfield_findings::MAX_REGION_SAMPLES;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_findings::{Finding, FindingKind, Measurement, RegionStatistics};
use hounsfield_scene::view::SliceFrame;
use hounsfield_vocabulary::SlicePlane;
use hounsfield_volume::phantom::ct_phantom;
use hounsfield_volume::{Modality, Volume, Voxels};

fn region(
    volume: &Volume,
    kind: FindingKind,
    plane: SlicePlane,
    points: Vec<DVec3>,
) -> RegionStatistics {
    let finding = Finding::new(1, kind, plane, points, String::new()).expect("a finding");
    match finding.measure(volume).expect("measured") {
        Measurement::Region(statistics) => statistics,
        other => panic!("a region measures statistics, not {other:?}"),
    }
}

/// Mean, population SD, min, max and count of `values`.
fn expected(values: &[f64]) -> (f64, f64, f64, f64, u64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, sd, min, max, values.len() as u64)
}

fn assert_matches(found: &RegionStatistics, values: &[f64]) {
    let (mean, sd, min, max, count) = expected(values);
    assert_eq!(found.voxels, count, "voxel count");
    assert!(
        (found.mean - mean).abs() < 1e-4,
        "mean {} vs {mean}",
        found.mean
    );
    assert!((found.sd - sd).abs() < 1e-4, "sd {} vs {sd}", found.sd);
    assert_eq!((found.min, found.max), (min, max));
}

#[test]
fn an_axial_ellipse_is_over_the_stored_voxels_whose_centres_fall_inside() {
    let volume = ct_phantom();
    let centre = volume.centre_lps();
    let k = volume.lps_to_voxel(centre).z.round() as usize;
    let slice_z = volume.voxel_to_lps_point(DVec3::new(0.0, 0.0, k as f64)).z;
    let (a, b) = (31.3, 17.9);
    let corners = vec![
        DVec3::new(centre.x - a, centre.y - b, slice_z),
        DVec3::new(centre.x + a, centre.y + b, slice_z),
    ];
    let found = region(&volume, FindingKind::Ellipse, SlicePlane::Axial, corners);
    let mut values = Vec::new();
    for j in 0..volume.dims[1] {
        for i in 0..volume.dims[0] {
            let p = volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
            if ((p.x - centre.x) / a).powi(2) + ((p.y - centre.y) / b).powi(2) <= 1.0 {
                values.push(volume.value([i, j, k]).expect("inside"));
            }
        }
    }
    assert!(values.len() > 100, "the ellipse holds many voxels");
    assert_matches(&found, &values);
    assert!((found.area_mm2 - std::f64::consts::PI * a * b).abs() < 1e-3);
    assert_eq!(found.unit, "HU");
}

#[test]
fn a_coronal_box_and_a_sagittal_triangle_are_over_their_grid_slices() {
    let volume = ct_phantom();
    let centre = volume.centre_lps();
    let j = volume.lps_to_voxel(centre).y.round() as usize;
    let y = volume.voxel_to_lps_point(DVec3::new(0.0, j as f64, 0.0)).y;
    let (x0, x1, z0, z1) = (
        centre.x - 20.0,
        centre.x + 12.5,
        centre.z - 8.0,
        centre.z + 30.0,
    );
    let found = region(
        &volume,
        FindingKind::Rectangle,
        SlicePlane::Coronal,
        vec![DVec3::new(x1, y, z0), DVec3::new(x0, y, z1)],
    );
    let mut values = Vec::new();
    for k in 0..volume.dims[2] {
        for i in 0..volume.dims[0] {
            let p = volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
            if (x0..=x1).contains(&p.x) && (z0..=z1).contains(&p.z) {
                values.push(volume.value([i, j, k]).expect("inside"));
            }
        }
    }
    assert_matches(&found, &values);
    assert!((found.area_mm2 - 32.5 * 38.0).abs() < 1e-6);

    // A right triangle in the sagittal plane: y + z below a line.
    let i = volume.lps_to_voxel(centre).x.round() as usize;
    let x = volume.voxel_to_lps_point(DVec3::new(i as f64, 0.0, 0.0)).x;
    let (y0, z0, leg) = (centre.y - 25.0, centre.z - 25.0, 50.0);
    let triangle = vec![
        DVec3::new(x, y0, z0),
        DVec3::new(x, y0 + leg, z0),
        DVec3::new(x, y0, z0 + leg),
    ];
    let found = region(
        &volume,
        FindingKind::Polygon,
        SlicePlane::Sagittal,
        triangle,
    );
    let mut values = Vec::new();
    for k in 0..volume.dims[2] {
        for j in 0..volume.dims[1] {
            let p = volume.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
            let (dy, dz) = (p.y - y0, p.z - z0);
            // Strictly inside: no voxel centre of this grid falls on the hypotenuse.
            if dy > 0.0 && dz > 0.0 && dy + dz < leg {
                values.push(volume.value([i, j, k]).expect("inside"));
            }
        }
    }
    assert_matches(&found, &values);
    assert!((found.area_mm2 - leg * leg / 2.0).abs() < 1e-6);
}

/// A uniform MR volume of 7s of `dims` voxels, its columns `column_mm` apart and its rows
/// and slices 1 mm, the grid turned 30° about the patient's vertical axis.
fn sevens_turned_about_the_vertical(dims: [usize; 3], column_mm: f64) -> Volume {
    let (sin, cos) = 30f64.to_radians().sin_cos();
    let voxel_to_lps = DMat4::from_cols(
        DVec4::new(cos * column_mm, sin * column_mm, 0.0, 0.0),
        DVec4::new(-sin, cos, 0.0, 0.0),
        DVec4::new(0.0, 0.0, 1.0, 0.0),
        DVec4::new(0.0, 0.0, 0.0, 1.0),
    );
    let voxels = Voxels::I16(vec![7; dims.iter().product()]);
    Volume::new(voxels, dims, voxel_to_lps, Modality::MR, None).expect("a volume")
}

#[test]
fn on_a_tilted_grid_the_slice_is_sampled_at_the_finest_spacing() {
    // A uniform volume of 7s whose grid is turned 30° about the patient's vertical axis:
    // no standard plane but the axial is a plane of it; a coronal region samples.
    let volume = sevens_turned_about_the_vertical([64, 64, 64], 1.0);
    let centre = volume.centre_lps();
    let found = region(
        &volume,
        FindingKind::Rectangle,
        SlicePlane::Coronal,
        vec![
            DVec3::new(centre.x - 5.0, centre.y, centre.z - 5.0),
            DVec3::new(centre.x + 5.0, centre.y, centre.z + 5.0),
        ],
    );
    assert_eq!(
        (found.mean, found.sd, found.min, found.max),
        (7.0, 0.0, 7.0, 7.0)
    );
    assert_eq!(found.voxels, 121, "11 × 11 samples a millimetre apart");
    assert_eq!(found.unit, "");
    assert!((found.area_mm2 - 100.0).abs() < 1e-9);
}

#[test]
fn a_region_on_a_grid_of_very_unequal_spacings_is_sampled_no_more_than_the_bound() {
    // 3200 columns 0.01 mm apart, 32 rows and 32 slices 1 mm apart, the grid turned 30°
    // about the vertical: at the finest spacing a coronal box over the whole volume would
    // take some 10 million samples.
    let volume = sevens_turned_about_the_vertical([3200, 32, 32], 0.01);
    let centre = volume.centre_lps();
    let found = region(
        &volume,
        FindingKind::Rectangle,
        SlicePlane::Coronal,
        vec![
            DVec3::new(centre.x - 100.0, centre.y, centre.z - 100.0),
            DVec3::new(centre.x + 100.0, centre.y, centre.z + 100.0),
        ],
    );
    assert_eq!((found.mean, found.min, found.max), (7.0, 7.0, 7.0));
    assert!(
        found.voxels > 1_000_000 && found.voxels as f64 <= MAX_REGION_SAMPLES * 1.01,
        "{} samples",
        found.voxels
    );
}

/// A 64³ volume of 1 mm voxels, each holding the number of its slice.
fn slice_numbered() -> Volume {
    let values: Vec<i16> = (0..64 * 64 * 64).map(|n| (n / (64 * 64)) as i16).collect();
    Volume::new(
        Voxels::I16(values),
        [64, 64, 64],
        DMat4::IDENTITY,
        Modality::MR,
        None,
    )
    .expect("a volume")
}

#[test]
fn an_ellipse_on_a_tilted_axial_plane_crosses_the_slices_its_tilt_reaches() {
    // A volume whose every voxel holds its slice number (1 mm slices): on the axial plane
    // tilted 30° by a turn in the coronal cell, an ellipse reaching 20 mm either way
    // along the tilt spans 20 · sin 30° = 10 slices above and below its centre, and its
    // mean is the centre's slice by symmetry. Drawn on the standard axes it would hold one.
    let volume = slice_numbered();
    let centre = DVec3::new(31.0, 31.0, 31.0);
    let frame = SliceFrame::STANDARD
        .turned(SlicePlane::Sagittal, 30.0)
        .expect("a turn");
    let axes = PlaneAxes::turned(&frame, SlicePlane::Axial);
    let tilt = axes.down.z.abs().max(axes.right.z.abs());
    assert!(
        (tilt - 0.5).abs() < 1e-9,
        "the axial plane tilts 30°: {axes:?}"
    );
    let reach = 20.0;
    let (along, across) = if axes.down.z.abs() > axes.right.z.abs() {
        (axes.down, axes.right)
    } else {
        (axes.right, axes.down)
    };
    let corner = along * reach + across * 8.0;
    let finding = Finding::on_axes(
        1,
        FindingKind::Ellipse,
        SlicePlane::Axial,
        axes,
        vec![centre - corner, centre + corner],
        String::new(),
    )
    .expect("a finding");
    assert!(finding.is_oblique());
    assert!((finding.depth_mm() - centre.dot(axes.normal)).abs() < 1e-9);
    let Measurement::Region(found) = finding.measure(&volume).expect("measured") else {
        panic!("a region");
    };
    assert_eq!((found.min, found.max), (21.0, 41.0), "{found:?}");
    // Each sample takes its nearest voxel: within half a slice of the plane's height there,
    // ties (every other sample along the tilt) rounding up.
    assert!((found.mean - 31.0).abs() < 0.3, "{found:?}");
    assert!((found.area_mm2 - std::f64::consts::PI * reach * 8.0).abs() < 1e-3);
    // Its points lie on the tilted plane, and a cell facing it shows it.
    assert!(finding.lies_on(SlicePlane::Axial, axes.normal, centre.dot(axes.normal), 0.5));
    assert!(!finding.lies_on(SlicePlane::Axial, DVec3::Z, centre.z, 0.5));
}

#[test]
fn shapes_that_cannot_measure_are_refused_by_field() {
    let volume = ct_phantom();
    let centre = volume.centre_lps();
    let flat = Finding::new(
        1,
        FindingKind::Rectangle,
        SlicePlane::Axial,
        vec![centre, centre + DVec3::X * 10.0],
        String::new(),
    );
    assert!(flat.expect_err("flat").to_string().contains("no area"));
    let one = Finding::new(
        1,
        FindingKind::Ruler,
        SlicePlane::Axial,
        vec![centre],
        String::new(),
    );
    assert!(
        one.expect_err("one point")
            .to_string()
            .contains("takes 2 points, not 1")
    );
    let nan = Finding::new(
        1,
        FindingKind::Angle,
        SlicePlane::Axial,
        vec![centre, DVec3::new(f64::NAN, 0.0, 0.0), centre],
        String::new(),
    );
    assert!(nan.expect_err("nan").to_string().contains("point 1"));
    let far = centre + DVec3::Z * 1.0e4;
    let outside = Finding::new(
        1,
        FindingKind::Ellipse,
        SlicePlane::Axial,
        vec![far, far + DVec3::new(10.0, 10.0, 0.0)],
        String::new(),
    )
    .expect("a shape");
    assert!(
        outside
            .measure(&volume)
            .expect_err("outside")
            .to_string()
            .contains("outside")
    );
    let long = "x".repeat(hounsfield_vocabulary::MAX_NOTE_CHARS + 1);
    let noted = Finding::new(
        1,
        FindingKind::Arrow,
        SlicePlane::Axial,
        vec![centre, centre + DVec3::X],
        long,
    );
    assert!(noted.expect_err("long").to_string().starts_with("note:"));
}

#[test]
fn rulers_and_angles_measure_lengths_and_degrees() {
    let volume = ct_phantom();
    let o = volume.centre_lps();
    let ruler = Finding::new(
        1,
        FindingKind::Ruler,
        SlicePlane::Axial,
        vec![o, o + DVec3::new(3.0, 4.0, 0.0)],
        String::new(),
    )
    .expect("a ruler");
    assert_eq!(
        ruler.measure(&volume).expect("measured"),
        Measurement::Length { mm: 5.0 }
    );
    let angle = Finding::new(
        2,
        FindingKind::Angle,
        SlicePlane::Axial,
        vec![o + DVec3::X * 10.0, o, o + DVec3::new(1.0, 1.0, 0.0)],
        String::new(),
    )
    .expect("an angle");
    assert_eq!(
        angle.measure(&volume).expect("measured"),
        Measurement::Angle { degrees: 45.0 }
    );
}

#[test]
fn a_region_across_the_slices_of_a_packed_volume_decodes_each_slice_once() {
    // Every voxel holds its slice number (1 mm slices). The axial plane turned 30° in the
    // coronal cell tilts along its rows: each row of samples climbs through the slices,
    // and the next row climbs through them again.
    let plain = slice_numbered();
    let packed = plain.clone().packed();
    let frame = SliceFrame::STANDARD
        .turned(SlicePlane::Coronal, 30.0)
        .expect("a turn");
    let axes = PlaneAxes::turned(&frame, SlicePlane::Axial);
    assert!(
        (axes.right.z.abs() - 0.5).abs() < 1e-9,
        "tilted along rows: {axes:?}"
    );
    let centre = DVec3::new(31.0, 31.0, 31.0);
    let corner = axes.right * 20.0 + axes.down * 8.0;
    let finding = Finding::on_axes(
        1,
        FindingKind::Ellipse,
        SlicePlane::Axial,
        axes,
        vec![centre - corner, centre + corner],
        String::new(),
    )
    .expect("a finding");
    let measure = |volume: &Volume| match finding.measure(volume).expect("measured") {
        Measurement::Region(statistics) => statistics,
        other => panic!("a region measures statistics, not {other:?}"),
    };
    let found = measure(&packed);
    assert_eq!(
        found,
        measure(&plain),
        "packed or plain, the same statistics"
    );
    assert_eq!((found.min, found.max), (21.0, 41.0), "{found:?}");
    let Voxels::Packed(slices) = &packed.voxels else {
        panic!("whole values are packed")
    };
    assert_eq!(slices.slices_decoded(), 21, "slices 21 to 41, once each");
}
