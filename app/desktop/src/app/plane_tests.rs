//! Oblique slices in the desktop window, driven through egui_kittest on the software
//! adapter as a user would: another plane's line dragged by its handle round the crosshair
//! turns the planes about that slice's normal, and Reset planes brings the standard ones
//! back; on the phantom rendered here, and streamed from a server in this process.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use glam::DVec3;
use hounsfield_findings::Measurement;
use hounsfield_protocol::SlicePlane;
use render_core::view::SliceFrame;

use super::findings_tests::{drag, findings, quad_settings, thin_client_of_phantom_server};
use super::ui_tests::{differing, remote, settle, window, workspace};
use super::*;
use crate::plane_lines::line_direction;
use crate::thin_client::rulers::cell_axes;

/// How far the handle is dragged round the crosshair (degrees, counter-clockwise).
const DRAGGED_DEG: f32 = 30.0;

/// `handle` turned `degrees` counter-clockwise on the screen about `centre`.
fn turned_about(centre: egui::Pos2, handle: egui::Pos2, degrees: f32) -> egui::Pos2 {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let offset = handle - centre;
    centre
        + egui::vec2(
            offset.x * cos + offset.y * sin,
            -offset.x * sin + offset.y * cos,
        )
}

/// The rising angle (degrees, within -90..90) of a line along `[x, y]` (y down).
fn rising_deg([x, y]: [f64; 2]) -> f64 {
    let (x, y) = if x < 0.0 { (-x, -y) } else { (x, y) };
    (-y).atan2(x).to_degrees()
}

/// The axial and coronal slices' pixels as the window last drew them.
fn axial_and_coronal(harness: &mut Harness<'_, DesktopApp>) -> (Vec<u8>, Vec<u8>) {
    let State::Local(workspace) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let axial = workspace.slice_pixels(0).expect("the axial slice drawn");
    let coronal = workspace.slice_pixels(1).expect("the coronal slice drawn");
    (axial, coronal)
}

#[test]
fn dragging_the_coronal_line_in_the_axial_slice_turns_the_planes_about_its_normal() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(None, settings);
    settle(&mut harness, "the phantom in 2×2 with its lines", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| {
                w.slices.iter().all(|slice| slice.rect().is_some())
                    && w.slices[0].handle(SlicePlane::Coronal).is_some()
            })
    });
    let (axial_before, coronal_before) = axial_and_coronal(&mut harness);
    let crosshair = workspace(harness.state()).expect("local").link.crosshair;
    let (centre, handle) = workspace(harness.state())
        .and_then(|w| w.slices[0].handle(SlicePlane::Coronal))
        .expect("the coronal line's handle in the axial slice");
    assert!(
        harness
            .get_by_label("Reset planes")
            .accesskit_node()
            .is_disabled(),
        "nothing to reset on the standard planes"
    );

    drag(
        &mut harness,
        handle,
        turned_about(centre, handle, DRAGGED_DEG),
    );
    settle(&mut harness, "the planes turned and drawn", |app| {
        workspace(app).is_some_and(|w| !w.link.frame.is_standard()) && app.full_frame_shown()
    });
    let link = workspace(harness.state()).expect("local").link;
    assert_eq!(
        link.crosshair, crosshair,
        "the handle's drag leaves the crosshair"
    );
    // A turn about +z (the axial normal): counter-clockwise on the axial slice, which
    // shows +x to the right and +y down, is clockwise about +z.
    let frame = link.frame;
    assert!(
        (frame.rotation * DVec3::Z).distance(DVec3::Z) < 1e-9,
        "{frame:?}"
    );
    let x = frame.rotation * DVec3::X;
    let about_z = x.y.atan2(x.x).to_degrees();
    assert!(
        (about_z + f64::from(DRAGGED_DEG)).abs() < 1.5,
        "turned {about_z}° about +z"
    );
    let line = frame.line_in_cell(SlicePlane::Axial, SlicePlane::Coronal);
    assert!((rising_deg(line) - f64::from(DRAGGED_DEG)).abs() < 1.5);
    // The axial picture stays; the coronal one tilts.
    let (axial_after, coronal_after) = axial_and_coronal(&mut harness);
    let off = differing(&axial_before, &axial_after);
    assert!(
        off <= axial_before.len() / 1000,
        "the axial slice changed ({off} values)"
    );
    let tilted = differing(&coronal_before, &coronal_after);
    assert!(
        tilted > coronal_before.len() / 50,
        "the coronal slice did not change ({tilted} values)"
    );

    // An ellipse drawn on the tilted coronal slice is an oblique finding: it keeps the
    // coronal cell's turned axes, is measured on that plane, and shows on it alone.
    harness.get_by_label("Ellipse").click();
    harness.run_steps(2);
    let rect = workspace(harness.state())
        .and_then(|w| w.slices[1].rect())
        .expect("the coronal slice");
    drag(
        &mut harness,
        rect.center() + egui::vec2(-40.0, -25.0),
        rect.center() + egui::vec2(35.0, 20.0),
    );
    harness.run_steps(2);
    let kept = findings(&harness);
    let [entry] = kept.as_slice() else {
        panic!(
            "one finding on the turned coronal slice, not {}",
            kept.len()
        );
    };
    let finding = entry.finding();
    assert_eq!(finding.plane, SlicePlane::Coronal);
    assert!(finding.is_oblique(), "{:?}", finding.axes);
    let facing = frame.normal(SlicePlane::Coronal);
    assert!(finding.axes.normal.distance(facing) < 1e-9);
    for point in &finding.points_lps {
        let off = (*point - link.crosshair).dot(facing);
        assert!(off.abs() < 1e-6, "{point} is {off} mm off the slice");
    }
    let Measurement::Region(stats) = &entry.measured.measurement else {
        panic!("an ellipse measures a region");
    };
    assert!(stats.voxels > 100, "{stats:?}");
    let on_coronal = |harness: &Harness<'_, DesktopApp>, normal: DVec3| {
        let w = workspace(harness.state()).expect("local");
        let depth = w.link.crosshair.dot(normal);
        w.findings
            .list
            .on_slice(SlicePlane::Coronal, normal, depth, 0.5)
            .count()
    };
    assert_eq!(on_coronal(&harness, facing), 1, "shown on the tilted slice");
    assert_eq!(on_coronal(&harness, DVec3::Y), 0, "not on the standard one");

    // The panel closed again, so the slices have the size they had.
    harness.state_mut().show_findings = false;
    harness.get_by_label("Reset planes").click();
    settle(&mut harness, "the standard planes again", |app| {
        workspace(app).is_some_and(|w| w.link.frame == SliceFrame::STANDARD)
            && app.full_frame_shown()
    });
    harness.run_steps(2);
    let (_, coronal_again) = axial_and_coronal(&mut harness);
    let off = differing(&coronal_before, &coronal_again);
    assert!(
        off <= coronal_before.len() / 1000,
        "the coronal slice is back ({off} values)"
    );
}

