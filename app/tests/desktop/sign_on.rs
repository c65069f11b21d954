//! `connect` signs in through the hospital's identity provider in the system's browser: a
//! real OpenID Connect provider (`oidc-provider-mock` on loopback) and headless Chromium
//! as the browser the address is opened in. A server that wants a login and offers
//! sign-on is signed in to without `--sign-on`; the window opens as the provider's user
//! with the role the site's claim gives, and the audit log records the login and the
//! series opened under that user. The grant the browser carried is spent; a user whose
//! claims give no role is told why in the browser and by `connect`, which ends. A window
//! rendering here signs in the same way before it switches to the server's frames.

use hounsfield_test_support as support;

use serde_json::json;
use support::chromium::with_page_url;
use support::identity_provider::{IdentityProvider, ROLE_CLAIM, signing_on_server};

use super::{LoggedApp, VirtualDisplay};

/// What `connect` prints before the address to sign in at.
const SIGN_IN_AT: &str = "sign in in your browser: ";

/// Starts `hounsfield ARGS` (`connect`, or `open` streaming from a server) on `display` with `true` standing for the
/// system's browser, and waits for the address it prints to sign in at: the app and the
/// address, which must be `server`'s app sign-in.
fn app_asking_to_sign_in(
    args: &[&str],
    display: &VirtualDisplay,
    settings: &std::path::Path,
    server: std::net::SocketAddr,
) -> (LoggedApp, String) {
    let mut app = LoggedApp::start_with(args, display, "warn", settings, &[("BROWSER", "true")]);
    let line = app.wait_for(SIGN_IN_AT, &mut || {});
    let address = line[line.find(SIGN_IN_AT).expect("the marker") + SIGN_IN_AT.len()..]
        .trim()
        .to_string();
    assert!(
        address.starts_with(&format!("http://{server}/auth/app?")),
        "{address}"
    );
    (app, address)
}

/// Signs in as `user` at the provider in Chromium from the address `connect` printed;
/// the address the browser ended at (the app's loopback page) and its text.
fn sign_in_in_chromium(address: &str, user: &str) -> (String, String) {
    let mut ended = (String::new(), String::new());
    with_page_url(&[], address, None, async |page| {
        page.click_when_there(&format!("button[name=sub][value={user}]"))
            .await;
        page.wait_across_pages(
            "location.hostname === '127.0.0.1' && location.pathname === '/signed-in' && document.readyState === 'complete'",
        )
        .await;
        let href = page.eval("location.href").await;
        let text = page.eval("document.body.innerText").await;
        ended = (
            href.as_str().unwrap_or_default().to_string(),
            text.as_str().unwrap_or_default().to_string(),
        );
    });
    ended
}

/// A provider of `users`, a server signing on through it and a virtual display, with a
/// folder for the audit log, the settings and the screenshots.
struct SigningOn {
    _provider: IdentityProvider,
    folder: tempfile::TempDir,
    audit: std::path::PathBuf,
    server: std::net::SocketAddr,
    display: VirtualDisplay,
    settings: std::path::PathBuf,
}

impl SigningOn {
    fn start(users: &[serde_json::Value]) -> Self {
        let provider = IdentityProvider::start(users);
        let folder = tempfile::tempdir().expect("a folder");
        let audit = folder.path().join("audit.jsonl");
        let server = signing_on_server(&provider, &audit, &[]);
        let settings = folder.path().join("settings.toml");
        Self {
            _provider: provider,
            folder,
            audit,
            server,
            display: VirtualDisplay::start(),
            settings,
        }
    }

    /// Starts `hounsfield ARGS` asking to sign in here ([`app_asking_to_sign_in`]).
    fn app(&self, args: &[&str]) -> (LoggedApp, String) {
        app_asking_to_sign_in(args, &self.display, &self.settings, self.server)
    }

    /// Whether the audit log records an event `kind` by `user`.
    fn audited(&self, user: &str, kind: &str) -> bool {
        support::audit_events(&self.audit)
            .iter()
            .any(|event| event["event"] == json!(kind) && event["user"] == json!(user))
    }
}

