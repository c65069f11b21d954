//! Oblique slices in the web page, in headless Chromium, on the shared data's real CT
//! (`ct-head-neck`) in the 2×2 layout: a mouse drag of the handle on the coronal plane's
//! line in the axial cell, 30° about the crosshair, turns the planes by that angle (the
//! server's `crosshair` message then tells each cell's axes: the coronal plane's right turned
//! in the axial plane, its down still towards the feet), the axial picture stays and the
//! coronal one changes, the line is drawn along its new direction; a ruler dragged on the
//! turned coronal slice is drawn under the pointer, and an ellipse drawn there with the tool
//! is kept with that cell's turned axes; Reset planes brings the standard planes (and the
//! coronal picture) back, and the oblique ellipse leaves the standard coronal slice.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::net::SocketAddr;
use std::time::Duration;

use chromium::{
    NO_WEBCODECS, Page, canvas_pixels, changed_share, ct_in_the_quad_layout, quadrants,
    wait_for_final_still, with_page_url,
};
use hounsfield_protocol::Viewport;
use serde_json::{Value, json};

/// A server of the CT with a 400×300 view and no H.264 (every frame an image).
fn ct_server() -> SocketAddr {
    let mut config = support::server::loopback_config();
    config.default_viewport = Viewport {
        width: 400,
        height: 300,
    };
    config.h264_encoders = Vec::new();
    support::server::start_serving(config, &[support::data("ct-head-neck")])
}

/// The crosshair's spot in `plane`'s cell and the handles on `line`'s line there, as the
/// overlay draws them (canvas pixels).
async fn handles(page: &mut Page, plane: &str, line: &str) -> ([f64; 2], Vec<[f64; 2]>) {
    let found = page
        .eval(&format!(
            "(() => {{ const g = document.querySelector('#overlay g[data-plane={plane}] .crosshair'); \
             return [[Number(g.dataset.x), Number(g.dataset.y)], \
             [...g.querySelectorAll('circle.turn[data-line={line}]')].map((c) => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))])]; }})()"
        ))
        .await;
    serde_json::from_value(found).expect("a spot and handles")
}

/// The angle (degrees, counter-clockwise on the screen) of `point` about `centre`.
fn screen_angle(centre: [f64; 2], point: [f64; 2]) -> f64 {
    (-(point[1] - centre[1]))
        .atan2(point[0] - centre[0])
        .to_degrees()
}

/// The handle on `line`'s line in `plane`'s cell nearest the screen angle `degrees` about
/// the crosshair: the spot, the handle and the handle's angle.
async fn handle_towards(
    page: &mut Page,
    plane: &str,
    line: &str,
    degrees: f64,
) -> ([f64; 2], [f64; 2], f64) {
    let (spot, found) = handles(page, plane, line).await;
    let off = |handle: &[f64; 2]| {
        let d = (screen_angle(spot, *handle) - degrees).rem_euclid(360.0);
        d.min(360.0 - d)
    };
    let handle = found
        .iter()
        .min_by(|a, b| off(a).total_cmp(&off(b)))
        .copied()
        .unwrap_or_else(|| panic!("no handle on the {line} line in the {plane} cell"));
    (spot, handle, screen_angle(spot, handle))
}

/// The slice planes' axes the page last heard of (`null` while standard).
async fn planes(page: &mut Page) -> Value {
    page.eval("window.hounsfield.planes").await
}

fn vector(planes: &Value, plane: &str, axis: &str) -> [f64; 3] {
    serde_json::from_value(planes[plane][axis].clone()).expect("an LPS vector")
}

fn assert_near(got: [f64; 3], wanted: [f64; 3], what: &str) {
    let off = (0..3)
        .map(|i| (got[i] - wanted[i]).abs())
        .fold(0.0, f64::max);
    assert!(off < 0.01, "{what}: {got:?}, wanted {wanted:?}");
}

