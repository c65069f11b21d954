//! A lossy IPv4 link for TCP, made of the kernel's own parts: a network namespace of its
//! own ([`super::namespace`]), two TUN devices whose descriptors this process holds (one left in
//! the first namespace, one moved into the new one), each with an address of a /30, and a
//! thread between the two that loses a seeded share of the packets toward the client
//! ([`super::pump`]). Inside the namespace a listener hands each connection on to the server on
//! loopback ([`super::forward`]): a client that connects to [`LossyLink::address`] reaches the
//! server through real TCP (retransmission, SACK, RTO) over a link that loses packets,
//! where loopback loses none and no `netem` is at hand.
//!
//! Making it needs CAP_NET_ADMIN (TUN devices, addresses) and CAP_SYS_ADMIN (namespaces):
//! root, in practice. Dropping it takes everything down.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use tun_rs::{DeviceBuilder, SyncDevice};

use super::PacketCounts;
use super::namespace::NetworkNamespace;
use super::pump::Pump;

/// The MTU of both devices: an Ethernet's.
const MTU: &str = "1500";
/// The send buffer of the connections the link accepts: the server listener's own, so
/// that the lossy leg holds what the server's socket would.
const LEG_SEND_BUFFER_BYTES: usize = 512 * 1024;
/// The first of the addresses RFC 2544 sets aside for benchmarks (198.18.0.0/15), from
/// which each link takes a /30.
const BENCHMARK_NETWORK: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 0);
/// How many /30s fit in that network.
const SUBNETS: u32 = 1 << 15;
/// Links one process may hold at once without two of them sharing a /30.
const LINKS_PER_PROCESS: u32 = 64;
/// Capabilities (bit numbers of `CapEff` in /proc/self/status) the link needs.
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// Numbers the links of this process.
static LINKS_MADE: AtomicU32 = AtomicU32::new(0);

/// A running lossy link to a server; dropping it takes it down.
pub struct LossyLink {
    address: SocketAddr,
    /// Told the server's address once it is known.
    server: tokio::sync::watch::Sender<Option<SocketAddr>>,
    forwarder: tokio::task::JoinHandle<()>,
    // Dropped in this order: the devices (and the thread between them), then the namespace.
    pump: Pump,
    namespace: NetworkNamespace,
}

impl LossyLink {
    /// A link that loses `loss` (0 to 1) of the packets toward the client in an order
    /// `seed` decides; its connections are served on `runtime`, and handed on to the
    /// server once [`LossyLink::forward_to`] names it (so that the server may be told the
    /// link's address before it starts).
    pub fn open(loss: f64, seed: u64, runtime: &tokio::runtime::Handle) -> anyhow::Result<Self> {
        require_capabilities()?;
        let number = LINKS_MADE.fetch_add(1, Ordering::Relaxed);
        let slot = slot(std::process::id(), number);
        let (client_ip, server_ip) = addresses(slot);
        let namespace = NetworkNamespace::create(number)?;
        let (client_name, server_name) = (format!("hflc{slot}"), format!("hfls{slot}"));
        let client_side = tun_device(&client_name)?;
        let server_side = tun_device(&server_name)?;
        // The descriptor keeps working once its device is in the other namespace.
        super::namespace::ip(&["link", "set", &server_name, "netns", namespace.name()])?;
        let address = |ip: Ipv4Addr| format!("{ip}/30");
        super::namespace::ip(&["addr", "add", &address(client_ip), "dev", &client_name])?;
        super::namespace::ip(&["link", "set", &client_name, "mtu", MTU, "up"])?;
        namespace.ip(&["addr", "add", &address(server_ip), "dev", &server_name])?;
        namespace.ip(&["link", "set", &server_name, "mtu", MTU, "up"])?;
        let pump = Pump::start(client_side, server_side, loss, seed)
            .context("starting the lossy link's pump")?;
        let listener = namespace.listen(SocketAddrV4::new(server_ip, 0), LEG_SEND_BUFFER_BYTES)?;
        let address = listener
            .local_addr()
            .context("the lossy link's listening address")?;
        let (server, server_named) = tokio::sync::watch::channel(None);
        let forwarder = runtime.spawn(super::forward::forward(listener, server_named));
        Ok(Self {
            address,
            server,
            forwarder,
            pump,
            namespace,
        })
    }

    /// Where a client connects to reach the server through the link.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Hands the connections on to `server` (on this machine's loopback) from now on.
    pub fn forward_to(&self, server: SocketAddr) {
        self.server.send_replace(Some(server));
    }

    /// What the link did so far with the packets toward the client.
    pub fn counts(&self) -> PacketCounts {
        self.pump.counts()
    }

    /// The name of its namespace.
    pub fn namespace(&self) -> &str {
        self.namespace.name()
    }
}

