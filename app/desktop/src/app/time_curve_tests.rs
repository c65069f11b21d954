//! The curve of a series over time saved as CSV: over the GE EPI's axial cell (10
//! volumes) the server (for the thin client) or the window rendering here reads the
//! voxel's value in every volume, the bar plots it, and **Save CSV** writes a row a volume,
//! with the volume's label, into the folder screenshots go to. A region's and a segment's
//! curves, chosen in **Curve of**, are plotted and saved: streamed, as the server told
//! them; rendered here, as the window reads them (against dcm2niix's NIfTI).

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use hounsfield_protocol::SlicePlane;

use super::findings_tests::quad_settings;
use super::key_image_tests::epi_server;
use super::ui_tests::{remote, settle, thin_client_in_quad, window, workspace};
use super::*;

/// How long the server may take to answer.
const PATIENCE: Duration = Duration::from_secs(120);

#[test]
fn connect_saves_the_curve_under_the_cursor_as_csv_a_row_a_volume() {
    let state = tempfile::tempdir().expect("temp folder");
    let server = epi_server(&state.path().join("findings"));
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let mut harness = thin_client_in_quad(url, state.path().join("settings.toml"));
    let curves = state.path().join("curves");
    std::fs::create_dir(&curves).expect("a folder");
    let State::Remote { view, .. } = &mut harness.state_mut().state else {
        panic!("streamed");
    };
    view.curve_folder = curves.clone();
    let cell = remote(harness.state())
        .and_then(|view| view.slice_cell(SlicePlane::Axial))
        .expect("the axial cell");
    // The pointer rests in the head: the server tells the voxel's curve.
    let started = Instant::now();
    let mut nudge = 0.0;
    while harness.query_by_label("Save CSV").is_none() {
        assert!(started.elapsed() < PATIENCE, "no curve under the cursor");
        nudge = if nudge == 0.0 { 1.0 } else { 0.0 };
        harness.hover_at(cell.center() + egui::vec2(nudge, 0.0));
        harness.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    let saved = saved_curve(&mut harness, &curves);
    let view = remote(harness.state()).expect("streamed");
    let volumes = &view.opened.as_ref().expect("opened").volumes;
    assert_eq!(volumes.len(), 10, "the EPI's volumes");
    let text = std::fs::read_to_string(&saved).expect("the CSV");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("index,label,time_s,value"));
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(rows.len(), volumes.len(), "{text}");
    for (n, (row, volume)) in rows.iter().zip(volumes).enumerate() {
        assert_eq!(row[0], n.to_string(), "{text}");
        assert_eq!(row[1], volume.label, "{text}");
        let time = volume.time_s.map(|t| t.to_string()).unwrap_or_default();
        assert_eq!(row[2], time, "{text}");
        let value: f64 = row[3].parse().expect("a value");
        assert!(value.is_finite() && value > 0.0, "inside the head: {text}");
    }
    harness.get_by_label(&format!("saved to {}", saved.display()));
    a_regions_and_a_segments_curves_are_chosen_and_saved(&mut harness, &curves);
    drop(harness);
    server.stop().expect("served");
}

/// Clicks connect's Save CSV: the file it wrote, in `folder`.
fn saved_curve(
    harness: &mut egui_kittest::Harness<'_, DesktopApp>,
    folder: &std::path::Path,
) -> std::path::PathBuf {
    harness.get_by_label("Save CSV").click();
    harness.run_steps(2);
    let view = remote(harness.state()).expect("streamed");
    let saved = match &view.curve_saved {
        Some(Ok(path)) => path.clone(),
        other => panic!("no curve saved: {other:?}"),
    };
    assert_eq!(saved.parent(), Some(folder));
    saved
}

