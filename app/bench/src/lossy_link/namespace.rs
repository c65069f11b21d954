//! A network namespace of the lossy link's own: made and deleted with iproute2's `ip`
//! (`ip netns add`, as an administrator would, rather than unshare(2) and a bind mount by
//! hand), entered by one short-lived thread to open the listener that lives in it.

use std::net::{SocketAddrV4, TcpListener};
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use nix::sched::CloneFlags;
use socket2::{Domain, Socket, Type};

/// Where `ip netns add` mounts the namespaces it names.
const NETNS_RUN_DIR: &str = "/run/netns";
/// The start of every name this module gives a namespace: `hounsfield-lossy-PID-N`.
const NAME_PREFIX: &str = "hounsfield-lossy-";
/// Connections waiting to be accepted by the namespace's listener.
const LISTEN_BACKLOG: i32 = 64;

/// A named network namespace; deleted when dropped.
pub(super) struct NetworkNamespace {
    name: String,
}

impl NetworkNamespace {
    /// A fresh namespace named for this process and `number`, with its loopback up; the
    /// namespaces of processes gone (left by a run that was killed) are deleted first.
    pub(super) fn create(number: u32) -> anyhow::Result<Self> {
        remove_stale()?;
        let name = format!("{NAME_PREFIX}{}-{number}", std::process::id());
        ip(&["netns", "add", &name])?;
        let namespace = Self { name };
        namespace.ip(&["link", "set", "lo", "up"])?;
        Ok(namespace)
    }

    /// Its name, as `ip netns list` shows it.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip ARGS` inside the namespace.
    pub(super) fn ip(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut inside = vec!["-n", self.name.as_str()];
        inside.extend_from_slice(args);
        ip(&inside)
    }

    /// A TCP listener on `address` inside the namespace, whose accepted connections send
    /// through a buffer of `send_buffer_bytes`. A socket belongs to the namespace it was
    /// made in, so a thread of its own enters the namespace (setns(2)), opens it and ends;
    /// the listener keeps working from any thread.
    pub(super) fn listen(
        &self,
        address: SocketAddrV4,
        send_buffer_bytes: usize,
    ) -> anyhow::Result<TcpListener> {
        let path = Path::new(NETNS_RUN_DIR).join(&self.name);
        let inside = std::thread::Builder::new()
            .name("lossy-link-netns".into())
            .spawn(move || -> anyhow::Result<TcpListener> {
                let namespace = std::fs::File::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                nix::sched::setns(&namespace, CloneFlags::CLONE_NEWNET).with_context(|| {
                    format!("entering the network namespace {}", path.display())
                })?;
                let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
                // Inherited by the connections it accepts.
                socket.set_send_buffer_size(send_buffer_bytes)?;
                socket.set_nonblocking(true)?;
                socket.bind(&address.into())?;
                socket.listen(LISTEN_BACKLOG)?;
                Ok(socket.into())
            })
            .context("starting the thread that enters the network namespace")?;
        inside
            .join()
            .map_err(|_| anyhow::anyhow!("the thread that entered the network namespace panicked"))?
            .with_context(|| format!("listening on {address} in the namespace {}", self.name))
    }
}

impl Drop for NetworkNamespace {
    fn drop(&mut self) {
        if let Err(error) = ip(&["netns", "delete", &self.name]) {
            tracing::warn!(namespace = %self.name, "{error:#}");
        }
    }
}

/// Deletes the namespaces this module named for processes that are no longer running.
fn remove_stale() -> anyhow::Result<()> {
    for line in ip(&["netns", "list"])?.lines() {
        // `NAME` or `NAME (id: N)`.
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            ip(&["netns", "delete", name])?;
        }
    }
    Ok(())
}

/// Runs iproute2's `ip` with `args`; what it printed, or why it failed.
pub(super) fn ip(args: &[&str]) -> anyhow::Result<String> {
    let command = || format!("`ip {}`", args.join(" "));
    let output = Command::new("ip")
        .args(args)
        .output()
        .with_context(|| format!("running {} (is iproute2 installed?)", command()))?;
    if !output.status.success() {
        anyhow::bail!(
            "{} failed: {}",
            command(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
