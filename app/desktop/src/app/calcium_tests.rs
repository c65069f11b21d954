//! Coronary calcium, streamed and rendered here: **Score calcium** on the phantom CT
//! shows the total the findings crate scores from the same volume, and with **Name
//! lesions** on (RCA chosen) a click on a lesion of the axial slice names it RCA: in the
//! server's report for `connect`, in the window's own and over its slices rendered here.
//! Then **Mark calibration** and a box dragged over the lesion calibrate the mass: by
//! 200 mg/cm³ over the mean of the voxels the box holds (worked out here from the
//! voxels' centres), the names kept; **Default calibration** goes back.

use std::collections::HashSet;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use hounsfield_findings::arteries::{Artery, CANDIDATE_COLOUR};
use hounsfield_findings::calcium::{self, DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
use hounsfield_findings::scoring::calcium_report;
use hounsfield_protocol::{CalciumReport, SlicePlane};
use render_core::view::SliceFrame;
use render_core::view::layout::spot_in_cell;

use super::curved_tests::click;
use super::findings_tests::{quad_settings, thin_client_of_phantom_server};
use super::ui_tests::{remote, settle, window, workspace};
use super::*;
use crate::calcium::totals_line;

/// The largest lesion of the axial slice through `crosshair`, and the centre of a
/// voxel inside it with the lesion all round it.
fn inside_the_largest_lesion(
    volume: &render_core::Volume,
    crosshair: glam::DVec3,
) -> (calcium::Lesion, glam::DVec3) {
    let k = volume.lps_to_voxel(crosshair).z.round() as usize;
    let [width, height, _] = volume.dims;
    let slice = VoxelBox {
        from: [0, 0, k],
        to: [width, height, k + 1],
    };
    let mut largest: Option<(calcium::Lesion, Vec<usize>)> = None;
    calcium::score_each(
        volume,
        slice,
        DEFAULT_MG_PER_CM3_PER_HU,
        |lesion, voxels| {
            if largest
                .as_ref()
                .is_none_or(|(kept, _)| kept.pixels < lesion.pixels)
            {
                largest = Some((lesion.clone(), voxels.to_vec()));
            }
        },
    )
    .expect("scored");
    let (lesion, voxels) = largest.expect("a lesion on the axial slice");
    let inside: HashSet<usize> = voxels.iter().copied().collect();
    let interior = voxels
        .iter()
        .copied()
        .find(|&v| {
            [1, width - 1, width, width + 1]
                .iter()
                .all(|&d| inside.contains(&(v + d)) && v >= d && inside.contains(&(v - d)))
        })
        .expect("a pixel with the lesion all round it");
    let (i, j) = (interior % width, (interior / width) % height);
    let point = volume.voxel_to_lps_point(glam::DVec3::new(i as f64, j as f64, k as f64));
    (lesion, point)
}

/// `shown` is the phantom's score as the findings crate makes it, and the window says
/// its total.
fn the_phantoms_score_is_shown(
    harness: &Harness<'_, DesktopApp>,
    phantom: &render_core::Volume,
    shown: &CalciumReport,
) {
    let whole = VoxelBox::whole(phantom);
    let factor = DEFAULT_MG_PER_CM3_PER_HU;
    let ours = calcium_report(phantom, "phantom", whole, factor, false, &[]).expect("scored");
    assert_eq!(shown.total, ours.total);
    assert_eq!(shown.lesions, ours.lesions);
    harness.get_by_label(&format!("Total: {}", totals_line(&ours.total)));
}

/// `named` names the lesion clicked RCA, RCA's scores are its lesions' sum, and the
/// window says them.
fn the_clicked_lesion_is_rcas(
    harness: &Harness<'_, DesktopApp>,
    named: &CalciumReport,
    lesion: &calcium::Lesion,
) {
    let clicked = named
        .lesions
        .iter()
        .find(|told| told.slice == lesion.slice && told.centre_lps == lesion.centre_lps.to_array())
        .expect("the lesion clicked");
    assert_eq!(clicked.artery.as_deref(), Some("RCA"));
    let rca = named
        .arteries
        .iter()
        .find(|artery| artery.artery == "RCA")
        .expect("RCA's scores");
    let summed: f64 = named
        .lesions
        .iter()
        .filter(|l| l.artery.as_deref() == Some("RCA"))
        .map(|l| l.agatston)
        .sum();
    assert!((rca.scores.agatston - summed).abs() < 1e-9);
    harness.get_by_label(&format!("RCA: {}", totals_line(&rca.scores)));
}

/// The primary button pressed (`pressed`) or let go at `pos`.
fn primary_button(harness: &mut Harness<'_, DesktopApp>, pos: egui::Pos2, pressed: bool) {
    harness.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    });
}

