//! `hounsfield --serve` against hostile network clients, over real loopback sockets: pages
//! of other origins and re-bound host names are refused; sockets that never authenticate
//! hold no session place and are closed after 5 s; half-sent requests are timed out and
//! connections beyond the cap are closed; a flood of each message type is answered
//! `rate_limited` while another session keeps getting frames; failed token attempts lock
//! the address out (and only that address); a token from a file is never printed. Each
//! refusal lands in the audit log. Slow connections from many addresses, and WebSockets
//! that never say hello, leave a good client room; one address gets no more than its
//! share of connections; a login's body that dribbles is cut off, and a compressed one is
//! refused, never inflated.

use hounsfield_test_support as support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hounsfield_client::{Client, ClientError};
use hounsfield_protocol::{Action, ErrorCode, Viewport};
use hounsfield_server::library::PHANTOM_ID;
use support::{Served, audit_events, http_request, run_within, serve};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Longest a whole test may take (a hung test, not a slow one).
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// Longest any one awaited reply may take.
const REPLY_WITHIN: Duration = Duration::from_secs(30);
/// The server's time to authenticate, as documented.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Small frames: lavapipe draws them quickly.
const VIEWPORT: Viewport = Viewport {
    width: 160,
    height: 120,
};
const TOKEN: &str = "network-test-token-5b1e";

/// Sends a WebSocket upgrade request with these `Host` and `Origin` headers (and path) by
/// hand; the status code of the answer.
fn upgrade_status(port: u16, path: &str, host: &str, origin: Option<&str>) -> u16 {
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(REPLY_WITHIN))
        .expect("a timeout");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("a status line");
    String::from_utf8_lossy(&head[9..12])
        .parse()
        .expect("a status code")
}

/// Events of one kind in the audit log.
fn events<'a>(log: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    log.iter().filter(|e| e["event"] == event).collect()
}

/// Refusals of one reason in the audit log.
fn refusals(path: &Path, reason: &str) -> Vec<serde_json::Value> {
    audit_events(path)
        .into_iter()
        .filter(|e| e["event"] == "refused" && e["reason"] == reason)
        .collect()
}

