//! Findings drawn in the web page, in headless Chromium, on the shared data's real CT
//! (`ct-head-neck`) in the 2×2 layout: an ellipse dragged on the axial slice is measured by
//! the server, labelled with the statistics another session is told, drawn where it was
//! dragged, moved by a drag and resized by a drag of a corner handle; an angle (three
//! clicks), an arrow (with its note typed in the page) and a freehand outline are measured
//! too, and a drag of one of the angle's point handles moves that point; the finding hides
//! on another slice and its line in the findings panel brings its slice back; Save stores
//! the report in the server's findings folder (with nothing to save the page says why), and
//! Delete removes the selected finding.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chromium::{
    NO_WEBCODECS, Page, Region, canvas_pixels, ct_in_the_quad_layout, quadrants, status_text,
    wait_for_final_still, with_page_url,
};
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{ServerMessage, Viewport};
use serde_json::{Value, json};

/// A server of the CT with a 400×300 view and no H.264, keeping findings in `folder`.
fn ct_server(folder: PathBuf) -> SocketAddr {
    let mut config = support::server::loopback_config();
    config.default_viewport = Viewport {
        width: 400,
        height: 300,
    };
    config.h264_encoders = Vec::new();
    config.findings_folder = Some(folder);
    support::server::start_serving(config, &[support::data("ct-head-neck")])
}

/// The findings the server tells another session opening the CT (as JSON).
async fn findings_told_to_another_session(address: SocketAddr) -> Vec<Value> {
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    client
        .hello(
            None,
            Viewport {
                width: 400,
                height: 300,
            },
        )
        .await
        .expect("welcome");
    let studies = client.list_studies().await.expect("studies");
    client.open(&studies[0].series[0].id).await.expect("opened");
    loop {
        if let Event::Message(ServerMessage::Findings { findings, .. }) =
            client.next_event().await.expect("the session lives")
        {
            return findings
                .iter()
                .map(|finding| serde_json::to_value(finding).expect("JSON"))
                .collect();
        }
    }
}

/// The CT in the 2×2 layout: the canvas's box.
async fn open_the_ct_in_the_quad_layout(page: &mut Page) -> Region {
    ct_in_the_quad_layout(page).await.0
}

/// A left-button drag from `from` to `to` in `steps` moves, 20 ms apart.
async fn mouse_drag(page: &mut Page, from: (f64, f64), to: (f64, f64), steps: u32) {
    page.mouse("mousePressed", from.0, from.1, 1).await;
    for step in 1..=steps {
        let t = f64::from(step) / f64::from(steps);
        let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        page.mouse("mouseMoved", at.0, at.1, 1).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    page.mouse("mouseReleased", to.0, to.1, 0).await;
}

/// A left click at `at`.
async fn click(page: &mut Page, at: (f64, f64)) {
    page.mouse("mousePressed", at.0, at.1, 1).await;
    page.mouse("mouseReleased", at.0, at.1, 0).await;
}

/// A key pressed and released (`key` and its Windows key code, as DevTools wants them).
async fn press_key(page: &mut Page, key: &str, code: u32, text: &str) {
    for kind in ["keyDown", "keyUp"] {
        page.call(
            "Input.dispatchKeyEvent",
            json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code, "text": if kind == "keyDown" { text } else { "" }}),
        )
        .await;
    }
}

/// Turns the findings tool `tool` on (its button pressed).
async fn choose_tool(page: &mut Page, tool: &str) {
    page.eval(&format!(
        "document.querySelector('#tools button[data-tool=\"{tool}\"]').click(); true"
    ))
    .await;
    assert_eq!(page.eval("window.hounsfield.tool").await, json!(tool));
}

/// The point at fractions (`fx`, `fy`) of `cell`, in CSS pixels.
fn at(cell: Region, fx: f64, fy: f64) -> (f64, f64) {
    (
        f64::from(cell.0) + fx * f64::from(cell.2),
        f64::from(cell.1) + fy * f64::from(cell.3),
    )
}

