//! The desktop in its own share's room: the window enters it as its host
//! ([`DESKTOP_HOST`]), tells its followers where its mouse is over the pictures (the cell
//! and where in it, at most 20 a second, and once that it left) and its findings as they
//! are made (numbered from [`DESKTOP_FINDING_IDS`], apart from the ones the share's server
//! numbers), and keeps their pointers and findings, polled each time the window draws.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hounsfield_findings::report::MeasuredFinding;
use hounsfield_protocol::{FindingInfo, ServerMessage};
use hounsfield_server::findings::finding_info;
use hounsfield_server::sharing::Pointed;
use hounsfield_server::sharing::{DESKTOP_HOST, Participant, Room};

use crate::pointer_spots::{RemotePointer, current_pointers, take_pointer};

/// The least time between two pointers told (20 a second, as the web page tells them).
const POINTER_EVERY: Duration = Duration::from_millis(50);
/// Messages taken from the room each time the window draws (the rest wait their turn).
const MOST_TAKEN: usize = 256;
/// The desktop's findings are told numbered from here, apart from the followers' (which
/// the share's server numbers from 1).
pub const DESKTOP_FINDING_IDS: u32 = 1 << 24;

/// A follower's finding, told or deleted.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowerFinding {
    /// Drawn or redrawn by `session`, named `name`.
    Told {
        /// The follower's session.
        session: u64,
        /// Their name.
        name: String,
        /// The finding, numbered by the share's server.
        finding: Box<FindingInfo>,
    },
    /// Deleted by `session`.
    Deleted {
        /// The follower's session.
        session: u64,
        /// The finding's number.
        id: u32,
    },
}

/// The desktop's place in its share's room, and its followers' pointers.
pub struct ShareRoom {
    room: Participant,
    name: String,
    followers: BTreeMap<u64, RemotePointer>,
    told_at: Option<Instant>,
    over: bool,
    /// Followers' findings told and not yet taken by the window.
    findings: Vec<FollowerFinding>,
    /// The desktop's own findings as last told, by their number here.
    told_findings: BTreeMap<u32, FindingInfo>,
    /// The number each follower's finding has here, by its session and its number there.
    pub local_ids: BTreeMap<(u64, u32), u32>,
}

impl ShareRoom {
    /// The window entering `room` as its host, known to the others as `name`.
    pub fn enter(room: &Room, name: String) -> Self {
        Self {
            room: room.enter(DESKTOP_HOST, name.clone(), false),
            name,
            followers: BTreeMap::new(),
            told_at: None,
            over: false,
            findings: Vec::new(),
            told_findings: BTreeMap::new(),
            local_ids: BTreeMap::new(),
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
            match told.as_ref() {
                ServerMessage::SharedFinding {
                    session,
                    name,
                    finding,
                } if self.findings.len() < MOST_TAKEN => {
                    self.findings.push(FollowerFinding::Told {
                        session: *session,
                        name: name.clone(),
                        finding: Box::new(finding.clone()),
                    });
                }
                ServerMessage::SharedFindingDeleted { session, id, .. }
                    if self.findings.len() < MOST_TAKEN =>
                {
                    self.findings.push(FollowerFinding::Deleted {
                        session: *session,
                        id: *id,
                    });
                }
                pointer @ ServerMessage::Pointer { .. } => {
                    take_pointer(&mut self.followers, pointer);
                }
                _ => {}
            }
        }
        current_pointers(&mut self.followers)
    }

    /// The followers' findings told since the last look (after [`Self::followers`]).
    pub fn take_findings(&mut self) -> Vec<FollowerFinding> {
        std::mem::take(&mut self.findings)
    }

    /// Tells the followers what changed in the desktop's own findings (`own`, by their
    /// number here) since the last time: each drawn or redrawn as `shared_finding`, each
    /// gone as `shared_finding_deleted`.
    pub fn tell_findings<'a>(&mut self, own: impl Iterator<Item = &'a MeasuredFinding>) {
        let mut now = BTreeMap::new();
        for measured in own {
            let mut info = finding_info(measured, &self.name);
            info.id = info.id.saturating_add(DESKTOP_FINDING_IDS);
            now.insert(measured.finding.id, info);
        }
        for (id, info) in &now {
            if self.told_findings.get(id) != Some(info) {
                self.room.tell_others(ServerMessage::SharedFinding {
                    session: DESKTOP_HOST,
                    name: self.name.clone(),
                    finding: info.clone(),
                });
            }
        }
        for id in self.told_findings.keys().filter(|id| !now.contains_key(id)) {
            self.room.tell_others(ServerMessage::SharedFindingDeleted {
                session: DESKTOP_HOST,
                name: self.name.clone(),
                id: id.saturating_add(DESKTOP_FINDING_IDS),
            });
        }
        self.told_findings = now;
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
        let mut desktop = ShareRoom::enter(&room, "host".to_string());
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
