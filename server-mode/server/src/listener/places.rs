//! The listener's connection places: at most `max_connections` open at once, and at most
//! `max_per_address` from one client address (an IPv6 /64; trusted proxies excepted, since
//! every client behind one shares its address).
//!
//! A connection proves itself by being answered (from the end of its request to the end
//! of the response) and, as a WebSocket, by authenticating. When every place is taken, a
//! newcomer takes the place of one that has not proven itself (no whole request yet, idle
//! between requests, or a WebSocket that has not said `hello`), idle past a short grace,
//! of the address that holds the most places, provided that address holds more than the
//! newcomer's would; only when there is none is the newcomer refused. So connections that
//! dribble or stay silent, however many and from however many addresses, cannot keep a
//! client of another address out: they can hold at most their addresses' fair share of the
//! places they do not use. Behind a trusted proxy, where places cannot be told apart by
//! address, a newcomer takes the place of the proxy's longest idle one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hounsfield_access::auth_throttle::client_block;
use tokio::sync::watch;

/// What bounds the places.
#[derive(Debug, Clone)]
pub(crate) struct PlaceBounds {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one address (not counting `exempt` ones).
    pub max_per_address: usize,
    /// How long a connection may sit without proving itself before a newcomer may take
    /// its place: time for a client's fresh connection to send its request.
    pub grace: Duration,
    /// Addresses with no cap of their own: trusted proxies.
    pub exempt: Vec<ipnet::IpNet>,
}

/// Why a connection got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its address holds `max_per_address` places already.
    AddressFull,
    /// Every place is taken and none could be given up for it.
    AllTaken,
}

/// The places of one listener.
#[derive(Debug)]
pub(crate) struct Places {
    bounds: PlaceBounds,
    registry: Mutex<Registry>,
    /// Places not yet given back (taken ones and those evicted but not yet closed).
    open: watch::Sender<usize>,
}

/// The places held, by number, and how many each address holds.
#[derive(Debug, Default)]
struct Registry {
    held: HashMap<u64, Held>,
    by_address: HashMap<IpAddr, usize>,
    next: u64,
}

/// One place held.
#[derive(Debug)]
struct Held {
    address: IpAddr,
    /// Since when it has had nothing to answer: when it was opened, or its last answer
    /// ended.
    idle_since: Instant,
    /// Requests being answered on it.
    answering: usize,
    /// A WebSocket that authenticated: it keeps its place.
    authenticated: bool,
    /// Set when a newcomer takes the place: the connection closes.
    evicted: watch::Sender<bool>,
}

impl Held {
    /// Whether a newcomer may take its place at `now`.
    fn unproven_at(&self, now: Instant, grace: Duration) -> bool {
        self.answering == 0
            && !self.authenticated
            && now.saturating_duration_since(self.idle_since) >= grace
    }
}

impl Places {
    /// No places taken yet.
    pub(crate) fn new(bounds: PlaceBounds) -> Arc<Self> {
        let (open, _) = watch::channel(0);
        Arc::new(Self {
            bounds,
            registry: Mutex::default(),
            open,
        })
    }

    /// A place for a connection from `peer` arriving at `now`, evicting an unproven
    /// connection when every place is taken (see the module's description). IPv6 peers
    /// are counted by their /64, the block one machine usually holds.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr, now: Instant) -> Result<Place, Refused> {
        let exempt = self.exempt(peer);
        let address = client_block(peer);
        let mut registry = self.registry();
        let holds = registry.by_address.get(&address).copied().unwrap_or(0);
        if !exempt && holds >= self.bounds.max_per_address {
            return Err(Refused::AddressFull);
        }
        if registry.held.len() >= self.bounds.max_connections.max(1) {
            let victim = registry.victim_for(address, holds, exempt, now, self.bounds.grace);
            let Some(victim) = victim else {
                return Err(Refused::AllTaken);
            };
            if let Some(held) = registry.remove(victim) {
                held.evicted.send_replace(true);
                tracing::debug!(client = %held.address, "connection evicted for a newcomer");
            }
        }
        let id = registry.next;
        registry.next += 1;
        let (evicted, evicted_seen) = watch::channel(false);
        registry.held.insert(
            id,
            Held {
                address,
                idle_since: now,
                answering: 0,
                authenticated: false,
                evicted,
            },
        );
        *registry.by_address.entry(address).or_insert(0) += 1;
        self.open.send_modify(|open| *open += 1);
        Ok(Place {
            places: self.clone(),
            id,
            evicted: evicted_seen,
        })
    }

    /// Waits until every place has been given back.
    pub(crate) async fn all_returned(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
    }

    /// Whether `address` has no cap of its own (a trusted proxy).
    fn exempt(&self, address: IpAddr) -> bool {
        self.bounds.exempt.iter().any(|net| net.contains(&address))
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the place `id` still held (not evicted).
    fn update(&self, id: u64, change: impl FnOnce(&mut Held)) {
        if let Some(held) = self.registry().held.get_mut(&id) {
            change(held);
        }
    }
}