/// Drags with the left button from `from` about `centre` by `degrees` (counter-clockwise on
/// the screen) in `steps` moves, 30 ms apart; page (CSS) pixels.
async fn drag_about(page: &mut Page, centre: [f64; 2], from: [f64; 2], degrees: f64, steps: u32) {
    let radius = (from[0] - centre[0]).hypot(from[1] - centre[1]);
    let start = screen_angle(centre, from).to_radians();
    page.mouse("mousePressed", from[0], from[1], 1).await;
    let mut at = from;
    for step in 1..=steps {
        let angle = start + degrees.to_radians() * f64::from(step) / f64::from(steps);
        at = [
            centre[0] + radius * angle.cos(),
            centre[1] - radius * angle.sin(),
        ];
        page.mouse("mouseMoved", at[0], at[1], 1).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    page.mouse("mouseReleased", at[0], at[1], 0).await;
}

/// A left drag in a straight line from `from` to `to` (page points) in eight steps, with
/// DevTools `modifiers` held (8: shift).
async fn drag_straight(page: &mut Page, from: [f64; 2], to: [f64; 2], modifiers: u32) {
    page.mouse_with("mousePressed", (from[0], from[1]), "left", 1, modifiers)
        .await;
    for step in 1..=8 {
        let t = f64::from(step) / 8.0;
        let at = (
            from[0] + (to[0] - from[0]) * t,
            from[1] + (to[1] - from[1]) * t,
        );
        page.mouse_with("mouseMoved", at, "left", 1, modifiers)
            .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    page.mouse_with("mouseReleased", (to[0], to[1]), "left", 0, modifiers)
        .await;
}

#[test]
fn a_drag_of_a_lines_handle_turns_the_planes_and_reset_planes_brings_them_back() {
    let address = ct_server();
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        let (area, size) = ct_in_the_quad_layout(page).await;
        page.wait_for("document.querySelector('#overlay circle.turn') !== null")
            .await;
        assert_eq!(
            page.eval("document.getElementById('reset-planes').hidden")
                .await,
            json!(false),
            "Reset planes shows in the 2×2 layout"
        );
        assert_eq!(planes(page).await, Value::Null, "the standard planes");
        let canvas_cells = quadrants((0, 0, size[0], size[1]));
        let before = canvas_pixels(page).await;
        let crosshair_before = page.eval("window.hounsfield.crosshair").await;

        // The coronal line's handle to the right of the crosshair in the axial cell, dragged
        // 30° counter-clockwise about it.
        let (spot, handle, start) = handle_towards(page, "axial", "coronal", 0.0).await;
        assert!(start.abs() < 1.0, "a level coronal line: {start}°");
        let page_point = |p: [f64; 2]| [f64::from(area.0) + p[0], f64::from(area.1) + p[1]];
        let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
        drag_about(page, page_point(spot), page_point(handle), 30.0, 15).await;
        wait_for_final_still(page, &frame).await;
        page.wait_for("window.hounsfield.planes !== null").await;

        let turned = planes(page).await;
        let right = vector(&turned, "coronal", "right");
        let rising = (-right[1]).atan2(right[0]).to_degrees();
        assert!(
            (rising - 30.0).abs() < 5.0,
            "the coronal plane's right turned {rising:.1}° in the axial plane, dragged 30°"
        );
        assert!(
            right[2].abs() < 0.01,
            "the coronal right stays level: {right:?}"
        );
        assert_near(
            vector(&turned, "coronal", "down"),
            [0.0, 0.0, -1.0],
            "coronal down",
        );
        assert_near(
            vector(&turned, "axial", "right"),
            [1.0, 0.0, 0.0],
            "axial right",
        );
        assert_near(
            vector(&turned, "axial", "down"),
            [0.0, 1.0, 0.0],
            "axial down",
        );
        assert_eq!(
            page.eval("window.hounsfield.crosshair").await,
            crosshair_before,
            "the crosshair stays"
        );
        // The tilted cells say so; the axial one, turned in its own plane only, does not.
        assert_eq!(
            page.eval("[...document.querySelectorAll('#overlay g[data-plane] .name')].map((n) => n.textContent)")
                .await,
            json!(["axial", "oblique coronal", "oblique sagittal"]),
            "the cells' names"
        );
        // The coronal line is drawn along its new direction.
        let (_, _, now) = handle_towards(page, "axial", "coronal", 30.0).await;
        assert!(
            (now - rising).abs() < 1.0,
            "the handle at {now:.1}°, the plane at {rising:.1}°"
        );

        let after = canvas_pixels(page).await;
        let axial = changed_share(&before, &after, canvas_cells[1]);
        let coronal = changed_share(&before, &after, canvas_cells[2]);
        assert!(
            axial < 0.005,
            "the axial picture changed: {:.2} %",
            axial * 100.0
        );
        assert!(
            coronal > 0.02,
            "the coronal picture changed only {:.2} %",
            coronal * 100.0
        );

        // A ruler shift-dragged on the turned coronal slice is drawn where it was dragged.
        let (x, y, w, h) = canvas_cells[2];
        let from = [f64::from(x + w / 4), f64::from(y + h / 4)];
        let to = [f64::from(x + w / 4 + 80), f64::from(y + h / 4 + 40)];
        drag_straight(page, page_point(from), page_point(to), 8).await;
        page.wait_for("window.hounsfield.rulers.length === 1 && document.querySelectorAll('#overlay .ruler').length === 1")
            .await;
        let drawn = page
            .eval("(() => { const l = document.querySelector('#overlay .ruler line'); return ['x1', 'y1', 'x2', 'y2'].map((a) => Number(l.getAttribute(a))); })()")
            .await;
        let [x1, y1, x2, y2]: [f64; 4] = serde_json::from_value(drawn).expect("a line");
        for (got, wanted) in [([x1, y1], from), ([x2, y2], to)] {
            assert!(
                (got[0] - wanted[0]).hypot(got[1] - wanted[1]) < 2.0,
                "a ruler end drawn at {got:?}, dragged at {wanted:?}"
            );
        }

        // An ellipse drawn with the tool on the turned coronal slice is an oblique finding:
        // the server keeps the cell's turned axes, and the page draws it there.
        page.eval("document.querySelector('#tools button[data-tool=\"ellipse\"]').click(); true")
            .await;
        let from = page_point([f64::from(x + w / 2), f64::from(y + h / 2)]);
        let to = page_point([f64::from(x + w / 2 + 60), f64::from(y + h / 2 + 45)]);
        drag_straight(page, from, to, 0).await;
        page.wait_for("window.hounsfield.findings.length === 1 && document.querySelector('#overlay .finding ellipse') !== null")
            .await;
        let finding = page.eval("window.hounsfield.findings[0]").await;
        assert_eq!(finding["cell"], "coronal", "{finding}");
        let told = |axis: &str| -> [f64; 3] {
            serde_json::from_value(finding["axes"][axis].clone()).expect("the finding's axes")
        };
        assert_near(told("right"), right, "the finding's right");
        assert_near(
            told("down"),
            vector(&turned, "coronal", "down"),
            "the finding's down",
        );
        assert!(
            finding["stats"]["voxels"].as_u64().is_some_and(|n| n > 100),
            "{finding}"
        );

        // Reset planes: the next crosshair message has no planes, the coronal picture is back,
        // and the oblique finding is no longer on the coronal slice.
        let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
        page.eval("document.getElementById('reset-planes').click()")
            .await;
        page.wait_for("window.hounsfield.planes === null").await;
        wait_for_final_still(page, &frame).await;
        let reset = canvas_pixels(page).await;
        let coronal = changed_share(&before, &reset, canvas_cells[2]);
        assert!(
            coronal < 0.005,
            "the coronal picture is not back: {:.2} %",
            coronal * 100.0
        );
        assert_eq!(
            page.eval("[...document.querySelectorAll('#overlay g[data-plane] .name')].map((n) => n.textContent)")
                .await,
            json!(["axial", "coronal", "sagittal"]),
            "the cells' names after Reset planes"
        );
        let (_, _, level) = handle_towards(page, "axial", "coronal", 0.0).await;
        assert!(level.abs() < 1.0, "the coronal line level again: {level}°");
        assert_eq!(
            page.eval("document.querySelectorAll('#overlay .finding').length")
                .await,
            json!(0),
            "the oblique finding is not drawn on the standard coronal slice"
        );
    });
}

