//! Segments in the web page, in headless Chromium, on the shared data's real CT
//! (`ct-head-neck`) in the 2×2 layout: a segment added in the panel grows from a mouse
//! click on bone in the axial cell; its volume is the command line's for the same click
//! (`hounsfield segment --seed`) and what a second session is told; undo and redo by the
//! panel's buttons; "in 3D" shows it alone in the 3D cell, or hides it there; Save stores
//! a Segmentation in the server's findings folder. A drag of the disc brush paints a new
//! segment (a second session is told its numbers), the same drag of the eraser empties it.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chromium::{
    NO_WEBCODECS, Page, Region, canvas_pixels, changed_share, ct_in_the_quad_layout, quadrants,
    wait_for_final_still, with_page_url,
};
use hounsfield_client::Client;
use hounsfield_protocol::{ClientMessage, SegmentInfo, SegmentNumbers, ServerMessage, Viewport};
use serde_json::Value;
use support::server::told;

/// A server of the CT with no H.264, keeping documents in `folder`, with the three-class
/// model the test builds there (`onnx_model.py`).
fn ct_server(folder: PathBuf) -> SocketAddr {
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    std::fs::create_dir_all(&folder).expect("the findings folder");
    let model = folder.join("three-classes.onnx");
    support::imaging_python_script(
        "onnx_model.py",
        &["make", &model.to_string_lossy(), "--patch", "16,64,64"],
    );
    config.model = Some(std::sync::Arc::new(
        hounsfield_model::SegmentationModel::load(&model).expect("the model"),
    ));
    config.findings_folder = Some(folder);
    support::server::start_serving(config, &[support::data("ct-head-neck")])
}

/// A session of `size` on the CT: the client and the series.
async fn second_session(address: SocketAddr, size: [u32; 2]) -> (Client, String) {
    let viewport = Viewport {
        width: size[0],
        height: size[1],
    };
    let mut client = support::server::connected(address, viewport).await;
    let studies = client.list_studies().await.expect("studies");
    let series = studies[0].series[0].id.clone();
    client.open(&series).await.expect("opened");
    (client, series)
}

/// The CSS point of fractions `at` of the axial cell of the canvas in `area` (one canvas
/// pixel a CSS pixel), the cells laid out as the page and the server do.
fn in_axial_cell(area: Region, at: [f64; 2]) -> (f64, f64) {
    let (width, height) = (f64::from(area.2), f64::from(area.3));
    let left = (width / 2.0).floor();
    let top = (height / 2.0).floor();
    (
        f64::from(area.0) + left + at[0] * (width - left),
        f64::from(area.1) + at[1] * top,
    )
}

async fn click_button(page: &mut Page, id: &str) {
    page.eval(&format!("document.getElementById('{id}').click(); true"))
        .await;
}

/// The page's segments (as JSON).
async fn page_segments(page: &mut Page) -> Vec<Value> {
    let segments = page
        .eval("JSON.parse(JSON.stringify(window.hounsfield.segments.segments))")
        .await;
    serde_json::from_value(segments).expect("a list")
}

/// `hounsfield segment` of the CT grown from `lps` within 300..3000 HU, as JSON.
fn command_line(lps: [f64; 3]) -> Value {
    let ct = support::data_arg("ct-head-neck");
    let seed = format!("--seed={},{},{}", lps[0], lps[1], lps[2]);
    support::hounsfield_json(&["segment", &ct, "--threshold", "300,3000", &seed, "--json"])
}

