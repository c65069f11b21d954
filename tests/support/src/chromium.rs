//! Headless Chromium for the browser tests (Debian's `chromium`, or `HOUNSFIELD_CHROMIUM`),
//! driven over the DevTools protocol: a page opened at the server's address, JavaScript
//! evaluated in it, mouse and touch events dispatched to it, screenshots taken of it.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The page's size in CSS pixels.
pub const PAGE: (u32, u32) = (800, 600);
/// How long Chromium and the first frame may take.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Headless Chromium with a throwaway profile, killed when dropped (with its helper
/// processes, so that none still writes into the profile as it is removed).
pub struct Chromium {
    child: Child,
    /// The DevTools WebSocket address of its first page.
    pub devtools_url: String,
    profile: Option<tempfile::TempDir>,
}

impl Chromium {
    /// Chromium with `extra` switches besides the test's usual ones.
    pub fn start(extra: &[String]) -> Self {
        let binary =
            std::env::var("HOUNSFIELD_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let mut child = Command::new(&binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--remote-debugging-port=0",
                &format!("--window-size={},{}", PAGE.0, PAGE.1),
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .args(extra)
            .arg("about:blank")
            // A process group of its own: its helpers (zygote, renderers, the GPU and
            // network services) are killed with it.
            .process_group(0)
            // Its own temporary files (a folder for its singleton socket, left behind
            // when it is killed) go into the profile, removed with it.
            .env("TMPDIR", profile.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): install chromium (scripts/setup-debian.sh)")
            });
        let stderr = child.stderr.take().expect("piped stderr");
        let (found, url) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let mut sent = false;
            // Keeps reading so Chromium never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(at) = line.find("ws://") {
                    let _ = found.send(line[at..].trim().to_string());
                    sent = true;
                }
            }
        });
        let devtools_url = url
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("{binary} printed no DevTools address"));
        Self {
            child,
            devtools_url,
            profile: Some(profile),
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Killing the browser alone left its helpers writing into the profile while it
        // was removed: a test run left a profile folder behind in the temporary folder
        // for each browser it started.
        let group_killed = i32::try_from(self.child.id())
            .map(nix::unistd::Pid::from_raw)
            .is_ok_and(|group| {
                nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).is_ok()
            });
        if !group_killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // A helper may still be closing its files for a moment after the kill.
        if let Some(profile) = self.profile.take() {
            let path = profile.path().to_path_buf();
            if profile.close().is_err() {
                for _ in 0..20 {
                    std::thread::sleep(Duration::from_millis(50));
                    if std::fs::remove_dir_all(&path).is_ok() {
                        break;
                    }
                }
            }
        }
    }
}

/// A DevTools protocol session attached to one page.
pub struct Page {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// Uncaught exceptions the page threw.
    pub exceptions: Vec<String>,
}

