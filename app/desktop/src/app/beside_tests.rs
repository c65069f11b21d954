//! Two series side by side in the desktop window, driven through egui_kittest on the
//! software adapter: the lumbar MR's sagittal T2 with its sagittal T1 Flair beside it (one
//! frame of reference), opened from the studies panel's row menu. Scrolling the T2's
//! sagittal cell moves the T1 to its own slice nearest along the normal.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use glam::DVec3;
use render_core::Volume;
use render_core::view::{Layout, SeriesLink};

use super::findings_tests::quad_settings;
use super::ui_tests::{differing, settle, window, workspace};
use super::*;
use crate::beside::Beside;
use hounsfield_test_support::data;

/// The series beside, once shown.
fn beside(app: &DesktopApp) -> Option<&Beside> {
    match &app.beside {
        Some(BesideState::Shown(shown)) => Some(shown),
        _ => None,
    }
}

/// The LPS position of every slice centre of `volume` along its k axis, through voxel
/// (0, 0): where its acquired slices are.
fn slice_positions(volume: &Volume) -> Vec<DVec3> {
    (0..volume.dims[2])
        .map(|k| volume.voxel_to_lps_point(DVec3::new(0.0, 0.0, k as f64)))
        .collect()
}

/// The normal of `volume`'s slices (across its rows and columns).
fn slice_normal(volume: &Volume) -> DVec3 {
    let i = volume.voxel_to_lps.x_axis.truncate();
    let j = volume.voxel_to_lps.y_axis.truncate();
    i.cross(j).normalize()
}

/// How far `point` is from the plane of slice `at` of `volume` (along its slice normal).
fn off_slice_mm(volume: &Volume, at: DVec3, point: DVec3) -> f64 {
    (point - at).dot(slice_normal(volume)).abs()
}

/// The pixels of the sagittal cell of the series beside, as last drawn.
fn beside_sagittal_pixels(harness: &mut Harness<'_, DesktopApp>) -> Vec<u8> {
    let Some(BesideState::Shown(shown)) = &mut harness.state_mut().beside else {
        panic!("a series beside");
    };
    shown.workspace.slice_pixels(2).expect("its sagittal cell")
}

/// Sets the first series' grey window to `window` and steps the window; the grey window
/// of the series beside then.
fn window_beside_after(
    harness: &mut Harness<'_, DesktopApp>,
    window: render_core::Window,
) -> Option<render_core::Window> {
    let State::Local(first) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    first.set_window(window);
    harness.run_steps(3);
    beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .window
}

/// Turns the wheel over `cell` (by `delta` points a step) until `moved` holds for the app.
fn scroll_until(
    harness: &mut Harness<'_, DesktopApp>,
    cell: egui::Rect,
    delta: f32,
    moved: impl Fn(&DesktopApp) -> bool,
) {
    harness.hover_at(cell.center());
    harness.run_steps(2);
    for _ in 0..60 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, delta),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        harness.step();
        if moved(harness.state()) {
            break;
        }
    }
    settle(
        harness,
        "the views drawn after the wheel",
        DesktopApp::full_frame_shown,
    );
}

/// A window on `first` in 2×2 with `second` opened beside it from the studies panel's row
/// menu, both drawn.
fn window_beside(first: &str, second: &str) -> (tempfile::TempDir, Harness<'static, DesktopApp>) {
    let (folder, settings) = quad_settings();
    let first = (!first.is_empty()).then(|| data(first));
    let mut harness = window(first, settings);
    settle(&mut harness, "the first series in 2×2", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices.iter().all(|slice| slice.rect().is_some()))
    });
    harness.state_mut().browser.beside = Some(OpenChoice {
        path: data(second),
        series: None,
    });
    settle(&mut harness, "the second series beside", |app| {
        beside(app).is_some_and(|b| b.workspace.slices.iter().all(|s| s.rect().is_some()))
    });
    (folder, harness)
}