#[test]
fn a_segment_grown_by_a_click_in_the_page_is_the_command_lines_and_is_saved() {
    let state = tempfile::tempdir().expect("a state folder");
    let findings = state.path().join("findings");
    let address = ct_server(findings.clone());
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        // The panel first: it takes room from the canvas.
        page.wait_for("document.getElementById('segments-toggle') !== null")
            .await;
        click_button(page, "segments-toggle").await;
        let (area, size) = ct_in_the_quad_layout(page).await;
        let three_d_cell = quadrants((0, 0, size[0], size[1]))[0];
        let before = canvas_pixels(page).await;
        let (mut other, _series) = second_session(address, size).await;
        // A point well inside bone (at least 500 HU) in the middle of the axial cell.
        let (at, lps) = support::server::probed_in_cell(&mut other, "axial", 4..16, 500.0..=3000.0)
            .await
            .expect("bone in the middle of the axial cell");
        click_button(page, "segment-add").await;
        page.wait_for("window.hounsfield.segments.segments.length === 1")
            .await;
        page.eval("document.getElementById('segment-low').value = '300'; document.getElementById('segment-high').value = '3000'; true")
            .await;
        click_button(page, "segment-grow").await;
        assert_eq!(
            page.eval("document.getElementById('segment-grow').getAttribute('aria-pressed')")
                .await,
            Value::from("true")
        );
        let (x, y) = in_axial_cell(area, at);
        page.mouse("mousePressed", x, y, 1).await;
        page.mouse("mouseReleased", x, y, 0).await;
        page.wait_for("window.hounsfield.segments.segments[0]?.numbers.voxels > 0")
            .await;
        let grown = page_segments(page).await.remove(0);
        // The command line's region from the same point.
        let cli = command_line(lps);
        assert_eq!(grown["numbers"]["voxels"], cli["voxels"], "{grown}\n{cli}");
        assert_eq!(grown["numbers"]["volume_ml"], cli["volume_ml"]);
        // The other session asks and is told the same numbers.
        let told_numbers = settled_numbers(page, &mut other, 0).await;
        assert_eq!(
            Some(told_numbers.voxels as u64),
            grown["numbers"]["voxels"].as_u64()
        );
        // The panel's line shows its volume.
        let line = page
            .eval("document.querySelector('#segments-list li').textContent")
            .await;
        let volume = format!("{:.2} mL", cli["volume_ml"].as_f64().unwrap_or_default());
        assert!(line.as_str().is_some_and(|l| l.contains(&volume)), "{line}");
        // In 3D alone, the 3D cell shows the segment's colour on black; hidden, the
        // picture from before it.
        let alone = show_in_3d(page, "alone").await;
        let (coloured, stray) = colours_in(&alone, three_d_cell, segment_colour(&grown));
        assert!(coloured > 500, "{coloured} pixels of the segment's colour");
        // JPEG's colours bleed at the segment's edges, and the highlight whitens it: a
        // few percent of the pixels (2.2% when written); the volume rendering would be
        // most of them.
        assert!(
            stray * 10 < coloured,
            "{stray} pixels neither the segment's nor black"
        );
        let hidden = show_in_3d(page, "hidden").await;
        assert!(changed_share(&before, &hidden, three_d_cell) < 0.002);
        // Preview: a range holding every value lays the segment's colour over the whole
        // axial cell, the 3D cell as it was; unticked, the slices come back.
        let axial_cell = quadrants((0, 0, size[0], size[1]))[1];
        page.eval("document.getElementById('segment-low').value = '-5000'; true")
            .await;
        let previewed = preview_ticked(page, true).await;
        assert!(changed_share(&hidden, &previewed, axial_cell) > 0.3);
        assert!(changed_share(&hidden, &previewed, three_d_cell) < 0.002);
        let unticked = preview_ticked(page, false).await;
        assert!(changed_share(&hidden, &unticked, axial_cell) < 0.002);
        page.eval("document.getElementById('segment-low').value = '300'; true")
            .await;
        // Undo empties it, redo brings the region back.
        click_button(page, "segment-undo").await;
        page.wait_for("window.hounsfield.segments.segments[0].numbers.voxels === 0")
            .await;
        click_button(page, "segment-redo").await;
        page.wait_for(&format!(
            "window.hounsfield.segments.segments[0].numbers.voxels === {}",
            cli["voxels"]
        ))
        .await;
        // Saved as a Segmentation in the findings folder.
        click_button(page, "save-segments").await;
        page.wait_for(
            "/saved 1 segments/.test(document.getElementById('segments-status').textContent)",
        )
        .await;
        assert_eq!(segmentations_in(&findings), 1);
        // A new segment painted by a drag of the disc brush over the axial cell: the other
        // session is told the page's numbers; the same drag with the eraser leaves nothing.
        click_button(page, "segment-add").await;
        page.wait_for("window.hounsfield.segments.segments.length === 2")
            .await;
        page.eval("document.getElementById('segment-brush-mm').value = '4'; true")
            .await;
        click_button(page, "segment-paint").await;
        drag_in_axial_cell(page, area, [0.35, 0.5], [0.65, 0.55]).await;
        page.wait_for("window.hounsfield.segments.segments[1]?.numbers.voxels > 0")
            .await;
        let painted = settled_numbers(page, &mut other, 1).await;
        assert!(painted.voxels > 100, "{painted:?}");
        click_button(page, "segment-erase").await;
        drag_in_axial_cell(page, area, [0.35, 0.5], [0.65, 0.55]).await;
        page.wait_for("window.hounsfield.segments.segments[1].numbers.voxels === 0")
            .await;
        assert_eq!(settled_numbers(page, &mut other, 1).await.voxels, 0);
        // The Segmentation saved is listed under Saved before; Show adds its segment
        // back, the grown region's voxels.
        page.wait_for("window.hounsfield.segments.kept.length === 1")
            .await;
        let listed = page
            .eval("document.querySelector('#segmentations-saved li').textContent")
            .await;
        assert!(
            listed
                .as_str()
                .is_some_and(|l| l.contains("findings folder")),
            "{listed}"
        );
        page.eval("document.querySelector('#segmentations-saved button.show').click(); true")
            .await;
        page.wait_for(&format!(
            "window.hounsfield.segments.segments.length === 3 && window.hounsfield.segments.segments[2].numbers.voxels === {}",
            cli["voxels"]
        ))
        .await;
        // Run model: the server's model adds its two classes, the voxels NumPy finds.
        let numpy = support::imaging_python_script(
            "onnx_model.py",
            &["expect", &support::data_arg("ct-head-neck")],
        );
        click_button(page, "segment-run-model").await;
        page.wait_for("window.hounsfield.segments.model?.state === 'done' && window.hounsfield.segments.segments.length === 5")
            .await;
        let found = page_segments(page).await;
        for (segment, class) in found[3..].iter().zip(["class 1", "class 2"]) {
            assert_eq!(segment["label"], format!("three-classes {class}").as_str());
            assert_eq!(segment["numbers"]["voxels"], numpy[class], "{segment}");
        }
        let status = page
            .eval("document.getElementById('segments-status').textContent")
            .await;
        assert!(
            status.as_str().is_some_and(|s| s.contains("three-classes")),
            "{status}"
        );
    });
}