#[test]
fn pages_of_other_origins_and_rebound_host_names_are_refused() {
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let served = serve(&[
        "--allow-origin",
        "https://viewer.example",
        "--audit-log",
        &audit.to_string_lossy(),
    ]);
    let port = served.port;
    let own = format!("127.0.0.1:{port}");
    // A page of another site, and one on the same machine at another port.
    for origin in [
        "http://evil.example",
        "http://127.0.0.1:1",
        "null",
        "http://localhost.evil.example",
    ] {
        assert_eq!(
            upgrade_status(port, "/ws", &own, Some(origin)),
            403,
            "{origin}"
        );
    }
    // The server's own page, an allowed origin, and a client that is not a browser.
    assert_eq!(
        upgrade_status(port, "/ws", &own, Some(&format!("http://{own}"))),
        101
    );
    assert_eq!(
        upgrade_status(
            port,
            "/ws",
            &format!("localhost:{port}"),
            Some(&format!("http://localhost:{port}"))
        ),
        101
    );
    assert_eq!(
        upgrade_status(port, "/ws", &own, Some("https://viewer.example")),
        101
    );
    assert_eq!(upgrade_status(port, "/ws", &own, None), 101);
    // DNS rebinding: evil.example now resolves to 127.0.0.1, so its page is "same-origin"
    // with the request, but a loopback server does not answer that name, for any path.
    let rebound = format!("evil.example:{port}");
    assert_eq!(
        upgrade_status(port, "/ws", &rebound, Some(&format!("http://{rebound}"))),
        403
    );
    let (status, _) = http_request(
        port,
        &format!("GET /metrics HTTP/1.1\r\nHost: {rebound}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 403);
    assert_eq!(served.get("/").0, 200, "the page itself is served");
    let refused = refusals(&audit, "origin");
    assert_eq!(refused.len(), 6, "{refused:?}");
    assert!(refused.iter().any(|e| {
        e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("evil.example"))
    }));
}

#[test]
fn unauthenticated_sockets_hold_no_session_place_and_are_closed_after_5_s() {
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let token_file = folder.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("written");
    let mut served = serve(&[
        "--token-file",
        &token_file.to_string_lossy(),
        "--max-sessions",
        "1",
        "--audit-log",
        &audit.to_string_lossy(),
    ]);
    // A token from a file is never printed.
    let second = served.next_line();
    assert!(!served.banner.contains(TOKEN), "{}", served.banner);
    assert!(!second.contains(TOKEN), "{second}");
    assert!(second.contains("token file"), "{second}");
    run_within(TEST_LIMIT, async {
        let started = Instant::now();
        let mut silent = Vec::new();
        for _ in 0..3 {
            let (socket, _) = tokio_tungstenite::connect_async(served.ws_url(""))
                .await
                .expect("the upgrade itself is answered");
            silent.push(socket);
        }
        // The single session place is still free for a client that authenticates.
        let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
        client.hello(Some(TOKEN), VIEWPORT).await.expect("welcome");
        client.open(PHANTOM_ID).await.expect("opened");
        client.next_frame().await.expect("a frame");
        // A second authenticated client finds the place taken.
        let mut second = Client::connect(&served.ws_url("")).await.expect("upgrades");
        match second.hello(Some(TOKEN), VIEWPORT).await {
            Err(ClientError::Server { code, .. }) => assert_eq!(code, ErrorCode::Busy),
            other => panic!("expected busy, got {other:?}"),
        }
        // The silent sockets are closed by the server, as a policy violation, once their
        // time to authenticate is up.
        for mut socket in silent {
            let closed = tokio::time::timeout(REPLY_WITHIN, async {
                loop {
                    match socket.next().await {
                        Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => return None,
                    }
                }
            })
            .await
            .expect("closed by the server");
            assert_eq!(closed, Some(CloseCode::Policy));
        }
        assert!(
            started.elapsed() >= AUTH_TIMEOUT - Duration::from_millis(500),
            "closed before their time was up: {:?}",
            started.elapsed()
        );
        // The authenticated session went on meanwhile.
        client
            .input(Action::Orbit { dx: 5.0, dy: 0.0 })
            .await
            .expect("sent");
        tokio::time::timeout(REPLY_WITHIN, client.next_frame())
            .await
            .expect("in time")
            .expect("a frame after the silent sockets went");
    });
    let log = audit_events(&audit);
    assert_eq!(refusals(&audit, "auth_timeout").len(), 3, "{log:?}");
    assert_eq!(refusals(&audit, "session_cap").len(), 1, "{log:?}");
    assert_eq!(events(&log, "session_start").len(), 1, "{log:?}");
    assert_eq!(events(&log, "series_opened").len(), 1, "{log:?}");
    let text = std::fs::read_to_string(&audit).expect("the log");
    assert!(!text.contains(TOKEN), "the token reached the audit log");
}

#[test]
fn half_sent_requests_are_timed_out_and_connections_beyond_the_cap_closed() {
    let served = serve(&["--max-connections", "3"]);
    let port = served.port;
    let half_sent: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
                .expect("sends part of a request");
            stream
        })
        .collect();
    // Give the server a moment to take the three.
    std::thread::sleep(Duration::from_millis(500));
    // A fourth connection is closed as it arrives, unanswered.
    let (status, _) = http_request(
        port,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 0, "a connection beyond the cap was answered");
    // The half-sent requests are closed once their headers are late (10 s).
    let started = Instant::now();
    for mut stream in half_sent {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a timeout");
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(error) => assert!(
                !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "still open after {:?}",
                started.elapsed()
            ),
        }
        assert!(
            !String::from_utf8_lossy(&rest).contains(" 200 "),
            "a half-sent request was answered"
        );
    }
    // Their places are free again.
    assert_eq!(served.get("/healthz").0, 200);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What came back for a flood: `rate_limited` replies naming the flooded kind, and the
/// replies that answer it as taken (`welcome`, `studies`, `opened`, or the error a bad
/// message gets).
#[derive(Debug, Default)]
struct FloodReplies {
    limited: usize,
    answered: usize,
}

/// Steps a flood is sent in, 100 ms apart.
const FLOOD_STEPS: usize = 10;