impl Page {
    /// Opens a new page of the browser at `devtools_url` (`PAGE` pixels), attached to.
    pub async fn open(devtools_url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(devtools_url)
            .await
            .expect("DevTools connects");
        let mut page = Self {
            socket,
            next_id: 1,
            session: None,
            exceptions: Vec::new(),
        };
        let target = page
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let target_id = target["targetId"]
            .as_str()
            .expect("a target id")
            .to_string();
        let attached = page
            .call(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await;
        page.session = Some(
            attached["sessionId"]
                .as_str()
                .expect("a session id")
                .to_string(),
        );
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": PAGE.0, "height": PAGE.1, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        page.call("Runtime.enable", json!({})).await;
        page
    }

    /// Calls a DevTools method and returns its result (events on the way are skipped).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        match self.try_call(method, params).await {
            Ok(result) => result,
            Err(error) => panic!("{method}: {error}"),
        }
    }

    /// Evaluates a JavaScript expression whose value is a promise, and returns what the
    /// promise gives.
    pub async fn eval_promise(&mut self, expression: &str) -> Value {
        self.evaluate(expression, true).await
    }

    /// Waits until `expression` is true on whatever page the tab shows, through
    /// navigations (while one is under way, the expression has no page to run in).
    pub async fn wait_across_pages(&mut self, expression: &str) {
        let started = Instant::now();
        loop {
            let answer = self
                .try_call(
                    "Runtime.evaluate",
                    json!({"expression": expression, "returnByValue": true}),
                )
                .await;
            if answer.is_ok_and(|result| result["result"]["value"] == json!(true)) {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "still waiting for {expression} on {}",
                self.eval_anywhere("location.href").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `expression`'s value, or null where it cannot run (a page loading) or throws.
    pub async fn eval_anywhere(&mut self, expression: &str) -> Value {
        self.try_call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )
        .await
        .map(|result| result["result"]["value"].clone())
        .unwrap_or(Value::Null)
    }

    /// Calls a DevTools method: its result, or the error DevTools answered.
    async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut request = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            request["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(request.to_string()))
            .await
            .expect("DevTools takes the request");
        loop {
            let message = self
                .socket
                .next()
                .await
                .expect("DevTools stays open")
                .expect("DevTools reads");
            let Message::Text(text) = message else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
            if reply["method"] == json!("Runtime.exceptionThrown") {
                self.exceptions
                    .push(reply["params"]["exceptionDetails"].to_string());
            }
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    return Err(error.clone());
                }
                return Ok(reply["result"].clone());
            }
        }
    }

    /// Evaluates a JavaScript expression and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        self.evaluate(expression, false).await
    }

    /// Evaluates `expression`, awaiting the promise it gives when `promised`: its value,
    /// the test failing where it throws.
    async fn evaluate(&mut self, expression: &str, promised: bool) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": promised}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Clicks the element `selector` finds once the page, whichever it is by then,
    /// shows one.
    pub async fn click_when_there(&mut self, selector: &str) {
        let found = format!("document.querySelector({selector:?})");
        self.wait_across_pages(&format!("{found} !== null")).await;
        self.eval(&format!("{found}.click(); true")).await;
    }

    /// Waits until `expression` is true.
    pub async fn wait_for(&mut self, expression: &str) {
        let started = Instant::now();
        while self.eval(expression).await != json!(true) {
            let state = self.eval("JSON.stringify(window.hounsfield ?? null)").await;
            assert!(
                started.elapsed() < PATIENCE,
                "still waiting for {expression}; page state {state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Dispatches a mouse event of `kind` (`mousePressed`, `mouseMoved`, `mouseReleased`) at
    /// (`x`, `y`) with `buttons` held.
    pub async fn mouse(&mut self, kind: &str, x: f64, y: f64, buttons: u32) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
        )
        .await;
    }

    /// A touch event (`touchStart`, `touchMove`, `touchEnd`) with fingers at `points`.
    pub async fn touch(&mut self, kind: &str, points: &[(f64, f64)]) {
        let points: Vec<Value> = points
            .iter()
            .zip(1..)
            .map(|(&(x, y), id)| json!({"x": x, "y": y, "id": id}))
            .collect();
        self.call(
            "Input.dispatchTouchEvent",
            json!({"type": kind, "touchPoints": points}),
        )
        .await;
    }

    /// A mouse event with `button` (`left`, `right`) and DevTools `modifiers` (8: shift).
    pub async fn mouse_with(
        &mut self,
        kind: &str,
        (x, y): (f64, f64),
        button: &str,
        buttons: u32,
        modifiers: u32,
    ) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "clickCount": 1, "modifiers": modifiers}),
        )
        .await;
    }

    /// The page as RGBA pixels.
    pub async fn screenshot(&mut self) -> image::RgbaImage {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64");
        image::load_from_memory(&png).expect("a PNG").to_rgba8()
    }
}

/// The canvas's box on the page (CSS pixels): x, y, width, height.
pub async fn canvas_box(page: &mut Page) -> (u32, u32, u32, u32) {
    let rect = page
        .eval("(() => { const r = document.getElementById('view').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()")
        .await;
    let n = |i: usize| rect[i].as_f64().expect("a number").round() as u32;
    (n(0), n(1), n(2), n(3))
}

/// Opens `url` in a Chromium started with `switches`, after running `before_load`
/// (JavaScript) in it when given, and runs `test` on it.
pub fn with_page_url(
    switches: &[String],
    url: &str,
    before_load: Option<&str>,
    test: impl AsyncFnOnce(&mut Page),
) {
    let chromium = Chromium::start(switches);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut page = Page::open(&chromium.devtools_url).await;
        if let Some(script) = before_load {
            page.call("Page.enable", json!({})).await;
            page.call(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({"source": script}),
            )
            .await;
        }
        page.call("Page.navigate", json!({"url": url})).await;
        test(&mut page).await;
        assert!(
            page.exceptions.is_empty(),
            "the page threw: {:?}",
            page.exceptions
        );
    });
    drop(chromium);
}

