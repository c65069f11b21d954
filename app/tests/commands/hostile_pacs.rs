//! A slow PACS against the real `hounsfield` process: `info URL` is given up after the
//! first-byte limit when the PACS never answers, and at the search deadline when it
//! dribbles an answer a byte at a time (each byte within the gap allowed); each exits 1
//! with a reason that names the limit, in bounded time. `--serve --library URL` on the
//! silent PACS still listens and serves `/healthz` while the PACS is asked. The limits are
//! set through the environment, as an operator would, small enough for a test.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hounsfield_test_support::{http_request, served_port};

/// A loopback "PACS" that reads each request's head and hands the socket to `answer`.
fn pacs(answer: fn(&mut TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(32) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                answer(&mut stream);
            });
        }
    });
    address
}

fn silent(_: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(60));
}

fn dribbling(stream: &mut TcpStream) {
    let body = format!("[{}]", " ".repeat(2000));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    for byte in body.bytes() {
        std::thread::sleep(Duration::from_millis(200));
        if stream.write_all(&[byte]).is_err() {
            return;
        }
    }
}

/// Runs `info URL` with the PACS limits given; its stderr and how long it took.
fn info(address: SocketAddr, limits: &[(&str, &str)]) -> (String, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .args(["info", &format!("http://{address}/dicom-web")])
        .envs(limits.iter().copied())
        .output()
        .expect("hounsfield runs");
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "info fails");
    (String::from_utf8_lossy(&output.stderr).to_string(), took)
}

#[test]
fn info_leaves_a_silent_pacs_after_the_first_byte_limit() {
    let address = pacs(silent);
    let (said, took) = info(address, &[("HOUNSFIELD_PACS_FIRST_BYTE_S", "1")]);
    assert!(said.contains("no answer within 1 s"), "{said}");
    // Three attempts of a second, with pauses of 0.25 and 0.5 s between them.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn info_leaves_a_dribbling_pacs_at_the_search_deadline() {
    let address = pacs(dribbling);
    let (said, took) = info(address, &[("HOUNSFIELD_PACS_SEARCH_S", "3")]);
    assert!(said.contains("the search deadline of 3 s passed"), "{said}");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(20),
        "took {took:?}"
    );
}

#[test]
fn a_bad_limit_is_named_with_its_variable() {
    let address = pacs(silent);
    let (said, _) = info(address, &[("HOUNSFIELD_PACS_CALL_S", "forever")]);
    assert!(
        said.contains("HOUNSFIELD_PACS_CALL_S=\"forever\""),
        "{said}"
    );
}

#[test]
fn a_server_on_a_silent_pacs_listens_and_answers_health_checks() {
    let address = pacs(silent);
    let url = format!("http://{address}/dicom-web");
    let mut server = Command::new(env!("CARGO_BIN_EXE_hounsfield"))
        .args([
            "--serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--library",
            &url,
        ])
        .env("HOUNSFIELD_PACS_FIRST_BYTE_S", "30")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hounsfield runs");
    let stdout = server.stdout.take().expect("its output");
    // Its first line says where it serves, while the PACS is still being asked.
    let mut banner = String::new();
    BufReader::new(stdout)
        .read_line(&mut banner)
        .expect("a line");
    let port = served_port(&banner);
    // The library's own folders are looked through first (none here, so briefly); from
    // then on the server waits on the silent PACS, alive and not ready, saying why.
    let answers = port.map(|port| {
        let started = Instant::now();
        loop {
            let health = http_request(
                port,
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let ready = http_request(
                port,
                "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            if ready.1.contains("PACS") || started.elapsed() > Duration::from_secs(10) {
                break (health, ready);
            }
            assert_eq!(health.0, 200, "alive while the folders are looked through");
            assert_eq!(ready.0, 503, "not ready while cataloguing: {}", ready.1);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let _ = server.kill();
    let _ = server.wait();
    let ((health, _), (ready, why)) = answers.unwrap_or_else(|| panic!("no port in {banner:?}"));
    assert_eq!(health, 200);
    assert_eq!(ready, 503, "{why}");
    assert!(why.contains("PACS"), "{why}");
}
