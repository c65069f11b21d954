//! A hostile DICOMweb server written by the test, on loopback, answering each of a
//! source's bounds at its limit plus one: no answer at all, an answer dribbled a byte at a
//! time (each byte within the gap allowed, the whole past the call's time, or past one
//! request's time), an answer that stops mid-way (past the gap allowed), a redirect to
//! another host (which must never see the credentials), a redirect loop, JSON nested past
//! the parser's depth and JSON one byte over its size. Each call must end with an error
//! that names what was passed, in bounded time, and nothing may panic. A property test
//! answers any DICOM-JSON-shaped value to a catalogue: studies or an error, never a panic.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hounsfield_dicomweb::qido::StudyQuery;
use hounsfield_dicomweb::{DicomWeb, Limits, PacsError};
use proptest::prelude::*;

/// The bearer token the source sends, which no other host may see.
const TOKEN: &str = "pacs-s3cret";
/// Longest any case may take (a hung call, not a slow one).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// Small limits, so that each case passes its bound within seconds.
fn limits() -> Limits {
    Limits {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
        total_timeout: Duration::from_secs(3),
        max_redirects: 2,
        attempts: 1,
        max_json_bytes: 1000,
        ..Limits::default()
    }
}

/// What one connection's request was: its request line and headers.
type Seen = Arc<Mutex<Vec<String>>>;

/// A server on a loopback port answering every request with `answer`; the requests it
/// saw, head only.
fn hostile(answer: impl Fn(&mut TcpStream, &str) + Send + Sync + 'static) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    let seen: Seen = Arc::default();
    let kept = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let (seen, answer) = (kept.clone(), answer.clone());
            std::thread::spawn(move || {
                let mut head = String::new();
                let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                seen.lock().expect("not poisoned").push(head.clone());
                answer(&mut stream, &head);
            });
        }
    });
    (address, seen)
}

/// Searches the studies of the PACS at `address` with the test's limits: the error, and
/// how long the call took.
fn search(address: SocketAddr) -> (PacsError, Duration) {
    search_within(address, limits())
}

/// [`search`] with `limits`.
fn search_within(address: SocketAddr, limits: Limits) -> (PacsError, Duration) {
    let source = DicomWeb::new(
        &format!("http://{address}/dicom-web"),
        Some(TOKEN.to_string()),
    )
    .expect("a source")
    .with_limits(limits);
    let started = Instant::now();
    let error = source
        .search_studies(&StudyQuery {
            limit: 10,
            ..StudyQuery::default()
        })
        .expect_err("a hostile PACS gives an error");
    let took = started.elapsed();
    assert!(took < CASE_LIMIT, "the call took {took:?}");
    (error, took)
}

/// An answer head with `status` and a DICOM JSON body of `length` bytes.
fn head(status: &str, length: usize) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/dicom+json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
}

/// Answers a search a byte every 300 ms, each gap well inside the read limit of 2 s, the
/// whole within the size limit: only time can end it.
fn dribble(stream: &mut TcpStream) {
    let body = format!("[{}]", " ".repeat(900));
    let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
    for byte in body.bytes() {
        std::thread::sleep(Duration::from_millis(300));
        if stream.write_all(&[byte]).is_err() {
            return;
        }
    }
}

#[test]
fn a_pacs_that_never_answers_is_left_after_the_first_byte_limit() {
    let (address, _) = hostile(|_, _| std::thread::sleep(Duration::from_secs(25)));
    let (error, _) = search(address);
    let text = error.to_string();
    assert!(text.contains("no answer within 1 s"), "{text}");
}

#[test]
fn a_pacs_that_dribbles_within_each_gap_is_left_at_the_calls_total_time() {
    let (address, _) = hostile(|stream, _| dribble(stream));
    let (error, took) = search(address);
    let text = error.to_string();
    assert!(
        text.contains("longer than the call's time limit in all"),
        "{text}"
    );
    assert!(
        took >= limits().total_timeout,
        "left only at the total: {took:?}"
    );
}

#[test]
fn a_pacs_that_stops_mid_answer_is_left_after_the_gap_between_bytes() {
    let (address, _) = hostile(|stream, _| {
        let body = format!("[{}]", " ".repeat(900));
        let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
        let _ = stream.write_all(&body.as_bytes()[..10]);
        let _ = stream.flush();
        // Silent past the read limit of 2 s, the call's total (20 s below) far away: the
        // gap is what ends it.
        std::thread::sleep(Duration::from_secs(25));
    });
    let limits = Limits {
        total_timeout: Duration::from_secs(20),
        ..limits()
    };
    let (error, took) = search_within(address, limits.clone());
    let text = error.to_string();
    assert!(
        text.contains("broke off") || text.contains("time"),
        "{text}"
    );
    assert!(
        took >= limits.read_timeout && took < limits.total_timeout,
        "left at the gap's limit: {took:?}"
    );
}

