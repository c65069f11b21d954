//! The desktop window for real: `hounsfield open --screenshot` under Xvfb (on lavapipe),
//! and the screenshot must show the phantom, not an empty window (nor, with `--crop`,
//! the half cut away); `connect` driven by `xdotool` shows the value under the cursor
//! and measures a ruler as the server reads them; a series over time steps and plays in
//! a window that renders it and in one streaming it.

use hounsfield_test_support as support;

mod sign_on;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the window may take to open, load, render and close (software rendering).
const LIMIT: Duration = Duration::from_secs(240);

fn hounsfield_under_xvfb(args: &[&str]) -> (bool, String) {
    support::hounsfield_under_xvfb(args, LIMIT)
}

/// Figures about the middle of an image (the central 40% across and down).
struct Centre {
    pixels: usize,
    /// Pixels bright enough to be the phantom's tissue or bone (max channel above 80).
    lit: usize,
    /// Standard deviation of the luminance.
    luma_sd: f64,
}

fn centre_of(path: &Path) -> Centre {
    let image = image::open(path)
        .expect("the screenshot is a PNG")
        .to_rgba8();
    let (width, height) = image.dimensions();
    let (x0, x1) = (width * 3 / 10, width * 7 / 10);
    let (y0, y1) = (height * 3 / 10, height * 7 / 10);
    let mut lumas = Vec::new();
    let mut lit = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let [r, g, b, _] = image.get_pixel(x, y).0;
            if r.max(g).max(b) > 80 {
                lit += 1;
            }
            lumas.push(0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b));
        }
    }
    let mean = lumas.iter().sum::<f64>() / lumas.len().max(1) as f64;
    let variance =
        lumas.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lumas.len().max(1) as f64;
    Centre {
        pixels: lumas.len(),
        lit,
        luma_sd: variance.sqrt(),
    }
}

#[test]
fn the_desktop_window_shows_the_phantom_under_xvfb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("window.png");
    let (ok, text) = hounsfield_under_xvfb(&["open", "--screenshot", out.to_str().expect("utf-8")]);
    assert!(ok, "hounsfield open --screenshot failed: {text}");
    assert!(!text.contains("panicked"), "{text}");
    let centre = centre_of(&out);
    // An empty window's centre is one flat panel colour (dark grey: no pixel above 80,
    // luminance SD 0). The phantom's body and bones light up over 5% of it (about 15% here), with varied
    // pixels.
    assert!(
        centre.lit * 20 > centre.pixels,
        "only {} of {} central pixels are lit: the phantom should fill the view",
        centre.lit,
        centre.pixels
    );
    assert!(
        centre.luma_sd > 15.0,
        "central luminance SD {:.1}: the view looks flat, not like the phantom",
        centre.luma_sd
    );
}

/// Lit pixels (max channel above 80) of a screenshot in two bands across the middle rows
/// (30–70 % down): left of the middle (20–47 % across) and right of it (53–80 %).
fn lit_left_and_right(path: &Path) -> [usize; 2] {
    let image = image::open(path)
        .expect("the screenshot is a PNG")
        .to_rgba8();
    let (width, height) = image.dimensions();
    let mut lit = [0usize; 2];
    for (side, (x0, x1)) in [(20, 47), (53, 80)].into_iter().enumerate() {
        for y in height * 3 / 10..height * 7 / 10 {
            for x in width * x0 / 100..width * x1 / 100 {
                let [r, g, b, _] = image.get_pixel(x, y).0;
                if r.max(g).max(b) > 80 {
                    lit[side] += 1;
                }
            }
        }
    }
    lit
}

