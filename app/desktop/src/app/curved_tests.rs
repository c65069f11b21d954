//! The curved reformat in the desktop window, driven through egui_kittest on the software
//! adapter: points clicked with the Path tool on two slices become the path the render core
//! straightens, its length is shown, and the turn about the path gives another picture.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use glam::DVec3;
use render_core::curved::{Across, CurvedPath, straighten};

use super::findings_tests::{drag, quad_settings};
use super::ui_tests::{settle, window, workspace};
use super::*;
use crate::curved_view::CURVED_SIZE;

/// A left click at `at`: pressed and released there, a frame each.
pub(super) fn click(harness: &mut Harness<'_, DesktopApp>, at: egui::Pos2) {
    harness.hover_at(at);
    harness.step();
    harness.drag_at(at);
    harness.step();
    harness.drop_at(at);
    harness.step();
    harness.step();
}

#[test]
fn points_clicked_with_the_path_tool_are_straightened_along_the_path_and_turned_about_it() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(None, settings);
    settle(&mut harness, "the phantom in 2×2", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices.iter().all(|slice| slice.rect().is_some()))
    });
    harness.get_by_label("Path").click();
    harness.run_steps(2);
    let local = workspace(harness.state()).expect("local");
    let crosshair = local.link.crosshair;
    let (axial, coronal) = (&local.slices[0], &local.slices[1]);
    let spots = [
        (axial, egui::vec2(0.35, 0.4)),
        (axial, egui::vec2(0.6, 0.55)),
        (coronal, egui::vec2(0.8, 0.8)),
    ]
    .map(|(slice, fraction)| {
        let at = slice.rect().expect("drawn").lerp_inside(fraction);
        (at, slice.lps_at(at).expect("a point on the slice"))
    });
    for (at, _) in spots {
        click(&mut harness, at);
    }
    settle(&mut harness, "the path straightened", |app| {
        workspace(app).is_some_and(|w| w.curved.points.len() == 3 && w.curved.reformat().is_some())
    });
    let local = workspace(harness.state()).expect("local");
    assert_eq!(
        local.link.crosshair, crosshair,
        "the Path tool leaves the crosshair"
    );
    for ((_, wanted), got) in spots.iter().zip(&local.curved.points) {
        assert!(
            got.distance(*wanted) < 1e-6,
            "a point at {got}, clicked at {wanted}"
        );
    }
    // The path the render core walks through those points, straightened as it does.
    let points: Vec<DVec3> = spots.iter().map(|(_, lps)| *lps).collect();
    let path = CurvedPath::through(&points).expect("a path");
    let volume = local.renderer().volume().cloned().expect("the phantom");
    let wanted =
        straighten(&volume, &path, Across::patient_left(0.0), CURVED_SIZE).expect("straightened");
    let shown = local.curved.reformat().expect("straightened").clone();
    assert_eq!(
        shown, wanted,
        "the picture is the render core's along the clicked path"
    );
    assert!((shown.path_length_mm - path.length_mm()).abs() < 1e-9);
    let length = format!("3 points, {:.1} mm along it", path.length_mm());
    assert!(
        harness.query_by_label(&length).is_some(),
        "the window says {length:?}"
    );

    // A ruler down the whole picture measures the path's length along it.
    let picture = workspace(harness.state())
        .and_then(|w| w.curved.picture_rect())
        .expect("the picture shown");
    let (top, bottom) = (picture.center_top(), picture.center_bottom());
    drag(&mut harness, top, bottom);
    let measured = workspace(harness.state())
        .and_then(|w| w.curved.ruler_mm())
        .expect("a ruler on the picture");
    let pixel_mm = shown.mm_per_pixel * f64::from(CURVED_SIZE[1]) / f64::from(picture.height());
    assert!(
        (measured - path.length_mm()).abs() <= 2.0 * pixel_mm,
        "the ruler down the picture: {measured:.2} mm; the path: {:.2} mm",
        path.length_mm()
    );

    // The rotating view: a quarter turn about the path straightens another picture.
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    local.curved.angle_deg = 90.0;
    settle(&mut harness, "the turned picture", |app| {
        workspace(app).is_some_and(|w| w.curved.reformat().is_some_and(|r| *r != shown))
    });
    let turned = workspace(harness.state())
        .and_then(|w| w.curved.reformat().cloned())
        .expect("turned");
    let wanted =
        straighten(&volume, &path, Across::patient_left(90.0), CURVED_SIZE).expect("turned");
    assert_eq!(
        turned, wanted,
        "turned about the path as the render core turns it"
    );

    // Clear path empties it and the window goes.
    harness.get_by_label("Clear path").click();
    settle(&mut harness, "the path cleared", |app| {
        workspace(app).is_some_and(|w| w.curved.points.is_empty() && w.curved.reformat().is_none())
    });
}