/// `user` signs in in Chromium at the `address` `app` printed; the app says so, ends
/// well and leaves its screenshot `shot`. The address the browser ended at.
fn signed_in_to_the_end(
    app: &mut LoggedApp,
    address: &str,
    user: &str,
    shot: &std::path::Path,
) -> String {
    let (ended_at, said) = sign_in_in_chromium(address, user);
    assert!(said.contains("Signed in to Hounsfield"), "{said}");
    app.wait_for("signed in to", &mut || {});
    let status = app.exit_status();
    assert!(status.success(), "ended with {status}: {}", app.log());
    assert!(shot.exists(), "the window showed a frame");
    ended_at
}

#[test]
fn connect_signs_in_through_the_hospitals_provider_in_the_browser_under_xvfb() {
    let scene = SigningOn::start(&[
        json!({"sub": "rita", "preferred_username": "rita", ROLE_CLAIM: ["radiology"]}),
        json!({"sub": "nora", ROLE_CLAIM: ["visitors"]}),
    ]);
    let server = scene.server;
    let shot = scene.folder.path().join("signed-in.png");
    // No token and no --sign-on: the server wants a login and offers sign-on, so
    // `connect` signs in by itself. `true` stands for the system's browser: the test's
    // Chromium opens the address instead.
    let (mut app, address) = scene.app(&[
        "connect",
        &format!("http://{server}"),
        "--screenshot",
        &shot.to_string_lossy(),
    ]);
    // The window showed the server's frames.
    let ended_at = signed_in_to_the_end(&mut app, &address, "rita", &shot);
    // The grant the browser carried is spent.
    let grant = url::Url::parse(&ended_at)
        .expect("an address")
        .query_pairs()
        .find(|(key, _)| key == "grant")
        .map(|(_, value)| value.into_owned())
        .expect("a grant in the address");
    support::server::run_within(std::time::Duration::from_secs(30), async {
        let answer = reqwest::Client::new()
            .post(format!("http://{server}/auth/app/token"))
            .header("content-type", "application/json")
            .body(json!({"grant": grant, "verifier": "a".repeat(43)}).to_string())
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), 401);
        let text = answer.text().await.expect("a body");
        assert!(text.contains("unknown, used or expired"), "{text}");
    });
    assert!(scene.audited("rita", "login"), "rita's login is recorded");
    assert!(
        scene.audited("rita", "series_opened"),
        "the series opened as rita"
    );
    // A user whose claims give no role is told so, in the browser and by `connect`.
    let (mut refused, address) = scene.app(&["connect", &format!("http://{server}"), "--sign-on"]);
    let (_, said) = sign_in_in_chromium(&address, "nora");
    assert!(said.contains("nora has no role on this server"), "{said}");
    let status = refused.exit_status();
    assert!(!status.success(), "connect went on without a login");
    assert!(
        refused.log().contains("nora has no role on this server"),
        "{}",
        refused.log()
    );
}

#[test]
fn the_server_switch_signs_in_through_the_provider_before_streaming_under_xvfb() {
    let scene = SigningOn::start(&[
        json!({"sub": "ravi", "preferred_username": "ravi", ROLE_CLAIM: ["radiology"]}),
    ]);
    let shot = scene.folder.path().join("streamed.png");
    // The built-in sample rendered here, then streamed from the server (`--render
    // remote` switches as the Server button does): no token is configured and the server
    // offers sign-on, so the switch signs in first, the view rendering here meanwhile.
    let (mut app, address) = scene.app(&[
        "open",
        "--render",
        "remote",
        "--server",
        &format!("http://{}", scene.server),
        "--screenshot",
        &shot.to_string_lossy(),
    ]);
    signed_in_to_the_end(&mut app, &address, "ravi", &shot);
    // The screenshot waited for the server's frames: the series was opened there as the
    // user who signed in.
    assert!(scene.audited("ravi", "login"), "ravi's login is recorded");
    assert!(
        scene.audited("ravi", "series_opened"),
        "the series opened as ravi"
    );
}