#[test]
fn open_with_crop_shows_only_the_patients_right_half_under_xvfb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = dir.path().join("whole.png");
    let cropped = dir.path().join("cropped.png");
    let (ok, text) =
        hounsfield_under_xvfb(&["open", "--screenshot", whole.to_str().expect("utf-8")]);
    assert!(ok, "hounsfield open --screenshot failed: {text}");
    let (ok, text) = hounsfield_under_xvfb(&[
        "open",
        "--crop",
        "0,0,0,0.5,1,1",
        "--screenshot",
        cropped.to_str().expect("utf-8"),
    ]);
    assert!(ok, "hounsfield open --crop failed: {text}");
    // From anterior the patient's left is on the image's right: cut away. (The default
    // preset shows bone, which lies mostly on the patient's left in the sample.)
    let [right, left] = lit_left_and_right(&whole);
    assert!(
        left > 50,
        "the sample shows on the patient's left uncropped: {left} lit pixels"
    );
    let [kept, cut] = lit_left_and_right(&cropped);
    // Tolerance: at most 1 % of the pixels lit uncropped stay lit on the cut side; the
    // kept side keeps at least half of its own.
    assert!(
        cut * 100 <= left,
        "the patient's left is empty: {cut} of {left} pixels still lit"
    );
    assert!(
        kept * 2 >= right,
        "the patient's right stays: {kept} of {right} pixels lit"
    );
    // A box that is not one is refused before the window opens.
    let (ok, text) = hounsfield_under_xvfb(&[
        "open",
        "--crop",
        "0.5,0,0,0.5,1,1",
        "--screenshot",
        cropped.to_str().expect("utf-8"),
    ]);
    assert!(!ok, "a flat crop box is refused");
    assert!(text.contains("--crop"), "{text}");
}

#[test]
fn the_desktop_window_opens_the_ct_and_shows_its_rendering_under_xvfb() {
    let ct =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ct-head-neck");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("ct.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "open",
        ct.to_str().expect("utf-8"),
        "--render",
        "local",
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(ok, "hounsfield open ct-head-neck failed: {text}");
    assert!(!text.contains("panicked"), "{text}");
    let centre = centre_of(&out);
    // The bone preset shows the skull and spine: bright, varied pixels in the middle.
    assert!(
        centre.lit * 20 > centre.pixels && centre.luma_sd > 15.0,
        "the CT rendering should fill the view: {} of {} lit, SD {:.1}",
        centre.lit,
        centre.pixels,
        centre.luma_sd
    );
}

#[test]
fn a_path_that_cannot_load_is_reported_by_the_window_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-folder");
    let out = dir.path().join("window.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "open",
        missing.to_str().expect("utf-8"),
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!ok, "opening a missing folder should fail: {text}");
    assert!(text.contains("no-such-folder"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.exists(), "no screenshot for a failed load");
}

/// `hounsfield --serve` of the built-in phantom on a free loopback port; killed on drop.
struct Serving {
    child: Child,
    /// `http://127.0.0.1:PORT` (`https` with TLS).
    url: String,
    /// The TLS certificate's fingerprint as the server printed it, with TLS.
    fingerprint: Option<String>,
}

