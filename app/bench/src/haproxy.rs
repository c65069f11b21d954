//! HAProxy in front of a benchmark's render nodes, configured as the Kubernetes manifests
//! configure it (`installers/kubernetes/haproxy.cfg`, built into the binary): the
//! cluster-only DNS lines left out, the listening address and the pods' addresses on
//! loopback, the certificates in a temporary folder. Placement, persistence, health checks
//! and redispatch stay the manifests'.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// The proxy configuration the manifests ship.
const MANIFEST_CONFIGURATION: &str = include_str!("../../../installers/kubernetes/haproxy.cfg");
/// How long HAProxy may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A render node HAProxy sends sessions to.
pub(super) struct Backend<'a> {
    /// Its name, as the manifests name the pod (`hounsfield-N`).
    pub(super) name: &'a str,
    /// Its loopback port.
    pub(super) port: u16,
}

/// HAProxy running in the foreground of this process; stopped when dropped.
pub(super) struct Haproxy {
    child: Child,
    /// The port it listens on (loopback, TLS).
    pub(super) port: u16,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The manifests' configuration for `backends` on loopback, listening on `port`, with the
/// proxy's certificate (`proxy.pem`) and the nodes' CA (`nodes-ca.pem`) in `folder`.
pub(super) fn configuration(
    backends: &[Backend<'_>],
    port: u16,
    folder: &Path,
) -> anyhow::Result<String> {
    let named = MANIFEST_CONFIGURATION
        .lines()
        .filter(|line| line.trim_start().starts_with("server "))
        .count();
    if backends.len() > named {
        anyhow::bail!(
            "the manifests' haproxy.cfg names {named} render nodes: run the benchmark with at most that many"
        );
    }
    // The nodes the configuration names beyond those started are left out, as a cluster
    // with fewer replicas would need.
    let started = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["server" | "use-server", name, ..] => backends.iter().any(|b| b.name == *name),
            _ => true,
        }
    };
    let mut text: String = MANIFEST_CONFIGURATION
        .lines()
        .filter(|line| !line.contains("# cluster only") && started(line))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut replacements = vec![
        ("bind :8443".to_string(), format!("bind 127.0.0.1:{port}")),
        (
            "/etc/hounsfield-proxy/tls/".to_string(),
            format!("{}/", folder.display()),
        ),
    ];
    replacements.extend(backends.iter().map(|backend| {
        (
            format!(
                "{}.hounsfield-nodes.hounsfield.svc.cluster.local:8443",
                backend.name
            ),
            format!("127.0.0.1:{}", backend.port),
        )
    }));
    for (from, to) in replacements {
        if !text.contains(&from) {
            anyhow::bail!(
                "the manifests' haproxy.cfg has no {from:?}: the benchmark and the manifests parted"
            );
        }
        text = text.replace(&from, &to);
    }
    Ok(text)
}

/// Starts HAProxy (`haproxy` on the PATH, Debian's package) in front of `backends`, with
/// `proxy_pem` (certificate and key) and `nodes_ca_pem` written in `folder`.
pub(super) fn start(
    backends: &[Backend<'_>],
    folder: &Path,
    proxy_pem: &str,
    nodes_ca_pem: &str,
) -> anyhow::Result<Haproxy> {
    std::fs::write(folder.join("proxy.pem"), proxy_pem)
        .and_then(|()| std::fs::write(folder.join("nodes-ca.pem"), nodes_ca_pem))
        .context("writing the proxy's certificates")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .context("finding a free port for the proxy")?
        .port();
    let path = folder.join("haproxy.cfg");
    std::fs::write(&path, configuration(backends, port, folder)?)
        .context("writing the proxy's configuration")?;
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting haproxy (install Debian's haproxy package)")?;
    let mut proxy = Haproxy { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = proxy.child.try_wait().context("haproxy's status")? {
            anyhow::bail!(
                "haproxy exited ({status}): check it with haproxy -c -f {}",
                path.display()
            );
        }
        if started.elapsed() > START_TIMEOUT {
            anyhow::bail!("haproxy did not listen on 127.0.0.1:{port} within {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first health checks mark the nodes up.
    std::thread::sleep(Duration::from_millis(1500));
    Ok(proxy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifests_configuration_is_made_to_run_on_loopback() {
        let backends = [
            Backend {
                name: "hounsfield-0",
                port: 4100,
            },
            Backend {
                name: "hounsfield-1",
                port: 4101,
            },
        ];
        let text = configuration(&backends, 4443, Path::new("/tmp/proxy")).expect("made");
        assert!(text.contains("bind 127.0.0.1:4443 ssl crt /tmp/proxy/proxy.pem"));
        assert!(text.contains("server hounsfield-1 127.0.0.1:4101 cookie hounsfield-1"));
        assert!(
            !text.contains("hounsfield-2"),
            "a node not started is left out"
        );
        assert!(!text.contains("resolvers") && !text.contains("svc.cluster.local"));
        assert!(text.contains("balance leastconn") && text.contains("use-server hounsfield-0"));
        let too_many: Vec<Backend<'_>> = ["a", "b", "c", "d"]
            .iter()
            .map(|name| Backend { name, port: 1 })
            .collect();
        assert!(configuration(&too_many, 4443, Path::new("/tmp")).is_err());
    }
}
