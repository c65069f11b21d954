//! `hounsfield --serve` as an operator runs it: the built binary on a free loopback port,
//! stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the server may take to say where it serves (a PACS's catalog is listed first).
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running `hounsfield --serve`, killed (and waited for) when dropped.
pub struct ServedBinary {
    child: Child,
    /// The loopback port it serves on.
    pub port: u16,
}

impl ServedBinary {
    /// Starts `hounsfield --serve --bind 127.0.0.1 --port 0` with `args` after them and
    /// `env` set (the DICOMweb cache and settings are the caller's to give), and waits for
    /// the line saying where it serves; the error is what it wrote on standard error when
    /// it stopped before that.
    pub fn start(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<Self, String> {
        let mut command = Command::new(super::hounsfield_binary());
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
        let mut child = command.spawn().expect("the hounsfield binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, ports) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = served_port(&line) {
                    let _ = sender.try_send(port);
                }
            }
        });
        match ports.recv_timeout(START_LIMIT) {
            Ok(port) => {
                // Standard error is drained so that a chatty server never blocks on it.
                if let Some(stderr) = child.stderr.take() {
                    std::thread::spawn(move || {
                        for _ in BufReader::new(stderr).lines().map_while(Result::ok) {}
                    });
                }
                Ok(Self { child, port })
            }
            Err(_) => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("the server's output");
                Err(String::from_utf8_lossy(&output.stderr).into_owned())
            }
        }
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// The web client's address.
    pub fn page_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for ServedBinary {
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