/// The drawn ellipse of finding `id`: its left, top, right and bottom in canvas pixels.
async fn drawn_ellipse(page: &mut Page, id: u32) -> [f64; 4] {
    let drawn = page
        .eval(&format!(
            "(() => {{ const e = document.querySelector('#overlay .finding[data-id=\"{id}\"] ellipse'); if (!e) return null; const n = (a) => +e.getAttribute(a); return [n('cx') - n('rx'), n('cy') - n('ry'), n('cx') + n('rx'), n('cy') + n('ry')]; }})()"
        ))
        .await;
    serde_json::from_value(drawn).expect("the ellipse is drawn")
}

/// The handles drawn on finding `id` (selected), in their order: their centres in canvas
/// pixels.
async fn drawn_handles(page: &mut Page, id: u32) -> Vec<(f64, f64)> {
    let drawn = page
        .eval(&format!(
            "[...document.querySelectorAll('#overlay .finding[data-id=\"{id}\"] rect.handle')].map((h) => [+h.getAttribute('x') + +h.getAttribute('width') / 2, +h.getAttribute('y') + +h.getAttribute('height') / 2])"
        ))
        .await;
    serde_json::from_value(drawn).expect("handles are drawn")
}

/// Canvas pixel `(x, y)` as fractions of the axial cell of the canvas in `area` (one
/// canvas pixel a CSS pixel), the cells laid out as the server does: the top right cell
/// is the larger half of an odd width and the smaller half of an odd height.
fn in_axial_cell(area: Region, (x, y): (f64, f64)) -> (f64, f64) {
    let (width, height) = (f64::from(area.2), f64::from(area.3));
    let left = (width / 2.0).floor();
    ((x - left) / (width - left), y / (height / 2.0).floor())
}

/// How far (fractions of the cell, either way) a point the server keeps may be from
/// where the pointer put it: about 2 px of the axial cell of the 800×600 page's canvas.
const CELL_TOLERANCE: f64 = 0.01;

/// Asserts `got` is within [`CELL_TOLERANCE`] of `want` (fractions of a cell); `what`
/// names it.
fn assert_in_cell_near(got: (f64, f64), want: (f64, f64), what: &str) {
    assert!(
        (got.0 - want.0).abs() <= CELL_TOLERANCE && (got.1 - want.1).abs() <= CELL_TOLERANCE,
        "{what}: at {got:?} of the cell, wanted {want:?}"
    );
}

/// The largest distance (mm) between the points `a` and `b` (`[L, P, S]` as JSON).
fn millimetres_apart(a: &Value, b: &Value) -> f64 {
    numbers(a)
        .into_iter()
        .zip(numbers(b))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Every number in `value` (an object's by key, an array's in order), as f64: JavaScript
/// writes 1245.0 as 1245, Rust as 1245.0.
fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Number(number) => vec![number.as_f64().expect("a finite number")],
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        Value::Object(fields) => {
            let mut keys: Vec<_> = fields.keys().collect();
            keys.sort();
            keys.into_iter()
                .flat_map(|key| numbers(&fields[key]))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Asserts each of `drawn` is within 1.5 px of `want`; `what` names them.
fn assert_near(drawn: [f64; 4], want: [f64; 4], what: &str) {
    for (got, want) in drawn.into_iter().zip(want) {
        assert!(
            (got - want).abs() <= 1.5,
            "{what}: drawn {drawn:?}, wanted {want}"
        );
    }
}

#[test]
fn findings_drawn_in_the_page_are_measured_by_the_server_listed_moved_reshaped_saved_and_deleted() {
    let state = tempfile::tempdir().expect("a state folder");
    let findings_folder = state.path().join("findings");
    let address = ct_server(findings_folder.clone());
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        let area = open_the_ct_in_the_quad_layout(page).await;
        let axial = quadrants(area)[1];
        nothing_saved_without_findings(page).await;
        let dragged = an_ellipse_is_measured_as_another_session_is_told(page, address, area).await;
        a_drag_moves_the_ellipse(page, axial, dragged).await;
        a_corner_handle_resizes_the_ellipse(page, area).await;
        an_angle_an_arrow_and_an_outline_are_drawn(page, axial).await;
        a_point_handle_moves_one_point_of_the_angle(page, area, axial).await;
        the_panel_line_brings_the_slice_back(page, at(axial, 0.47, 0.45)).await;
        saved_in_the_findings_folder(page, &findings_folder).await;
        key_image_and_snapshot_are_stored(page, &findings_folder).await;
        delete_removes_the_selected_finding(page).await;
        calcium_is_scored_as_the_command_line(page).await;
        a_clicked_candidate_is_named_and_coloured(page).await;
    });
}

