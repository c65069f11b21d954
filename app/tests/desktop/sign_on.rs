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

#[test]
fn connect_signs_in_through_the_hospitals_provider_in_the_browser_under_xvfb() {
    let provider = IdentityProvider::start(&[
        json!({"sub": "rita", "preferred_username": "rita", ROLE_CLAIM: ["radiology"]}),
        json!({"sub": "nora", ROLE_CLAIM: ["visitors"]}),
    ]);
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let server = signing_on_server(&provider, &audit, &[]);
    let display = VirtualDisplay::start();
    let shot = folder.path().join("signed-in.png");
    // No token and no --sign-on: the server wants a login and offers sign-on, so
    // `connect` signs in by itself. `true` stands for the system's browser: the test's
    // Chromium opens the address instead.
    let settings = folder.path().join("settings.toml");
    let (mut app, address) = app_asking_to_sign_in(
        &[
            "connect",
            &format!("http://{server}"),
            "--screenshot",
            &shot.to_string_lossy(),
        ],
        &display,
        &settings,
        server,
    );
    let (ended_at, said) = sign_in_in_chromium(&address, "rita");
    assert!(said.contains("Signed in to Hounsfield"), "{said}");
    app.wait_for("signed in to", &mut || {});
    let status = app.exit_status();
    assert!(
        status.success(),
        "connect ended with {status}: {}",
        app.log()
    );
    assert!(shot.exists(), "the window showed the server's frames");
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
    let events = support::audit_events(&audit);
    let by_rita = |kind: &str| {
        events
            .iter()
            .any(|event| event["event"] == json!(kind) && event["user"] == json!("rita"))
    };
    assert!(by_rita("login"), "rita's login is recorded: {events:?}");
    assert!(by_rita("series_opened"), "the series opened as rita");
    // A user whose claims give no role is told so, in the browser and by `connect`.
    let (mut refused, address) = app_asking_to_sign_in(
        &["connect", &format!("http://{server}"), "--sign-on"],
        &display,
        &settings,
        server,
    );
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
    let provider = IdentityProvider::start(&[
        json!({"sub": "ravi", "preferred_username": "ravi", ROLE_CLAIM: ["radiology"]}),
    ]);
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let server = signing_on_server(&provider, &audit, &[]);
    let display = VirtualDisplay::start();
    let shot = folder.path().join("streamed.png");
    // The built-in sample rendered here, then streamed from the server (`--render
    // remote` switches as the Server button does): no token is configured and the server
    // offers sign-on, so the switch signs in first, the view rendering here meanwhile.
    let settings = folder.path().join("settings.toml");
    let (mut app, address) = app_asking_to_sign_in(
        &[
            "open",
            "--render",
            "remote",
            "--server",
            &format!("http://{server}"),
            "--screenshot",
            &shot.to_string_lossy(),
        ],
        &display,
        &settings,
        server,
    );
    let (_, said) = sign_in_in_chromium(&address, "ravi");
    assert!(said.contains("Signed in to Hounsfield"), "{said}");
    app.wait_for("signed in to", &mut || {});
    let status = app.exit_status();
    assert!(status.success(), "open ended with {status}: {}", app.log());
    assert!(shot.exists(), "the window showed a frame");
    // The screenshot waited for the server's frames: the series was opened there as the
    // user who signed in.
    let events = support::audit_events(&audit);
    let by_ravi = |kind: &str| {
        events
            .iter()
            .any(|event| event["event"] == json!(kind) && event["user"] == json!("ravi"))
    };
    assert!(by_ravi("login"), "ravi's login is recorded: {events:?}");
    assert!(
        by_ravi("series_opened"),
        "the series opened as ravi: {events:?}"
    );
}
