//! `hounsfield --serve` recovering from render faults, made on purpose through the hidden
//! `--test-faults` switch: a GPU validation error fails one session's frame and the others
//! go on; a panic of the render thread takes `/healthz` down until the thread runs again
//! on a new device, and every session gets frames again without reconnecting. Without the
//! switch no fault can be armed.
//!
//! Fault injection is the developer build's (`--features test-bench`, as the tests run:
//! `cargo test --workspace --all-features`); the packaged binary has none of it
//! (`package.rs` checks).
#![cfg(feature = "test-bench")]

use hounsfield_test_support as support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{Served, audit_events, serve};

use hounsfield_client::Client;
use hounsfield_protocol::{Action, ErrorCode, Viewport};

/// Longest a whole test may take (a hung test, not a slow one).
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// Longest `/healthz` may take to go down after the fault, and to come back up.
const HEALTH_WITHIN: Duration = Duration::from_secs(60);
/// Longest a reply (a frame, an `error`) may take, a restart included.
const REPLY_WITHIN: Duration = Duration::from_secs(60);
/// Small frames: lavapipe draws them quickly.
const VIEWPORT: Viewport = Viewport {
    width: 160,
    height: 120,
};

/// What these tests ask of a served process beyond starting it.
trait Faults {
    /// Polls `/healthz` until its status is `status`; the body then.
    fn health_becomes(&self, status: u16) -> String;
    /// A session that said hello and opened the built-in sample, past its first frame.
    async fn opened_session(&self) -> Client;
}

impl Faults for Served {
    fn health_becomes(&self, status: u16) -> String {
        let deadline = Instant::now() + HEALTH_WITHIN;
        loop {
            let (now, body) = self.get("/healthz");
            if now == status {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "/healthz stayed {now} ({body:?}), not {status}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    async fn opened_session(&self) -> Client {
        let mut client = Client::connect(&format!("ws://127.0.0.1:{}/ws", self.port))
            .await
            .expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        client
            .open(hounsfield_server::library::PHANTOM_ID)
            .await
            .expect("opened");
        client.next_frame().await.expect("a first frame");
        client
    }
}

fn run_within(body: impl Future<Output = ()>) {
    support::run_within(TEST_LIMIT, body);
}

/// Orbits and waits for a frame that reflects the orbit (an `error` fails the test).
async fn orbit_for_frame(client: &mut Client) {
    let seq = client
        .input(Action::Orbit { dx: 5.0, dy: 1.0 })
        .await
        .expect("sent");
    let frame = async {
        loop {
            let frame = client.next_frame().await.expect("a frame, no error");
            if frame.header.input_seq >= seq {
                return;
            }
        }
    };
    tokio::time::timeout(REPLY_WITHIN, frame)
        .await
        .unwrap_or_else(|_| panic!("no frame for input {seq}"));
}

/// The next `error` reply, frames passed on the way.
async fn next_error(client: &mut Client) -> (ErrorCode, String) {
    tokio::time::timeout(REPLY_WITHIN, client.next_error())
        .await
        .expect("an error reply in time")
        .expect("an error reply")
}

/// Arms `fault` for the client's next frame and orbits to have one drawn; the `error`
/// that answers it.
async fn faulty_frame(client: &mut Client, fault: &str) -> (ErrorCode, String) {
    client
        .send_text(&format!(r#"{{"type":"test_fault","fault":"{fault}"}}"#))
        .await
        .expect("sent");
    client
        .input(Action::Orbit { dx: 5.0, dy: 1.0 })
        .await
        .expect("sent");
    next_error(client).await
}

#[test]
fn a_validation_error_or_an_encoder_panic_fails_one_sessions_frame_and_the_other_goes_on() {
    let served = serve(&["--test-faults"]);
    run_within(async {
        let mut a = served.opened_session().await;
        let mut b = served.opened_session().await;
        for (fault, restarts) in [
            ("validation", "hounsfield_renderer_restarts_total"),
            ("encode_panic", "hounsfield_encoder_restarts_total"),
        ] {
            let (code, message) = faulty_frame(&mut a, fault).await;
            assert_eq!(code, ErrorCode::Internal, "{fault}: {message}");
            assert!(
                message.contains("rendering failed; the server log says why"),
                "{fault}: {message}"
            );
            orbit_for_frame(&mut b).await;
            orbit_for_frame(&mut a).await;
            assert_eq!(served.health_becomes(200), "ok\n");
            let expected = u64::from(fault == "encode_panic");
            assert_eq!(served.metric(restarts), expected, "{fault}");
        }
        assert_eq!(served.metric("hounsfield_renderer_restarts_total"), 0);
    });
}

#[test]
fn a_render_thread_panic_takes_health_down_until_it_renders_again_on_a_new_device() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let audit = folder.path().join("audit.jsonl");
    let audit_arg = audit.to_string_lossy().into_owned();
    let served = serve(&["--test-faults", "--audit-log", &audit_arg]);
    run_within(async {
        let mut a = served.opened_session().await;
        let mut b = served.opened_session().await;
        assert_eq!(served.health_becomes(200), "ok\n");
        assert_eq!(served.metric("hounsfield_rendering_up"), 1);
        a.send_text(r#"{"type":"test_fault","fault":"render_panic"}"#)
            .await
            .expect("sent");
        a.input(Action::Orbit { dx: 5.0, dy: 1.0 })
            .await
            .expect("sent");
        let down = served.health_becomes(503);
        assert!(down.starts_with("rendering down: "), "{down}");
        assert!(down.contains("panicked"), "{down}");
        assert_eq!(served.health_becomes(200), "ok\n");
        let (code, message) = next_error(&mut a).await;
        assert_eq!(code, ErrorCode::Internal, "{message}");
        assert!(
            message.contains("rendering failed; the server log says why"),
            "{message}"
        );
        // Both sessions, still connected, get frames from the new device.
        orbit_for_frame(&mut b).await;
        orbit_for_frame(&mut a).await;
        assert_eq!(served.metric("hounsfield_renderer_restarts_total"), 1);
        assert_eq!(served.metric("hounsfield_rendering_up"), 1);
    });
    let restarts: Vec<serde_json::Value> = audit_events(&audit)
        .into_iter()
        .filter(|event| event["event"] == "renderer_restart")
        .collect();
    assert_eq!(restarts.len(), 1, "{restarts:?}");
    assert_eq!(restarts[0]["restarts"], 1);
    assert!(
        restarts[0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("panicked")),
        "{restarts:?}"
    );
}

#[test]
fn without_the_switch_a_fault_cannot_be_armed() {
    let served = serve(&[]);
    run_within(async {
        let mut a = served.opened_session().await;
        for fault in ["render_panic", "validation", "device_lost", "encode_panic"] {
            a.send_text(&format!(r#"{{"type":"test_fault","fault":"{fault}"}}"#))
                .await
                .expect("sent");
            let (code, message) = next_error(&mut a).await;
            assert_eq!(code, ErrorCode::UnknownType, "{message}");
            orbit_for_frame(&mut a).await;
        }
        assert_eq!(served.health_becomes(200), "ok\n");
        assert_eq!(served.metric("hounsfield_renderer_restarts_total"), 0);
        assert_eq!(served.metric("hounsfield_encoder_restarts_total"), 0);
    });
}

#[test]
fn the_switch_is_not_in_the_help() {
    let output = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .arg("--help")
        .output()
        .expect("hounsfield runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--serve"), "{help}");
    assert!(!help.contains("test-faults"), "{help}");
}