impl Serving {
    /// Waits until the server's catalogue is made (it answers before); its `host:port`.
    fn wait_ready(&self) -> String {
        let address = self.url.trim_start_matches("http://").to_string();
        let port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let ready = (0..600).any(|_| {
            let (status, _) = support::http_request(
                port,
                "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
            status == 200
        });
        assert!(ready, "the server's catalogue was not ready");
        address
    }

    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
            .args(["--serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("hounsfield --serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut next_line = || {
            let mut line = String::new();
            stdout
                .read_line(&mut line)
                .expect("the server prints where it listens");
            assert!(!line.is_empty(), "the server stopped before listening");
            line
        };
        let mut line = next_line();
        while !line.starts_with("serving ") {
            line = next_line();
        }
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .split('?')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        let fingerprint = url.starts_with("https://").then(|| {
            let line = next_line();
            line.strip_prefix("TLS certificate SHA-256 fingerprint: ")
                .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
                .trim()
                .to_string()
        });
        Self {
            child,
            url,
            fingerprint,
        }
    }

    /// A counter from the server's `/metrics`.
    fn metric(&self, name: &str) -> f64 {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("metrics connection");
        use std::io::{Read, Write};
        write!(stream, "GET /metrics HTTP/1.0\r\nHost: {address}\r\n\r\n").expect("request");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("response");
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics: {text}"))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn connect_shows_the_servers_frames_under_xvfb() {
    let server = Serving::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("thin-client.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "connect",
        &server.url,
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(ok, "hounsfield connect --screenshot failed: {text}");
    assert!(!text.contains("panicked"), "{text}");
    let centre = centre_of(&out);
    assert!(
        centre.lit * 20 > centre.pixels && centre.luma_sd > 15.0,
        "the streamed phantom should fill the view: {} of {} lit, SD {:.1}",
        centre.lit,
        centre.pixels,
        centre.luma_sd
    );
    assert!(server.metric("hounsfield_frames_total") >= 1.0);
}

#[test]
fn auto_on_a_software_adapter_streams_from_a_server_that_answers() {
    let server = Serving::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("auto.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "open",
        "--render",
        "auto",
        "--server",
        &server.url,
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(ok, "hounsfield open --render auto failed: {text}");
    let frames = server.metric("hounsfield_frames_total");
    assert!(
        frames >= 1.0,
        "this machine has only a software adapter, so the server should have rendered ({frames} frames)"
    );
    let centre = centre_of(&out);
    assert!(centre.lit * 20 > centre.pixels, "the phantom is shown");
}

#[test]
fn connect_with_a_wrong_token_says_so_and_exits_non_zero() {
    let server = Serving::start(&["--token", "right-token"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("refused.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "connect",
        &server.url,
        "--token",
        "wrong-token",
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        !ok,
        "a refused connection must not look like success: {text}"
    );
    assert!(text.contains("Unauthorized"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!out.exists(), "no screenshot of a refused connection");
}

#[test]
fn connect_to_a_self_signed_server_shows_its_fingerprint_then_frames_once_trusted_under_xvfb() {
    let state = tempfile::tempdir().expect("temp dir");
    let server = Serving::start(&[
        "--tls-self-signed",
        "--state-dir",
        state.path().to_str().expect("utf-8"),
        "--token",
        "shared-token",
    ]);
    let fingerprint = server.fingerprint.clone().expect("a TLS server");
    let dir = tempfile::tempdir().expect("temp dir");

    // Nobody answers the prompt in a test run: the window says what it asked and gives up.
    let refused = dir.path().join("untrusted.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "connect",
        &server.url,
        "--screenshot",
        refused.to_str().expect("utf-8"),
    ]);
    assert!(
        !ok,
        "an untrusted certificate must not look like success: {text}"
    );
    assert!(
        text.contains("not trusted") && text.contains(&fingerprint),
        "the prompt names the server's fingerprint {fingerprint}: {text}"
    );
    assert!(
        !refused.exists(),
        "no frames before the certificate is trusted"
    );

    // Trusted by its fingerprint, as a shared session's link carries it with the token.
    let link = format!(
        "{}/?token=shared-token&fingerprint={}",
        server.url,
        fingerprint.replace(':', "")
    );
    let out = dir.path().join("trusted.png");
    let (ok, text) = hounsfield_under_xvfb(&[
        "connect",
        &link,
        "--screenshot",
        out.to_str().expect("utf-8"),
    ]);
    assert!(ok, "connect with the trusted fingerprint failed: {text}");
    let centre = centre_of(&out);
    assert!(
        centre.lit * 20 > centre.pixels,
        "the phantom streamed over TLS is shown"
    );
}

/// A virtual X display of its own (`Xvfb`), ended when dropped.
struct VirtualDisplay {
    child: Child,
    /// `:N`.
    name: String,
}

impl VirtualDisplay {
    /// Where `window` lies on the screen: left, top, width and height.
    fn window_box(&self, window: &str) -> (i32, i32, i32, i32) {
        let geometry = self.xdotool(&["getwindowgeometry", "--shell", window]);
        let field = |name: &str| -> i32 {
            geometry
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {geometry:?}"))
        };
        (field("X"), field("Y"), field("WIDTH"), field("HEIGHT"))
    }

    fn start() -> Self {
        // Xvfb picks a free display number and writes it on stdout.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (install xvfb: scripts/setup-debian.sh)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("Xvfb says its display");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb named no display");
        Self {
            child,
            name: format!(":{number}"),
        }
    }

    /// Runs `xdotool ARGS` on this display; its output.
    fn xdotool(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.run_xdotool(args).stdout).into_owned()
    }

    /// Gives `window` the keyboard focus, waiting (up to 20 s) until it is mapped: before
    /// that the X server refuses (BadMatch) and keys would go nowhere.
    fn focus(&self, window: &str) {
        let started = std::time::Instant::now();
        loop {
            let output = self.run_xdotool(&["windowfocus", "--sync", window]);
            if output.status.success() && output.stderr.is_empty() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "window {window} never took the focus: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn run_xdotool(&self, args: &[&str]) -> std::process::Output {
        Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .expect("xdotool runs (install xdotool: scripts/setup-debian.sh)")
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A point `[x, y, z]` in a log line after `marker` (as `{:?}` prints `[f64; 3]`).
fn point_after(line: &str, marker: &str) -> [f64; 3] {
    let rest = line
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {marker:?} in {line:?}"));
    let inside = rest
        .split('[')
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no point in {line:?}"));
    let numbers: Vec<f64> = inside
        .split(',')
        .map(|n| n.trim().parse().expect("a number"))
        .collect();
    [numbers[0], numbers[1], numbers[2]]
}

/// What `hounsfield probe` reads in the phantom at `lps`.
fn phantom_value_at(lps: [f64; 3]) -> Option<f64> {
    let output = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .arg("probe")
        .arg(format!("--at={},{},{}", lps[0], lps[1], lps[2]))
        .arg("--json")
        .output()
        .expect("hounsfield probe runs");
    assert!(output.status.success(), "hounsfield probe failed");
    let reports: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("probe --json prints JSON");
    reports[0]["value"].as_f64()
}

#[test]
fn connect_shows_the_value_under_the_cursor_and_measures_a_ruler_under_xvfb() {
    let server = Serving::start(&[]);
    let display = VirtualDisplay::start();
    let settings = tempfile::tempdir().expect("temp dir");
    let mut app = LoggedApp::start(
        &["connect", &server.url],
        &display,
        "warn,hounsfield=info,hounsfield_desktop=info,hounsfield_desktop::thin_client::remote_view=debug",
        &settings.path().join("settings.toml"),
    );
    app.wait_for("series open", &mut || {});
    let window = app.window(&display);
    let (left, top, width, height) = display.window_box(&window);
    // No window manager: the window takes the keyboard when told, once it is mapped.
    display.focus(&window);
    // The axial cell is the view's top right quarter (below the toolbar); the 2×2 layout
    // is key 2 (the pointer over the window gives it the keyboard).
    let spot = (left + width * 3 / 4, top + height * 3 / 10);
    let (x, y) = (spot.0.to_string(), spot.1.to_string());
    let mut wiggle = 0;
    let mut hover = || {
        wiggle = 1 - wiggle;
        let x = (spot.0 + wiggle).to_string();
        display.xdotool(&["mousemove", &x, &y, "key", "2"]);
    };
    // The value under the cursor: what `hounsfield probe` reads at that point.
    let probe = app.wait_for("probe axial", &mut hover);
    let at = point_after(&probe, "at LPS");
    let value = phantom_value_at(at).expect("the axial cell's middle is in the phantom");
    assert!(
        probe.contains(&format!("axial: {value} HU")),
        "the app read {probe:?}; hounsfield probe reads {value} at {at:?}"
    );
    // A ruler: a shift-drag 80 px right and 60 px down on the axial slice; its ends are
    // the points the value under the cursor was read at (within a pixel) before and after.
    let start = at;
    display.xdotool(&["mousemove", &x, &y]);
    std::thread::sleep(Duration::from_millis(200));
    let (end_x, end_y) = ((spot.0 + 80).to_string(), (spot.1 + 60).to_string());
    display.xdotool(&["keydown", "shift", "mousedown", "1"]);
    for step in 1..=8 {
        let (sx, sy) = (
            (spot.0 + 10 * step).to_string(),
            (spot.1 + 15 * step / 2).to_string(),
        );
        display.xdotool(&["mousemove", &sx, &sy]);
        std::thread::sleep(Duration::from_millis(40));
    }
    // Released only once the app drew the ruler's start: a frame under lavapipe takes
    // long enough that a press and release in one would be a click, not a drag.
    let nudged_x = (spot.0 + 81).to_string();
    let mut nudge = false;
    app.wait_for("ruler begun on axial", &mut || {
        nudge = !nudge;
        let x = if nudge { &nudged_x } else { &end_x };
        display.xdotool(&["mousemove", x, &end_y]);
    });
    display.xdotool(&["mousemove", &end_x, &end_y, "sleep", "0.2"]);
    display.xdotool(&["mouseup", "1", "keyup", "shift"]);
    let ruler = app.wait_for("ruler axial", &mut || {});
    let from = point_after(&ruler, "from LPS");
    let to = point_after(&ruler, "to LPS");
    let mm: f64 = ruler
        .split("ruler axial: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|mm| mm.parse().ok())
        .unwrap_or_else(|| panic!("no length in {ruler:?}"));
    let beside = (spot.0 + 81).to_string();
    let mut side = false;
    let end = loop {
        let line = app.wait_for("probe axial", &mut || {
            side = !side;
            let x = if side { &beside } else { &end_x };
            display.xdotool(&["mousemove", x, &end_y]);
        });
        let point = point_after(&line, "at LPS");
        if (point[0] - start[0]).abs() > 10.0 {
            break point;
        }
    };
    let distance = |a: [f64; 3], b: [f64; 3]| {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    };
    // The phantom's voxels are 1.5 mm at most: the ends within one.
    let voxel = 2.0;
    assert!(
        distance(from, start) < voxel && distance(to, end) < voxel,
        "the ruler {from:?} → {to:?} should run from {start:?} to {end:?}"
    );
    assert!(
        (mm - distance(start, end)).abs() < voxel,
        "the ruler says {mm} mm; the points under the cursor are {} mm apart",
        distance(start, end)
    );
    assert!(mm > 20.0, "a 100 px drag measures more than 20 mm: {mm}");
    drop(app);
}

#[test]
fn a_worklists_study_link_opens_the_desktop_on_that_study_under_xvfb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.jsonl");
    let lumbar = support::data("mr-lumbar");
    let ct = support::data("ct-head-neck");
    let server = Serving::start(&[
        "--library",
        &ct.to_string_lossy(),
        "--library",
        &lumbar.to_string_lossy(),
        "--audit-log",
        &audit.to_string_lossy(),
    ]);
    let address = server.wait_ready();
    let study = &support::scan("mr-lumbar").studies[0];
    let link = format!("hounsfield+http://{address}/study/{}", study.uid);
    let out = dir.path().join("linked.png");
    let (ok, text) =
        hounsfield_under_xvfb(&["open", &link, "--screenshot", out.to_str().expect("utf-8")]);
    assert!(ok, "hounsfield open {link} failed: {text}");
    assert!(out.exists(), "no screenshot of the linked study");
    // The series the server opened is one of the linked study's, not the CT listed first.
    let opened: Vec<String> = support::audit_events(&audit)
        .iter()
        .filter(|event| event["event"] == "series_opened")
        .filter_map(|event| event["series"].as_str().map(str::to_string))
        .collect();
    let its: Vec<&str> = study.series.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(
        its.contains(&opened[0].as_str()),
        "{} is not of study {}",
        opened[0],
        study.uid
    );
    // A link that names no DICOM UID is refused before any window opens.
    let output = support::hounsfield(&["open", "hounsfield://host/study/not-a-uid"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("DICOM UID"),
        "{stderr}"
    );
}

#[test]
fn connect_draws_a_series_over_another_and_reads_both_values_under_xvfb() {
    let philips = support::data("philips-enhanced/In/cl");
    let folder = philips.to_string_lossy().into_owned();
    let server = Serving::start(&["--library", &folder]);
    server.wait_ready();
    let catalog = support::scan("philips-enhanced/In/cl");
    let id = |number: i32| {
        catalog.studies[0]
            .series
            .iter()
            .find(|series| series.number == Some(number))
            .map(|series| series.id.clone())
            .unwrap_or_else(|| panic!("series {number}"))
    };
    let (mprage, asl) = (id(1301), id(1903));
    let display = VirtualDisplay::start();
    let settings = tempfile::tempdir().expect("temp dir");
    let mut app = LoggedApp::start(
        &["connect", &server.url, "--series", &mprage, "--over", &asl],
        &display,
        "warn,hounsfield_desktop=info",
        &settings.path().join("settings.toml"),
    );
    app.wait_for(
        &format!("series {asl} drawn over the slices (hot, opacity 0.5"),
        &mut || {},
    );
    let window = app.window(&display);
    let (left, top, width, height) = display.window_box(&window);
    display.focus(&window);
    // The axial cell (the top right quarter, below the bars) in the 2×2 layout (key 2).
    let spot = (left + width * 3 / 4, top + height * 2 / 5);
    let y = spot.1.to_string();
    let mut wiggle = 0;
    let probe = app.wait_for("(over: ", &mut || {
        wiggle = 1 - wiggle;
        let x = (spot.0 + wiggle).to_string();
        display.xdotool(&["mousemove", &x, &y, "key", "2"]);
    });
    // Both values are what `hounsfield probe --over` reads from the files there.
    let at = point_after(&probe, "at LPS");
    let point = format!("{},{},{}", at[0], at[1], at[2]);
    let output = support::hounsfield(&[
        "probe", &folder, "--series", "1301", "--over", "1903", "--at", &point, "--json",
    ]);
    let read: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("probe --json prints JSON");
    let over = read[0]["over_value"]
        .as_f64()
        .expect("the ASL covers the point");
    assert!(
        probe.contains(&format!("(over: {over})")),
        "the app read {probe:?}; hounsfield probe reads {over} at {point}"
    );
    let value = read[0]["value"].as_f64().expect("inside the MPRAGE");
    assert!(
        probe.contains(&format!("axial: {value} ")),
        "{probe:?}: {value}"
    );
    drop(app);
}

/// The volume a `time point N of 10: LABEL` log line names (from 1), and its label.
fn told_time_point(line: &str) -> (usize, String) {
    let rest = line
        .split("time point ")
        .nth(1)
        .unwrap_or_else(|| panic!("no time point in {line:?}"));
    let (number, rest) = rest.split_once(" of 10: ").expect("of 10");
    let label = rest.split(" (cine").next().unwrap_or_default().trim();
    (number.parse().expect("a number"), label.to_string())
}

#[test]
fn connect_steps_and_plays_a_series_over_time_under_xvfb() {
    let epi = support::data("ge-epi/mr_0004");
    let server = Serving::start(&["--library", &epi.to_string_lossy()]);
    steps_and_plays_the_epi(&["connect", &server.url], "series open");
}

#[test]
fn the_desktop_steps_and_plays_a_series_over_time_it_renders_under_xvfb() {
    let epi = support::data("ge-epi/mr_0004");
    steps_and_plays_the_epi(&["open", &epi.to_string_lossy()], "series shown here");
}

/// Runs `hounsfield ARGS` (a window showing the GE EPI's 10 volumes) under Xvfb until its
/// log says `loaded`; then `]` must show a later volume, told with its label, and P must
/// play the volumes in order, wrapping round.
fn steps_and_plays_the_epi(args: &[&str], loaded: &str) {
    let display = VirtualDisplay::start();
    let settings = tempfile::tempdir().expect("temp dir");
    let mut app = LoggedApp::start(
        args,
        &display,
        "warn,hounsfield_desktop=info",
        &settings.path().join("settings.toml"),
    );
    app.wait_for(loaded, &mut || {});
    let window = app.window(&display);
    display.focus(&window);
    // `]`: the next volume (pressed again while the window has not taken the key yet; a
    // server tells the first frame's volume too).
    let (stepped, first, label) = loop {
        let line = app.wait_for("time point ", &mut || {
            display.xdotool(&["key", "bracketright"]);
        });
        let (number, label) = told_time_point(&line);
        if number >= 2 {
            break (line, number, label);
        }
    };
    assert!(!stepped.contains("cine"), "{stepped}");
    assert_eq!(
        label,
        format!("volume {first}"),
        "the label of the volume told"
    );
    // P: a cine, its volumes told in order, wrapping round.
    display.xdotool(&["key", "p"]);
    let mut played = Vec::new();
    while played.len() < 12 {
        let line = app.wait_for("(cine at 8 a second)", &mut || {});
        played.push(told_time_point(&line).0);
    }
    // How far each step goes depends on how fast the volumes are drawn (a slow server
    // skips volumes rather than showing them late): each volume told is another than
    // the last.
    assert!(
        played.windows(2).all(|pair| pair[0] != pair[1]),
        "each step moves on: {played:?}"
    );
    let seen: std::collections::BTreeSet<_> = played.iter().collect();
    assert!(seen.len() >= 5, "several volumes are shown: {played:?}");
    drop(app);
}

/// A `hounsfield` window under Xvfb whose log (stderr) is read line by line; killed when
/// dropped.
struct LoggedApp {
    child: Child,
    log: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    started: std::time::Instant,
}

impl LoggedApp {
    /// Starts `hounsfield ARGS` on `display`, logging at `filter`, with its settings in
    /// `settings` (none there: the defaults).
    fn start(args: &[&str], display: &VirtualDisplay, filter: &str, settings: &Path) -> Self {
        Self::start_with(args, display, filter, settings, &[])
    }

    /// [`Self::start`] with `env` set besides.
    fn start_with(
        args: &[&str],
        display: &VirtualDisplay,
        filter: &str,
        settings: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
            .args(args)
            .envs(env.iter().copied())
            .env("DISPLAY", &display.name)
            .env("HOUNSFIELD_LOG", filter)
            .env("HOUNSFIELD_SETTINGS", settings)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hounsfield starts");
        let (lines, log) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            log,
            seen: Vec::new(),
            started: std::time::Instant::now(),
        }
    }

    /// The next log line containing `what`, calling `nudge` at each pause in the log
    /// meanwhile; fails the test after [`LIMIT`] or when the app ends.
    fn wait_for(&mut self, what: &str, nudge: &mut dyn FnMut()) -> String {
        loop {
            assert!(
                self.started.elapsed() < LIMIT,
                "no {what:?} in the log: {}",
                self.seen.join("\n")
            );
            match self.log.recv_timeout(Duration::from_millis(300)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => nudge(),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the app ended: {}", self.seen.join("\n"))
                }
            }
        }
    }
}

impl LoggedApp {
    /// How the app ended, once it has, its log read to the end; fails the test after
    /// [`LIMIT`].
    fn exit_status(&mut self) -> std::process::ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the app") {
                while let Ok(line) = self.log.recv_timeout(Duration::from_millis(500)) {
                    self.seen.push(line);
                }
                return status;
            }
            assert!(
                self.started.elapsed() < LIMIT,
                "the app did not end: {}",
                self.log()
            );
            while let Ok(line) = self.log.try_recv() {
                self.seen.push(line);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The log read so far.
    fn log(&self) -> String {
        self.seen.join("\n")
    }

    /// The app's window on `display`, once it shows; fails the test after [`LIMIT`].
    fn window(&self, display: &VirtualDisplay) -> String {
        loop {
            let found = display.xdotool(&["search", "--name", "Hounsfield"]);
            if let Some(id) = found.lines().next() {
                return id.trim().to_string();
            }
            assert!(self.started.elapsed() < LIMIT, "no Hounsfield window");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for LoggedApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The id of the series of `study` whose description names a sagittal T2.
fn sagittal_t2(study: &render_core::dicom::Study) -> String {
    study
        .series
        .iter()
        .find(|series| {
            let description = series.description.to_lowercase();
            description.contains("sag") && description.contains("t2")
        })
        .map(|series| series.id.clone())
        .unwrap_or_else(|| panic!("no sagittal T2 in study {}", study.uid))
}

#[test]
fn connect_hangs_a_lumbar_study_beside_its_prior_and_scrolls_both_under_xvfb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prior = dir.path().join("prior");
    support::prior::lumbar_prior(&prior);
    let audit = dir.path().join("audit.jsonl");
    let lumbar = support::data("mr-lumbar");
    let server = Serving::start(&[
        "--library",
        &lumbar.to_string_lossy(),
        "--library",
        &prior.to_string_lossy(),
        "--audit-log",
        &audit.to_string_lossy(),
    ]);
    server.wait_ready();
    let current = &support::scan("mr-lumbar").studies[0];
    let current_t2 = sagittal_t2(current);
    let prior_t2 = sagittal_t2(&support::scan_folder(&prior).studies[0]);
    // The built-in protocol: the current sagittal T2 here, the prior's beside it. The
    // wheel over the first view's axial cell (the left half's top right quarter in the
    // 2×2 layout) steps its slices, and the prior's beside follow, in millimetres.
    hangs_the_lumbar_prior_and_follows_the_wheel(
        &["connect", &server.url, "--study", &current.uid],
        (&current_t2, &prior_t2),
        12..=12,
        0.5,
    );
    // The server opened both, each audited as any open.
    let opened: Vec<String> = support::audit_events(&audit)
        .iter()
        .filter(|event| event["event"] == "series_opened")
        .filter_map(|event| event["series"].as_str().map(str::to_string))
        .collect();
    assert!(
        opened.contains(&current_t2) && opened.contains(&prior_t2),
        "opened {opened:?}; hung {current_t2} and {prior_t2}"
    );
}

/// Runs `hounsfield ARGS` under Xvfb and waits for the built-in lumbar protocol to hang
/// `current_t2` in the first cell and `prior_t2` beside it, then turns the wheel down on
/// the top row of cells, at `xs` (32nds of the window's width, in turn), until the series
/// beside moves: it must move along S alone, by more than `at_least_mm`.
fn hangs_the_lumbar_prior_and_follows_the_wheel(
    args: &[&str],
    (current_t2, prior_t2): (&str, &str),
    xs: std::ops::RangeInclusive<i32>,
    at_least_mm: f64,
) {
    let display = VirtualDisplay::start();
    let settings = tempfile::tempdir().expect("temp dir");
    let mut app = LoggedApp::start(
        args,
        &display,
        "warn,hounsfield_desktop=info",
        &settings.path().join("settings.toml"),
    );
    app.wait_for(
        &format!(
            "hanging protocol \"MR lumbar spine with prior\": series {current_t2} in the first cell"
        ),
        &mut || {},
    );
    app.wait_for(
        &format!("beside: series {prior_t2} (prior · 2006-01-01 · "),
        &mut || {},
    );
    let before = point_after(
        &app.wait_for("the series beside is at LPS", &mut || {}),
        "at LPS",
    );
    let window = app.window(&display);
    let (left, top, width, height) = display.window_box(&window);
    display.focus(&window);
    let y = (top + height * 2 / 5).to_string();
    let mut tries = xs.cycle().map(|of_32| left + width * of_32 / 32);
    let after = point_after(
        &app.wait_for("the series beside is at LPS", &mut || {
            let x = tries.next().unwrap_or(left).to_string();
            display.xdotool(&["mousemove", &x, &y, "click", "5"]);
        }),
        "at LPS",
    );
    assert!(
        (after[2] - before[2]).abs() > at_least_mm,
        "the prior's axial slice moved: {before:?} → {after:?}"
    );
    assert!(
        (after[0] - before[0]).abs() < 0.01 && (after[1] - before[1]).abs() < 0.01,
        "along the axial planes' normal alone: {before:?} → {after:?}"
    );
}

/// Copies the files of `from` and its folders into `to`.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder for the copy");
    for entry in std::fs::read_dir(from).expect("the folder to copy") {
        let path = entry.expect("an entry").path();
        let into = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_folder(&path, &into);
        } else {
            std::fs::copy(&path, &into).expect("a file copied");
        }
    }
}

#[test]
fn a_study_read_here_hangs_beside_its_prior_from_the_same_folder_and_scrolls_both_under_xvfb() {
    // One library folder: the lumbar MR and the prior the test makes of it (a year
    // earlier, the same patient, every UID new).
    let dir = tempfile::tempdir().expect("temp dir");
    let library = dir.path().join("library");
    copy_folder(&support::data("mr-lumbar"), &library.join("current"));
    support::prior::lumbar_prior(&library.join("prior"));
    let current = &support::scan("mr-lumbar").studies[0];
    let current_t2 = sagittal_t2(current);
    let prior_t2 = sagittal_t2(&support::scan_folder(&library.join("prior")).studies[0]);
    // The built-in protocol, as a server applies it: the current sagittal T2 here, the
    // prior's beside it. The wheel over the first view's axial cell (the top right
    // quarter of the left half, right of the studies panel) steps its slices, and the
    // prior's follow, landing on its own rows. The panel's width is the window's to
    // choose, so the wheel turns at points across the window's top row of cells: over a
    // 3D cell it zooms and over the studies it scrolls, which move no crosshair, and over
    // either axial cell it steps along S alone.
    hangs_the_lumbar_prior_and_follows_the_wheel(
        &["open", &library.to_string_lossy(), "--study", &current.uid],
        (&current_t2, &prior_t2),
        8..=30,
        0.1,
    );
}
