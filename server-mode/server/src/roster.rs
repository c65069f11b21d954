//! The sessions open now: who (user and role), from where, which series, since when; what
//! the admin view lists. A session is told to end through its entry ([`Ending`]) when an
//! admin ends it, or when its user is removed, changed or expires.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use hounsfield_access::identity::{Ending, Identity};
use hounsfield_access::users::Role;

/// One open session, as the admin view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    /// The session's number.
    pub id: u64,
    /// The user's name (empty on a server that asks for no token).
    pub user: String,
    /// The user's role.
    pub role: Role,
    /// The client's address.
    pub client: SocketAddr,
    /// The series open, if any.
    pub series: Option<String>,
    /// When the session began (UTC, RFC 3339).
    pub started: String,
}

struct Entry {
    identity: Identity,
    client: SocketAddr,
    series: Option<String>,
    started: DateTime<Utc>,
    end: watch::Sender<Option<Ending>>,
}

/// The sessions open now.
#[derive(Default)]
pub(crate) struct Roster {
    entries: Mutex<BTreeMap<u64, Entry>>,
}

impl Roster {
    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Enters session `id`; the receiver says when (and why) the server wants it to end.
    pub(crate) fn enter(
        &self,
        id: u64,
        identity: Identity,
        client: SocketAddr,
    ) -> watch::Receiver<Option<Ending>> {
        let (end, ending) = watch::channel(None);
        self.entries().insert(
            id,
            Entry {
                identity,
                client,
                series: None,
                started: Utc::now(),
                end,
            },
        );
        ending
    }

    /// Session `id` has left.
    pub(crate) fn leave(&self, id: u64) {
        self.entries().remove(&id);
    }

    /// Session `id` shows `series` now.
    pub(crate) fn opened(&self, id: u64, series: &str) {
        if let Some(entry) = self.entries().get_mut(&id) {
            entry.series = Some(series.to_string());
        }
    }

    /// Every open session, by number.
    pub(crate) fn list(&self) -> Vec<SessionSummary> {
        self.entries()
            .iter()
            .map(|(id, entry)| SessionSummary {
                id: *id,
                user: entry.identity.label().to_string(),
                role: entry.identity.role,
                client: entry.client,
                series: entry.series.clone(),
                started: entry
                    .started
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .collect()
    }

    /// Tells session `id` to end; its summary when it was open and not yet told to end.
    pub(crate) fn end(&self, id: u64, why: Ending) -> Option<SessionSummary> {
        let summary = self.list().into_iter().find(|s| s.id == id)?;
        let entries = self.entries();
        let entry = entries.get(&id)?;
        // A session already told to end is no longer open, though it may still be
        // closing its socket.
        let first = entry.end.send_if_modified(|ending| {
            let first = ending.is_none();
            ending.get_or_insert(why);
            first
        });
        first.then_some(summary)
    }

    /// Tells every session whose identity `why` gives a reason for to end.
    pub(crate) fn end_where(&self, why: impl Fn(&Identity) -> Option<Ending>) {
        for entry in self.entries().values() {
            if let Some(reason) = why(&entry.identity) {
                entry.end.send_if_modified(|ending| {
                    let first = ending.is_none();
                    ending.get_or_insert(reason);
                    first
                });
            }
        }
    }
}