/// The mean value of the voxels of `volume` whose centres lie in `region` (LPS corners),
/// each voxel's centre tested.
fn mean_in(volume: &render_core::Volume, region: [f64; 6]) -> f64 {
    let [x0, y0, z0, x1, y1, z1] = region;
    let (low, high) = (
        glam::DVec3::new(x0.min(x1), y0.min(y1), z0.min(z1)),
        glam::DVec3::new(x0.max(x1), y0.max(y1), z0.max(z1)),
    );
    let [ni, nj, nk] = volume.dims;
    let (mut sum, mut count) = (0.0, 0.0);
    for n in 0..ni * nj * nk {
        let voxel = glam::DVec3::new(
            (n % ni) as f64,
            (n / ni % nj) as f64,
            (n / (ni * nj)) as f64,
        );
        let centre = volume.voxel_to_lps_point(voxel);
        if centre.cmpge(low).all() && centre.cmple(high).all() {
            sum += volume.voxels.get(n).unwrap_or(f64::NAN);
            count += 1.0;
        }
    }
    sum / count
}

/// Mark calibration at 200 mg/cm³ and a box dragged about `at_of` (the lesion's centre)
/// calibrate the mass of the score `report_of` tells, the names kept; Default
/// calibration goes back to the default's factor.
fn a_box_over_the_lesion_calibrates_the_mass(
    harness: &mut Harness<'_, DesktopApp>,
    phantom: &render_core::Volume,
    at_of: impl Fn(&DesktopApp) -> Option<egui::Pos2>,
    report_of: fn(&DesktopApp) -> (Option<CalciumReport>, Option<String>),
) {
    harness.get_by_label("Mark calibration").click();
    harness.run_steps(2);
    // (Where the lesion is now: the panel may have grown with the calibration's bar.)
    let at = at_of(harness.state()).expect("the lesion on the axial cell");
    // Six points across: past egui's click, and inside the lesion however small its cell.
    let reach = egui::vec2(3.0, 3.0);
    let (from, to) = (at - reach, at + reach);
    harness.hover_at(from);
    harness.step();
    primary_button(harness, from, true);
    harness.step();
    for step in 1..=4 {
        harness.hover_at(from + (to - from) * (step as f32 / 4.0));
        harness.step();
    }
    primary_button(harness, to, false);
    settle(harness, "the mass calibrated, or a refusal", |app| {
        let (report, refused) = report_of(app);
        refused.is_some() || report.is_some_and(|report| report.calibrated)
    });
    let (report, refused) = report_of(harness.state());
    assert_eq!(refused, None);
    let report = report.expect("a score");
    let known = report.calibration.expect("the region");
    assert_eq!(known.mg_per_cm3, 200.0);
    let factor = 200.0 / mean_in(phantom, known.region);
    assert!(
        (report.mg_per_cm3_per_hu - factor).abs() < 1e-9,
        "{} against {factor}",
        report.mg_per_cm3_per_hu
    );
    let mass: f64 = report.lesions.iter().map(|l| l.mass_mg).sum();
    assert!((report.total.mass_mg - mass).abs() < 1e-6 && factor != DEFAULT_MG_PER_CM3_PER_HU);
    assert!(
        report
            .lesions
            .iter()
            .any(|l| l.artery.as_deref() == Some("RCA")),
        "the names stay"
    );
    harness.get_by_label_contains("from an insert of 200 mg/cm³");
    harness.get_by_label("Default calibration").click();
    settle(harness, "the default calibration", |app| {
        report_of(app).0.is_some_and(|report| !report.calibrated)
    });
    let report = report_of(harness.state()).0.expect("a score");
    assert_eq!(report.mg_per_cm3_per_hu, DEFAULT_MG_PER_CM3_PER_HU);
}

#[test]
fn connect_scores_the_calcium_and_names_the_lesion_clicked_on_the_axial_cell() {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    harness.get_by_label("Score calcium").click();
    settle(&mut harness, "the server's calcium score", |app| {
        remote(app).is_some_and(|view| view.calcium.report.is_some())
    });
    let phantom = render_core::phantom::ct_phantom();
    let told = remote(harness.state())
        .and_then(|view| view.calcium.report.clone())
        .expect("a score");
    the_phantoms_score_is_shown(&harness, &phantom, &told);

    let crosshair = phantom.centre_lps();
    let (lesion, point) = inside_the_largest_lesion(&phantom, crosshair);

    let view = remote(harness.state()).expect("streamed");
    let cell = view.slice_cell(SlicePlane::Axial).expect("the axial cell");
    let size = view.frame_size();
    let [fx, fy] = spot_in_cell(
        &phantom,
        &SliceFrame::STANDARD,
        SlicePlane::Axial,
        crosshair,
        size,
        point,
    );
    let State::Remote { view, .. } = &mut harness.state_mut().state else {
        panic!("streamed");
    };
    view.calcium.artery = Artery::RightCoronary;
    harness.get_by_label("Name lesions").click();
    harness.run_steps(2);
    click(
        &mut harness,
        cell.min + egui::vec2(fx as f32 * cell.width(), fy as f32 * cell.height()),
    );
    settle(&mut harness, "the lesion named RCA", |app| {
        remote(app)
            .and_then(|view| view.calcium.report.as_ref())
            .is_some_and(|report| report.arteries.iter().any(|a| a.artery == "RCA"))
    });
    let named = remote(harness.state())
        .and_then(|view| view.calcium.report.clone())
        .expect("a score");
    the_clicked_lesion_is_rcas(&harness, &named, &lesion);
    // (The frame as it is then: the calibration's bar takes room above it.)
    let at_of = |app: &DesktopApp| {
        let view = remote(app)?;
        let cell = view.slice_cell(SlicePlane::Axial)?;
        let frame = SliceFrame::STANDARD;
        let size = view.frame_size();
        let centre = lesion.centre_lps;
        let [fx, fy] = spot_in_cell(&phantom, &frame, SlicePlane::Axial, crosshair, size, centre);
        Some(cell.min + egui::vec2(fx as f32 * cell.width(), fy as f32 * cell.height()))
    };
    a_box_over_the_lesion_calibrates_the_mass(&mut harness, &phantom, at_of, |app| {
        remote(app).map_or((None, None), |view| {
            (
                view.calcium.report.as_deref().cloned(),
                view.calcium.refused.clone(),
            )
        })
    });
    drop(harness);
    server.stop().expect("served");
}

