//! `hounsfield --serve` as an operator runs it: the built binary on a free loopback port,
//! its output read as it comes, killed (and waited for) when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Duration;

/// How long the server may take to say where it serves (a PACS's catalog is listed first),
/// and then that its library's catalogue is complete.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How the line that says the catalogue is complete begins (the binary's
/// `CATALOGUE_COMPLETE`).
const CATALOGUE_COMPLETE: &str = "catalogue complete:";
/// How long [`Served::next_line`] waits for a line.
const LINE_LIMIT: Duration = Duration::from_secs(30);
/// Lines of standard output kept until a test reads them; past it the reader waits (and
/// so, once the pipe is full, does the server).
const KEPT_LINES: usize = 1024;
/// How long a plain HTTP exchange may take.
const HTTP_LIMIT: Duration = Duration::from_secs(10);

/// A running `hounsfield --serve`, killed (and waited for) when dropped.
pub struct Served {
    child: Child,
    /// The loopback port it serves on.
    pub port: u16,
    /// The line it printed when it started serving.
    pub banner: String,
    /// The line that said its library's catalogue was complete.
    pub catalogued: String,
    /// Its later lines of standard output.
    lines: Receiver<String>,
}

impl Served {
    /// Starts `binary --serve --bind 127.0.0.1 --port 0` with `args` after them and `env`
    /// set, and waits for the line saying where it serves and then the one saying its
    /// catalogue is complete (kept apart from the lines [`Self::next_line`] reads). The
    /// error is what the server wrote on standard error when it stopped (or said nothing)
    /// before that.
    pub fn launch(binary: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Result<Self, String> {
        let mut command = Command::new(binary);
        command
            .args(["--serve", "--bind", "127.0.0.1", "--port", "0"])
            .args(args)
            .env_remove("HOUNSFIELD_NODE_NAME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("{} did not start: {error}", binary.display()))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("no standard output to read".to_string());
        };
        let (sender, lines) = sync_channel(KEPT_LINES);
        let (catalogue_sender, catalogue) = sync_channel(1);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let sent = if line.starts_with(CATALOGUE_COMPLETE) {
                    catalogue_sender.try_send(line).is_ok()
                } else {
                    sender.send(line).is_ok()
                };
                if !sent {
                    break;
                }
            }
        });
        let banner = lines.recv_timeout(START_LIMIT).ok();
        let catalogued = banner
            .as_deref()
            .and_then(served_port)
            .and_then(|port| Some((port, catalogue.recv_timeout(START_LIMIT).ok()?)));
        match catalogued {
            Some((port, catalogued)) => {
                // Standard error is drained so that a chatty server never blocks on it.
                if let Some(stderr) = child.stderr.take() {
                    std::thread::spawn(move || {
                        for _ in BufReader::new(stderr).lines().map_while(Result::ok) {}
                    });
                }
                Ok(Self {
                    child,
                    port,
                    banner: banner.unwrap_or_default(),
                    catalogued,
                    lines,
                })
            }
            None => {
                let _ = child.kill();
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let _ = child.wait();
                Err(format!(
                    "the server did not say where it serves and that its catalogue is complete (first line {banner:?}): {stderr}"
                ))
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it ended, if it ends within `limit`.
    pub fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if std::time::Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return None,
            }
        }
    }

    /// The next line the server prints (empty when none comes within 30 s).
    pub fn next_line(&mut self) -> String {
        self.lines.recv_timeout(LINE_LIMIT).unwrap_or_default()
    }

    /// The WebSocket address, with `query` (`?token=…`, or empty) appended.
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/ws{query}", self.port)
    }

    /// The web client's address.
    pub fn page_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// A plain HTTP GET (`Host: localhost`): the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_request(
            self.port,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
    }

    /// A metric's value from `/metrics` (no token); the test fails when it is not there.
    pub fn metric(&self, name: &str) -> u64 {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {body}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in the server's `serving … at http(s)://127.0.0.1:PORT/` line.
pub fn served_port(line: &str) -> Option<u16> {
    let rest = line
        .split(" at http://127.0.0.1:")
        .nth(1)
        .or_else(|| line.split(" at https://127.0.0.1:").nth(1))?;
    rest.split('/').next()?.parse().ok()
}

/// Sends `request` as it is to the loopback port and reads the whole answer (within 10 s):
/// the status code (0 when none came) and the body.
pub fn http_request(port: u16, request: &str) -> (u16, String) {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(HTTP_LIMIT));
    let _ = stream.set_write_timeout(Some(HTTP_LIMIT));
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    status_and_body(&response)
}

/// The status code and body of an HTTP/1.1 answer (0 and what there is when it has none).
pub fn status_and_body(response: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, body)| body.to_string());
    (status, body)
}

/// Starts the workspace's `hounsfield --serve` on a free loopback port with `args` and
/// `env` (see [`Served::launch`]); the error is what the server said before it stopped.
pub fn start(args: &[&str], env: &[(&str, &OsStr)]) -> Result<Served, String> {
    Served::launch(&crate::hounsfield_binary(), args, env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_serving_line() {
        assert_eq!(
            served_port("hounsfield: serving 1 series at http://127.0.0.1:40123/ (protocol v1)"),
            Some(40123)
        );
        assert_eq!(
            served_port("serving at https://127.0.0.1:8443/"),
            Some(8443)
        );
        assert_eq!(served_port("serving at http://0.0.0.0:8080/"), None);
    }

    #[test]
    fn an_answer_is_split_into_status_and_body() {
        let (status, body) = status_and_body(b"HTTP/1.1 403 Forbidden\r\nA: b\r\n\r\nno");
        assert_eq!((status, body.as_str()), (403, "no"));
        assert_eq!(status_and_body(b""), (0, String::new()));
    }
}
