//! A shared session: the server's sessions follow a host's view (a radiologist sharing
//! what she sees from the desktop). The host publishes each change of her view; every
//! session that opened the shared series adopts it. View-only sessions may resize their
//! frames but not change the view.

use tokio::sync::watch;

use crate::protocol::{Action, SharedView};

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
}

impl Follow {
    /// A host and the follow setting for a server, starting at `initial`.
    pub fn channel(series: &str, initial: SharedView, view_only: bool) -> (Host, Self) {
        let (sender, receiver) = watch::channel(initial);
        (
            Host { view: sender },
            Self {
                series: series.to_string(),
                view: receiver,
                view_only,
            },
        )
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