/// A left-button drag over the axial cell from fractions `from` to `to`, in 24 moves.
async fn drag_in_axial_cell(page: &mut Page, area: Region, from: [f64; 2], to: [f64; 2]) {
    let (x, y) = in_axial_cell(area, from);
    page.mouse("mousePressed", x, y, 1).await;
    for step in 1..=24 {
        let t = f64::from(step) / 24.0;
        let at = [
            from[0] + (to[0] - from[0]) * t,
            from[1] + (to[1] - from[1]) * t,
        ];
        let (x, y) = in_axial_cell(area, at);
        page.mouse("mouseMoved", x, y, 1).await;
    }
    let (x, y) = in_axial_cell(area, to);
    page.mouse("mouseReleased", x, y, 0).await;
}

/// The numbers of the page's segment at `index` once the page and `other` (asking for the
/// series' segments) agree on them: a stroke's pieces land one after another.
async fn settled_numbers(page: &mut Page, other: &mut Client, index: usize) -> SegmentNumbers {
    for _ in 0..40 {
        let shown = page_segments(page).await;
        let numbers: SegmentNumbers =
            serde_json::from_value(shown[index]["numbers"].clone()).expect("the page's numbers");
        other.send(&ClientMessage::Segments).await.expect("sent");
        let told_segments: Vec<SegmentInfo> =
            told(other, Duration::from_secs(10), |told| match told {
                ServerMessage::Segments { segments, .. } => Some(segments),
                _ => None,
            })
            .await
            .expect("segments");
        if told_segments.get(index).map(|s| &s.numbers) == Some(&numbers) {
            return numbers;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the page and the other session never agreed");
}

/// Chooses how the 3D view shows the segments (the panel's "in 3D"), and the canvas's
/// pixels once the still of that view has come.
async fn show_in_3d(page: &mut Page, show: &str) -> image::RgbaImage {
    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.eval(&format!(
        "(() => {{ const s = document.getElementById('segments-3d'); s.value = '{show}'; \
         s.dispatchEvent(new Event('change')); return true; }})()"
    ))
    .await;
    wait_for_final_still(page, &frame).await;
    canvas_pixels(page).await
}

/// Ticks (or unticks) the threshold's Preview and returns the picture once its final
/// still has come.
async fn preview_ticked(page: &mut Page, ticked: bool) -> image::RgbaImage {
    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.eval(&format!(
        "(() => {{ const p = document.getElementById('segment-preview'); p.checked = {ticked}; \
         p.dispatchEvent(new Event('input')); return true; }})()"
    ))
    .await;
    wait_for_final_still(page, &frame).await;
    canvas_pixels(page).await
}

/// A segment's colour, as the page was told it.
fn segment_colour(segment: &Value) -> [u8; 3] {
    serde_json::from_value(segment["colour"].clone()).expect("a colour")
}

/// In `region` of `pixels`: how many are of `colour`'s hue (lit or shaded: each channel
/// in its proportion to the brightest, within 0.12), and how many are neither that nor
/// black (every channel at most 24).
fn colours_in(pixels: &image::RgbaImage, (x, y, w, h): Region, colour: [u8; 3]) -> (usize, usize) {
    let brightest = f64::from(*colour.iter().max().unwrap_or(&1)).max(1.0);
    let share = colour.map(|c| f64::from(c) / brightest);
    let (mut coloured, mut other) = (0, 0);
    for j in y..y + h {
        for i in x..x + w {
            let p = pixels.get_pixel(i, j).0;
            let top = f64::from(p[0].max(p[1]).max(p[2]));
            if p[..3].iter().all(|&c| c <= 24) {
                continue;
            }
            let hue = (0..3).all(|c| (f64::from(p[c]) / top - share[c]).abs() <= 0.12);
            if hue { coloured += 1 } else { other += 1 }
        }
    }
    (coloured, other)
}

/// How many Segmentations the findings folder holds, as `hounsfield segments list` finds
/// them.
fn segmentations_in(folder: &Path) -> usize {
    let listed =
        support::hounsfield_json(&["segments", "list", &folder.to_string_lossy(), "--json"]);
    listed.as_array().map_or(0, Vec::len)
}