/// Run before the page's scripts: a browser without WebCodecs (the page falls back to
/// JPEG, so every frame is an image the screenshot shows as it is).
pub const NO_WEBCODECS: &str = "delete window.VideoDecoder; delete window.EncodedVideoChunk;";

/// Waits for a final still newer than frame `after_frame` that answers every input that
/// changes the picture. (The end of a drag changes nothing by itself: when the server has
/// sent the final still during a pause before the release, no other frame follows it.)
pub async fn wait_for_final_still(page: &mut Page, after_frame: &Value) {
    page.wait_for(&format!(
        "(() => {{ const h = window.hounsfield.lastHeader, changed = window.hounsfield.changed; return h.frameSeq > {after_frame} && (h.flags & 2) === 2 && changed > 0 && h.inputSeq >= changed; }})()"
    ))
    .await;
}

/// The four quadrants of a box (x, y, width, height): top left, top right, bottom left,
/// bottom right, each shrunk by 2 px from the middle lines.
pub fn quadrants((x, y, w, h): (u32, u32, u32, u32)) -> [(u32, u32, u32, u32); 4] {
    let (half_w, half_h) = (w / 2, h / 2);
    let (cw, ch) = (half_w.saturating_sub(2), half_h.saturating_sub(2));
    [
        (x, y, cw, ch),
        (x + half_w + 2, y, cw, ch),
        (x, y + half_h + 2, cw, ch),
        (x + half_w + 2, y + half_h + 2, cw, ch),
    ]
}

/// The status line's text.
pub async fn status_text(page: &mut Page) -> String {
    page.eval("document.getElementById('status').textContent")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The canvas's own pixels (the server's frame, without the overlay drawn over it).
pub async fn canvas_pixels(page: &mut Page) -> image::RgbaImage {
    let url = page
        .eval("document.getElementById('view').toDataURL('image/png')")
        .await;
    let data = url
        .as_str()
        .and_then(|url| url.strip_prefix("data:image/png;base64,"))
        .expect("a PNG data URL");
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    image::load_from_memory(&png).expect("a PNG").to_rgba8()
}

/// A canvas region: x, y, width, height (CSS pixels).
pub type Region = (u32, u32, u32, u32);

/// Waits for the CT's first final still, switches to the 2×2 layout and waits for its
/// final still; checks one canvas pixel is a CSS pixel. The canvas's box and size.
pub async fn ct_in_the_quad_layout(page: &mut Page) -> (Region, [u32; 2]) {
    page.wait_for("window.hounsfield?.opened?.modality === 'CT' && (window.hounsfield.lastHeader?.flags & 2) === 2")
        .await;
    let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
    page.eval("document.querySelector('#layouts button[data-layout=\"2x2\"]').click()")
        .await;
    wait_for_final_still(page, &frame).await;
    let area = canvas_box(page).await;
    let size = page
        .eval("[document.getElementById('view').width, document.getElementById('view').height]")
        .await;
    let size: [u32; 2] = serde_json::from_value(size).expect("the canvas's size");
    assert_eq!(
        (size[0], size[1]),
        (area.2, area.3),
        "one canvas pixel a CSS pixel"
    );
    (area, size)
}

/// Share of pixels inside the box `(x, y, width, height)` that differ by more than 16
/// levels in some channel from `a` to `b`.
pub fn changed_share(a: &image::RgbaImage, b: &image::RgbaImage, (x, y, w, h): Region) -> f64 {
    let mut changed = 0usize;
    let mut total = 0usize;
    for j in y..(y + h).min(a.height()).min(b.height()) {
        for i in x..(x + w).min(a.width()).min(b.width()) {
            total += 1;
            let (p, q) = (a.get_pixel(i, j).0, b.get_pixel(i, j).0);
            if (0..3).any(|c| p[c].abs_diff(q[c]) > 16) {
                changed += 1;
            }
        }
    }
    changed as f64 / total.max(1) as f64
}
