//! The desktop's pointer in its own share: the window enters the share's room as its host
//! ([`DESKTOP_HOST`]), tells its followers where its mouse is over the pictures (the cell
//! and where in it, at most 20 a second, and once that it left), and keeps their pointers,
//! polled each time the window draws, to draw over its views.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hounsfield_protocol::ServerMessage;
use hounsfield_server::pointers::Pointed;
use hounsfield_server::room::{DESKTOP_HOST, Participant, Room};

use crate::desktop::thin_client::connection::RemotePointer;

/// The least time between two pointers told (20 a second, as the web page tells them).
const POINTER_EVERY: Duration = Duration::from_millis(50);
/// A pointer not moved for this long is taken to have gone.
const STALE: Duration = Duration::from_secs(15);
/// Messages taken from the room each time the window draws (the rest wait their turn).
const MOST_TAKEN: usize = 256;

/// The desktop's place in its share's room, and its followers' pointers.
pub struct SharePointers {
    room: Participant,
    name: String,
    followers: BTreeMap<u64, RemotePointer>,
    told_at: Option<Instant>,
    over: bool,
}

impl SharePointers {
    /// The window entering `room` as its host, known to the others as `name`.
    pub fn enter(room: &Room, name: String) -> Self {
        Self {
            room: room.enter(DESKTOP_HOST, name.clone(), false),
            name,
            followers: BTreeMap::new(),
            told_at: None,
            over: false,
        }
    }

    /// Tells the followers where the window's pointer is: in `cell` at fractions `at`, or
    /// `None` once it left the pictures (told once).
    pub fn point(&mut self, under: Option<(&str, [f64; 2])>) {
        let now = Instant::now();
        let pointed = match under {
            Some((cell, [x, y])) => {
                if self
                    .told_at
                    .is_some_and(|told| now.duration_since(told) < POINTER_EVERY)
                {
                    return;
                }
                Pointed::checked(
                    DESKTOP_HOST,
                    self.name.clone(),
                    Some(cell),
                    Some(x),
                    Some(y),
                )
            }
            None if self.over => {
                Pointed::checked(DESKTOP_HOST, self.name.clone(), None, None, None)
            }
            None => return,
        };
        match pointed {
            Ok(pointed) => {
                self.over = pointed.cell.is_some();
                self.told_at = Some(now);
                self.room.tell_others(pointed.told());
            }
            Err(why) => tracing::debug!(%why, "the desktop's pointer not told"),
        }
    }

    /// The followers' pointers now, after what the room told since the last look (those
    /// not moved for a while dropped).
    pub fn followers(&mut self) -> Vec<RemotePointer> {
        for _ in 0..MOST_TAKEN {
            let Some(told) = self.room.try_next() else {
                break;
            };
            if let ServerMessage::Pointer {
                session,
                name,
                colour,
                cell,
                x,
                y,
            } = told.as_ref()
            {
                match (cell, x, y) {
                    (Some(cell), Some(x), Some(y)) => {
                        let pointer = RemotePointer {
                            name: name.clone(),
                            colour: colour.clone(),
                            cell: cell.clone(),
                            at: [*x, *y],
                            told: Instant::now(),
                        };
                        self.followers.insert(*session, pointer);
                    }
                    _ => {
                        self.followers.remove(session);
                    }
                }
            }
        }
        self.followers
            .retain(|_, pointer| pointer.told.elapsed() < STALE);
        self.followers.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::phantom::ct_phantom;
    use render_core::transfer::RenderMode;
    use render_core::view::ViewState;

    #[test]
    fn the_desktop_hears_its_followers_pointers_and_they_hear_its_own_once_it_leaves_too() {
        let volume = ct_phantom();
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite).shared();
        let room = Room::without_controls(view);
        let mut desktop = SharePointers::enter(&room, "host".to_string());
        let mut ola = room.enter(3, "ola".to_string(), false);
        let told = Pointed::checked(3, "ola".to_string(), Some("axial"), Some(0.25), Some(0.5))
            .expect("a pointer");
        ola.tell_others(told.told());
        let seen = desktop.followers();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].name.as_str(), seen[0].cell.as_str(), seen[0].at),
            ("ola", "axial", [0.25, 0.5])
        );

        desktop.point(Some(("3d", [0.5, 0.4])));
        // Too soon after the last: not told again.
        desktop.point(Some(("3d", [0.6, 0.4])));
        desktop.point(None);
        let mut heard = Vec::new();
        while let Some(message) = ola.try_next() {
            heard.push(message);
        }
        assert_eq!(heard.len(), 2, "{heard:?}");
        assert!(matches!(
            heard[0].as_ref(),
            ServerMessage::Pointer { session: DESKTOP_HOST, cell: Some(cell), x: Some(x), .. }
                if cell == "3d" && (*x - 0.5).abs() < 1e-9
        ));
        assert!(matches!(
            heard[1].as_ref(),
            ServerMessage::Pointer { cell: None, .. }
        ));
        // Once gone, it is not told again that it left.
        desktop.point(None);
        assert!(ola.try_next().is_none());

        let left = Pointed::checked(3, "ola".to_string(), None, None, None).expect("left");
        ola.tell_others(left.told());
        assert!(desktop.followers().is_empty());
    }
}