/// The candidates show in yellow on the axial slice; with Name lesions on (LAD chosen), a
/// click on one names its lesion LAD: the server's report lists LAD's scores and the
/// pixel turns LAD's blue; with On slices off the slice shows no colour there.
async fn a_clicked_candidate_is_named_and_coloured(page: &mut Page) {
    // Where the canvas is now, the findings panel beside it.
    let area = chromium::canvas_box(page).await;
    let shown = canvas_pixels(page).await;
    assert_eq!(
        (shown.width(), shown.height()),
        (area.2, area.3),
        "a canvas pixel a CSS pixel"
    );
    let axial = quadrants((0, 0, area.2, area.3))[1];
    let yellow = |p: [u8; 4]| {
        let [r, g, b] = [p[0], p[1], p[2]].map(i32::from);
        r - b > 60 && g - b > 50
    };
    // A candidate's pixel whose eight neighbours are candidates too.
    let candidate = (axial.1 + 1..axial.1 + axial.3 - 1)
        .flat_map(|y| (axial.0 + 1..axial.0 + axial.2 - 1).map(move |x| (x, y)))
        .find(|&(x, y)| {
            (x - 1..=x + 1).all(|i| (y - 1..=y + 1).all(|j| yellow(shown.get_pixel(i, j).0)))
        })
        .expect("the candidates in yellow on the axial slice");
    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.eval("document.getElementById('calcium-artery').value = 'LAD'; document.getElementById('calcium-name').click(); true")
        .await;
    assert_eq!(
        page.eval("window.hounsfieldCalcium.naming").await,
        json!(true)
    );
    let on_page = |(x, y): (u32, u32)| (f64::from(area.0 + x) + 0.5, f64::from(area.1 + y) + 0.5);
    click(page, on_page(candidate)).await;
    page.wait_for("window.hounsfieldCalcium.report?.lesions.some((l) => l.artery === 'LAD') && !window.hounsfieldCalcium.asked")
        .await;
    let lad = page
        .eval("window.hounsfieldCalcium.report.arteries.find((a) => a.artery === 'LAD').lesions")
        .await;
    assert!(lad.as_u64().is_some_and(|n| n >= 1), "LAD's lesions: {lad}");
    let listed = page
        .eval("document.getElementById('calcium-arteries').textContent")
        .await;
    assert!(
        listed
            .as_str()
            .is_some_and(|text| text.contains("LAD: Agatston")),
        "{listed}"
    );
    wait_for_final_still(page, &frame).await;
    let named = canvas_pixels(page).await;
    let [r, _, b, _] = named.get_pixel(candidate.0, candidate.1).0.map(i32::from);
    assert!(b - r > 50, "LAD's blue where the candidate was: {r}, {b}");

    // A box over calcified pixels (the 5×5 block with the most candidates) marks the
    // mass score's calibration: the server takes the box on that slice, and its factor
    // and masses are the command line's for that box; the names stay.
    let candidates_round = |(x, y): (u32, u32)| {
        (x - 2..=x + 2)
            .flat_map(|i| (y - 2..=y + 2).map(move |j| (i, j)))
            .filter(|&(i, j)| yellow(named.get_pixel(i, j).0))
            .count()
    };
    let insert = (axial.1 + 2..axial.1 + axial.3 - 2)
        .flat_map(|y| (axial.0 + 2..axial.0 + axial.2 - 2).map(move |x| (x, y)))
        .max_by_key(|&at| candidates_round(at))
        .expect("the axial cell");
    assert!(candidates_round(insert) >= 20, "a block of candidates");
    page.eval("document.getElementById('calcium-density').value = '200'; document.getElementById('calcium-calibrate').click(); true")
        .await;
    let corner = |d: i32| on_page(((insert.0 as i32 + d) as u32, (insert.1 as i32 + d) as u32));
    mouse_drag(page, corner(-2), corner(2), 4).await;
    page.wait_for("window.hounsfieldCalcium.report?.calibrated && !window.hounsfieldCalcium.asked")
        .await;
    let report = page.eval("window.hounsfieldCalcium.report").await;
    let region: Vec<String> = report["calibration"]["box"]
        .as_array()
        .expect("the box the server took")
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(report["calibration"]["mg_per_cm3"].as_f64(), Some(200.0));
    let ct = support::data_dir().join("ct-head-neck");
    let theirs = support::hounsfield_json(&[
        "calcium",
        &ct.to_string_lossy(),
        "--calibration",
        &format!("{}:200", region.join(",")),
        "--json",
    ]);
    // (JavaScript gives a whole number without its ".0": numbers compared as numbers.)
    for (ours, theirs) in [
        (&report["mg_per_cm3_per_hu"], &theirs["mg_per_cm3_per_hu"]),
        (&report["total"]["mass_mg"], &theirs["total"]["mass_mg"]),
        (&report["total"]["agatston"], &theirs["total"]["agatston"]),
        (&report["total"]["lesions"], &theirs["total"]["lesions"]),
    ] {
        assert_eq!(ours.as_f64(), theirs.as_f64(), "{ours} against {theirs}");
    }
    assert_ne!(
        report["mg_per_cm3_per_hu"].as_f64(),
        Some(0.743),
        "not the default's factor"
    );
    assert!(
        report["lesions"]
            .as_array()
            .is_some_and(|all| all.iter().any(|l| l["artery"] == "LAD")),
        "the names stay"
    );
    let line = page
        .eval("document.getElementById('calcium-calibration').textContent")
        .await;
    assert!(
        line.as_str()
            .is_some_and(|text| text.contains("from an insert of 200 mg/cm³")),
        "{line}"
    );

    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.eval("document.getElementById('calcium-shown').click(); true")
        .await;
    page.wait_for("!window.hounsfieldCalcium.asked").await;
    assert_eq!(
        page.eval("window.hounsfieldCalcium.report.calibrated")
            .await,
        json!(true),
        "a later score keeps the calibration"
    );
    wait_for_final_still(page, &frame).await;
    let plain = canvas_pixels(page).await;
    let [r, g, b, _] = plain.get_pixel(candidate.0, candidate.1).0.map(i32::from);
    assert!(
        (r - b).abs() < 30 && (g - b).abs() < 30,
        "grey once taken off: {r}, {g}, {b}"
    );
}

