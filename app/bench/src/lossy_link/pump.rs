//! The wire of the lossy link: a thread moving IP packets between its two TUN devices,
//! every packet toward the server as it comes, and those toward the client less a seeded
//! share, as a lossy path would lose them. The kernel's TCP on either side sees nothing
//! but a link that loses packets: it retransmits, SACKs and times out as on a network.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use tun_rs::SyncDevice;

use super::PacketCounts;

/// The largest packet a TUN device hands over (without packet information).
const MAX_PACKET: usize = 65_535;
/// How long the thread waits for a packet before looking whether it should stop (ms).
const STOP_CHECK_MS: u16 = 50;

/// The counts, shared with the thread.
#[derive(Default)]
struct Counters {
    passed: AtomicU64,
    dropped: AtomicU64,
}

/// The running thread; dropping it stops the thread and closes both devices.
pub(super) struct Pump {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// Which packets toward the client are lost, and how many were.
struct Loss {
    share: f64,
    rng: fastrand::Rng,
    counters: Arc<Counters>,
}

impl Loss {
    /// Whether to lose the next packet toward the client (counted either way).
    fn loses(&mut self) -> bool {
        let lose = self.share > 0.0 && self.rng.f64() < self.share;
        let counter = if lose {
            &self.counters.dropped
        } else {
            &self.counters.passed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        lose
    }
}

impl Pump {
    /// Starts moving packets between `client_side` (the device the client's packets leave
    /// by) and `server_side`, losing `loss` (0 to 1) of those toward the client in an order
    /// `seed` decides.
    pub(super) fn start(
        client_side: SyncDevice,
        server_side: SyncDevice,
        loss: f64,
        seed: u64,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let loss = Loss {
            share: loss.clamp(0.0, 1.0),
            rng: fastrand::Rng::with_seed(seed),
            counters: counters.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("lossy-link-pump".into())
            .spawn({
                let stop = stop.clone();
                move || pump(&client_side, &server_side, loss, &stop)
            })?;
        Ok(Self {
            stop,
            counters,
            thread: Some(thread),
        })
    }

    /// The packets toward the client so far.
    pub(super) fn counts(&self) -> PacketCounts {
        PacketCounts {
            passed: self.counters.passed.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the lossy link's pump panicked");
        }
    }
}

/// Hands packets on until told to stop (or a device fails); the devices close when it
/// returns.
fn pump(client_side: &SyncDevice, server_side: &SyncDevice, mut loss: Loss, stop: &AtomicBool) {
    let mut packet = vec![0_u8; MAX_PACKET];
    while !stop.load(Ordering::Relaxed) {
        if let Err(error) = step(client_side, server_side, &mut loss, &mut packet) {
            tracing::warn!(%error, "the lossy link's pump stopped");
            return;
        }
    }
}

/// Waits a little for a packet on either device, and hands on those that came.
fn step(
    client_side: &SyncDevice,
    server_side: &SyncDevice,
    loss: &mut Loss,
    packet: &mut [u8],
) -> std::io::Result<()> {
    let mut ready = [
        PollFd::new(client_side.as_fd(), PollFlags::POLLIN),
        PollFd::new(server_side.as_fd(), PollFlags::POLLIN),
    ];
    match nix::poll::poll(&mut ready, PollTimeout::from(STOP_CHECK_MS)) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(()),
        Err(error) => return Err(error.into()),
    }
    let [toward_server, toward_client] = ready.map(|fd| fd.revents().unwrap_or(PollFlags::empty()));
    if (toward_server | toward_client).intersects(PollFlags::POLLERR | PollFlags::POLLNVAL) {
        return Err(std::io::Error::other("a device of the lossy link failed"));
    }
    if toward_server.intersects(PollFlags::POLLIN) {
        let length = client_side.recv(packet)?;
        hand_on(server_side, &packet[..length]);
    }
    if toward_client.intersects(PollFlags::POLLIN) {
        let length = server_side.recv(packet)?;
        if !loss.loses() {
            hand_on(client_side, &packet[..length]);
        }
    }
    Ok(())
}

/// Writes `packet` into `device` (the kernel receives it from there). A packet the kernel
/// refuses is lost, as on a network.
fn hand_on(device: &SyncDevice, packet: &[u8]) {
    if let Err(error) = device.send(packet) {
        tracing::debug!(%error, "a packet was refused");
    }
}
