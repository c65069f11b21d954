//! Single sign-on in headless Chromium, through a real OpenID Connect provider
//! (`oidc-provider-mock` on loopback, RS256-signed ID tokens, a nonce required): a
//! worklist's `/?study=UID` link asks for a login, "Sign in with the hospital's account"
//! goes to the provider, and the user the provider signs in comes back to the link, whose
//! study opens with the role the site's claim gives (`radiology` → reader); the audit log
//! records the login and the opened series under the provider's user. Logging out signs
//! out at the provider too and comes back to the login; a user whose claim gives
//! `viewer` (`ward`) signs in and may not save findings; a user whose claims give no role
//! is refused with the reason; a callback this browser did not start is refused.

use hounsfield_test_support as support;

use std::net::SocketAddr;

use serde_json::json;
use support::chromium::{NO_WEBCODECS, with_page_url};
use support::identity_provider::{IdentityProvider, ROLE_CLAIM};

/// A server of the lumbar MR whose users sign in through `provider`.
fn signing_on_server(provider: &IdentityProvider, audit: &std::path::Path) -> SocketAddr {
    support::identity_provider::signing_on_server(provider, audit, &[support::data("mr-lumbar")])
}

/// Clicks the login form's sign-on link, then the provider's button for `user`; waits to
/// be back on the server's page at `server`.
async fn sign_in_as(page: &mut support::chromium::Page, server: SocketAddr, user: &str) {
    page.wait_across_pages("document.getElementById('sign-on')?.hidden === false")
        .await;
    page.click_when_there("#sign-on").await;
    page.click_when_there(&format!("button[name=sub][value={user}]"))
        .await;
    page.wait_across_pages(&format!(
        "location.host === '{server}' && document.readyState === 'complete'"
    ))
    .await;
}

#[test]
fn the_hospitals_provider_signs_users_in_with_the_role_its_claim_gives() {
    let provider = IdentityProvider::start(&[
        json!({"sub": "rita", "preferred_username": "rita", ROLE_CLAIM: ["staff", "radiology"]}),
        json!({"sub": "walt", "preferred_username": "walt", ROLE_CLAIM: ["ward"]}),
        json!({"sub": "nora", ROLE_CLAIM: ["visitors"]}),
    ]);
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let server = signing_on_server(&provider, &audit);
    let lumbar = support::scan("mr-lumbar");
    let study = &lumbar.studies[0];
    let its_series: Vec<String> = study.series.iter().map(|s| s.id.clone()).collect();
    let surname = study
        .patient_name
        .split('^')
        .next()
        .expect("a name")
        .to_string();
    with_page_url(
        &[],
        &format!("http://{server}/?study={}", study.uid),
        Some(NO_WEBCODECS),
        async |page| {
            // The worklist's link asks for a login; the reader signs in at the provider
            // and comes back to the link, whose study opens.
            sign_in_as(page, server, "rita").await;
            page.wait_for(
                "window.hounsfield?.opened?.series && window.hounsfield.frames > window.hounsfield.framesAtOpen",
            )
            .await;
            let opened = page.eval("window.hounsfield.opened.series").await;
            let opened = opened.as_str().expect("a series id").to_string();
            assert!(
                its_series.contains(&opened),
                "{opened} is not of the linked study"
            );
            assert_eq!(
                page.eval("document.getElementById('who').textContent")
                    .await,
                json!("rita (reader)")
            );
            let listed = page
                .eval("document.getElementById('browser').innerText")
                .await;
            assert!(
                listed.as_str().is_some_and(|text| text.contains(&surname)),
                "the patient {surname} is listed: {listed}"
            );
            // Logging out signs out at the provider too, and comes back to the login.
            page.eval("document.getElementById('logout').click(); true")
                .await;
            page.click_when_there("form[action$='/oauth2/end_session/confirm'] button")
                .await;
            page.wait_across_pages(&format!("location.host === '{server}'"))
                .await;
            // A user whose claim gives `viewer` signs in, and may not save findings.
            sign_in_as(page, server, "walt").await;
            page.wait_for("document.getElementById('who').textContent === 'walt (viewer)'")
                .await;
            let refusal = page
                .eval_promise(
                    "new Promise((done) => {
                       const socket = new WebSocket(`ws://${location.host}/ws`);
                       socket.onopen = () => {
                         socket.send(JSON.stringify({type: 'hello', codecs: ['jpeg'], viewport: {width: 64, height: 64}}));
                         socket.send(JSON.stringify({type: 'save_findings'}));
                       };
                       socket.onmessage = (event) => {
                         if (typeof event.data !== 'string') return;
                         const message = JSON.parse(event.data);
                         if (message.type === 'error') { done(message); socket.close(); }
                       };
                     })",
                )
                .await;
            assert_eq!(refusal["code"], json!("forbidden"), "{refusal}");
            assert!(
                refusal
                    .to_string()
                    .contains("a viewer may not save findings"),
                "{refusal}"
            );
        },
    );
    // A user whose claims give no role here is told so, and not logged in.
    with_page_url(&[], &format!("http://{server}/"), None, async |page| {
        sign_in_as(page, server, "nora").await;
        let said = page.eval("document.body.innerText").await;
        assert!(
            said.as_str()
                .is_some_and(|text| text.contains("nora has no role on this server")),
            "{said}"
        );
    });
    // A callback this browser did not start signs nobody in.
    support::server::run_within(std::time::Duration::from_secs(30), async {
        let answer = reqwest::get(format!(
            "http://{server}/auth/callback?code=stolen&state=somebody-elses"
        ))
        .await
        .expect("an answer");
        assert_eq!(answer.status(), 401);
        let text = answer.text().await.expect("a body");
        assert!(text.contains("not started in this browser"), "{text}");
    });
    let events = support::audit_events(&audit);
    let of = |kind: &str, user: &str| {
        events
            .iter()
            .any(|event| event["event"] == json!(kind) && event["user"] == json!(user))
    };
    assert!(of("login", "rita"), "rita's login is recorded: {events:?}");
    assert!(of("series_opened", "rita"), "her opened series is recorded");
    assert!(of("logout", "rita"), "her logout is recorded");
    assert!(of("login", "walt"), "walt's login is recorded");
    assert!(
        events
            .iter()
            .any(|event| event["event"] == json!("auth_failed")
                && event["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("nora has no role"))),
        "the refused sign-in is recorded"
    );
}