/// The Calcium panel's Score: the server's total for the whole CT, shown as the command
/// line's `calcium --json` gives it.
async fn calcium_is_scored_as_the_command_line(page: &mut Page) {
    assert_eq!(
        page.eval("document.getElementById('calcium-score').disabled")
            .await,
        json!(false),
        "a CT may be scored"
    );
    page.eval("document.getElementById('calcium-score').click(); true")
        .await;
    page.wait_for("window.hounsfieldCalcium.report !== null")
        .await;
    let ours = page.eval("window.hounsfieldCalcium.report.total").await;
    let ct = support::data_dir().join("ct-head-neck");
    let theirs = support::hounsfield_json(&["calcium", &ct.to_string_lossy(), "--json"]);
    assert_eq!(ours, theirs["total"]);
    let shown = page
        .eval("document.getElementById('calcium-total').textContent")
        .await;
    let agatston = format!(
        "Agatston {:.1}",
        theirs["total"]["agatston"].as_f64().unwrap_or(f64::NAN)
    );
    assert!(
        shown.as_str().is_some_and(|text| text.contains(&agatston)),
        "{shown} against {agatston}"
    );
    let rows = page
        .eval("document.querySelectorAll('#calcium-lesions tr').length")
        .await;
    assert_eq!(rows, json!(21), "a heading and the 20 highest lesions");
}

