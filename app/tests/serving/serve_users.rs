//! `hounsfield --serve --users FILE` over real loopback sockets: `users add` prints the
//! token alone on its last line and keeps only its hash; a viewer's `open` is refused and
//! joining a reader's shared session works, view only; a reader gets 403 at `/metrics` and
//! the admin view, an admin reads both and ends a session (its socket closes); removing a
//! user from the file ends their socket within seconds; an expired user is refused, and a
//! session ends when its user's access expires. The audit log names the user throughout.

use hounsfield_test_support as support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hounsfield_client::{Client, ClientError, Event};
use hounsfield_protocol::{Action, ClientMessage, ErrorCode, ServerMessage, Viewport};
use hounsfield_server::library::PHANTOM_ID;
use hounsfield_server::users::{Expiry, Role, User, UserTable, token_sha256};
use support::{Served, audit_events, http_request, run_within, serve};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Longest a whole test may take (a hung test, not a slow one).
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// Longest any one awaited reply may take.
const REPLY_WITHIN: Duration = Duration::from_secs(30);
/// How soon a session must end once its user is removed or expires (the file is looked at
/// every second).
const ENDS_WITHIN: Duration = Duration::from_secs(5);
/// Small frames: lavapipe draws them quickly.
const VIEWPORT: Viewport = Viewport {
    width: 160,
    height: 120,
};

/// Writes a users file of `(name, role, token, expiry)`.
fn write_users(path: &Path, users: &[(&str, Role, &str, Option<&str>)]) {
    let mut table = UserTable::default();
    for (name, role, token, expires) in users {
        let expires = expires.map(|e| Expiry::parse(e).expect("an expiry"));
        table
            .add(User::with_token(name, *role, token, expires))
            .expect("added");
    }
    table.save(path).expect("written");
}

/// A `--serve --users` process with its users file and audit log in a folder of their
/// own, starting with `users`.
struct UsersServer {
    served: Served,
    file: std::path::PathBuf,
    audit: std::path::PathBuf,
    _folder: tempfile::TempDir,
}

impl UsersServer {
    fn start(users: &[(&str, Role, &str, Option<&str>)]) -> Self {
        let folder = tempfile::tempdir().expect("a folder");
        let (file, audit) = (
            folder.path().join("users.toml"),
            folder.path().join("audit.jsonl"),
        );
        write_users(&file, users);
        let served = serve(&[
            "--users",
            &file.to_string_lossy(),
            "--audit-log",
            &audit.to_string_lossy(),
        ]);
        Self {
            served,
            file,
            audit,
            _folder: folder,
        }
    }
}