#[test]
fn scrolling_one_series_shows_on_the_other_its_slice_nearest_along_the_normal() {
    let (_folder, mut harness) = window_beside("mr-lumbar/SagT2frFSES", "mr-lumbar/SagT1Flair");
    let shown = beside(harness.state()).expect("the T1 beside");
    assert_eq!(shown.link, SeriesLink::SameFrame, "one frame of reference");
    assert_eq!(shown.workspace.layout, Layout::Quad, "the layout follows");
    assert!(
        harness.get_by_label("Close beside").rect().width() > 0.0,
        "the link's controls are shown"
    );
    let second = shown
        .workspace
        .renderer()
        .volume()
        .cloned()
        .expect("the T1's volume");
    let slices = slice_positions(&second);
    let spacing = second.spacing_mm[2];
    let before_pixels = beside_sagittal_pixels(&mut harness);
    let start = workspace(harness.state()).expect("local").link.crosshair;

    // The wheel over the T2's sagittal cell, until its crosshair moved more than a T1 slice.
    let cell = workspace(harness.state())
        .and_then(|w| w.slices[2].rect())
        .expect("the sagittal cell");
    scroll_until(&mut harness, cell, 40.0, |app| {
        workspace(app).is_some_and(|w| (w.link.crosshair - start).length() > 1.5 * spacing)
    });
    let first = workspace(harness.state()).expect("local").link.crosshair;
    assert!(
        (first - start).length() > 1.5 * spacing,
        "the wheel moved the T2's crosshair: {start} → {first}"
    );
    let followed = beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .crosshair;
    // On one of the T1's own slices, and the one nearest the T2's crosshair along the normal.
    let distances: Vec<f64> = slices
        .iter()
        .map(|&at| off_slice_mm(&second, at, first))
        .collect();
    let nearest = distances
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, _)| k)
        .expect("slices");
    assert!(
        off_slice_mm(&second, slices[nearest], followed) < 1e-6,
        "the T1 shows its slice {nearest} ({:.2} mm from the T2's crosshair): its crosshair {followed} is {:.3} mm off it",
        distances[nearest],
        off_slice_mm(&second, slices[nearest], followed)
    );
    assert!(distances[nearest] <= spacing / 2.0 + 1e-6);
    // Within the plane, it is where the T2's is (to half a pixel of the T1).
    let in_plane = (followed - first).reject_from(slice_normal(&second));
    let half_pixel = 0.5 * second.spacing_mm[0].max(second.spacing_mm[1]);
    assert!(
        in_plane.length() <= half_pixel * std::f64::consts::SQRT_2 + 1e-6,
        "in plane: {in_plane} (half a pixel is {half_pixel} mm)"
    );
    // And the T1's sagittal cell shows that other slice.
    let after_pixels = beside_sagittal_pixels(&mut harness);
    let changed = differing(&before_pixels, &after_pixels);
    assert!(
        changed > 1000,
        "the T1's sagittal cell changed: {changed} values"
    );

    // The T1 leads too: scrolling it moves the T2 onto its own slice nearest the T1's.
    let t1_cell = beside(harness.state())
        .and_then(|b| b.workspace.slices[2].rect())
        .expect("the T1's sagittal cell");
    let t1_start = beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .crosshair;
    scroll_until(&mut harness, t1_cell, -40.0, |app| {
        beside(app)
            .is_some_and(|b| (b.workspace.link.crosshair - t1_start).length() > 1.5 * spacing)
    });
    let t1 = beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .crosshair;
    let t2 = workspace(harness.state()).expect("local").link.crosshair;
    let t2_volume = workspace(harness.state())
        .and_then(|w| w.renderer().volume().cloned())
        .expect("the T2's volume");
    let along = (t2 - t1).dot(slice_normal(&t2_volume));
    assert!(
        along.abs() <= t2_volume.spacing_mm[2] / 2.0 + 1e-6,
        "the T2 followed the T1 to its nearest slice: {along:.2} mm apart"
    );
    assert!(
        (t1 - t1_start).length() > 1.5 * spacing,
        "the T1 moved: {t1_start} → {t1} (the T2 at {t2})"
    );
}