/// Save with no findings yet: the page says why nothing was saved.
async fn nothing_saved_without_findings(page: &mut Page) {
    page.eval("document.getElementById('save-findings').click(); true")
        .await;
    page.wait_for("window.hounsfield.saveStatus?.startsWith('findings not saved')")
        .await;
    let status = status_text(page).await;
    assert!(status.contains("the series has no findings"), "{status}");
}

/// Drags an ellipse on the axial cell of the canvas in `area`: the server measures it (HU
/// within the CT's range), another session is told the same numbers and points, its label
/// shows them and it is drawn back where it was dragged. Returns the drag's corners
/// (canvas pixels: left, top, right, bottom).
async fn an_ellipse_is_measured_as_another_session_is_told(
    page: &mut Page,
    address: SocketAddr,
    area: Region,
) -> [f64; 4] {
    let axial = quadrants(area)[1];
    choose_tool(page, "ellipse").await;
    let (from, to) = (at(axial, 0.35, 0.35), at(axial, 0.6, 0.55));
    mouse_drag(page, from, to, 6).await;
    page.wait_for("window.hounsfield.findings.length === 1")
        .await;
    let finding = page.eval("window.hounsfield.findings[0]").await;
    assert_eq!(
        (&finding["id"], &finding["kind"], &finding["cell"]),
        (&json!(1), &json!("ellipse"), &json!("axial"))
    );
    let mean = finding["stats"]["mean"].as_f64().expect("a mean");
    assert!(
        (-1024.0..=3071.0).contains(&mean),
        "a mean in the CT's HU range: {mean}"
    );
    assert_eq!(finding["stats"]["unit"], json!("HU"));
    assert!(finding["stats"]["voxels"].as_u64() > Some(100), "{finding}");

    // The server tells another session the same numbers.
    let told = findings_told_to_another_session(address).await;
    assert_eq!(told.len(), 1);
    assert_eq!(numbers(&told[0]["stats"]), numbers(&finding["stats"]));
    assert_eq!(told[0]["stats"]["unit"], finding["stats"]["unit"]);
    assert_eq!(
        numbers(&told[0]["points_lps"]),
        numbers(&finding["points_lps"])
    );

    // Its label shows them.
    let label = page
        .eval("document.querySelector('#overlay .finding[data-id=\"1\"] text')?.textContent ?? ''")
        .await;
    let label = label.as_str().unwrap_or_default().to_string();
    let shown: f64 = label
        .strip_prefix("mean ")
        .and_then(|rest| rest.split(" HU").next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("the label names the mean in HU: {label:?}"));
    assert!((shown - mean).abs() <= 0.05, "{label} for a mean of {mean}");
    assert!(
        label.contains(" · sd ") && label.ends_with(" mm²"),
        "{label}"
    );

    // Drawn back from its patient points where it was dragged.
    let origin = (f64::from(area.0), f64::from(area.1));
    let dragged = [
        from.0 - origin.0,
        from.1 - origin.1,
        to.0 - origin.0,
        to.1 - origin.1,
    ];
    assert_near(drawn_ellipse(page, 1).await, dragged, "the ellipse");
    dragged
}

/// A press inside the ellipse (drawn at `dragged`) selects it and a drag moves it 20 px
/// right and 10 px down: the server measures it there, towards L and P, and it is drawn
/// there.
async fn a_drag_moves_the_ellipse(page: &mut Page, axial: Region, dragged: [f64; 4]) {
    let before = page.eval("window.hounsfield.findings[0]").await;
    let inside = at(axial, 0.47, 0.45);
    mouse_drag(page, inside, (inside.0 + 20.0, inside.1 + 10.0), 5).await;
    page.wait_for(&format!(
        "window.hounsfield.findings[0].points_lps[0][0] !== {}",
        before["points_lps"][0][0]
    ))
    .await;
    assert_eq!(
        page.eval("window.hounsfield.selectedFinding").await,
        json!(1)
    );
    let moved = page.eval("window.hounsfield.findings[0]").await;
    let shift = |axis: usize| {
        moved["points_lps"][0][axis].as_f64().expect("mm")
            - before["points_lps"][0][axis].as_f64().expect("mm")
    };
    assert!(
        shift(0) > 0.0 && shift(1) > 0.0,
        "right and down on the axial slice are L and P"
    );
    let [left, top, right, bottom] = dragged;
    assert_near(
        drawn_ellipse(page, 1).await,
        [left + 20.0, top + 10.0, right + 20.0, bottom + 10.0],
        "the moved ellipse",
    );
}