/// Runs `hounsfield users ARGS`: whether it succeeded, its standard output and error.
fn users_command(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .arg("users")
        .args(args)
        .output()
        .expect("hounsfield runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A client that said hello with `token` and got `welcome`.
async fn greeted(served: &Served, token: &str) -> Client {
    let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
    tokio::time::timeout(REPLY_WITHIN, client.hello(Some(token), VIEWPORT))
        .await
        .expect("in time")
        .expect("welcome");
    client
}

/// The next message `pick` accepts (frames and other messages skipped; an error fails).
async fn reply<T>(client: &mut Client, pick: impl Fn(ServerMessage) -> Option<T>) -> T {
    tokio::time::timeout(REPLY_WITHIN, async {
        loop {
            match client.next_event().await.expect("the session goes on") {
                Event::Message(ServerMessage::Error { code, message }) => {
                    panic!("error {code:?}: {message}")
                }
                Event::Message(message) => {
                    if let Some(value) = pick(message) {
                        return value;
                    }
                }
                Event::Frame(_) => {}
            }
        }
    })
    .await
    .expect("a reply in time")
}

/// The next frame, within [`REPLY_WITHIN`].
async fn frame(client: &mut Client) {
    tokio::time::timeout(REPLY_WITHIN, client.next_frame())
        .await
        .expect("a frame in time")
        .expect("a frame");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw WebSocket that said hello with `token`, opened the phantom and got a frame.
async fn raw_session(served: &Served, token: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(served.ws_url(""))
        .await
        .expect("connects");
    let hello = serde_json::json!({"type": "hello", "token": token, "viewport": VIEWPORT});
    let open = serde_json::json!({"type": "open", "series": PHANTOM_ID});
    for message in [hello, open] {
        socket
            .send(Message::text(message.to_string()))
            .await
            .expect("sent");
    }
    tokio::time::timeout(REPLY_WITHIN, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Binary(_))) => return,
                Some(Ok(Message::Text(text))) => {
                    assert!(!text.contains("\"error\""), "{text}");
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended before a frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a frame in time");
    socket
}

/// Waits for the server to close `socket`: the close code and reason, and how long it took.
async fn closed(socket: &mut Socket, within: Duration) -> (CloseCode, String, Duration) {
    let started = Instant::now();
    tokio::time::timeout(within, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code, frame.reason.to_string(), started.elapsed());
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a close frame")
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the socket was still open after {within:?}"))
}

/// A GET or POST with the token in `Authorization: Bearer`: status and body.
fn request(served: &Served, method: &str, path: &str, token: &str) -> (u16, String) {
    http_request(
        served.port,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// Events of one kind in the audit log.
fn events<'a>(log: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    log.iter().filter(|e| e["event"] == event).collect()
}

/// Fails unless the audit log holds an `event` for which `matches` holds.
#[track_caller]
fn assert_recorded(
    log: &[serde_json::Value],
    event: &str,
    matches: impl Fn(&serde_json::Value) -> bool,
) {
    assert!(
        events(log, event).iter().any(|e| matches(e)),
        "no such {event} in {log:?}"
    );
}

#[test]
fn users_added_at_the_same_time_are_all_kept() {
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("users.toml");
    let file_arg = file.to_string_lossy().into_owned();
    // Eight administrators' scripts add a user each, at once.
    let names: Vec<String> = (0..8).map(|n| format!("user{n}")).collect();
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            Command::new(env!("CARGO_BIN_EXE_hounsfield"))
                .args([
                    "users", "add", name, "--role", "viewer", "--file", &file_arg,
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("hounsfield runs")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("it ends");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let table = UserTable::load(&file).expect("a good file");
    for name in &names {
        assert!(table.get(name).is_some(), "{name} was lost");
    }
    assert_eq!(table.users().len(), names.len());
}

#[test]
fn users_add_prints_the_token_alone_on_the_last_line_and_the_file_keeps_only_its_hash() {
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("users.toml");
    let file_arg = file.to_string_lossy().into_owned();
    let (ok, out, err) = users_command(&[
        "add",
        "alice",
        "--role",
        "reader",
        "--expires",
        "2099-12-31",
        "--file",
        &file_arg,
    ]);
    assert!(ok, "{err}");
    let last = out.lines().last().expect("output");
    assert_eq!(last.len(), 32, "{out}");
    assert!(last.chars().all(|c| c.is_ascii_hexdigit()), "{out}");
    assert_eq!(
        out.matches(last).count(),
        1,
        "the token is printed once: {out}"
    );
    let text = std::fs::read_to_string(&file).expect("the file");
    assert!(!text.contains(last), "the token reached the file: {text}");
    let table = UserTable::load(&file).expect("a good file");
    let alice = table.get("alice").expect("alice is in it");
    assert_eq!(alice.token_sha256, token_sha256(last));
    assert_eq!(alice.role, Role::Reader);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second user; the same name again is refused and changes nothing.
    let (ok, _, err) = users_command(&["add", "bob", "--role", "viewer", "--file", &file_arg]);
    assert!(ok, "{err}");
    let (ok, out, err) = users_command(&["add", "alice", "--role", "admin", "--file", &file_arg]);
    assert!(!ok, "a duplicate name was taken: {out}");
    assert!(err.contains("already a user named \"alice\""), "{err}");
    assert_eq!(
        UserTable::load(&file).expect("a good file").users().len(),
        2
    );
    // The list shows names, roles and expiries, never hashes.
    let (ok, out, _) = users_command(&["list", "--file", &file_arg]);
    assert!(ok);
    assert!(out.contains("alice") && out.contains("reader") && out.contains("2099-12-31"));
    assert!(out.contains("bob") && out.contains("viewer"), "{out}");
    assert!(!out.contains(&hex(&alice.token_sha256)), "{out}");
    let (ok, _, err) = users_command(&["remove", "alice", "--file", &file_arg]);
    assert!(ok, "{err}");
    let (ok, _, err) = users_command(&["remove", "alice", "--file", &file_arg]);
    assert!(!ok && err.contains("no user named \"alice\""), "{err}");
    let names: Vec<String> = UserTable::load(&file)
        .expect("a good file")
        .users()
        .iter()
        .map(|u| u.name.clone())
        .collect();
    assert_eq!(names, ["bob"]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_bad_users_file_keeps_the_server_from_starting_and_names_the_user() {
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("users.toml");
    std::fs::write(
        &file,
        "[[user]]\nname = \"alice\"\nrole = \"owner\"\ntoken_sha256 = \"00\"\n",
    )
    .expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .args(["--serve", "--port", "0", "--users"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("users.toml: user \"alice\": role: \"owner\" is not a role"),
        "{err}"
    );
}

const VIEWER: &str = "viewer-token-3f0c";
const READER: &str = "reader-token-91ad";
const ADMIN: &str = "admin-token-77e2";

#[test]
fn roles_viewers_join_readers_share_and_admins_see_and_end_sessions() {
    let UsersServer {
        served,
        file: _,
        audit,
        _folder,
    } = UsersServer::start(&[
        ("vera", Role::Viewer, VIEWER, None),
        ("rita", Role::Reader, READER, None),
        ("ada", Role::Admin, ADMIN, None),
    ]);
    let mut sessions = (0, 0);
    run_within(TEST_LIMIT, async {
        let (mut reader, mut viewer) = share_and_join(&served).await;
        sessions = admin_view(&served, &mut reader).await;
        // The viewer keeps the last view.
        viewer.still(false).await.expect("sent");
        frame(&mut viewer).await;
    });
    roles_audited(&audit, sessions.0, sessions.1);
}

/// A viewer may not open or share; a reader opens and shares; the viewer joins with the
/// id, may only watch, and follows the reader's view. Returns the reader and the viewer.
async fn share_and_join(served: &Served) -> (Client, Client) {
    // A viewer lists nothing to open, and may not open a series of the library.
    let mut viewer = greeted(served, VIEWER).await;
    let studies = viewer.list_studies().await.expect("studies");
    assert!(studies.is_empty(), "{studies:?}");
    match viewer.open(PHANTOM_ID).await {
        Err(ClientError::Server { code, message }) => {
            assert_eq!(code, ErrorCode::Forbidden, "{message}");
        }
        other => panic!("a viewer opened a series: {other:?}"),
    }
    viewer.send(&ClientMessage::Share).await.expect("sent");
    assert_eq!(
        viewer.next_error().await.expect("a reply").0,
        ErrorCode::Forbidden
    );
    // A reader opens it, and shares the session.
    let mut reader = greeted(served, READER).await;
    reader.open(PHANTOM_ID).await.expect("a reader opens");
    frame(&mut reader).await;
    reader.send(&ClientMessage::Share).await.expect("sent");
    let (id, link) = reply(&mut reader, |message| match message {
        ServerMessage::Shared { id, link } => Some((id, link)),
        _ => None,
    })
    .await;
    assert_eq!(id.len(), 32);
    assert_eq!(link, format!("?join={id}"));
    // A wrong id is refused; the right one opens the reader's series here.
    viewer
        .send(&ClientMessage::Join { id: "0".repeat(32) })
        .await
        .expect("sent");
    assert_eq!(
        viewer.next_error().await.expect("a reply").0,
        ErrorCode::UnknownShare
    );
    viewer
        .send(&ClientMessage::Join { id: id.clone() })
        .await
        .expect("sent");
    let opened = reply(&mut viewer, |message| match message {
        ServerMessage::Opened(opened) => Some(opened),
        _ => None,
    })
    .await;
    assert_eq!(opened.series, PHANTOM_ID);
    frame(&mut viewer).await;
    // The viewer may only watch; the reader steers, and the viewer's frames follow.
    viewer
        .input(Action::Orbit { dx: 10.0, dy: 0.0 })
        .await
        .expect("sent");
    assert_eq!(
        viewer.next_error().await.expect("a reply").0,
        ErrorCode::ViewOnly
    );
    let seq = reader
        .input(Action::Orbit { dx: 30.0, dy: 0.0 })
        .await
        .expect("sent");
    assert!(seq > 0);
    frame(&mut viewer).await;
    (reader, viewer)
}

/// A reader and a viewer get 403 at `/metrics` and the admin view; the admin reads both
/// and ends the reader's session, whose socket closes. Returns the reader's and the
/// viewer's session numbers.
async fn admin_view(served: &Served, reader: &mut Client) -> (u64, u64) {
    // A reader reads neither /metrics nor the admin view; an admin reads both.
    for path in ["/metrics", "/admin/sessions"] {
        assert_eq!(request(served, "GET", path, READER).0, 403, "{path}");
        assert_eq!(request(served, "GET", path, VIEWER).0, 403, "{path}");
        assert_eq!(request(served, "GET", path, "wrong").0, 401, "{path}");
    }
    // The admin page itself is open: it asks for the token and sends it as Bearer.
    let (status, page) = served.get("/admin");
    assert_eq!(status, 200);
    assert!(page.contains("admin.js"), "{page}");
    let (status, body) = request(served, "GET", "/metrics", ADMIN);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hounsfield_sessions "), "{body}");
    let (status, body) = request(served, "GET", "/admin/sessions", ADMIN);
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let sessions = listed["sessions"].as_array().expect("a list");
    assert_eq!(sessions.len(), 2, "{body}");
    let of = |user: &str| {
        sessions
            .iter()
            .find(|s| s["user"] == user)
            .unwrap_or_else(|| panic!("no session of {user}: {body}"))
    };
    assert_eq!(of("rita")["role"], "reader");
    assert_eq!(of("rita")["series"], PHANTOM_ID);
    assert_eq!(of("vera")["role"], "viewer");
    assert!(
        of("vera")["client"]
            .as_str()
            .is_some_and(|c| c.starts_with("127.0.0.1:"))
    );
    assert!(
        of("vera")["started"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let reader_session = of("rita")["id"].as_u64().expect("an id");
    let viewer_session = of("vera")["id"].as_u64().expect("an id");
    // A reader may not end a session; an admin may, and its socket closes.
    let end = format!("/admin/sessions/{reader_session}/end");
    assert_eq!(request(served, "POST", &end, READER).0, 403);
    let (status, body) = request(served, "POST", &end, ADMIN);
    assert_eq!(status, 200, "{body}");
    let ended = tokio::time::timeout(ENDS_WITHIN, async {
        loop {
            match reader.next_event().await {
                Ok(_) => {}
                Err(error) => return error,
            }
        }
    })
    .await
    .expect("the ended session closes");
    match ended {
        ClientError::Closed(Some(reason)) => {
            assert_eq!(reason, "ended by an administrator");
        }
        other => panic!("expected a close with its reason, got {other:?}"),
    }
    assert_eq!(request(served, "POST", &end, ADMIN).0, 404);
    (reader_session, viewer_session)
}

/// The audit log of the roles test names the users in each event.
fn roles_audited(audit: &Path, reader_session: u64, viewer_session: u64) {
    let log = audit_events(audit);
    let started = events(&log, "session_start");
    assert!(
        started
            .iter()
            .any(|e| e["user"] == "vera" && e["role"] == "viewer"),
        "{log:?}"
    );
    assert!(
        started
            .iter()
            .any(|e| e["user"] == "rita" && e["role"] == "reader")
    );
    assert_recorded(&log, "series_opened", |e| {
        e["user"] == "vera" && e["session"] == viewer_session
    });
    assert_recorded(&log, "refused", |e| {
        e["reason"] == "forbidden" && e["user"] == "vera"
    });
    assert_recorded(&log, "refused", |e| {
        e["reason"] == "forbidden" && e["user"] == "rita" && e["detail"] == "/metrics"
    });
    assert_recorded(&log, "session_shared", |e| e["user"] == "rita");
    assert_recorded(&log, "session_joined", |e| {
        e["user"] == "vera" && e["host_session"] == reader_session
    });
    assert_recorded(&log, "admin_ended_session", |e| {
        e["admin"] == "ada" && e["user"] == "rita" && e["session"] == reader_session
    });
    assert_recorded(&log, "session_end", |e| {
        e["user"] == "rita" && e["reason"] == "ended_by_admin"
    });
    let text = std::fs::read_to_string(audit).expect("the log");
    for token in [VIEWER, READER, ADMIN] {
        assert!(!text.contains(token), "a token reached the audit log");
    }
}

#[test]
fn removing_a_user_ends_their_socket_and_a_bad_file_keeps_the_users() {
    let UsersServer {
        served,
        file,
        audit,
        _folder,
    } = UsersServer::start(&[
        ("rita", Role::Reader, READER, None),
        ("ada", Role::Admin, ADMIN, None),
    ]);
    run_within(TEST_LIMIT, async {
        let mut rita = raw_session(&served, READER).await;
        let mut ada = greeted(&served, ADMIN).await;
        ada.open(PHANTOM_ID).await.expect("opened");
        frame(&mut ada).await;
        // A file that is not a users file is not taken: rita stays.
        std::fs::write(&file, "[[user]]\nname = 3\n").expect("written");
        tokio::time::sleep(Duration::from_secs(2)).await;
        greeted(&served, READER).await;
        // Rita removed: her socket closes within seconds, as a policy matter.
        let file_arg = file.to_string_lossy().into_owned();
        write_users(
            &file,
            &[
                ("rita", Role::Reader, READER, None),
                ("ada", Role::Admin, ADMIN, None),
            ],
        );
        let (ok, _, err) = users_command(&["remove", "rita", "--file", &file_arg]);
        assert!(ok, "{err}");
        let (code, reason, took) = closed(&mut rita, ENDS_WITHIN).await;
        assert_eq!(code, CloseCode::Policy);
        assert_eq!(reason, "user removed");
        assert!(took <= ENDS_WITHIN, "{took:?}");
        // Her token no longer lets her in; ada's session went on.
        let mut again = Client::connect(&served.ws_url("")).await.expect("upgrades");
        match again.hello(Some(READER), VIEWPORT).await {
            Err(ClientError::Server { code, .. }) => assert_eq!(code, ErrorCode::Unauthorized),
            other => panic!("a removed user was let in: {other:?}"),
        }
        ada.input(Action::Orbit { dx: 5.0, dy: 0.0 })
            .await
            .expect("sent");
        frame(&mut ada).await;
    });
    let log = audit_events(&audit);
    assert!(!events(&log, "users_load_failed").is_empty(), "{log:?}");
    assert_recorded(&log, "user_removed", |e| e["user"] == "rita");
    assert_recorded(&log, "session_end", |e| {
        e["user"] == "rita" && e["reason"] == "user_removed"
    });
}

/// How long after the expiry test starts its second user's access ends.
const DAVE_EXPIRES_IN: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

#[test]
fn an_expired_user_is_refused_and_a_session_ends_when_access_expires() {
    // Dave's access ends a few seconds from now, without the file changing (time enough
    // for his session to open and show its first frame on a busy machine).
    let soon =
        (chrono::Utc::now() + DAVE_EXPIRES_IN).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let UsersServer {
        served,
        file: _,
        audit,
        _folder,
    } = UsersServer::start(&[
        ("carol", Role::Reader, "carol-token", Some("2020-01-31")),
        ("dave", Role::Reader, "dave-token", Some(&soon)),
    ]);
    run_within(TEST_LIMIT, async {
        let mut dave = raw_session(&served, "dave-token").await;
        // Carol's access has expired: refused in hello, and in the upgrade request.
        let mut carol = Client::connect(&served.ws_url("")).await.expect("upgrades");
        match carol.hello(Some("carol-token"), VIEWPORT).await {
            Err(ClientError::Server { code, message }) => {
                assert_eq!(code, ErrorCode::Unauthorized);
                assert!(message.contains("expired"), "{message}");
            }
            other => panic!("an expired user was let in: {other:?}"),
        }
        match tokio_tungstenite::connect_async(served.ws_url("?token=carol-token")).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 401);
            }
            other => panic!(
                "an expired user's upgrade was let in: {:?}",
                other.map(|_| ())
            ),
        }
        let (code, reason, _) = closed(
            &mut dave,
            DAVE_EXPIRES_IN.to_std().expect("positive") + ENDS_WITHIN,
        )
        .await;
        assert_eq!(code, CloseCode::Policy);
        assert_eq!(reason, "user's access expired");
    });
    let log = audit_events(&audit);
    assert_recorded(&log, "auth_failed", |e| {
        e["reason"]
            .as_str()
            .is_some_and(|r| r.contains("carol") && r.contains("expired"))
    });
    assert_recorded(&log, "user_expired", |e| e["user"] == "dave");
    assert_recorded(&log, "session_end", |e| {
        e["user"] == "dave" && e["reason"] == "user_expired"
    });
}

/// Sends `request` as it is and returns the whole answer, head and body.
fn exchange(served: &Served, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", served.port)).expect("connects");
    stream
        .set_read_timeout(Some(REPLY_WITHIN))
        .expect("a timeout");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// A POST to `path` with `headers` (each a full line) and `body`: the whole answer.
fn post_with(served: &Served, path: &str, headers: &[String], body: &str) -> String {
    let extra: String = headers.iter().map(|line| format!("{line}\r\n")).collect();
    exchange(
        served,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost:{}\r\n{extra}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            served.port,
            body.len()
        ),
    )
}

/// The status code of a whole answer.
fn status_of(answer: &str) -> u16 {
    support::status_and_body(answer.as_bytes()).0
}

#[test]
fn every_state_changing_request_from_another_origins_page_is_refused_audited_and_changes_nothing() {
    let server = UsersServer::start(&[
        ("ada", Role::Admin, ADMIN, None),
        ("rita", Role::Reader, READER, None),
    ]);
    let served = &server.served;
    let own = format!("Origin: http://localhost:{}", served.port);
    // A page on another port of the same host: same site, another origin.
    let foreign = format!("Origin: http://localhost:{}", served.port.wrapping_add(1));
    let login = serde_json::json!({ "token": ADMIN }).to_string();
    run_within(TEST_LIMIT, async {
        let mut reader = raw_session(served, READER).await;
        // The admin logs in from the server's own page and holds its cookie.
        let answer = post_with(served, "/login", std::slice::from_ref(&own), &login);
        assert_eq!(status_of(&answer), 200, "{answer}");
        let cookie = answer
            .lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .and_then(|value| value.split(';').next())
            .expect("a login cookie")
            .to_string();
        let with_cookie = |origin: &str| vec![origin.to_string(), format!("Cookie: {cookie}")];
        let (status, sessions) = request(served, "GET", "/admin/sessions", ADMIN);
        assert_eq!(status, 200, "{sessions}");
        let sessions: serde_json::Value = serde_json::from_str(&sessions).expect("JSON");
        let id = sessions["sessions"][0]["id"]
            .as_u64()
            .expect("the reader's session");
        let end = format!("/admin/sessions/{id}/end");

        // Each state-changing route, sent by the other page with the admin's cookie.
        let site = "Sec-Fetch-Site: same-site".to_string();
        let cookie_line = format!("Cookie: {cookie}");
        let attempts: [(&str, Vec<String>, &str); 5] = [
            (&end, with_cookie(&foreign), ""),
            ("/logout", with_cookie(&foreign), ""),
            ("/login", vec![foreign.clone()], &login),
            // A browser that names no origin but says another page of the site sent it.
            (&end, vec![site.clone(), cookie_line.clone()], ""),
            ("/logout", vec![site, cookie_line], ""),
        ];
        for (path, headers, body) in &attempts {
            let answer = post_with(served, path, headers, body);
            assert_eq!(status_of(&answer), 403, "POST {path} {headers:?}: {answer}");
            assert!(
                !answer.to_ascii_lowercase().contains("set-cookie"),
                "a refused request sets no cookie: {answer}"
            );
        }
        // A WebSocket opened by the other page is refused the same way.
        let upgrade = exchange(
            served,
            &format!(
                "GET /ws HTTP/1.1\r\nHost: localhost:{}\r\n{foreign}\r\nConnection: Upgrade\r\n\
                 Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                served.port
            ),
        );
        assert_eq!(status_of(&upgrade), 403, "{upgrade}");

        // Nothing changed: the login still holds, and the reader's session still draws.
        let whoami = exchange(
            served,
            &format!(
                "GET /whoami HTTP/1.1\r\nHost: localhost:{}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
                served.port
            ),
        );
        assert!(
            whoami.contains("\"ada\""),
            "the login is still valid: {whoami}"
        );
        let input =
            serde_json::json!({"type": "input", "seq": 1, "action": "orbit", "dx": 4, "dy": 0});
        reader
            .send(Message::text(input.to_string()))
            .await
            .expect("the reader's session is open");
        tokio::time::timeout(REPLY_WITHIN, async {
            loop {
                match reader.next().await {
                    Some(Ok(Message::Binary(_))) => return,
                    Some(Ok(Message::Close(_))) | None => panic!("the reader's session ended"),
                    _ => {}
                }
            }
        })
        .await
        .expect("a frame after the refused attempts");

        // From the server's own page the same request goes through.
        let answer = post_with(served, &end, &with_cookie(&own), "");
        assert_eq!(status_of(&answer), 200, "{answer}");
        // A login is a token, no more: a body one byte over its bound is refused by size.
        let padded = format!("{{\"token\": \"{ADMIN}\"}}{}", " ".repeat(4096));
        let oversized = &padded[..4097];
        let answer = post_with(served, "/login", std::slice::from_ref(&own), oversized);
        assert_eq!(status_of(&answer), 413, "{answer}");
    });
    let log = audit_events(&server.audit);
    let refused: Vec<_> = events(&log, "refused")
        .into_iter()
        .filter(|e| e["reason"] == "origin")
        .collect();
    assert_eq!(
        refused.len(),
        6,
        "one origin refusal per attempt: {refused:?}"
    );
    for path in ["/admin/sessions/", "/logout", "/login", "/ws"] {
        assert!(
            refused
                .iter()
                .any(|e| e["detail"].as_str().is_some_and(|d| d.contains(path))),
            "{path} is named: {refused:?}"
        );
    }
}