/// Sends `message` (of `kind`) `count` times in about a second, then a
/// `marker` of another kind that is answered with a `bad_value` error; counts what comes
/// back before the marker's answer (replies keep the order of the messages).
async fn flood(
    socket: &mut Socket,
    kind: &str,
    message: Message,
    count: usize,
    marker: &str,
) -> FloodReplies {
    // Spread over about a second, so the other session's frames have a while to come.
    for _ in 0..FLOOD_STEPS {
        for _ in 0..count / FLOOD_STEPS {
            socket.send(message.clone()).await.expect("sent");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    socket.send(Message::text(marker)).await.expect("sent");
    let mut replies = FloodReplies::default();
    let naming = format!(" {kind} messages a second");
    tokio::time::timeout(REPLY_WITHIN, async {
        while let Some(Ok(reply)) = socket.next().await {
            let Message::Text(text) = reply else { continue };
            let reply: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
            let message = reply["message"].as_str().unwrap_or_default();
            match (reply["type"].as_str(), reply["code"].as_str()) {
                (Some("error"), Some("rate_limited")) if message.contains(&naming) => {
                    replies.limited += 1;
                }
                (Some("error"), Some("bad_value"))
                    if message.contains("latency_ms") || message.contains("zoom factor") =>
                {
                    return;
                }
                (Some("welcome" | "studies" | "opened"), _)
                | (Some("error"), Some("bad_json" | "unexpected_binary")) => replies.answered += 1,
                _ => {}
            }
        }
        panic!("the socket closed during the {kind} flood");
    })
    .await
    .unwrap_or_else(|_| panic!("no answer to the marker after the {kind} flood: {replies:?}"));
    replies
}

#[test]
fn a_flood_of_each_message_type_is_rate_limited_while_another_session_gets_frames() {
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let served = serve(&["--audit-log", &audit.to_string_lossy()]);
    run_within(TEST_LIMIT, async {
        // The well-behaved session, dragging at a mouse's pace all along.
        let mut steady = Client::connect(&served.ws_url("")).await.expect("connects");
        steady.hello(None, VIEWPORT).await.expect("welcome");
        steady.open(PHANTOM_ID).await.expect("opened");
        steady.next_frame().await.expect("a frame");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let dragging = tokio::spawn(async move {
            let mut frames = 0usize;
            while !*stopped.borrow() {
                steady
                    .input(Action::Orbit { dx: 3.0, dy: 0.0 })
                    .await
                    .expect("sent");
                // One input an input interval, as a hand drags: a frame that comes at once
                // does not hurry the next input (that flooded the steady session itself).
                let next_input = tokio::time::Instant::now() + Duration::from_millis(33);
                if let Ok(frame) = tokio::time::timeout_at(next_input, steady.next_frame()).await {
                    frame.expect("frames, no error");
                    frames += 1;
                }
                tokio::time::sleep_until(next_input).await;
            }
            frames
        });
        let (mut socket, _) = tokio_tungstenite::connect_async(served.ws_url(""))
            .await
            .expect("connects");
        let hello = r#"{"type":"hello","viewport":{"width":160,"height":120}}"#;
        let open = format!(r#"{{"type":"open","series":"{PHANTOM_ID}"}}"#);
        socket.send(Message::text(hello)).await.expect("sent");
        socket
            .send(Message::text(open.clone()))
            .await
            .expect("sent");
        let stats_marker = r#"{"type":"stats","latency_ms":-5}"#;
        let input_marker = r#"{"type":"input","seq":99999,"t":0,"action":"zoom","factor":-2}"#;
        let kinds: [(&str, Message, bool); 9] = [
            ("hello", Message::text(hello), true),
            (
                "list_studies",
                Message::text(r#"{"type":"list_studies"}"#),
                true,
            ),
            ("open", Message::text(open), true),
            (
                "input",
                Message::text(r#"{"type":"input","seq":1,"t":0,"action":"orbit","dx":1,"dy":0}"#),
                false,
            ),
            ("still", Message::text(r#"{"type":"still"}"#), false),
            ("keyframe", Message::text(r#"{"type":"keyframe"}"#), false),
            (
                "stats",
                Message::text(r#"{"type":"stats","fps":30}"#),
                false,
            ),
            ("invalid", Message::text("{not json"), true),
            ("invalid", Message::binary(vec![0u8; 16]), true),
        ];
        let started = Instant::now();
        for (kind, message, answers_counted) in kinds {
            let count = if kind == "input" { 1000 } else { 200 };
            // The marker's own kind must have tokens left: inputs refill fastest.
            let marker = if kind == "input" {
                stats_marker
            } else {
                input_marker
            };
            let replies = flood(&mut socket, kind, message, count, marker).await;
            assert!(
                replies.limited >= count / 2,
                "{kind}: only {} of {count} refused",
                replies.limited
            );
            if answers_counted {
                assert!(
                    replies.answered <= count / 4,
                    "{kind}: {} of {count} answered as taken",
                    replies.answered
                );
            }
        }
        let flooded = started.elapsed();
        let _ = stop.send(true);
        let frames = dragging.await.expect("the drag ran");
        // Nine floods of about a second each: a frame a second at the very least.
        assert!(
            frames >= 9,
            "the steady session got {frames} frames during {flooded:?} of floods"
        );
    });
    let limited = refusals(&audit, "rate_limited");
    for kind in [
        "hello",
        "list_studies",
        "open",
        "input",
        "still",
        "keyframe",
        "stats",
        "invalid",
    ] {
        assert!(
            limited
                .iter()
                .any(|e| e["detail"].as_str().is_some_and(|d| d.ends_with(kind))),
            "no rate_limited refusal recorded for {kind}: {limited:?}"
        );
    }
}

/// Connects from `local` (an address of 127.0.0.0/8) to the server's WebSocket with
/// `query`; the upgrade's status code.
async fn upgrade_from(local: [u8; 4], served: &Served, query: &str) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::from((local, 0)))
        .expect("binds on loopback");
    let stream = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], served.port)))
        .await
        .expect("connects");
    match tokio_tungstenite::client_async(served.ws_url(query), stream).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("upgrade failed: {other}"),
    }
}

#[test]
fn failed_token_attempts_lock_out_that_address_only() {
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let served = serve(&["--token", TOKEN, "--audit-log", &audit.to_string_lossy()]);
    run_within(TEST_LIMIT, async {
        let right = format!("?token={TOKEN}");
        for attempt in 0..4 {
            assert_eq!(
                upgrade_from([127, 0, 0, 1], &served, &format!("?token=guess{attempt}")).await,
                401
            );
        }
        // A wrong token in hello counts too: the fifth attempt.
        let mut client = Client::connect(&served.ws_url("")).await.expect("upgrades");
        match client.hello(Some("guess"), VIEWPORT).await {
            Err(ClientError::Server { code, .. }) => assert_eq!(code, ErrorCode::Unauthorized),
            other => panic!("expected unauthorized, got {other:?}"),
        }
        // Locked out: even the right token is turned away for a while.
        assert_eq!(upgrade_from([127, 0, 0, 1], &served, &right).await, 429);
        // Another address is not.
        assert_eq!(upgrade_from([127, 0, 0, 2], &served, &right).await, 101);
    });
    let log = audit_events(&audit);
    assert!(events(&log, "auth_failed").len() >= 5, "{log:?}");
    assert!(!refusals(&audit, "auth_throttled").is_empty(), "{log:?}");
}

/// A TCP connection to the server from `local` (an address of 127.0.0.0/8: Linux routes
/// them all to the loopback interface, so each stands for a client of its own).
async fn connect_from(local: [u8; 4], port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((local, 0)))?;
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
}

/// A slowloris connection's whole request: half a request line, and then nothing.
const HALF_A_REQUEST: &[u8] = b"GET /healthz HT";

/// Holds one slow connection from `local` open until `stop` is sent (or `until` at the
/// latest), opening it again (after a short pause) each time the server closes it; how
/// many it opened.
async fn slowloris(
    local: [u8; 4],
    port: u16,
    mut stop: tokio::sync::watch::Receiver<bool>,
    until: Instant,
) -> usize {
    let until = tokio::time::Instant::from_std(until);
    let mut opened = 0;
    while tokio::time::Instant::now() < until && !*stop.borrow() {
        if let Ok(mut stream) = connect_from(local, port).await {
            opened += 1;
            if tokio::io::AsyncWriteExt::write_all(&mut stream, HALF_A_REQUEST)
                .await
                .is_ok()
            {
                let mut answer = [0u8; 256];
                // Until the server closes it, or the attack ends.
                tokio::select! {
                    _ = tokio::time::timeout_at(
                        until,
                        tokio::io::AsyncReadExt::read(&mut stream, &mut answer),
                    ) => {}
                    _ = stop.changed() => break,
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    opened
}

/// Whether a client that does everything right (saying hello with `token`) gets a frame of
/// the phantom within `within`.
async fn good_client_frame(
    served: &Served,
    token: Option<&str>,
    within: Duration,
) -> Result<(), String> {
    tokio::time::timeout(within, async {
        let mut client = Client::connect(&served.ws_url(""))
            .await
            .map_err(|error| format!("connect: {error}"))?;
        client
            .hello(token, VIEWPORT)
            .await
            .map_err(|error| format!("hello: {error}"))?;
        client
            .open(PHANTOM_ID)
            .await
            .map_err(|error| format!("open: {error}"))?;
        client
            .next_frame()
            .await
            .map(|_| ())
            .map_err(|error| format!("frame: {error}"))
    })
    .await
    .unwrap_or_else(|_| Err(format!("no frame within {within:?}")))
}

#[test]
fn slow_connections_from_many_addresses_leave_a_good_client_room() {
    const ADDRESSES: u8 = 20;
    const SLOW_CONNECTIONS: usize = 200;
    const TRIES: usize = 6;
    let served = serve(&["--max-connections", "64"]);
    let port = served.port;
    run_within(TEST_LIMIT, async {
        let attack_until = Instant::now() + Duration::from_secs(30);
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let attack: Vec<_> = (0..SLOW_CONNECTIONS)
            .map(|n| {
                let last = 1 + u8::try_from(n % usize::from(ADDRESSES)).expect("under 20");
                tokio::spawn(slowloris(
                    [127, 0, 1, last],
                    port,
                    stopping.clone(),
                    attack_until,
                ))
            })
            .collect();
        // The slow connections take every place, and the good client's tries begin once
        // they are past the grace a fresh connection has.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut failures = Vec::new();
        for _ in 0..TRIES {
            if let Err(why) = good_client_frame(&served, None, Duration::from_secs(5)).await {
                failures.push(why);
            }
        }
        let _ = stop.send(true);
        let mut opened = 0;
        for task in attack {
            opened += task.await.expect("a slow connection's task");
        }
        assert!(
            failures.is_empty(),
            "{} of {TRIES} tries got no frame ({opened} slow connections opened): {failures:?}",
            failures.len()
        );
        assert!(
            opened >= SLOW_CONNECTIONS,
            "only {opened} slow connections opened"
        );
    });
}

#[test]
fn one_address_gets_no_more_than_its_connections_and_another_still_connects() {
    /// The default cap of one address.
    const PER_ADDRESS: usize = 32;
    let folder = tempfile::tempdir().expect("a folder");
    let audit = folder.path().join("audit.jsonl");
    let served = serve(&["--audit-log", &audit.to_string_lossy()]);
    let port = served.port;
    run_within(TEST_LIMIT, async {
        let mut held = Vec::new();
        for _ in 0..PER_ADDRESS {
            let mut stream = connect_from([127, 0, 2, 1], port).await.expect("connects");
            tokio::io::AsyncWriteExt::write_all(&mut stream, HALF_A_REQUEST)
                .await
                .expect("sends");
            held.push(stream);
        }
        // One more from the same address is closed unanswered.
        let mut excess = connect_from([127, 0, 2, 1], port).await.expect("connects");
        let _ = tokio::io::AsyncWriteExt::write_all(
            &mut excess,
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(3),
            tokio::io::AsyncReadExt::read_to_end(&mut excess, &mut answer),
        )
        .await
        .expect("closed at once, not held");
        assert!(
            read.is_err() || answer.is_empty(),
            "the connection over the address's cap was answered: {}",
            String::from_utf8_lossy(&answer)
        );
        // Another address still gets in and is answered.
        let mut other = connect_from([127, 0, 2, 2], port).await.expect("connects");
        tokio::io::AsyncWriteExt::write_all(
            &mut other,
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("sends");
        let mut answer = Vec::new();
        tokio::time::timeout(
            REPLY_WITHIN,
            tokio::io::AsyncReadExt::read_to_end(&mut other, &mut answer),
        )
        .await
        .expect("answered in time")
        .expect("read");
        assert_eq!(support::status_and_body(&answer).0, 200);
        drop(held);
    });
    let refused = refusals(&audit, "connection_cap");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]["client"]
            .as_str()
            .is_some_and(|client| client.starts_with("127.0.2.1:")),
        "{refused:?}"
    );
}

#[test]
fn websockets_that_never_say_hello_do_not_keep_a_good_client_out() {
    const SILENT: usize = 16;
    // With a token to give, a socket is not let in before its hello.
    let served = serve(&["--token", TOKEN, "--max-connections", "16"]);
    let port = served.port;
    run_within(TEST_LIMIT, async {
        let started = Instant::now();
        let mut silent = Vec::new();
        for _ in 0..SILENT {
            let stream = connect_from([127, 0, 3, 1], port).await.expect("connects");
            let (socket, _) = tokio_tungstenite::client_async(served.ws_url(""), stream)
                .await
                .expect("the upgrade itself is answered");
            silent.push(socket);
        }
        // Every place is held by a socket that has not said hello; past their grace, a
        // good client still gets in at once, long before their time to authenticate ends.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let trying = Instant::now();
        good_client_frame(&served, Some(TOKEN), Duration::from_secs(3))
            .await
            .unwrap_or_else(|why| panic!("the good client got no frame: {why}"));
        assert!(
            started.elapsed() < AUTH_TIMEOUT,
            "the frame came only after {:?}, once the silent sockets' time was up",
            started.elapsed()
        );
        assert!(trying.elapsed() < Duration::from_secs(3));
        // The silent socket whose place it took was closed, told to try again later.
        let mut told = 0;
        for socket in &mut silent {
            if let Ok(Some(Ok(Message::Close(Some(frame))))) =
                tokio::time::timeout(Duration::from_millis(50), socket.next()).await
                && frame.code == CloseCode::Again
            {
                told += 1;
            }
        }
        assert_eq!(told, 1, "one silent socket gave its place up");
    });
}

/// The head of a `POST /login` from the server's own page, with a body of `length` bytes
/// and `extra` header lines.
fn login_head(port: u16, length: usize, extra: &str) -> String {
    format!(
        "POST /login HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\n\
         Content-Type: application/json\r\n{extra}Content-Length: {length}\r\n\r\n"
    )
}

/// The status code of the answer to `head` and `body`, sent at once.
fn status_of_login(port: u16, head: &str, body: &[u8]) -> (u16, String) {
    let mut request = head.as_bytes().to_vec();
    request.extend_from_slice(body);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(REPLY_WITHIN))
        .expect("a timeout");
    stream.write_all(&request).expect("sends");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    support::status_and_body(&answer)
}

#[test]
fn a_login_body_that_dribbles_is_cut_off_in_time_and_its_connection_closed() {
    /// How long a login's body may take, as documented.
    const BODY_TIME: Duration = Duration::from_secs(10);
    let served = serve(&[]);
    // A body of 64 bytes sent a byte every half second: 32 s if nothing cut it off.
    let mut stream = TcpStream::connect(("127.0.0.1", served.port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("a timeout");
    stream
        .write_all(login_head(served.port, 64, "").as_bytes())
        .expect("sends the headers");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    let mut closed = false;
    for _ in 0..64 {
        let _ = stream.write_all(b" ");
        match stream.read(&mut chunk) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
    }
    let took = started.elapsed();
    let (status, text) = support::status_and_body(&answer);
    assert_eq!(status, 408, "after {took:?}: {text}");
    assert!(closed, "the connection stayed open after its 408");
    assert!(
        took >= BODY_TIME - Duration::from_millis(500) && took < BODY_TIME + Duration::from_secs(3),
        "answered after {took:?}"
    );
}

/// A gzip body of `text`.
fn gzipped(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(text.as_bytes()).expect("compressed");
    encoder.finish().expect("compressed")
}

#[test]
fn a_compressed_login_body_is_refused_never_inflated() {
    let served = serve(&[]);
    let port = served.port;
    let gzip = "Content-Encoding: gzip\r\nConnection: close\r\n";
    // A login that would let the page in if it were inflated.
    let login = gzipped(&serde_json::json!({ "token": "anything" }).to_string());
    let (status, text) = status_of_login(port, &login_head(port, login.len(), gzip), &login);
    assert_eq!(status, 415, "{text}");
    // A megabyte of spaces in a kilobyte: refused as it came.
    let bomb = gzipped(&" ".repeat(1 << 20));
    let (status, text) = status_of_login(port, &login_head(port, bomb.len(), gzip), &bomb);
    assert_eq!(status, 415, "{text}");
    // The same login uncompressed is let in.
    let plain = serde_json::json!({ "token": "anything" }).to_string();
    let (status, text) =
        status_of_login(port, &login_head(port, plain.len(), ""), plain.as_bytes());
    assert_eq!(status, 200, "{text}");
}
