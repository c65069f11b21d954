//! Sign-ins started and not yet back from the provider, by their `state`: bounded in
//! count ([`MOST_PENDING`], and [`MOST_PENDING_PER_ADDRESS`] from one address, so that
//! one machine starting sign-ins cannot keep others from starting theirs) and in time
//! ([`PENDING_LIFETIME`]), each taken once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::SignOnError;

/// The most sign-ins under way at once; more are refused until some come back or expire.
pub const MOST_PENDING: usize = 1024;
/// The most sign-ins under way from one address (an IPv6 address's /64 counts as one).
pub const MOST_PENDING_PER_ADDRESS: usize = 16;
/// How long a sign-in may take at the provider.
pub const PENDING_LIFETIME: Duration = Duration::from_secs(600);

/// One sign-in under way.
pub(crate) struct Pending<T> {
    value: T,
    started: Instant,
    from: IpAddr,
}

impl<T> Pending<T> {
    /// `value`, started at `started` by a browser at `from` (its address block).
    pub(crate) fn new(value: T, started: Instant, from: IpAddr) -> Self {
        Self {
            value,
            started,
            from,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) > PENDING_LIFETIME
    }
}

/// The sign-ins under way.
pub(crate) struct PendingSignIns<T> {
    by_state: Mutex<HashMap<String, Pending<T>>>,
}

impl<T> Default for PendingSignIns<T> {
    fn default() -> Self {
        Self {
            by_state: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> PendingSignIns<T> {
    /// Keeps `pending` under `state`, after letting the expired go; refused when
    /// [`MOST_PENDING`] are under way.
    pub(crate) fn insert(
        &self,
        state: String,
        pending: Pending<T>,
        now: Instant,
    ) -> Result<(), SignOnError> {
        let mut by_state = self.lock();
        by_state.retain(|_, kept| !kept.expired(now));
        let from_there = by_state
            .values()
            .filter(|kept| kept.from == pending.from)
            .count();
        if by_state.len() >= MOST_PENDING || from_there >= MOST_PENDING_PER_ADDRESS {
            return Err(SignOnError::TooManyPending);
        }
        by_state.insert(state, pending);
        Ok(())
    }

    /// The sign-in under `state`, taken out (once); none when unknown or expired.
    pub(crate) fn take(&self, state: &str, now: Instant) -> Option<T> {
        self.lock()
            .remove(state)
            .filter(|pending| !pending.expired(now))
            .map(|pending| pending.value)
    }

    /// How many are kept.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pending<T>>> {
        // Each change is whole between statements: a panic elsewhere leaves it usable.
        self.by_state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn a_sign_in_is_taken_once_and_not_after_it_expires() {
        let pending = PendingSignIns::default();
        let start = Instant::now();
        pending
            .insert("a".into(), Pending::new(1, start, HERE), start)
            .expect("kept");
        pending
            .insert("b".into(), Pending::new(2, start, HERE), start)
            .expect("kept");
        assert_eq!(pending.take("a", start), Some(1));
        assert_eq!(pending.take("a", start), None, "a state is used once");
        assert_eq!(pending.take("nobody", start), None);
        let late = start + PENDING_LIFETIME + Duration::from_secs(1);
        assert_eq!(pending.take("b", late), None, "an expired sign-in is gone");
    }

    #[test]
    fn the_count_is_bounded_and_expired_ones_make_room() {
        let pending = PendingSignIns::default();
        let start = Instant::now();
        let address = |n: usize| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n as u32));
        for n in 0..MOST_PENDING {
            let from = address(n / MOST_PENDING_PER_ADDRESS);
            pending
                .insert(n.to_string(), Pending::new(n, start, from), start)
                .expect("within the bound");
        }
        let elsewhere = address(MOST_PENDING);
        assert!(matches!(
            pending.insert("one more".into(), Pending::new(0, start, elsewhere), start),
            Err(SignOnError::TooManyPending)
        ));
        let late = start + PENDING_LIFETIME + Duration::from_secs(1);
        pending
            .insert("later".into(), Pending::new(0, late, elsewhere), late)
            .expect("the expired made room");
        assert_eq!(pending.len(), 1);
    }

    #[test]
    fn one_address_cannot_take_every_place() {
        let pending = PendingSignIns::default();
        let start = Instant::now();
        for n in 0..MOST_PENDING_PER_ADDRESS {
            pending
                .insert(n.to_string(), Pending::new(n, start, HERE), start)
                .expect("within the address's bound");
        }
        assert!(matches!(
            pending.insert("more".into(), Pending::new(0, start, HERE), start),
            Err(SignOnError::TooManyPending)
        ));
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9));
        pending
            .insert("other".into(), Pending::new(0, start, other), start)
            .expect("another address still starts one");
    }
}
