//! A hostile DICOMweb server written by the test, on loopback, answering each of a
//! source's bounds at its limit plus one: no answer at all, an answer dribbled a byte at a
//! time (each byte within the gap allowed: a search, a catalogue listing, a store and a
//! series' metadata past their own deadlines, a retrieval below its minimum rate, one
//! request past its own time), a catalogue whose pages never end (past the listing's
//! deadline), an answer that stops mid-way (past the gap allowed), a redirect to another
//! host (which must never see the credentials), a redirect loop, JSON nested past the
//! parser's depth and JSON one byte over its size. Each call must end with
//! an error that names what was passed, in bounded time, and nothing may panic; and a
//! retrieval that keeps a healthy rate goes on past every deadline of the other kinds. A
//! property test answers any DICOM-JSON-shaped value to a catalogue: studies or an error,
//! never a panic.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hounsfield_dicomweb::qido::StudyQuery;
use hounsfield_dicomweb::{
    CallKind, Deadlines, DicomWeb, Limits, MinimumRate, PacsError, SeriesCache,
};
use proptest::prelude::*;

/// The bearer token the source sends, which no other host may see.
const TOKEN: &str = "pacs-s3cret";
/// Longest any case may take (a hung call, not a slow one).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// The search deadline of these tests, 30 s scaled down to 3 s.
const SEARCH_DEADLINE: Duration = Duration::from_secs(3);
/// The minimum rate of a retrieval in these tests: 16 KiB in any 2 s.
const RETRIEVAL_RATE: MinimumRate = MinimumRate {
    bytes: 16 << 10,
    window: Duration::from_secs(2),
};

/// Small limits, so that each case passes its bound within seconds.
fn limits() -> Limits {
    Limits {
        connect_timeout: Duration::from_secs(2),
        first_byte_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
        deadlines: Deadlines {
            search: SEARCH_DEADLINE,
            listing: Duration::from_secs(10),
            metadata: SEARCH_DEADLINE,
            store: SEARCH_DEADLINE,
            retrieval_rate: RETRIEVAL_RATE,
        },
        max_redirects: 2,
        attempts: 1,
        max_json_bytes: 1000,
        ..Limits::default()
    }
}

/// The limits of the cases where a PACS dribbles one byte every 2 s: a gap of 5 s allowed
/// between bytes, one request 60 s; the deadlines of [`limits`].
fn dribble_limits() -> Limits {
    Limits {
        read_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(60),
        ..limits()
    }
}