#[test]
fn without_one_frame_of_reference_the_series_beside_follows_by_the_offset_set() {
    // The built-in phantom has no frame of reference: the T1 beside is lined up centre to
    // centre, then by the offset the reader sets.
    let (_folder, mut harness) = window_beside("", "mr-lumbar/SagT1Flair");
    let shown = beside(harness.state()).expect("the T1 beside");
    let SeriesLink::Offset(offset) = shown.link else {
        panic!("an offset link: {:?}", shown.link);
    };
    let first_volume = workspace(harness.state())
        .and_then(|w| w.renderer().volume().cloned())
        .expect("the phantom");
    let second = shown
        .workspace
        .renderer()
        .volume()
        .cloned()
        .expect("the T1");
    assert!((offset - (second.centre_lps() - first_volume.centre_lps())).length() < 1e-9);
    // The reader moves the T1 10 mm to the patient's left of where the phantom points.
    let Some(BesideState::Shown(shown)) = &mut harness.state_mut().beside else {
        panic!("beside");
    };
    shown.link = SeriesLink::Offset(offset + DVec3::new(10.0, 0.0, 0.0));
    let start = workspace(harness.state()).expect("local").link.crosshair;
    let cell = workspace(harness.state())
        .and_then(|w| w.slices[2].rect())
        .expect("the phantom's sagittal cell");
    scroll_until(&mut harness, cell, 40.0, |app| {
        workspace(app).is_some_and(|w| (w.link.crosshair - start).length() > 8.0)
    });
    let first = workspace(harness.state()).expect("local").link.crosshair;
    let followed = beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .crosshair;
    let wanted = first + offset + DVec3::new(10.0, 0.0, 0.0);
    let along = (followed - wanted).dot(slice_normal(&second));
    assert!(
        along.abs() <= second.spacing_mm[2] / 2.0 + 1e-6,
        "the T1 shows its slice nearest the phantom's crosshair plus the offset: {along:.2} mm off"
    );
}

#[test]
fn the_3d_view_turns_and_zooms_together_and_the_window_follows_only_when_linked() {
    let (_folder, mut harness) = window_beside("mr-lumbar/SagT2frFSES", "mr-lumbar/SagT1Flair");
    // The 3D view dragged round by the T2's: the T1's turns and zooms with it.
    let State::Local(first) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let camera = &mut first.view3d.view.camera;
    camera.direction = DVec3::new(1.0, 1.0, 0.0).normalize();
    camera.up = DVec3::Z;
    camera.zoom = 2.0;
    harness.run_steps(3);
    let second = beside(harness.state())
        .expect("beside")
        .workspace
        .view3d
        .view
        .camera;
    assert!(
        second
            .direction
            .distance(DVec3::new(1.0, 1.0, 0.0).normalize())
            < 1e-12
    );
    assert!(
        second.up.distance(DVec3::Z) < 1e-12 && second.zoom == 2.0,
        "{second:?}"
    );

    // W/L apart: the T2's window stays its own.
    let apart = render_core::Window {
        width: 500.0,
        center: 250.0,
    };
    let second = window_beside_after(&mut harness, apart);
    assert_ne!(second, Some(apart), "the windows are apart until linked");

    // Linked: ticking "link W/L" takes the T2's window, and the next change follows.
    harness.get_by_label("link W/L").click();
    harness.run_steps(3);
    let second = beside(harness.state())
        .expect("beside")
        .workspace
        .link
        .window;
    assert_eq!(
        second,
        Some(apart),
        "linking takes the first series' window"
    );
    let changed = render_core::Window {
        width: 900.0,
        center: 400.0,
    };
    let second = window_beside_after(&mut harness, changed);
    assert_eq!(second, Some(changed), "a linked window follows");
}