#[test]
fn one_request_is_left_at_its_own_time_limit_while_bytes_keep_coming() {
    let (address, _) = hostile(|stream, _| dribble(stream));
    // Every gap within the read limit, the call's total far away: the request's own
    // limit of 2 s is what ends it.
    let limits = Limits {
        request_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(20),
        ..limits()
    };
    let (error, took) = search_within(address, limits.clone());
    let text = error.to_string();
    assert!(
        text.contains("time limit passed") || text.contains("broke off"),
        "{text}"
    );
    assert!(
        took >= limits.request_timeout && took < Duration::from_secs(10),
        "left at the request's limit: {took:?}"
    );
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_the_credentials_stay() {
    let (elsewhere, seen_elsewhere) = hostile(|stream, _| {
        let _ = stream.write_all(format!("{}[]", head("200 OK", 2)).as_bytes());
    });
    // The same machine by another name is another host.
    let to = format!("http://localhost:{}/dicom-web/studies", elsewhere.port());
    let (address, _) = hostile(move |stream, _| {
        let _ = stream.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
    });
    let (error, _) = search(address);
    let text = error.to_string();
    assert!(text.contains("redirected to another host"), "{text}");
    assert!(
        seen_elsewhere.lock().expect("not poisoned").is_empty(),
        "the other host was asked"
    );
}

#[test]
fn a_redirect_loop_ends_after_the_redirects_allowed() {
    let (address, seen) = hostile(|stream, _| {
        let _ = stream.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: /dicom-web/studies\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    });
    let (error, _) = search(address);
    let text = error.to_string();
    assert!(text.contains("more than 2 redirects"), "{text}");
    let asked = seen.lock().expect("not poisoned");
    assert_eq!(asked.len(), 3, "the request and two redirects: {asked:?}");
    assert!(
        asked
            .iter()
            .all(|head| head.contains(&format!("Bearer {TOKEN}"))),
        "the PACS's own redirects keep the credentials"
    );
}

#[test]
fn json_nested_past_the_parsers_depth_is_refused_without_a_crash() {
    let (address, _) = hostile(|stream, _| {
        // Within the size limit, nested far past serde_json's depth of 128.
        let body = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let _ = stream.write_all(format!("{}{body}", head("200 OK", body.len())).as_bytes());
    });
    let (error, _) = search(address);
    let text = error.to_string();
    assert!(
        text.contains("not DICOM JSON") && text.contains("recursion"),
        "{text}"
    );
}

#[test]
fn json_one_byte_over_its_limit_is_refused_by_size() {
    let limit = usize::try_from(limits().max_json_bytes).expect("small");
    let (address, _) = hostile(move |stream, _| {
        let body = format!("[{}]", " ".repeat(limit - 1));
        assert_eq!(body.len(), limit + 1);
        let _ = stream.write_all(format!("{}{body}", head("200 OK", body.len())).as_bytes());
    });
    let (error, _) = search(address);
    assert!(
        matches!(
            error,
            PacsError::TooLarge {
                size: 1001,
                limit: 1000,
                ..
            }
        ),
        "{error}"
    );
}

/// Any DICOM-JSON-shaped value: objects keyed by the tags and words a QIDO answer uses,
/// arrays, and leaves of every JSON kind, nested a few levels.
fn dicom_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[0-9.A-Za-z^ ]{0,12}".prop_map(Value::String),
    ];
    let keys = prop::sample::select(vec![
        "0020000D",
        "0020000E",
        "00080020",
        "00080050",
        "00080060",
        "00080061",
        "00100010",
        "00100020",
        "00081030",
        "0008103E",
        "00201206",
        "00201208",
        "00200011",
        "Value",
        "vr",
        "Alphabetic",
    ]);
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever DICOM-shaped JSON a PACS answers a search or a catalogue with, the call
    /// ends with studies or an error naming the URL, in bounded time, and never panics.
    #[test]
    fn any_answer_shaped_like_dicom_json_gives_studies_or_an_error(answer in dicom_json()) {
        let body = serde_json::to_string(&answer).expect("JSON");
        let (address, _) = hostile(move |stream, _| {
            let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
            let _ = stream.write_all(body.as_bytes());
        });
        let source = DicomWeb::new(&format!("http://{address}/dicom-web"), None)
            .expect("a source")
            .with_limits(limits());
        let started = Instant::now();
        match source.catalog(50) {
            Ok(catalog) => prop_assert!(catalog.studies.len() <= 50),
            Err(error) => prop_assert!(error.to_string().contains(&address.to_string()), "{error}"),
        }
        prop_assert!(started.elapsed() < CASE_LIMIT);
    }
}
