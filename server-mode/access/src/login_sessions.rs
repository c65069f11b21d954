//! The sessions a browser's login opens ([`LoginSessions`]): a random id (the cookie's
//! value) for each login, valid for a fixed time, kept in a table of bounded size (the
//! oldest login is forgotten when it is full); logging out or expiring removes it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Logins kept at once; a new one beyond this forgets the oldest.
pub const MAX_LOGINS: usize = 4096;

/// A login's secret id: 32 hex digits from the operating system's random source.
pub type LoginId = String;

/// What a login id stands for, until when.
#[derive(Debug)]
struct Entry<T> {
    value: T,
    expires: Instant,
}

/// Logins by id, each valid for `lifetime` from its start.
#[derive(Debug)]
pub struct LoginSessions<T> {
    lifetime: Duration,
    entries: Mutex<HashMap<LoginId, Entry<T>>>,
}

/// What became of a login id presented.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<T> {
    /// A login in force: what it stands for.
    Valid(T),
    /// A login that has expired (now forgotten): what it stood for.
    Expired(T),
    /// No such login.
    Unknown,
}

impl<T: Clone> LoginSessions<T> {
    /// An empty table of logins lasting `lifetime` each.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long a login lasts.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Starts a login for `value` at `now`; its id, or an error when no random id could be
    /// made.
    pub fn start(&self, value: T, now: Instant) -> Result<LoginId, getrandom::Error> {
        let id = crate::token::generate_token()?;
        let mut entries = self.lock();
        entries.retain(|_, entry| entry.expires > now);
        if entries.len() >= MAX_LOGINS
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, entry)| entry.expires)
                .map(|(id, _)| id.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            id.clone(),
            Entry {
                value,
                expires: now + self.lifetime,
            },
        );
        Ok(id)
    }

    /// What the login `id` stands for at `now`; an expired one is forgotten.
    pub fn presented(&self, id: &str, now: Instant) -> Presented<T> {
        let mut entries = self.lock();
        match entries.get(id) {
            None => Presented::Unknown,
            Some(entry) if entry.expires > now => Presented::Valid(entry.value.clone()),
            Some(_) => entries
                .remove(id)
                .map_or(Presented::Unknown, |entry| Presented::Expired(entry.value)),
        }
    }

    /// Ends the login `id`; what it stood for, if it was one.
    pub fn end(&self, id: &str) -> Option<T> {
        self.lock().remove(id).map(|entry| entry.value)
    }

    /// Logins kept now (expired ones included until they are next looked at).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no login is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LoginId, Entry<T>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_valid_until_it_expires_or_ends() {
        let logins = LoginSessions::new(Duration::from_secs(60));
        let start = Instant::now();
        let id = logins.start("ana", start).expect("an id");
        assert_eq!(id.len(), 32);
        assert_eq!(logins.presented(&id, start), Presented::Valid("ana"));
        assert_eq!(
            logins.presented(&id, start + Duration::from_secs(61)),
            Presented::Expired("ana")
        );
        assert_eq!(
            logins.presented(&id, start),
            Presented::Unknown,
            "forgotten"
        );
        let other = logins.start("ben", start).expect("an id");
        assert_ne!(other, id);
        assert_eq!(logins.end(&other), Some("ben"));
        assert_eq!(logins.presented(&other, start), Presented::Unknown);
        assert_eq!(logins.presented("not-an-id", start), Presented::Unknown);
    }

    #[test]
    fn the_table_stays_bounded_forgetting_the_oldest() {
        let logins = LoginSessions::new(Duration::from_secs(3600));
        let start = Instant::now();
        let first = logins.start(0usize, start).expect("an id");
        for n in 1..=MAX_LOGINS {
            logins
                .start(n, start + Duration::from_millis(n as u64))
                .expect("an id");
        }
        assert_eq!(logins.len(), MAX_LOGINS);
        assert_eq!(logins.presented(&first, start), Presented::Unknown);
    }
}