/// The selected ellipse shows its box's four corners; a drag of its bottom-right corner
/// 30 px right and 20 px down (on the canvas in `area`) resizes it: the server's finding
/// has its second corner where the drag ended and its first where it was (within
/// [`CELL_TOLERANCE`]), a larger area, and its label shows the new area.
async fn a_corner_handle_resizes_the_ellipse(page: &mut Page, area: Region) {
    assert_eq!(
        page.eval("window.hounsfield.selectedFinding").await,
        json!(1)
    );
    let before = page.eval("window.hounsfield.findings[0]").await;
    let corners = drawn_handles(page, 1).await;
    assert_eq!(corners.len(), 4, "the box's corners: {corners:?}");
    let origin = (f64::from(area.0), f64::from(area.1));
    let from = (origin.0 + corners[2].0, origin.1 + corners[2].1);
    let to = (from.0 + 30.0, from.1 + 20.0);
    mouse_drag(page, from, to, 6).await;
    page.wait_for(&format!(
        "window.hounsfield.findings[0].points_lps[1][0] !== {}",
        before["points_lps"][1][0]
    ))
    .await;
    let resized = page.eval("window.hounsfield.findings[0]").await;
    assert_eq!(
        page.eval("window.hounsfield.findings.length").await,
        json!(1),
        "a drag of a handle draws nothing new"
    );

    // Where the server keeps its corners, as the page draws them back.
    let after = drawn_handles(page, 1).await;
    assert_eq!(after.len(), 4, "the resized box's corners: {after:?}");
    assert_in_cell_near(
        in_axial_cell(area, after[2]),
        in_axial_cell(area, (to.0 - origin.0, to.1 - origin.1)),
        "the dragged second corner",
    );
    assert_in_cell_near(
        in_axial_cell(area, after[0]),
        in_axial_cell(area, corners[0]),
        "the first corner",
    );
    let stayed = millimetres_apart(&resized["points_lps"][0], &before["points_lps"][0]);
    assert!(stayed < 0.01, "the first corner moved {stayed} mm");

    // Larger, and its label says so.
    let area_mm2 = |finding: &Value| finding["stats"]["area_mm2"].as_f64().expect("mm²");
    assert!(
        area_mm2(&resized) > area_mm2(&before),
        "{} mm² after, {} mm² before",
        area_mm2(&resized),
        area_mm2(&before)
    );
    let label = page
        .eval("document.querySelector('#overlay .finding[data-id=\"1\"] text')?.textContent ?? ''")
        .await;
    let label = label.as_str().unwrap_or_default().to_string();
    let shown: f64 = label
        .rsplit(" · ")
        .next()
        .and_then(|last| last.strip_suffix(" mm²"))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("the label ends with the area: {label:?}"));
    assert!(
        (shown - area_mm2(&resized)).abs() <= 0.05,
        "{label} for {} mm²",
        area_mm2(&resized)
    );
}