/// A box drawn and a segment made by a threshold (sent as their panels send them): the
/// server tells their means in every volume; chosen in **Curve of**, each is plotted and
/// saved as the server told it.
fn a_regions_and_a_segments_curves_are_chosen_and_saved(
    harness: &mut egui_kittest::Harness<'_, DesktopApp>,
    curves: &std::path::Path,
) {
    use hounsfield_protocol::{
        ClientMessage, FindingAction, FindingRequest, SegmentAction, SegmentEdit, SegmentRequest,
        SegmentTool,
    };
    let view = remote(harness.state()).expect("streamed");
    assert!(view.link().finding(FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some("rectangle".to_string()),
        cell: Some("axial".to_string()),
        points: vec![[0.4, 0.35], [0.6, 0.55]],
        note: None,
    }));
    assert!(
        view.link()
            .segments(ClientMessage::Segment(SegmentRequest::bare(
                SegmentAction::Create,
                None
            )))
    );
    let segment_told = |harness: &egui_kittest::Harness<'_, DesktopApp>| {
        remote(harness.state()).and_then(|view| view.segments.list.first().map(|s| s.id))
    };
    let started = Instant::now();
    while segment_told(harness).is_none() {
        assert!(started.elapsed() < PATIENCE, "no segment told");
        harness.step();
    }
    let id = segment_told(harness).expect("a segment");
    let view = remote(harness.state()).expect("streamed");
    assert!(
        view.link()
            .segments(ClientMessage::SegmentEdit(SegmentEdit {
                id,
                tool: SegmentTool::Threshold {
                    low: 1500.0,
                    high: 4000.0,
                },
            }))
    );
    let told = |harness: &egui_kittest::Harness<'_, DesktopApp>| {
        remote(harness.state()).and_then(|view| {
            let region = view.findings.curves.get(&1)?.values.clone();
            let segment = view.segments.list.first()?.numbers.values.clone();
            (segment.len() == 10).then_some((region, segment))
        })
    };
    while told(harness).is_none() {
        assert!(
            started.elapsed() < PATIENCE,
            "no region's or segment's curve told"
        );
        harness.step();
    }
    let (region, segment) = told(harness).expect("told");
    assert_eq!(region.len(), 10, "a mean a volume");
    for (name, expected) in [("region 1", region), ("segment Segment 1", segment)] {
        // The combo offers every curve told.
        harness.get_by_label("Curve of").click();
        harness.run_steps(2);
        harness.get_by_label(name).click();
        harness.run_steps(2);
        let saved = saved_curve(harness, curves);
        let text = std::fs::read_to_string(&saved).expect("the CSV");
        let values: Vec<f64> = text
            .lines()
            .skip(1)
            .filter_map(|row| row.rsplit(',').next()?.parse().ok())
            .collect();
        assert_eq!(values, expected, "{name}: {text}");
    }
}

/// The window rendering the GE EPI here plots the curve of the voxel under the cursor,
/// read from its 10 volumes: the values dcm2niix's NIfTI holds at that voxel; Save CSV
/// writes them a row a volume.
#[test]
fn the_window_rendering_here_plots_the_voxels_curve_and_saves_it_as_csv() {
    let (state, settings) = quad_settings();
    let epi = hounsfield_test_support::data("ge-epi/mr_0004");
    let mut harness = window(Some(epi), settings);
    settle(&mut harness, "the EPI's volumes kept", |app| {
        app.full_frame_shown()
            && workspace(app).is_some_and(|w| w.slices[0].rect().is_some() && w.time.is_some())
    });
    let curves = state.path().join("curves");
    std::fs::create_dir(&curves).expect("a folder");
    let State::Local(local) = &mut harness.state_mut().state else {
        panic!("rendered here");
    };
    let time = local.time.as_mut().expect("a series over time");
    time.curve_folder = curves.clone();
    let cell = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial cell");
    let started = Instant::now();
    while harness.query_by_label("Save CSV").is_none() {
        assert!(started.elapsed() < PATIENCE, "no curve under the cursor");
        harness.hover_at(cell.center());
        harness.step();
    }
    // The bar grew by the plot and the cells moved down: the pointer rests over the axial
    // cell where it is now.
    let cell = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial cell");
    harness.hover_at(cell.center());
    harness.run_steps(3);
    let local = workspace(harness.state()).expect("rendered here");
    let time = local.time.as_ref().expect("a series over time");
    let kept = time.curve.clone().expect("a curve");
    assert_eq!(kept.values.len(), 10, "a value a volume");
    // The voxel read, found in the NIfTI by its centre's LPS position.
    let volume = local.renderer().volume().expect("a volume");
    let (ijk, _) = volume.nearest_voxel(kept.lps).expect("inside");
    let centre = volume.voxel_to_lps_point(glam::DVec3::from(ijk.map(|n| n as f64)));
    let nifti =
        hounsfield_test_support::nifti::Nifti::read("ge-epi/DCM2NIIX_regression_test_4.nii");
    let voxel = nifti.voxel_at(centre, "the voxel under the cursor");
    let theirs: Vec<f64> = (0..10).map(|t| nifti.value(t, voxel)).collect();
    assert_eq!(kept.values, theirs, "the curve at {voxel:?}");
    assert!(theirs.iter().any(|v| *v != theirs[0]), "a curve that moves");
    assert!(kept.measures.is_some(), "its measures");
    let text = saved_here(&mut harness, &curves);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(text.lines().next(), Some("index,label,time_s,value"));
    assert_eq!(rows.len(), 10, "{text}");
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row[1], format!("volume {}", n + 1), "{text}");
        let value: f64 = row[3].parse().expect("a value");
        assert_eq!(value, theirs[n], "{text}");
    }
    assert_eq!(rows[3][2], "15", "volume 4 at 15 s: {text}");
    a_regions_and_a_segments_curves_are_read_here(&mut harness, &curves, &nifti);
}