#[test]
fn connect_turns_the_servers_planes_by_a_lines_handle_and_resets_them() {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    settle(
        &mut harness,
        "the lines of the server's 2×2 layout",
        |app| {
            app.full_frame_shown()
                && remote(app).is_some_and(|view| {
                    view.handle(SlicePlane::Axial, SlicePlane::Coronal)
                        .is_some()
                })
        },
    );
    assert_eq!(remote(harness.state()).and_then(RemoteView::planes), None);
    let (centre, handle) = remote(harness.state())
        .and_then(|view| view.handle(SlicePlane::Axial, SlicePlane::Coronal))
        .expect("the coronal line's handle in the axial cell");

    drag(
        &mut harness,
        handle,
        turned_about(centre, handle, DRAGGED_DEG),
    );
    settle(&mut harness, "the server's turned planes", |app| {
        app.full_frame_shown() && remote(app).and_then(RemoteView::planes).is_some()
    });
    let view = remote(harness.state()).expect("streamed");
    let planes = view.planes().expect("turned");
    // The turns were sent (and mirrored) as `turn_planes` about the axial normal: the
    // axial cell shows its plane as before, the coronal line in it rose by the angle.
    let rotation = view
        .mirror
        .as_ref()
        .and_then(|mirror| mirror.slice_rotation)
        .expect("the mirror turned");
    let frame = SliceFrame::from_quaternion(rotation).expect("a rotation");
    assert!((frame.rotation * DVec3::Z).distance(DVec3::Z) < 1e-9);
    let (right, down) = cell_axes(Some(&planes), SlicePlane::Axial);
    assert!(right.distance(DVec3::X) < 1e-6 && down.distance(DVec3::Y) < 1e-6);
    let axes = |plane| cell_axes(Some(&planes), plane);
    let line = line_direction(axes, SlicePlane::Axial, SlicePlane::Coronal);
    let rising = rising_deg(line);
    assert!(
        (rising - f64::from(DRAGGED_DEG)).abs() < 1.5,
        "the server turned the coronal line to {rising}°"
    );
    // The server's planes are the mirror's.
    let (coronal_right, coronal_down) = axes(SlicePlane::Coronal);
    let (right, down) = frame.orientation(SlicePlane::Coronal).right_and_down();
    assert!(coronal_right.distance(right) < 1e-6 && coronal_down.distance(down) < 1e-6);

    harness.get_by_label("Reset planes").click();
    settle(&mut harness, "the server's standard planes", |app| {
        remote(app).is_some_and(|view| {
            view.planes().is_none()
                && view
                    .mirror
                    .as_ref()
                    .is_some_and(|m| m.slice_rotation.is_none())
        }) && app.full_frame_shown()
    });
    drop(harness);
    server.stop().expect("served");
}