/// An angle by three clicks (a right angle), an arrow with its note typed in the page,
/// and a freehand outline (a polygon with statistics), each measured by the server.
async fn an_angle_an_arrow_and_an_outline_are_drawn(page: &mut Page, axial: Region) {
    choose_tool(page, "angle").await;
    let vertex = at(axial, 0.15, 0.85);
    for point in [
        (vertex.0 + 40.0, vertex.1),
        vertex,
        (vertex.0, vertex.1 - 40.0),
    ] {
        click(page, point).await;
    }
    page.wait_for("window.hounsfield.findings.length === 2")
        .await;
    let degrees = page.eval("window.hounsfield.findings[1].angle_deg").await;
    let degrees = degrees.as_f64().expect("an angle");
    assert!((degrees - 90.0).abs() < 1.0, "{degrees}");

    choose_tool(page, "arrow").await;
    mouse_drag(page, at(axial, 0.9, 0.1), at(axial, 0.75, 0.25), 4).await;
    page.wait_for("!document.getElementById('finding-note').hidden && document.activeElement?.id === 'finding-note-text'")
        .await;
    page.call("Input.insertText", json!({"text": "Lymph node, level II"}))
        .await;
    press_key(page, "Enter", 13, "\r").await;
    page.wait_for("window.hounsfield.findings.length === 3")
        .await;
    assert_eq!(
        page.eval("[window.hounsfield.findings[2].kind, window.hounsfield.findings[2].note, document.querySelector('#overlay .finding[data-id=\"3\"] text').textContent]").await,
        json!(["arrow", "Lymph node, level II", "Lymph node, level II"])
    );

    choose_tool(page, "freehand").await;
    let centre = at(axial, 0.8, 0.7);
    let around: Vec<(f64, f64)> = (0..=24)
        .map(|n| {
            let turn = f64::from(n) / 24.0 * std::f64::consts::TAU;
            (centre.0 + 18.0 * turn.cos(), centre.1 + 18.0 * turn.sin())
        })
        .collect();
    page.mouse("mousePressed", around[0].0, around[0].1, 1)
        .await;
    for point in &around[1..] {
        page.mouse("mouseMoved", point.0, point.1, 1).await;
    }
    page.mouse("mouseReleased", around[24].0, around[24].1, 0)
        .await;
    page.wait_for("window.hounsfield.findings.length === 4")
        .await;
    let polygon = page.eval("window.hounsfield.findings[3]").await;
    assert_eq!(polygon["kind"], json!("polygon"));
    let vertices = polygon["points_lps"].as_array().map_or(0, Vec::len);
    assert!((3..=25).contains(&vertices), "{vertices} vertices");
    assert!(
        polygon["stats"]["area_mm2"].as_f64() > Some(0.0),
        "{polygon}"
    );
}

/// A click on the angle's first arm selects it (its three points show handles); a drag of
/// that arm's end 40 px up (on the canvas in `area`) moves that point only: the server
/// measures 45°, the vertex and the other arm's end where they were.
async fn a_point_handle_moves_one_point_of_the_angle(page: &mut Page, area: Region, axial: Region) {
    let vertex = at(axial, 0.15, 0.85);
    click(page, (vertex.0 + 20.0, vertex.1)).await;
    page.wait_for("window.hounsfield.selectedFinding === 2")
        .await;
    let before = page.eval("window.hounsfield.findings[1]").await;
    let points = drawn_handles(page, 2).await;
    assert_eq!(points.len(), 3, "the angle's points: {points:?}");
    let from = (
        f64::from(area.0) + points[0].0,
        f64::from(area.1) + points[0].1,
    );
    mouse_drag(page, from, (from.0, from.1 - 40.0), 5).await;
    page.wait_for("Math.abs(window.hounsfield.findings[1].angle_deg - 90) > 10")
        .await;
    let moved = page.eval("window.hounsfield.findings[1]").await;
    let degrees = moved["angle_deg"].as_f64().expect("an angle");
    assert!((degrees - 45.0).abs() < 1.5, "{degrees}");
    for point in [1, 2] {
        let stayed = millimetres_apart(&moved["points_lps"][point], &before["points_lps"][point]);
        assert!(stayed < 0.01, "point {point} moved {stayed} mm");
    }
    assert_eq!(
        page.eval("window.hounsfield.findings.length").await,
        json!(4)
    );
}