impl Registry {
    /// The place a newcomer from `address` (which holds `holds` places) may take: an
    /// unproven one of the address holding the most places, more than the newcomer's would,
    /// the longest idle first; of its own address only when that is a trusted proxy.
    fn victim_for(
        &self,
        address: IpAddr,
        holds: usize,
        exempt: bool,
        now: Instant,
        grace: Duration,
    ) -> Option<u64> {
        self.held
            .iter()
            .filter(|(_, held)| held.unproven_at(now, grace))
            .filter_map(|(id, held)| {
                let theirs = self.by_address.get(&held.address).copied().unwrap_or(0);
                let fair = if held.address == address {
                    exempt
                } else {
                    theirs > holds + 1
                };
                fair.then_some((theirs, std::cmp::Reverse(held.idle_since), *id))
            })
            .max()
            .map(|(_, _, id)| id)
    }

    /// Takes place `id` out, if it is still held.
    fn remove(&mut self, id: u64) -> Option<Held> {
        let held = self.held.remove(&id)?;
        if let Some(count) = self.by_address.get_mut(&held.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.by_address.remove(&held.address);
            }
        }
        Some(held)
    }
}

/// A connection's place, given back when dropped.
#[derive(Debug)]
pub(crate) struct Place {
    places: Arc<Places>,
    id: u64,
    evicted: watch::Receiver<bool>,
}

impl Place {
    /// Marks the place as answering a request until the returned guard is dropped.
    pub(crate) fn answering(&self) -> Answering {
        self.places.update(self.id, |held| held.answering += 1);
        Answering {
            places: self.places.clone(),
            id: self.id,
        }
    }

    /// Marks the place as a WebSocket that authenticated, kept for as long as it runs;
    /// false when a newcomer took it first (the connection is closing).
    pub(crate) fn authenticated(&self) -> bool {
        let mut kept = false;
        self.places.update(self.id, |held| {
            held.authenticated = true;
            kept = true;
        });
        kept
    }

    /// Whether the place is answering a request now.
    #[cfg(test)]
    pub(crate) fn is_answering(&self) -> bool {
        self.places
            .registry()
            .held
            .get(&self.id)
            .is_some_and(|held| held.answering > 0)
    }

    /// Completes when a newcomer takes this place.
    pub(crate) async fn evicted(&self) {
        let mut evicted = self.evicted.clone();
        // The sender goes only with the place itself: gone means taken as well.
        let _ = evicted.wait_for(|evicted| *evicted).await;
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.places.registry().remove(self.id);
        self.places
            .open
            .send_modify(|open| *open = open.saturating_sub(1));
    }
}

