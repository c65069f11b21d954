//! Shared sessions: the server's sessions follow a host's view. The host is a radiologist
//! sharing what she sees from the desktop (every session that opens the shared series
//! follows her), or a reader's session on the server that shared itself ([`Shares`]: others
//! join it by the id it was given). The host publishes each change of her view; followers
//! adopt it. View-only sessions may resize their frames but not change the view.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use hounsfield_protocol::{Action, SharedView};

use super::room::Room;

/// The host's side: publishes the view the sessions follow.
#[derive(Debug)]
pub struct Host {
    view: watch::Sender<SharedView>,
}

impl Host {
    /// Publishes a new view (sessions pick up only the latest).
    pub fn publish(&self, view: SharedView) {
        self.view.send_if_modified(|current| {
            let changed = *current != view;
            if changed {
                *current = view;
            }
            changed
        });
    }
}

/// The server's side: which series is shared, its view, and whether viewers may steer.
#[derive(Debug, Clone)]
pub struct Follow {
    /// The series the host shows (sessions opening it follow the host).
    pub series: String,
    /// The host's latest view.
    pub view: watch::Receiver<SharedView>,
    /// Viewers may not change the view.
    pub view_only: bool,
    /// Where the sessions following it point and tell their findings.
    pub room: Room,
}

impl Follow {
    /// A host and the follow setting for a server, starting at `initial`.
    pub fn channel(series: &str, initial: SharedView, view_only: bool) -> (Host, Self) {
        let room = Room::without_controls(initial.clone());
        let (sender, receiver) = watch::channel(initial);
        (
            Host { view: sender },
            Self {
                series: series.to_string(),
                view: receiver,
                view_only,
                room,
            },
        )
    }
}

/// A session shared on the server, as those who join it find it.
#[derive(Debug, Clone)]
pub(crate) struct SharedSession {
    /// The sharing session's number.
    pub(crate) host_session: u64,
    /// The series it shows.
    pub(crate) series: String,
    /// Its participants: its view, pointers, findings and controls.
    pub(crate) room: Room,
}

/// The sessions shared on this server, by join id.
#[derive(Debug, Default)]
pub(crate) struct Shares {
    shared: Mutex<HashMap<String, SharedSession>>,
}

impl Shares {
    fn shared(&self) -> std::sync::MutexGuard<'_, HashMap<String, SharedSession>> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Shares session `host_session`'s view of `series` under the new, random `id`: the
    /// room the host enters, and those who join it.
    pub(crate) fn start(
        &self,
        id: &str,
        host_session: u64,
        series: &str,
        initial: SharedView,
        viewers_may_steer: bool,
    ) -> Room {
        let room = Room::new(host_session, initial, viewers_may_steer);
        self.shared().insert(
            id.to_string(),
            SharedSession {
                host_session,
                series: series.to_string(),
                room: room.clone(),
            },
        );
        room
    }

    /// The shared session of this id.
    pub(crate) fn find(&self, id: &str) -> Option<SharedSession> {
        self.shared().get(id).cloned()
    }

    /// The share of this id ends (its followers keep the last view).
    pub(crate) fn stop(&self, id: &str) {
        self.shared().remove(id);
    }
}

/// Whether `action` changes what the view shows (refused from view-only viewers); a
/// viewer's own frame size and interaction state are not the view.
pub fn changes_the_view(action: &Action) -> bool {
    !matches!(action, Action::Resize { .. } | Action::Interact { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_may_resize_but_not_steer() {
        assert!(!changes_the_view(&Action::Resize {
            width: 100,
            height: 100
        }));
        assert!(!changes_the_view(&Action::Interact { active: true }));
        assert!(changes_the_view(&Action::Orbit { dx: 1.0, dy: 0.0 }));
        assert!(changes_the_view(&Action::Reset));
    }
}
