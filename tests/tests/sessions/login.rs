//! Logging in from the web page, over real sockets: `POST /login` exchanges a token for a
//! login cookie (HttpOnly, SameSite=Strict, Path=/, Secure over TLS) that opens the
//! WebSocket without a token; `POST /logout` ends it; a login expires; wrong tokens at
//! login lock the address out like any others; a page of another origin cannot log in; and
//! the audit log names the user at each step.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hounsfield_client::{Client, ClientError, STILL_CODECS, Welcome};
use hounsfield_protocol::Viewport;
use hounsfield_server::AuditLog;
use hounsfield_tls::{ServerTls, ServerTrust};
use support::certificates::TestCa;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const TOKEN: &str = "login-test-token-5f1e";
const VIEWPORT: Viewport = Viewport {
    width: 96,
    height: 72,
};
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// How long the short-lived server's logins last.
const SHORT_LOGIN: Duration = Duration::from_secs(2);

/// Four servers wanting [`TOKEN`]: one over TLS, one plain, one plain whose logins last
/// [`SHORT_LOGIN`], and one the throttling test locks this address out of; each with an
/// audit log.
struct Servers {
    _folder: tempfile::TempDir,
    trust: ServerTrust,
    tls: SocketAddr,
    plain: SocketAddr,
    short: SocketAddr,
    throttled: SocketAddr,
    short_audit: PathBuf,
    plain_audit: PathBuf,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let folder = tempfile::tempdir().expect("a temporary folder");
        // The servers, and so this folder, last until the process ends.
        hounsfield_test_support::remove_at_exit(folder.path());
        let ca = TestCa::new(folder.path());
        let issued = ca.issue(folder.path(), "login", &["localhost"]);
        let audit = |name: &str| folder.path().join(format!("{name}.jsonl"));
        let config = |audit_path: &PathBuf| {
            let mut config = support::server::loopback_config();
            config.token = Some(TOKEN.to_string());
            config.h264_encoders = Vec::new();
            config.audit = Arc::new(AuditLog::open(audit_path).expect("an audit log"));
            config
        };
        let mut tls = config(&audit("tls"));
        tls.tls = Some(ServerTls::from_files(issued.files).expect("loads"));
        let plain = config(&audit("plain"));
        let mut short = config(&audit("short"));
        short.login_lifetime = SHORT_LOGIN;
        let throttled = config(&audit("throttled"));
        let addresses = support::server::start(vec![tls, plain, short, throttled]);
        Servers {
            trust: ServerTrust {
                ca_files: vec![ca.certificate.clone()],
                pinned: None,
            },
            tls: addresses[0],
            plain: addresses[1],
            short: addresses[2],
            throttled: addresses[3],
            short_audit: audit("short"),
            plain_audit: audit("plain"),
            _folder: folder,
        }
    })
}

/// An HTTP/1.1 request's answer: status line and headers (lower-cased names), and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The login cookie's `name=value`, from `Set-Cookie`.
    fn login_cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie");
        set.split(';').next().unwrap_or_default().trim().to_string()
    }
}