impl Drop for LossyLink {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

/// A TUN device named `name` (IP packets, no packet information), left down.
fn tun_device(name: &str) -> anyhow::Result<SyncDevice> {
    DeviceBuilder::new()
        .name(name)
        .packet_information(false)
        .enable(false)
        .build_sync()
        .with_context(|| format!("making the TUN device {name} (is /dev/net/tun there?)"))
}

/// Which /30 of the benchmark network link `number` of process `pid` takes (it names the
/// link's devices too).
fn slot(pid: u32, number: u32) -> u32 {
    pid.wrapping_mul(LINKS_PER_PROCESS)
        .wrapping_add(number % LINKS_PER_PROCESS)
        % SUBNETS
}

/// The client's and the server's address in /30 number `slot`.
fn addresses(slot: u32) -> (Ipv4Addr, Ipv4Addr) {
    let base = u32::from(BENCHMARK_NETWORK) + slot * 4;
    (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
}

/// Fails, saying what is missing and what to do, unless this process may make the link.
fn require_capabilities() -> anyhow::Result<()> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|bits| u64::from_str_radix(bits.trim(), 16).ok())
        .context("no CapEff in /proc/self/status")?;
    let missing: Vec<&str> = [
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    ]
    .into_iter()
    .filter(|(bit, _)| effective & (1 << bit) == 0)
    .map(|(_, name)| name)
    .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "a lossy link needs {} (TUN devices and a network namespace): run as root",
            missing.join(" and ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// What the server sends through the link.
    const SENT_BYTES: usize = 4 << 20;
    /// The share of packets toward the client the link loses.
    const LOSS: f64 = 0.05;
    /// How far the share lost may be from the share asked: about 3,000 packets carry the
    /// bytes, so the share lost strays by less than half a point but for a faulty pump.
    const SHARE_TOLERANCE: f64 = 0.015;
    /// A bound on the transfer, however many retransmissions it takes.
    const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

    #[test]
    fn addresses_are_a_slash_30_of_the_benchmark_network_per_link() {
        assert_eq!(
            addresses(slot(7, 1)),
            (Ipv4Addr::new(198, 18, 7, 5), Ipv4Addr::new(198, 18, 7, 6))
        );
        assert_ne!(slot(7, 1), slot(7, 2));
        assert_ne!(slot(7, 1), slot(8, 1));
        let (last_client, _) = addresses(SUBNETS - 1);
        assert_eq!(last_client, Ipv4Addr::new(198, 19, 255, 253));
    }

    /// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), as CI runs: without it, it fails and
    /// says so.
    #[test]
    fn tcp_brings_every_byte_in_order_through_a_link_that_loses_packets() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let sent: Vec<u8> = {
            let mut rng = fastrand::Rng::with_seed(11);
            (0..SENT_BYTES).map(|_| rng.u8(..)).collect()
        };
        runtime.block_on(async {
            let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .expect("a loopback server");
            let server_address = server.local_addr().expect("its address");
            let serving = tokio::spawn({
                let sent = sent.clone();
                async move {
                    let (mut stream, _) = server.accept().await?;
                    stream.write_all(&sent).await?;
                    stream.shutdown().await
                }
            });
            let link = LossyLink::open(LOSS, 3, &tokio::runtime::Handle::current())
                .unwrap_or_else(|error| panic!("the lossy link (this test needs root): {error:#}"));
            link.forward_to(server_address);
            let mut received = Vec::with_capacity(SENT_BYTES);
            let mut client = TcpStream::connect(link.address())
                .await
                .expect("a connection through the link");
            tokio::time::timeout(TRANSFER_TIMEOUT, client.read_to_end(&mut received))
                .await
                .expect("the transfer ends in time")
                .expect("the transfer succeeds");
            serving
                .await
                .expect("the server task")
                .expect("the server sent everything");
            assert_eq!(received.len(), sent.len(), "bytes received");
            let first_difference = received.iter().zip(&sent).position(|(a, b)| a != b);
            assert_eq!(first_difference, None, "the first byte that differs");

            let counts = link.counts();
            assert!(
                (counts.dropped_share() - LOSS).abs() <= SHARE_TOLERANCE,
                "lost {:.2} % of the packets toward the client ({counts:?}), asked {} %",
                counts.dropped_share() * 100.0,
                LOSS * 100.0
            );
            // TCP made up for every packet lost: all the bytes came.
            assert!(counts.dropped > 0, "{counts:?}");

            let name = link.namespace().to_string();
            assert!(listed_namespaces().contains(&name), "{name} while open");
            drop(link);
            assert!(
                !listed_namespaces().contains(&name),
                "{name} is still there once the link is dropped"
            );
        });
    }

    /// The names `ip netns list` shows.
    fn listed_namespaces() -> Vec<String> {
        super::super::namespace::ip(&["netns", "list"])
            .expect("ip netns list")
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }
}