/// Clicks Save CSV in the window rendering here: the text it wrote, in `folder`.
fn saved_here(
    harness: &mut egui_kittest::Harness<'_, DesktopApp>,
    folder: &std::path::Path,
) -> String {
    harness.get_by_label("Save CSV").click();
    harness.run_steps(2);
    let time = workspace(harness.state())
        .and_then(|w| w.time.as_ref())
        .expect("a series over time");
    let saved = match &time.curve_saved {
        Some(Ok(path)) => path.clone(),
        other => panic!("no curve saved: {other:?}"),
    };
    assert_eq!(saved.parent(), Some(folder));
    std::fs::read_to_string(&saved).expect("the CSV")
}

/// Rendered here, a box drawn on the axial slice and a segment made by a threshold each
/// get a curve: chosen in **Curve of** and saved, each volume's value is the mean of
/// dcm2niix's NIfTI at the voxels the region encloses (or the segment holds).
fn a_regions_and_a_segments_curves_are_read_here(
    harness: &mut egui_kittest::Harness<'_, DesktopApp>,
    curves: &std::path::Path,
    nifti: &hounsfield_test_support::nifti::Nifti,
) {
    harness.get_by_label("Segments").click();
    harness.run_steps(2);
    if let State::Local(local) = &mut harness.state_mut().state {
        local.segments.tools.range = [1500.0, 4000.0];
    }
    harness.get_by_label("Add segment").click();
    harness.run_steps(2);
    harness.get_by_label("Threshold").click();
    settle(harness, "the threshold's segment", |app| {
        workspace(app).is_some_and(|w| {
            !w.segments.busy() && w.segments.list().iter().any(|s| s.numbers.voxels > 0)
        })
    });
    // The studies and segments panels close, so the slices have room.
    let app = harness.state_mut();
    app.show_segments = false;
    app.show_browser = false;
    app.show_findings = true;
    harness.run_steps(3);
    harness.get_by_label("Rectangle").click();
    harness.run_steps(2);
    let cell = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial cell");
    let centre = cell.center();
    super::findings_tests::drag(
        harness,
        centre + egui::vec2(-25.0, -20.0),
        centre + egui::vec2(20.0, 15.0),
    );
    settle(harness, "the box kept", |app| {
        workspace(app).is_some_and(|w| w.findings.list.len() == 1)
    });
    let local = workspace(harness.state()).expect("rendered here");
    let volume = local.renderer().volume().cloned().expect("a volume");
    let region = local
        .findings
        .list
        .iter()
        .next()
        .and_then(|entry| entry.finding().region_voxels(&volume))
        .and_then(Result::ok)
        .expect("the box's voxels");
    let segment = local.segments.list().remove(0);
    let mask: Vec<usize> = local
        .segments
        .mask(segment.id)
        .expect("its mask")
        .indices()
        .collect();
    let [ni, nj, _] = volume.dims;
    // The NIfTI's mean at `voxels`' centres in each of its 10 volumes.
    let theirs = |voxels: &[usize]| -> Vec<f64> {
        let found: Vec<[usize; 3]> = voxels
            .iter()
            .map(|&index| {
                let ijk = [index % ni, (index / ni) % nj, index / (ni * nj)];
                let centre = volume.voxel_to_lps_point(glam::DVec3::from(ijk.map(|n| n as f64)));
                nifti.voxel_at(centre, "a voxel of the region")
            })
            .collect();
        (0..10)
            .map(|t| found.iter().map(|&v| nifti.value(t, v)).sum::<f64>() / found.len() as f64)
            .collect()
    };
    for (name, voxels) in [
        ("region 1".to_string(), region),
        (format!("segment {}", segment.label), mask),
    ] {
        harness.get_by_label("Curve of").click();
        harness.run_steps(2);
        harness.get_by_label(&name).click();
        harness.run_steps(2);
        let text = saved_here(harness, curves);
        let ours: Vec<f64> = text
            .lines()
            .skip(1)
            .filter_map(|row| row.rsplit(',').next()?.parse().ok())
            .collect();
        let expected = theirs(&voxels);
        assert_eq!(ours.len(), 10, "{name}: {text}");
        for (a, b) in ours.iter().zip(&expected) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{name}: ours {ours:?}, the NIfTI's {expected:?}"
            );
        }
        assert!(
            expected.iter().any(|v| (v - expected[0]).abs() > 1e-9),
            "{name}: a curve that moves"
        );
    }
}