/// The wheel at `spot` moves the axial slice and the ellipse hides; its line in the
/// findings panel selects it and moves the crosshair to its middle (its slice shows it,
/// the other slices pass through it).
async fn the_panel_line_brings_the_slice_back(page: &mut Page, spot: (f64, f64)) {
    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.call(
        "Input.dispatchMouseEvent",
        json!({"type": "mouseWheel", "x": spot.0, "y": spot.1, "deltaX": 0, "deltaY": 100}),
    )
    .await;
    page.wait_for(&format!("{ELLIPSES_DRAWN} === 0")).await;
    wait_for_final_still(page, &frame).await;
    page.eval("document.getElementById('findings-toggle').click(); true")
        .await;
    assert_eq!(
        page.eval("document.getElementById('findings-toggle').textContent")
            .await,
        json!("Findings (4)")
    );
    let line = page
        .eval("document.querySelector('#findings-list li[data-id=\"1\"] .go').textContent")
        .await;
    assert!(
        line.as_str()
            .is_some_and(|line| line.starts_with("#1 Ellipse (axial) mean ")),
        "{line}"
    );
    page.eval("document.querySelector('#findings-list li[data-id=\"1\"] .go').click(); true")
        .await;
    page.wait_for(&format!("(() => {{ const [a, b] = window.hounsfield.findings[0].points_lps; return [0, 1, 2].every((n) => Math.abs(window.hounsfield.crosshair[n] - (a[n] + b[n]) / 2) < 0.01); }})() && {ELLIPSES_DRAWN} === 1"))
        .await;
    assert_eq!(
        page.eval("window.hounsfield.selectedFinding").await,
        json!(1)
    );
}

/// How many ellipses the overlay draws (JavaScript).
const ELLIPSES_DRAWN: &str =
    "document.querySelectorAll('#overlay .finding[data-kind=\"ellipse\"]').length";

/// Save stores the four findings as a report in `findings_folder`, and the page says where.
async fn saved_in_the_findings_folder(page: &mut Page, findings_folder: &std::path::Path) {
    page.eval("document.getElementById('save-findings').click(); true")
        .await;
    page.wait_for("window.hounsfield.saved?.findings === 4")
        .await;
    let saved = page.eval("window.hounsfield.saved").await;
    assert_eq!(saved["document"], json!("measurement report"));
    let report = PathBuf::from(saved["location"].as_str().expect("a location"));
    assert!(
        report.starts_with(findings_folder) && report.is_file(),
        "{}",
        report.display()
    );
    let status = status_text(page).await;
    assert!(
        status.contains(&format!(
            "saved 4 findings as a measurement report in the findings folder: {}",
            report.display()
        )),
        "{status}"
    );
}

/// Key image and Snapshot store a Key Object Selection of the axial slice and a Secondary
/// Capture of the 3D view beside the report, and the page says so.
async fn key_image_and_snapshot_are_stored(page: &mut Page, findings_folder: &std::path::Path) {
    for (button, document) in [
        ("key-image", "key object selection"),
        ("snapshot", "secondary capture"),
    ] {
        page.eval(&format!(
            "document.getElementById('{button}').click(); true"
        ))
        .await;
        page.wait_for(&format!(
            "window.hounsfield.saved?.document === '{document}'"
        ))
        .await;
        let saved = page.eval("window.hounsfield.saved").await;
        let file = PathBuf::from(saved["location"].as_str().expect("a location"));
        assert!(
            file.starts_with(findings_folder) && file.is_file(),
            "{document}: {}",
            file.display()
        );
        let status = status_text(page).await;
        assert!(status.contains(&format!("saved a {document}")), "{status}");
    }
}

/// The Delete key removes the selected finding (the ellipse, selected from its line).
async fn delete_removes_the_selected_finding(page: &mut Page) {
    press_key(page, "Delete", 46, "").await;
    page.wait_for(&format!("window.hounsfield.findings.length === 3 && !window.hounsfield.findings.some((f) => f.id === 1) && {ELLIPSES_DRAWN} === 0"))
        .await;
    assert_eq!(
        page.eval("document.getElementById('findings-toggle').textContent")
            .await,
        json!("Findings (3)")
    );
}