/// The most a call that must end at `deadline` may take here: four times it, where the
/// one deadline of before (the request's 60 s, or 900 s a call) was never met.
fn ends_soon_after(deadline: Duration) -> Duration {
    deadline * 4
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

/// The PACS at `address`, asked with the token and `limits`.
fn source(address: SocketAddr, limits: Limits) -> DicomWeb {
    DicomWeb::new(
        &format!("http://{address}/dicom-web"),
        Some(TOKEN.to_string()),
    )
    .expect("a source")
    .with_limits(limits)
}

/// [`search`] with `limits`.
fn search_within(address: SocketAddr, limits: Limits) -> (PacsError, Duration) {
    let source = source(address, limits);
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
    dribble_every(stream, Duration::from_millis(300));
}

/// Answers a search a byte every `gap`, 900 bytes in all (within the size limit).
fn dribble_every(stream: &mut TcpStream, gap: Duration) {
    let body = format!("[{}]", " ".repeat(900));
    let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
    send_every(stream, body.as_bytes(), 1, gap);
}

/// Writes `bytes` `chunk` at a time, `gap` before each, until they are sent or the
/// client has gone.
fn send_every(stream: &mut TcpStream, bytes: &[u8], chunk: usize, gap: Duration) {
    for piece in bytes.chunks(chunk) {
        std::thread::sleep(gap);
        if stream.write_all(piece).is_err() {
            return;
        }
    }
}

/// Answers a search a byte every 2 s, as the issue's PACS did every 20 s.
fn dribble_every_2_s(stream: &mut TcpStream) {
    dribble_every(stream, Duration::from_secs(2));
}

#[test]
fn a_pacs_that_never_answers_is_left_after_the_first_byte_limit() {
    let (address, _) = hostile(|_, _| std::thread::sleep(Duration::from_secs(25)));
    let (error, _) = search(address);
    let text = error.to_string();
    assert!(text.contains("no answer within 1 s"), "{text}");
}

#[test]
fn a_search_from_a_pacs_dribbling_a_byte_every_2_s_ends_at_the_search_deadline() {
    let (address, _) = hostile(|stream, _| dribble_every_2_s(stream));
    let (error, took) = search_within(address, dribble_limits());
    eprintln!("a search of a PACS dribbling a byte every 2 s ended after {took:?}: {error}");
    assert!(
        matches!(
            error,
            PacsError::Deadline {
                kind: CallKind::Search,
                limit: SEARCH_DEADLINE,
                ..
            }
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("the search deadline of 3 s passed") && text.contains(&address.to_string()),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        took >= SEARCH_DEADLINE && took < ends_soon_after(SEARCH_DEADLINE),
        "left at the search deadline: {took:?}"
    );
}

#[test]
fn a_catalogue_listing_from_a_dribbling_pacs_ends_at_its_first_pages_search_deadline() {
    let (address, _) = hostile(|stream, _| dribble_every_2_s(stream));
    let source = source(address, dribble_limits());
    let started = Instant::now();
    let error = source
        .catalog(50)
        .expect_err("a dribbling PACS gives an error");
    let took = started.elapsed();
    eprintln!("a listing of a PACS dribbling a byte every 2 s ended after {took:?}: {error}");
    // Its first page is a search: over long before the listing's own 10 s.
    assert!(
        matches!(
            error,
            PacsError::Deadline {
                kind: CallKind::Search,
                ..
            }
        ),
        "{error}"
    );
    assert!(took < ends_soon_after(SEARCH_DEADLINE), "took {took:?}");
}

#[test]
fn a_catalogue_listing_whose_pages_never_end_ends_at_the_listing_deadline() {
    // Every page of studies holds one more, each answered in 400 ms (within a search's
    // 3 s): only the listing's own deadline, 3 s here, ends it.
    let (address, _) = hostile(|stream, _| {
        std::thread::sleep(Duration::from_millis(400));
        let body = r#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]}}]"#;
        let _ = stream.write_all(format!("{}{body}", head("200 OK", body.len())).as_bytes());
    });
    let limits = Limits {
        deadlines: Deadlines {
            listing: Duration::from_secs(3),
            ..limits().deadlines
        },
        ..limits()
    };
    let source = source(address, limits);
    let started = Instant::now();
    let error = source
        .catalog(1_000_000)
        .expect_err("an endless listing gives an error");
    let took = started.elapsed();
    assert!(
        matches!(
            error,
            PacsError::Deadline {
                kind: CallKind::Listing,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("the listing deadline of 3 s passed"),
        "{error}"
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(12),
        "took {took:?}"
    );
}

#[test]
fn a_store_to_a_dribbling_pacs_ends_at_the_store_deadline() {
    let (address, _) = hostile(|stream, _| dribble_every_2_s(stream));
    let source = source(address, dribble_limits());
    let started = Instant::now();
    let error = source
        .store_instances("1.2.3", &[b"DICM".to_vec()])
        .expect_err("a dribbling PACS gives an error");
    let took = started.elapsed();
    eprintln!("a store to a PACS dribbling a byte every 2 s ended after {took:?}: {error}");
    assert!(
        matches!(
            error,
            PacsError::Deadline {
                kind: CallKind::Store,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("the store deadline of 3 s passed"),
        "{error}"
    );
    assert!(took < ends_soon_after(SEARCH_DEADLINE), "took {took:?}");
}

/// The study, series and only instance of the series the retrieval cases ask for.
const STUDY: &str = "1.2.3";
const SERIES: &str = "1.2.3.4";
const INSTANCE: &str = "1.2.3.4.1";
/// The boundary of the multipart answers below.
const BOUNDARY: &str = "instance-boundary";

/// The series' metadata: its one instance.
fn metadata() -> String {
    format!(
        r#"[{{"00080018":{{"vr":"UI","Value":["{INSTANCE}"]}},"0020000E":{{"vr":"UI","Value":["{SERIES}"]}}}}]"#
    )
}

/// A PACS holding [`SERIES`]: its metadata answered by `metadata_answer`, the whole
/// series refused (404, so the instance is asked for alone), and its instance, `bytes`
/// long, sent `chunk` bytes every `gap`.
fn series_pacs(
    metadata_answer: fn(&mut TcpStream),
    bytes: usize,
    chunk: usize,
    gap: Duration,
) -> SocketAddr {
    let (address, _) = hostile(move |stream, request| {
        let line = request.lines().next().unwrap_or_default();
        if line.contains("/metadata") {
            metadata_answer(stream);
        } else if line.contains("/instances/") {
            let opening = format!("--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n");
            let closing = format!("\r\n--{BOUNDARY}--\r\n");
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{opening}",
                    opening.len() + bytes + closing.len()
                )
                .as_bytes(),
            );
            send_every(stream, &vec![b'x'; bytes], chunk, gap);
            let _ = stream.write_all(closing.as_bytes());
        } else {
            let _ = stream.write_all(head("404 Not Found", 0).as_bytes());
        }
    });
    address
}

/// Answers the metadata at once.
fn metadata_at_once(stream: &mut TcpStream) {
    let body = metadata();
    let _ = stream.write_all(format!("{}{body}", head("200 OK", body.len())).as_bytes());
}

/// Retrieves [`SERIES`] from the PACS at `address` into an empty cache with `limits`:
/// the result, and how long it took.
fn retrieve(
    address: SocketAddr,
    limits: Limits,
) -> (Result<hounsfield_dicomweb::Retrieved, PacsError>, Duration) {
    let source = source(address, limits);
    let cache_folder = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_folder.path(), 1 << 30);
    let started = Instant::now();
    let result = cache.retrieve(&source, STUDY, SERIES, &|_, _| {});
    let took = started.elapsed();
    assert!(took < CASE_LIMIT, "the retrieval took {took:?}");
    (result, took)
}

#[test]
fn a_retrieval_at_a_healthy_rate_goes_on_past_every_fixed_deadline() {
    // 8 KiB every 250 ms (64 KiB in any 2 s, four times the minimum) for 6 s: longer than
    // the search and metadata deadlines (3 s) and than one request's time (2 s below).
    let bytes = 192 << 10;
    let address = series_pacs(metadata_at_once, bytes, 8 << 10, Duration::from_millis(250));
    let limits = Limits {
        request_timeout: Duration::from_secs(2),
        ..limits()
    };
    let (result, took) = retrieve(address, limits);
    eprintln!("a retrieval at 32 KiB/s took {took:?}: {result:?}");
    let retrieved = result.expect("a healthy retrieval completes");
    assert_eq!((retrieved.instances, retrieved.fetched), (1, 1));
    assert_eq!(retrieved.bytes, bytes as u64);
    assert!(took >= Duration::from_secs(6), "took {took:?}");
}

#[test]
fn a_retrieval_below_its_minimum_rate_ends_with_an_error_naming_the_rate() {
    // A byte every 500 ms: within the gap allowed (2 s), far below 16 KiB in any 2 s.
    let address = series_pacs(metadata_at_once, 900, 1, Duration::from_millis(500));
    let (result, took) = retrieve(address, limits());
    eprintln!("a retrieval at 2 bytes/s ended after {took:?}: {result:?}");
    let error = result.expect_err("a dribbled instance ends the retrieval");
    assert!(
        matches!(
            error,
            PacsError::TooSlow {
                kind: CallKind::Retrieval,
                rate: RETRIEVAL_RATE,
                ..
            }
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("fell below its minimum rate of 16384 bytes in any 2 s")
            && text.contains(SERIES),
        "{text}"
    );
    // Its first window is over 2 s after the first answer began; the old code held it to
    // the request's 20 s.
    assert!(
        took >= RETRIEVAL_RATE.window && took < ends_soon_after(RETRIEVAL_RATE.window),
        "left at the rate's window: {took:?}"
    );
}

#[test]
fn a_series_metadata_dribbled_within_its_retrieval_ends_at_the_metadata_deadline() {
    // The metadata a byte every 300 ms (4 bytes a second: the retrieval's minimum rate set
    // at 1 byte in any 2 s is met), so its own deadline is what ends it.
    let address = series_pacs(dribble, 0, 1, Duration::ZERO);
    let limits = Limits {
        deadlines: Deadlines {
            retrieval_rate: MinimumRate {
                bytes: 1,
                window: Duration::from_secs(2),
            },
            ..limits().deadlines
        },
        ..limits()
    };
    let (result, took) = retrieve(address, limits);
    let error = result.expect_err("a dribbled metadata ends the retrieval");
    assert!(
        matches!(
            error,
            PacsError::Deadline {
                kind: CallKind::Metadata,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("/metadata: the metadata deadline of 3 s passed"),
        "{error}"
    );
    assert!(took < ends_soon_after(SEARCH_DEADLINE), "took {took:?}");
}

#[test]
fn a_pacs_that_stops_mid_answer_is_left_after_the_gap_between_bytes() {
    let (address, _) = hostile(|stream, _| {
        let body = format!("[{}]", " ".repeat(900));
        let _ = stream.write_all(head("200 OK", body.len()).as_bytes());
        let _ = stream.write_all(&body.as_bytes()[..10]);
        let _ = stream.flush();
        // Silent past the read limit of 2 s, the search's deadline (20 s below) far away:
        // the gap is what ends it.
        std::thread::sleep(Duration::from_secs(25));
    });
    let limits = Limits {
        deadlines: Deadlines {
            search: Duration::from_secs(20),
            ..limits().deadlines
        },
        ..limits()
    };
    let (error, took) = search_within(address, limits.clone());
    let text = error.to_string();
    assert!(
        text.contains("broke off") || text.contains("time"),
        "{text}"
    );
    assert!(
        took >= limits.read_timeout && took < limits.deadlines.search,
        "left at the gap's limit: {took:?}"
    );
}

#[test]
fn one_request_is_left_at_its_own_time_limit_while_bytes_keep_coming() {
    let (address, _) = hostile(|stream, _| dribble(stream));
    // Every gap within the read limit, the search's deadline far away: the request's own
    // limit of 2 s is what ends it.
    let limits = Limits {
        request_timeout: Duration::from_secs(2),
        deadlines: Deadlines {
            search: Duration::from_secs(20),
            ..limits().deadlines
        },
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