/// A request being answered on a place; the place is idle again once every one is dropped.
#[derive(Debug)]
pub(crate) struct Answering {
    places: Arc<Places>,
    id: u64,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.places.update(self.id, |held| {
            held.answering = held.answering.saturating_sub(1);
            if held.answering == 0 {
                held.idle_since = Instant::now();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(1);

    fn places(max_connections: usize, max_per_address: usize) -> Arc<Places> {
        Places::new(PlaceBounds {
            max_connections,
            max_per_address,
            grace: GRACE,
            exempt: vec!["10.0.0.0/8".parse().expect("a network")],
        })
    }

    fn address(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn is_evicted(place: &Place) -> bool {
        *place.evicted.borrow()
    }

    #[test]
    fn one_address_gets_no_more_than_its_cap_and_another_still_gets_in() {
        let places = places(100, 2);
        let now = Instant::now();
        let _first = places.admit(address(1), now).expect("a place");
        let second = places.admit(address(1), now).expect("a place");
        assert_eq!(
            places.admit(address(1), now).err(),
            Some(Refused::AddressFull)
        );
        assert!(places.admit(address(2), now).is_ok());
        drop(second);
        assert!(places.admit(address(1), now).is_ok(), "a place given back");
    }

    #[test]
    fn a_trusted_proxy_has_no_cap_of_its_own() {
        let places = places(100, 2);
        let now = Instant::now();
        let proxy = IpAddr::from([10, 1, 2, 3]);
        let held: Vec<Place> = (0..10)
            .map(|_| places.admit(proxy, now).expect("a place"))
            .collect();
        assert_eq!(held.len(), 10);
    }

    #[test]
    fn a_newcomer_takes_the_longest_idle_place_of_the_address_holding_most() {
        let places = places(4, 10);
        let start = Instant::now();
        let heavy_old = places.admit(address(1), start).expect("a place");
        let heavy_new = places
            .admit(address(1), start + Duration::from_millis(10))
            .expect("a place");
        let heavy_newest = places
            .admit(address(1), start + Duration::from_millis(20))
            .expect("a place");
        let light = places.admit(address(2), start).expect("a place");
        let later = start + 2 * GRACE;
        let _newcomer = places.admit(address(3), later).expect("a place taken");
        assert!(is_evicted(&heavy_old), "the longest idle of the heaviest");
        assert!(!is_evicted(&heavy_new) && !is_evicted(&heavy_newest) && !is_evicted(&light));
        // Address 1 now holds 2, address 3 holds 1: no newcomer of address 3 is owed more.
        assert_eq!(
            places.admit(address(3), later).err(),
            Some(Refused::AllTaken)
        );
    }

    #[test]
    fn fresh_answering_and_authenticated_places_are_kept() {
        let places = places(3, 10);
        let start = Instant::now();
        let answering = places.admit(address(1), start).expect("a place");
        let _answer = answering.answering();
        let socket = places.admit(address(1), start).expect("a place");
        assert!(socket.authenticated());
        let fresh = places.admit(address(1), start + GRACE).expect("a place");
        assert_eq!(
            places.admit(address(2), start + GRACE).err(),
            Some(Refused::AllTaken),
            "nothing to take: one answering, one authenticated, one within its grace"
        );
        assert!(!is_evicted(&answering) && !is_evicted(&socket) && !is_evicted(&fresh));
        // Past its grace, the fresh one that sent nothing goes.
        assert!(places.admit(address(2), start + 2 * GRACE).is_ok());
        assert!(is_evicted(&fresh));
    }

    #[test]
    fn a_place_is_idle_again_when_its_answer_ends_and_a_taken_one_cannot_authenticate() {
        let places = places(2, 10);
        let long_ago = Instant::now()
            .checked_sub(10 * GRACE)
            .expect("a time before");
        let kept_alive = places.admit(address(1), long_ago).expect("a place");
        let busy = places.admit(address(1), long_ago).expect("a place");
        let _answer = busy.answering();
        drop(kept_alive.answering());
        // Idle since just now: within its grace, however old the connection.
        let now = Instant::now();
        assert_eq!(places.admit(address(2), now).err(), Some(Refused::AllTaken));
        assert!(places.admit(address(2), now + 2 * GRACE).is_ok());
        assert!(is_evicted(&kept_alive) && !is_evicted(&busy));
        assert!(!kept_alive.authenticated(), "taken before it authenticated");
    }

    #[test]
    fn a_newcomer_does_not_take_from_an_address_holding_no_more_than_its_own() {
        let places = places(4, 10);
        let start = Instant::now();
        let held: Vec<Place> = [1, 1, 2, 2]
            .into_iter()
            .map(|last| places.admit(address(last), start).expect("a place"))
            .collect();
        let later = start + 2 * GRACE;
        // Address 1 holds 2 and would be left 1 for address 2's 3: refused.
        assert_eq!(
            places.admit(address(2), later).err(),
            Some(Refused::AllTaken)
        );
        assert!(places.admit(address(3), later).is_ok());
        assert_eq!(held.iter().filter(|place| is_evicted(place)).count(), 1);
    }

    #[test]
    fn behind_a_trusted_proxy_a_newcomer_takes_the_proxys_longest_idle_place() {
        let places = places(2, 1);
        let start = Instant::now();
        let proxy = IpAddr::from([10, 1, 2, 3]);
        let old = places.admit(proxy, start).expect("a place");
        let young = places.admit(proxy, start + GRACE).expect("a place");
        assert!(places.admit(proxy, start + 2 * GRACE).is_ok());
        assert!(is_evicted(&old) && !is_evicted(&young));
    }

    #[test]
    fn ipv6_peers_are_counted_by_their_64() {
        let places = places(100, 2);
        let now = Instant::now();
        let peer = |last: u16| IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]);
        let _first = places.admit(peer(1), now).expect("a place");
        let _second = places.admit(peer(2), now).expect("a place");
        assert_eq!(places.admit(peer(3), now).err(), Some(Refused::AddressFull));
        let other = IpAddr::from([0x2001, 0xdb8, 0, 2, 0, 0, 0, 1]);
        assert!(places.admit(other, now).is_ok(), "another /64");
    }

    #[tokio::test]
    async fn every_place_comes_back_before_shutdown_ends() {
        let places = places(2, 2);
        let place = places.admit(address(1), Instant::now()).expect("a place");
        let waiting = tokio::spawn({
            let places = places.clone();
            async move { places.all_returned().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(place);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("returned")
            .expect("the task ran");
    }
}
