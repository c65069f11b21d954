//! Failed token attempts, counted per client address ([`AuthThrottle`]): after
//! [`MAX_FAILURES`] within [`WINDOW`], an address is turned away for [`LOCKOUT`] whatever
//! it sends, so a token cannot be guessed at the speed of the network. IPv6 clients are
//! counted per /64, the block one machine usually holds. The table is bounded: at
//! [`MAX_TRACKED`] addresses the stale ones go first, then the oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipnet::Ipv6Net;

/// Failed attempts within [`WINDOW`] that lock an address out.
pub const MAX_FAILURES: u32 = 5;
/// The span over which failures add up.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a locked-out address is turned away.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// Addresses remembered at once.
pub const MAX_TRACKED: usize = 4096;

/// One address's recent failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

impl Failures {
    /// Whether nothing about this address matters any more at `now`.
    fn stale(&self, now: Instant) -> bool {
        let window_over = now.saturating_duration_since(self.first) >= WINDOW;
        let lock_over = self.locked_until.is_none_or(|until| now >= until);
        window_over && lock_over
    }
}

/// Failed token attempts per client address.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

impl AuthThrottle {
    /// `Err` with the time left while `client` is locked out.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let addresses = self.lock();
        match addresses
            .get(&client_block(client))
            .and_then(|failures| failures.locked_until)
        {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt from `client`; `true` when it locked the address out.
    pub fn failed(&self, client: IpAddr, now: Instant) -> bool {
        let mut addresses = self.lock();
        let key = client_block(client);
        if !addresses.contains_key(&key) && addresses.len() >= MAX_TRACKED {
            make_room(&mut addresses, now);
        }
        let failures = addresses.entry(key).or_insert(Failures {
            count: 0,
            first: now,
            locked_until: None,
        });
        if failures.stale(now) {
            *failures = Failures {
                count: 0,
                first: now,
                locked_until: None,
            };
        }
        failures.count = failures.count.saturating_add(1);
        if failures.count >= MAX_FAILURES && failures.locked_until.is_none() {
            failures.locked_until = Some(now + LOCKOUT);
            return true;
        }
        false
    }

    /// Forgets `client`'s failures once it presented the right token.
    pub fn succeeded(&self, client: IpAddr) {
        self.lock().remove(&client_block(client));
    }

    /// Addresses remembered now.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // The map stays consistent whatever panicked while it was held.
        self.addresses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drops stale entries, and the oldest one if none was stale.
fn make_room(addresses: &mut HashMap<IpAddr, Failures>, now: Instant) {
    addresses.retain(|_, failures| !failures.stale(now));
    if addresses.len() >= MAX_TRACKED
        && let Some(oldest) = addresses
            .iter()
            .min_by_key(|(_, failures)| failures.first)
            .map(|(address, _)| *address)
    {
        addresses.remove(&oldest);
    }
}

/// The block of addresses one client machine usually holds, which failures (and the
/// listener's connections) are counted under: IPv4 as it is, IPv6 by its /64 (an IPv4
/// address mapped into IPv6 as the IPv4 address).
pub fn client_block(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            // A prefix of 64 is within 128: `new_assert` cannot panic.
            None => IpAddr::V6(Ipv6Net::new_assert(v6, 64).network()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn an_address_is_locked_out_after_repeated_failures_and_let_in_after_the_lockout() {
        let throttle = AuthThrottle::default();
        let start = Instant::now();
        for attempt in 1..MAX_FAILURES {
            assert!(!throttle.failed(v4(1), start), "attempt {attempt}");
            assert_eq!(throttle.check(v4(1), start), Ok(()));
        }
        assert!(throttle.failed(v4(1), start));
        assert!(throttle.check(v4(1), start).is_err());
        assert_eq!(
            throttle.check(v4(2), start),
            Ok(()),
            "other addresses unaffected"
        );
        assert_eq!(throttle.check(v4(1), start + LOCKOUT), Ok(()));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_add_up() {
        let throttle = AuthThrottle::default();
        let mut now = Instant::now();
        for _ in 0..3 * MAX_FAILURES {
            assert!(!throttle.failed(v4(1), now));
            now += WINDOW / (MAX_FAILURES - 1);
        }
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_success_forgets() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        for host in 0..MAX_FAILURES {
            let address = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, host as u16 + 1);
            throttle.failed(IpAddr::V6(address), now);
        }
        let neighbour = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        assert!(throttle.check(neighbour, now).is_err());
        throttle.succeeded(neighbour);
        assert_eq!(throttle.check(neighbour, now), Ok(()));
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        for n in 0..(MAX_TRACKED as u32 + 100) {
            throttle.failed(IpAddr::from(n.to_be_bytes()), now);
        }
        assert!(throttle.tracked() <= MAX_TRACKED);
    }
}