/// The cells the server's view (as the page keeps it) gives a slab thicker than 0 mm.
const THICK_CELLS: &str = "Object.entries(window.hounsfield.slabs).filter(([, slab]) => slab.mm > 0).map(([cell]) => cell)";

/// The page point (CSS pixels) at the middle of the element `selector` finds.
async fn middle_of(page: &mut Page, selector: &str) -> [f64; 2] {
    let found = page
        .eval(&format!(
            "(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ))
        .await;
    serde_json::from_value(found).unwrap_or_else(|_| panic!("no {selector} on the page"))
}

/// A key pressed and let go: `key` and `code` as DOM events name them, `text` what it types.
async fn press_key(page: &mut Page, key: &str, code: &str, key_code: u32, text: Option<&str>) {
    let mut down =
        json!({"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": key_code});
    if let Some(text) = text {
        down["text"] = json!(text);
    }
    page.call("Input.dispatchKeyEvent", down).await;
    page.call(
        "Input.dispatchKeyEvent",
        json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": key_code}),
    )
    .await;
}

/// Picks the option of the `<select>` at `selector` that starts with `typed`, as a reader
/// does: a click on it, the first letters typed, Enter.
async fn pick(page: &mut Page, selector: &str, typed: &str) {
    let [x, y] = middle_of(page, selector).await;
    page.mouse("mousePressed", x, y, 1).await;
    page.mouse("mouseReleased", x, y, 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for c in typed.chars() {
        let key = c.to_string();
        let code = if c.is_ascii_digit() {
            format!("Digit{c}")
        } else {
            format!("Key{}", c.to_ascii_uppercase())
        };
        press_key(
            page,
            &key,
            &code,
            u32::from(c.to_ascii_uppercase()),
            Some(&key),
        )
        .await;
    }
    press_key(page, "Enter", "Enter", 13, Some("\r")).await;
}

#[test]
fn a_cells_slab_control_thickens_that_cell_alone_and_thin_brings_it_back() {
    let address = ct_server();
    let url = format!("http://{address}/?codec=jpeg");
    with_page_url(&[], &url, Some(NO_WEBCODECS), async |page| {
        let (_, size) = ct_in_the_quad_layout(page).await;
        assert_eq!(
            page.eval("document.getElementById('slabs').hidden").await,
            json!(false),
            "the slab controls show in the 2×2 layout"
        );
        assert_eq!(
            page.eval(THICK_CELLS).await,
            json!([]),
            "thin slices at first"
        );
        let canvas_cells = quadrants((0, 0, size[0], size[1]));
        let before = canvas_pixels(page).await;
        let coronal_mm = "#slabs .slab[data-plane=coronal] .slab-mm";

        // 20 mm picked in the coronal cell's control (its mode MIP, the first offered).
        let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
        pick(page, coronal_mm, "2").await;
        page.wait_for("window.hounsfield.slabs.coronal?.mm === 20")
            .await;
        wait_for_final_still(page, &frame).await;
        assert_eq!(
            page.eval("window.hounsfield.slabs.coronal").await,
            json!({"mm": 20, "mode": "mip"}),
            "the server's view has the coronal slab"
        );
        assert_eq!(
            page.eval(THICK_CELLS).await,
            json!(["coronal"]),
            "the other cells stay thin"
        );
        assert_eq!(
            page.eval(&format!("document.querySelector('{coronal_mm}').value"))
                .await,
            json!("20")
        );
        let slab = canvas_pixels(page).await;
        let share = |cell: usize, a: &image::RgbaImage, b: &image::RgbaImage| {
            changed_share(a, b, canvas_cells[cell])
        };
        let (axial, coronal, sagittal) = (
            share(1, &before, &slab),
            share(2, &before, &slab),
            share(3, &before, &slab),
        );
        assert!(
            coronal > 0.02,
            "the coronal slab changed its cell only {:.2} %",
            coronal * 100.0
        );
        assert!(
            axial < 0.005 && sagittal < 0.005,
            "the other cells changed: axial {:.2} %, sagittal {:.2} %",
            axial * 100.0,
            sagittal * 100.0
        );

        // Thin again: the coronal picture is back.
        let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
        pick(page, coronal_mm, "t").await;
        page.wait_for("!(window.hounsfield.slabs.coronal?.mm > 0)")
            .await;
        wait_for_final_still(page, &frame).await;
        let thin = canvas_pixels(page).await;
        let coronal = share(2, &before, &thin);
        assert!(
            coronal < 0.005,
            "the coronal picture is not back: {:.2} %",
            coronal * 100.0
        );

        // No slab controls in the 1×1 layout.
        page.eval("document.querySelector('#layouts button[data-layout=\"1x1\"]').click()")
            .await;
        assert_eq!(
            page.eval("document.getElementById('slabs').hidden").await,
            json!(true),
            "the slab controls hide in the 1×1 layout"
        );
    });
}
