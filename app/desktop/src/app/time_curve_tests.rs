//! The thin client's curve of a series over time saved as CSV: over the GE EPI's axial
//! cell (10 volumes) the server reads the voxel's value in every volume, the bar plots it,
//! and **Save CSV** writes a row a volume, with the volume's label as the server named it,
//! into the folder screenshots go to.

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use hounsfield_protocol::SlicePlane;

use super::key_image_tests::epi_server;
use super::ui_tests::{remote, thin_client_in_quad};
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
    harness.get_by_label("Save CSV").click();
    harness.run_steps(2);
    let view = remote(harness.state()).expect("streamed");
    let saved = match &view.curve_saved {
        Some(Ok(path)) => path.clone(),
        other => panic!("no curve saved: {other:?}"),
    };
    assert_eq!(saved.parent(), Some(curves.as_path()));
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
    drop(harness);
    server.stop().expect("served");
}
