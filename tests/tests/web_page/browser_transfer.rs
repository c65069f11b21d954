//! The Transfer section in Chromium: the editor draws the volume's histogram under the
//! function the 3D view shows; a mouse drag of the opacity curve's highest point (among the volume's values) down to
//! nothing changes the 3D picture as the curve says — the page's lossless still equals the
//! command line's `render --transfer` of the file the Save button writes — and that file
//! reads back as exactly the function the page sent.

use hounsfield_test_support as support;
use hounsfield_test_support::chromium;

use std::process::Command;
use std::time::Duration;

use chromium::{NO_WEBCODECS, Page, wait_for_final_still, with_page_url};
use render_core::transfer::{Preset, PresetRules};

/// The browser tests' first viewport (the page then sends its canvas's size).
const SIZE: [u32; 2] = [400, 300];

/// The mean difference of the page's picture and the command line's (levels of 255, over
/// red, green and blue) within which the two are the same drawing: both are drawn by the
/// same renderer from the same view and sent losslessly.
const SAME_DRAWING: f64 = 1.5;

#[test]
fn dragging_an_opacity_point_draws_what_the_command_line_draws_of_the_saved_curve() {
    let address = support::server::start(vec![browser_config()])[0];
    with_page_url(
        &[],
        &format!("http://{address}/"),
        Some(NO_WEBCODECS),
        async |page| {
            page.wait_for("window.hounsfield?.opened?.series === 'phantom' && (window.hounsfield.lastHeader?.flags & 2) === 2")
                .await;
            let before = lossless_picture(page).await;

            // The reader opens the section: the function shown and the histogram arrive.
            page.eval("document.getElementById('transfer').open = true")
                .await;
            page.wait_for("window.hounsfieldTransfer.edited() !== null")
                .await;
            let status = page
                .eval("document.getElementById('transfer-status').textContent")
                .await;
            let voxels: u64 = 208 * 160 * 120;
            assert!(
                status.as_str().is_some_and(|s| s
                    .replace([',', '.', '\u{a0}', ' '], "")
                    .starts_with(&voxels.to_string())),
                "the histogram counts every voxel of the phantom: {status}"
            );

            // The opacity curve's highest point among the volume's values, dragged by mouse
            // down to nothing.
            let point = page
                .eval(
                    "(() => { const p = window.hounsfieldTransfer.edited(); let n = 0; \
                     const high = window.hounsfieldTransfer.histogram().high; \
                     p.opacity.forEach((q, i) => { if (q.value < high && q.opacity > p.opacity[n].opacity) n = i; }); \
                     return [n, ...window.hounsfieldTransfer.pointAt('opacity', n)]; })()",
                )
                .await;
            let n = point[0].as_u64().expect("an index");
            let (x, y) = (point[1].as_f64().expect("x"), point[2].as_f64().expect("y"));
            let under = page
                .eval(&format!("(() => {{ const e = document.elementFromPoint({x}, {y}); return e?.id || `${{e?.tagName}}.${{e?.className}} in ${{innerWidth}}x${{innerHeight}}, box ${{JSON.stringify(document.getElementById('transfer-curve').getBoundingClientRect())}}`; }})()"))
                .await;
            assert_eq!(under, "transfer-curve", "the point at ({x}, {y}) shows");
            let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
            page.mouse("mousePressed", x, y, 1).await;
            for step in 1..=10 {
                page.mouse("mouseMoved", x, y + f64::from(step) * 20.0, 1)
                    .await;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            page.mouse("mouseReleased", x, y + 200.0, 0).await;
            wait_for_final_still(page, &frame).await;
            let edited = page
                .eval("JSON.stringify(window.hounsfieldTransfer.edited())")
                .await;
            let edited: Preset =
                serde_json::from_str(edited.as_str().expect("JSON text")).expect("a preset");
            assert_eq!(
                edited.opacity[n as usize].opacity, 0.0,
                "the point was dragged to nothing"
            );
            // Closed again, the section no longer covers the picture.
            page.eval("document.getElementById('transfer').open = false")
                .await;
            let after = lossless_picture(page).await;
            assert!(
                mean_difference(&before, &after) > 2.0 * SAME_DRAWING,
                "the edit changes the 3D picture: {:.2}",
                mean_difference(&before, &after)
            );

            // The file Save writes reads back as exactly the function sent, and the command
            // line draws it as the page shows it.
            let toml = page.eval("window.hounsfieldTransfer.toml()").await;
            let toml = toml.as_str().expect("TOML text");
            let folder = tempfile::tempdir().expect("a folder");
            let file = folder.path().join("edited.toml");
            std::fs::write(&file, toml).expect("written");
            let read = Preset::from_toml(toml, "edited.toml").expect("the saved file reads");
            assert_eq!(
                read, edited,
                "the saved preset is the function the page sent"
            );
            let drawn = cli_render(&file, folder.path(), after.dimensions());
            let difference = mean_difference(&after, &drawn);
            assert!(
                difference < SAME_DRAWING,
                "the page's picture and `render --transfer` of its curve differ by {difference:.2} levels"
            );
        },
    );
}

/// The browser tests' server: loopback, 400×300 frames until the page says its size.
fn browser_config() -> hounsfield_server::ServerConfig {
    let mut config = support::server::loopback_config();
    config.default_viewport = hounsfield_protocol::Viewport {
        width: SIZE[0],
        height: SIZE[1],
    };
    config.keyframe_interval = Duration::from_secs(3600);
    config
}

/// Asks for the lossless still (the Lossless button) and returns the canvas's pixels as
/// the page drew them, one canvas pixel a picture pixel. The canvas follows its box (a
/// status line that wraps moves it, and the page asks for frames of the new size): a still
/// drawn at another size than the canvas has by the time it shows is asked for again.
async fn lossless_picture(page: &mut Page) -> image::RgbaImage {
    const SETTLED: &str = "(() => { const v = document.getElementById('view'); const r = v.getBoundingClientRect(); return v.width === Math.round(r.width) && v.height === Math.round(r.height); })()";
    for _ in 0..5 {
        page.wait_for(SETTLED).await;
        let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
        page.eval("document.getElementById('still').click()").await;
        page.wait_for(&format!(
            "window.hounsfield.lastHeader.frameSeq > {frame} && window.hounsfield.lastHeader.codec === 2"
        ))
        .await;
        // The picture is drawn on an animation frame after it arrives.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let one_to_one = page
            .eval("(() => { const v = document.getElementById('view'), h = window.hounsfield.lastHeader; return v.width === h.width && v.height === h.height; })()")
            .await;
        if one_to_one != serde_json::json!(true) {
            continue;
        }
        let url = page
            .eval("document.getElementById('view').toDataURL('image/png')")
            .await;
        let encoded = url
            .as_str()
            .and_then(|url| url.strip_prefix("data:image/png;base64,"))
            .expect("a PNG data URL");
        let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .expect("base64");
        return image::load_from_memory(&png).expect("a PNG").to_rgba8();
    }
    panic!("the canvas kept changing size under its stills");
}

/// `hounsfield render --transfer FILE` of the built-in sample (the phantom the server
/// serves), from the front, `width` × `height` pixels.
fn cli_render(
    transfer: &std::path::Path,
    folder: &std::path::Path,
    (width, height): (u32, u32),
) -> image::RgbaImage {
    let out = folder.join("cli.png");
    let output = Command::new(support::hounsfield_binary())
        .arg("render")
        .arg("--transfer")
        .arg(transfer)
        .arg(format!("--size={width}x{height}"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("hounsfield render runs");
    assert!(
        output.status.success(),
        "hounsfield render failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    image::open(&out).expect("a PNG").to_rgba8()
}

/// The mean absolute difference of red, green and blue (levels of 255).
fn mean_difference(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>())
        .sum();
    total as f64 / (f64::from(a.width() * a.height()) * 3.0)
}