#[test]
fn the_window_rendering_here_scores_the_calcium_and_names_the_lesion_clicked() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(None, settings);
    settle(&mut harness, "the phantom in 2×2", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices.iter().all(|slice| slice.rect().is_some()))
    });
    harness.state_mut().show_findings = true;
    harness.run_steps(2);
    harness.get_by_label("Score calcium").click();
    settle(&mut harness, "the window's calcium score", |app| {
        workspace(app).is_some_and(|w| w.calcium.report.is_some())
    });
    let phantom = render_core::phantom::ct_phantom();
    let local = workspace(harness.state()).expect("rendered here");
    let shown = local.calcium.report.clone().expect("a score");
    the_phantoms_score_is_shown(&harness, &phantom, &shown);
    // The candidates lie over the slices in their colour.
    let (lesions, _) = local.calcium.lesions();
    assert_eq!(lesions.len(), 1, "the candidates alone");
    assert_eq!(lesions[0].colour, CANDIDATE_COLOUR);

    let crosshair = local.link.crosshair;
    let (lesion, point) = inside_the_largest_lesion(&phantom, crosshair);
    let at = local.slices[0]
        .screen_of(point)
        .expect("the axial slice drawn");
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    local.calcium.artery = Artery::RightCoronary;
    harness.get_by_label("Name lesions").click();
    harness.run_steps(2);
    click(&mut harness, at);
    settle(&mut harness, "the lesion named RCA", |app| {
        workspace(app)
            .and_then(|w| w.calcium.report.as_ref())
            .is_some_and(|report| report.lesions.iter().any(|l| l.artery.is_some()))
    });
    let local = workspace(harness.state()).expect("rendered here");
    assert_eq!(
        local.link.crosshair, crosshair,
        "naming leaves the crosshair"
    );
    let named = local.calcium.report.clone().expect("a score");
    the_clicked_lesion_is_rcas(&harness, &named, &lesion);
    // Over the slices, the voxel clicked is RCA's now.
    let (lesions, _) = local.calcium.lesions();
    let voxel = phantom.lps_to_voxel(point).round();
    let index = voxel.x as usize
        + phantom.dims[0] * (voxel.y as usize + phantom.dims[1] * voxel.z as usize);
    let painted: Vec<[u8; 3]> = lesions
        .iter()
        .filter(|overlay| overlay.mask.contains(index))
        .map(|overlay| overlay.colour)
        .collect();
    assert_eq!(
        painted,
        [Artery::RightCoronary.colour()],
        "the voxel clicked, painted"
    );
    // A box being dragged is outlined from the press to the pointer, until let go.
    let to = at + egui::vec2(30.0, 20.0);
    primary_button(&mut harness, at, true);
    harness.step();
    for step in 1..=4 {
        harness.hover_at(at + (to - at) * (step as f32 / 4.0));
        harness.step();
    }
    let outlined = workspace(harness.state()).and_then(|w| w.slices[0].naming_box);
    assert_eq!(
        outlined,
        Some(egui::Rect::from_two_pos(at, to)),
        "the box outlined"
    );
    primary_button(&mut harness, to, false);
    harness.run_steps(2);
    assert_eq!(
        workspace(harness.state()).and_then(|w| w.slices[0].naming_box),
        None
    );
    let at_of = |app: &DesktopApp| workspace(app)?.slices[0].screen_of(lesion.centre_lps);
    a_box_over_the_lesion_calibrates_the_mass(&mut harness, &phantom, at_of, |app| {
        workspace(app).map_or((None, None), |w| {
            (w.calcium.report.clone(), w.calcium.problem.clone())
        })
    });
}
