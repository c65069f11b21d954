//! Findings in the desktop window, driven through egui_kittest on the software adapter as
//! a user would: a tool picked by its label, a shape dragged on a slice with the pointer,
//! the panel's buttons clicked; the numbers checked against the findings crate's own
//! measurement of the same points on the same volume.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use hounsfield_findings::folder::report_path;
use hounsfield_findings::{Finding, FindingKind, Measurement};
use hounsfield_protocol::SlicePlane;

use super::ui_tests::{remote, settle, snapshot_options, thin_client_in_quad, window, workspace};
use super::*;
use crate::findings::Entry;
use hounsfield_test_support::data;

/// A left drag from `from` to `to` as the windowing layer reports it: pressed, moved in
/// steps, released, a frame each.
pub(super) fn drag(harness: &mut Harness<'_, DesktopApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.hover_at(from);
    harness.step();
    harness.drag_at(from);
    harness.step();
    for step in 1..=4 {
        harness.hover_at(from.lerp(to, step as f32 / 4.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.step();
    harness.step();
}

/// The findings of the series shown.
pub(super) fn findings(harness: &Harness<'_, DesktopApp>) -> Vec<Entry> {
    workspace(harness.state())
        .map(|w| w.findings.list.iter().cloned().collect())
        .unwrap_or_default()
}

/// The axial slice's rectangle on screen, once drawn.
fn axial_rect(harness: &Harness<'_, DesktopApp>) -> egui::Rect {
    workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial slice is drawn")
}

/// What the findings crate measures for `entry`'s points on the volume shown.
pub(super) fn measured_again(harness: &Harness<'_, DesktopApp>, entry: &Entry) -> Measurement {
    let volume = workspace(harness.state())
        .and_then(|w| w.renderer().volume().cloned())
        .expect("a volume");
    let finding = entry.finding();
    Finding::new(
        finding.id,
        finding.kind,
        finding.plane,
        finding.points_lps.clone(),
        finding.note.clone(),
    )
    .and_then(|finding| finding.measure(&volume))
    .expect("measured")
}

/// Settings that open in the 2×2 layout, in a folder of their own.
pub(super) fn quad_settings() -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temp folder");
    let settings = folder.path().join("settings.toml");
    std::fs::write(&settings, "layout = \"2x2\"\n").expect("settings written");
    (folder, settings)
}

#[test]
fn an_ellipse_drawn_on_the_ct_is_measured_here_saved_and_found_again_when_the_series_reopens() {
    let (folder, settings) = quad_settings();
    let ct = data("ct-head-neck");
    let mut harness = window(Some(ct.clone()), settings.clone());
    settle(&mut harness, "the CT in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    assert!(findings(&harness).is_empty(), "a fresh folder keeps none");
    harness.get_by_label("Ellipse").click();
    harness.run_steps(2);

    // An ellipse across the middle of the axial slice.
    let rect = axial_rect(&harness);
    let (from, to) = (
        rect.center() + egui::vec2(-40.0, -25.0),
        rect.center() + egui::vec2(35.0, 20.0),
    );
    drag(&mut harness, from, to);
    settle(&mut harness, "the ellipse kept", |app| {
        workspace(app).is_some_and(|w| w.findings.list.len() == 1)
    });
    let drawn = findings(&harness).remove(0);
    let finding = drawn.finding();
    assert_eq!(
        (finding.kind, finding.plane),
        (FindingKind::Ellipse, SlicePlane::Axial)
    );
    // Its corners are the patient points under the pointer where the drag began and ended.
    let slice = &workspace(harness.state()).expect("local").slices[0];
    for (point, pos) in finding.points_lps.iter().zip([from, to]) {
        let under = slice.lps_at(pos).expect("drawn");
        assert!(point.distance(under) < 1e-6, "{point} vs {under}");
    }
    // Its numbers are the findings crate's for those points on this volume.
    assert_eq!(drawn.measured.measurement, measured_again(&harness, &drawn));
    let Measurement::Region(stats) = &drawn.measured.measurement else {
        panic!(
            "an ellipse measures a region: {:?}",
            drawn.measured.measurement
        );
    };
    assert_eq!(stats.unit, "HU");
    assert!(stats.voxels > 500, "{} voxels", stats.voxels);
    // The panel lists it with its mean.
    assert!(drawn.summary().contains(&format!("mean {:.1}", stats.mean)));
    harness.get_by_label(&drawn.summary());

    harness.get_by_label("Save findings").click();
    settle(&mut harness, "the findings saved", |app| {
        workspace(app).is_some_and(|w| w.findings.last_save.is_some())
    });
    let saved = workspace(harness.state())
        .and_then(|w| w.findings.last_save.clone())
        .expect("a save");
    let said = saved.expect("saved");
    let catalog = render_core::dicom::Catalog::scan(
        std::slice::from_ref(&ct),
        &render_core::progress::no_progress,
    );
    let series = catalog
        .series()
        .find(|series| series.id == harness.state().label)
        .expect("the series shown");
    let identity = &series.images[0].identity;
    let file = report_path(
        &folder.path().join("findings"),
        &identity.study_uid,
        &identity.series_uid,
    )
    .expect("UIDs");
    assert!(file.is_file(), "{} written", file.display());
    assert!(said.contains(&file.display().to_string()), "{said}");
    drop(harness);

    // Opened again (a new window on the same settings): the ellipse is there with the
    // numbers it was saved with.
    let mut harness = window(Some(ct), settings);
    settle(&mut harness, "the CT again", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    let back = findings(&harness);
    assert_eq!(back.len(), 1, "the ellipse is back");
    let again = &back[0];
    assert_eq!(again.measured.measurement, drawn.measured.measurement);
    assert_eq!(
        (
            again.finding().id,
            again.finding().kind,
            again.finding().plane
        ),
        (finding.id, finding.kind, finding.plane)
    );
    for (p, q) in again.finding().points_lps.iter().zip(&finding.points_lps) {
        assert!(p.distance(*q) < 1e-3, "{p} vs {q}");
    }
    assert!(
        !workspace(harness.state())
            .expect("local")
            .findings
            .list
            .unsaved()
    );
    harness.get_by_label(&again.summary());
}

#[test]
fn on_the_phantom_a_box_is_moved_shown_from_the_list_deleted_and_saving_says_why_not() {
    let (_folder, settings) = quad_settings();
    let mut harness = window(None, settings);
    settle(&mut harness, "the phantom in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    // The findings panel opens with the first finding tool picked.
    assert!(harness.query_by_label("Save findings").is_none());
    harness.get_by_label("Rectangle").click();
    harness.run_steps(2);
    // No study to save in: the button is off and the panel says why.
    let save = harness.get_by_label("Save findings");
    assert!(save.accesskit_node().is_disabled(), "saving is off");
    harness.get_by_label_contains("the built-in sample belongs to no DICOM study");

    let rect = axial_rect(&harness);
    let centre = rect.center();
    drag(
        &mut harness,
        centre + egui::vec2(-30.0, -20.0),
        centre + egui::vec2(30.0, 20.0),
    );
    settle(&mut harness, "the box kept", |app| {
        workspace(app).is_some_and(|w| w.findings.list.len() == 1)
    });
    let drawn = findings(&harness).remove(0);
    assert_eq!(drawn.finding().kind, FindingKind::Rectangle);
    assert_eq!(drawn.measured.measurement, measured_again(&harness, &drawn));
    // Drawn selected on the axial slice with its handles and figures, and listed.
    harness.run_steps(2);
    harness.snapshot_options("phantom-findings", &snapshot_options());

    // Selected and dragged from inside: it moves, measured again where it went.
    harness.get_by_label("Select").click();
    harness.run_steps(2);
    drag(&mut harness, centre, centre + egui::vec2(25.0, 15.0));
    settle(&mut harness, "the box moved", |app| {
        workspace(app).is_some_and(|w| {
            w.findings.list.iter().next().is_some_and(|e| {
                e.finding().points_lps[0].distance(drawn.finding().points_lps[0]) > 1.0
            })
        })
    });
    let moved = findings(&harness).remove(0);
    let shift = moved.finding().points_lps[0] - drawn.finding().points_lps[0];
    let other = moved.finding().points_lps[1] - drawn.finding().points_lps[1];
    assert!(shift.distance(other) < 1e-6, "moved whole: {shift} {other}");
    assert!(shift.x > 0.0 && shift.y > 0.0, "right and down: {shift}");
    assert_eq!(moved.measured.measurement, measured_again(&harness, &moved));
    assert_ne!(moved.measured.measurement, drawn.measured.measurement);

    // A line of the list shows the finding: the crosshair goes to its centre.
    if let State::Local(workspace) = &mut harness.state_mut().state {
        workspace.link.crosshair.z += 20.0;
    }
    harness.run_steps(2);
    harness.get_by_label(&moved.summary()).click();
    harness.run_steps(2);
    let crosshair = workspace(harness.state()).expect("local").link.crosshair;
    assert!(crosshair.distance(moved.centre_lps()) < 1e-9, "{crosshair}");

    // Delete removes the selected finding.
    assert_eq!(
        workspace(harness.state()).and_then(|w| w.findings.list.selected),
        Some(moved.id())
    );
    harness.key_press(egui::Key::Delete);
    harness.run_steps(2);
    assert!(findings(&harness).is_empty(), "deleted");
}

/// A server of the built-in phantom on loopback, in this process (plain WebSocket, JPEG).
pub(super) fn phantom_server() -> hounsfield_server::BackgroundServer {
    let mut config =
        hounsfield_server::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.h264_encoders = Vec::new();
    let library = Arc::new(hounsfield_server::Library::phantom(256 << 20));
    let scheduler = Arc::new(
        hounsfield_server::Scheduler::start(PresetLibrary::builtin(), 1).expect("a render thread"),
    );
    hounsfield_server::BackgroundServer::start("findings-ui-server", config, library, scheduler)
        .expect("listens")
}

/// An in-process phantom server and `connect` to it in its 2×2 layout, with the settings
/// in a folder of their own (kept while the test runs).
pub(super) fn thin_client_of_phantom_server() -> (
    hounsfield_server::BackgroundServer,
    tempfile::TempDir,
    Harness<'static, DesktopApp>,
) {
    let server = phantom_server();
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let folder = tempfile::tempdir().expect("temp folder");
    let harness = thin_client_in_quad(url, folder.path().join("settings.toml"));
    (server, folder, harness)
}

#[test]
fn connect_draws_an_ellipse_the_server_measures_lists_it_and_says_why_the_phantom_is_not_saved() {
    let (server, _folder, mut harness) = thin_client_of_phantom_server();
    harness.get_by_label("Ellipse").click();
    harness.run_steps(2);
    let cell = remote(harness.state())
        .and_then(|view| view.slice_cell(SlicePlane::Axial))
        .expect("the axial cell");
    drag(
        &mut harness,
        cell.center() + egui::vec2(-40.0, -25.0),
        cell.center() + egui::vec2(35.0, 20.0),
    );
    settle(&mut harness, "the ellipse the server measured", |app| {
        remote(app).is_some_and(|view| view.findings.list.len() == 1)
    });
    let told = remote(harness.state())
        .and_then(|view| view.findings.list.iter().next().cloned())
        .expect("a finding");
    assert_eq!(
        (told.finding().kind, told.finding().plane),
        (FindingKind::Ellipse, SlicePlane::Axial)
    );
    // The server's numbers are the findings crate's for the points it placed.
    let finding = told.finding().clone();
    let phantom = render_core::phantom::ct_phantom();
    assert_eq!(
        finding.measure(&phantom).expect("measured"),
        told.measured.measurement
    );
    harness.get_by_label(&told.summary());

    harness.get_by_label("Save findings").click();
    settle(&mut harness, "the server's answer to the save", |app| {
        remote(app).is_some_and(|view| view.findings.last_save.is_some())
    });
    let answer = remote(harness.state())
        .and_then(|view| view.findings.last_save.clone())
        .expect("an answer");
    let Err(why) = answer else {
        panic!("the phantom's findings were saved: {answer:?}");
    };
    assert!(why.contains("no DICOM study"), "{why}");
    // The panel says it.
    harness.get_by_label(&why);
    drop(harness);
    server.stop().expect("served");
}