async fn exchange(stream: &mut (impl AsyncRead + AsyncWrite + Unpin), request: &str) -> Answer {
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Sends `method path` with `extra` header lines and `body` to `address` (over TLS when
/// `tls`), and reads the whole answer.
async fn request(
    address: SocketAddr,
    tls: bool,
    method: &str,
    path: &str,
    extra: &[String],
    body: &str,
) -> Answer {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    if tls {
        let (config, _) = servers().trust.client_config().expect("a client config");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
        let mut stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .expect("TLS");
        exchange(&mut stream, &text).await
    } else {
        let mut stream = tcp;
        exchange(&mut stream, &text).await
    }
}

async fn log_in(address: SocketAddr, tls: bool, token: &str) -> Answer {
    request(
        address,
        tls,
        "POST",
        "/login",
        &["Content-Type: application/json".to_string()],
        &format!("{{\"token\": \"{token}\"}}"),
    )
    .await
}

async fn whoami(address: SocketAddr, cookie: &str) -> serde_json::Value {
    let answer = request(
        address,
        false,
        "GET",
        "/whoami",
        &[format!("Cookie: {cookie}")],
        "",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).expect("JSON")
}

/// Connects with `cookie` and says hello without a token: the `welcome`, or why not.
async fn hello_with_cookie(
    url: &str,
    trust: &ServerTrust,
    cookie: &str,
) -> Result<Welcome, ClientError> {
    let mut client = Client::connect_with_headers(url, trust, &[("Cookie", cookie)]).await?;
    client.hello_offering(None, VIEWPORT, &STILL_CODECS).await
}

fn audit_events(path: &PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn run(body: impl std::future::Future<Output = ()>) {
    support::server::run_within(TEST_LIMIT, body);
}

#[test]
fn a_login_gives_a_strict_http_only_secure_cookie_that_opens_the_websocket() {
    run(async {
        let servers = servers();
        let answer = log_in(servers.tls, true, TOKEN).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let set = answer.header("set-cookie").expect("a cookie").to_string();
        for attribute in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=28800",
        ] {
            assert!(
                set.split("; ").any(|a| a == attribute),
                "{attribute} in {set}"
            );
        }
        let who: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON");
        assert_eq!(who["user"], "token");
        assert!(!answer.body.contains(TOKEN), "the token is not sent back");
        let cookie = answer.login_cookie();
        let url = format!("wss://localhost:{}/ws", servers.tls.port());
        let welcome = hello_with_cookie(&url, &servers.trust, &cookie)
            .await
            .expect("the cookie opens a session without a token");
        // The session is the login's user.
        assert_eq!(welcome.user.as_deref(), Some("token"));
        assert_eq!(welcome.role.as_deref(), Some("reader"));
        // A made-up cookie opens nothing.
        let forged = "hounsfield_login=0123456789abcdef0123456789abcdef";
        let refused = hello_with_cookie(&url, &servers.trust, forged).await;
        assert!(refused.is_err(), "a forged cookie was let in");
        // Over plain HTTP the cookie cannot be Secure (a browser would drop it).
        let plain = log_in(servers.plain, false, TOKEN).await;
        let set = plain.header("set-cookie").expect("a cookie");
        assert!(set.contains("HttpOnly") && !set.contains("Secure"), "{set}");
    });
}

#[test]
fn logging_out_ends_the_login() {
    run(async {
        let servers = servers();
        let cookie = log_in(servers.plain, false, TOKEN).await.login_cookie();
        assert_eq!(whoami(servers.plain, &cookie).await["user"], "token");
        let out = request(
            servers.plain,
            false,
            "POST",
            "/logout",
            &[format!("Cookie: {cookie}")],
            "",
        )
        .await;
        assert_eq!(out.status, 204);
        let cleared = out.header("set-cookie").expect("the cookie cleared");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let who = whoami(servers.plain, &cookie).await;
        assert_eq!(who["required"], true);
        assert!(who.get("user").is_none(), "{who}");
        let url = format!("ws://{}/ws", servers.plain);
        assert!(
            hello_with_cookie(&url, &ServerTrust::system(), &cookie)
                .await
                .is_err(),
            "a logged-out cookie opens nothing"
        );
        let events = audit_events(&servers.plain_audit);
        for event in ["login", "logout"] {
            assert!(
                events
                    .iter()
                    .any(|e| e["event"] == event && e["user"] == "token"),
                "{event} naming the user in {events:?}"
            );
        }
        assert!(
            !std::fs::read_to_string(&servers.plain_audit)
                .unwrap_or_default()
                .contains(TOKEN),
            "no token in the audit log"
        );
    });
}

#[test]
fn a_login_expires() {
    run(async {
        let servers = servers();
        let answer = log_in(servers.short, false, TOKEN).await;
        assert!(
            answer
                .header("set-cookie")
                .is_some_and(|set| set.contains(&format!("Max-Age={}", SHORT_LOGIN.as_secs()))),
            "the cookie says how long it lasts"
        );
        let cookie = answer.login_cookie();
        assert_eq!(whoami(servers.short, &cookie).await["user"], "token");
        tokio::time::sleep(SHORT_LOGIN + Duration::from_millis(500)).await;
        let url = format!("ws://{}/ws", servers.short);
        assert!(
            hello_with_cookie(&url, &ServerTrust::system(), &cookie)
                .await
                .is_err(),
            "an expired login opens nothing"
        );
        assert!(whoami(servers.short, &cookie).await.get("user").is_none());
        let events = audit_events(&servers.short_audit);
        assert!(
            events
                .iter()
                .any(|e| e["event"] == "login_expired" && e["user"] == "token"),
            "{events:?}"
        );
    });
}

#[test]
fn wrong_tokens_at_login_lock_the_address_out_and_a_foreign_page_cannot_log_in() {
    run(async {
        // A server of its own: the lock-out must not reach the other tests' logins.
        let servers = servers();
        let server = servers.throttled;
        let foreign = request(
            server,
            false,
            "POST",
            "/login",
            &[
                "Content-Type: application/json".to_string(),
                "Origin: http://evil.example".to_string(),
            ],
            &format!("{{\"token\": \"{TOKEN}\"}}"),
        )
        .await;
        assert_eq!(foreign.status, 403, "{}", foreign.body);
        assert!(foreign.header("set-cookie").is_none());
        let malformed = request(server, false, "POST", "/login", &[], "token=x").await;
        assert_eq!(malformed.status, 400);
        for _ in 0..5 {
            assert_eq!(log_in(server, false, "wrong-token").await.status, 401);
        }
        let locked = log_in(server, false, TOKEN).await;
        assert_eq!(locked.status, 429, "locked out even with the right token");
        assert!(locked.header("retry-after").is_some());
        assert!(locked.header("set-cookie").is_none());
    });
}
