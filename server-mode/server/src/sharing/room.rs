//! A shared session's room: the host who shared it and the followers who joined it. The
//! room passes what one participant tells the others (pointers, findings as they are made,
//! requests for the controls) and keeps who steers the shared view: the host, or the one
//! follower she handed the controls to until she takes them back. A session in no room
//! tells nobody anything.
//!
//! The room is the one place that decides who steers: a participant publishes its view
//! only while it steers, and its view-changing inputs are refused while another steers.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use hounsfield_protocol::{ServerMessage, SharedView};

/// Messages a participant may fall behind by before missing the oldest (pointers, the
/// most frequent, replace each other anyway): the room's bound on memory.
const ROOM_BACKLOG: usize = 64;

/// The host of a desktop's share: no session of the server (sessions count from 1).
pub const DESKTOP_HOST: u64 = 0;

/// Followers waiting for the host's answer at once; later requests are refused until she
/// answered some (each session asks at most once at a time).
pub const MOST_ASKING: usize = 16;

/// Who a relayed message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Everyone but its sender.
    Others,
    /// Every participant, its sender too.
    Everyone,
    /// One participant.
    One(u64),
}

/// A message on its way through the room.
#[derive(Debug, Clone)]
struct Relayed {
    from: u64,
    to: Audience,
    message: Arc<ServerMessage>,
}

/// A participant as the others name it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Someone {
    session: u64,
    name: String,
}

/// Who holds the controls and who asked for them.
#[derive(Debug, Default)]
struct Steering {
    /// The follower steering; `None`: the host.
    steerer: Option<Someone>,
    /// Followers who asked, in the order they asked.
    asking: Vec<Someone>,
    /// The host left: nobody steers the others any more, each follower its own view.
    host_gone: bool,
}

/// What every participant of a room shares.
#[derive(Debug)]
struct Shared {
    host: u64,
    /// Whether the controls are handed over (a desktop's share hands over none: each
    /// follower steers its own view unless the share is view-only).
    hands_over: bool,
    viewers_may_steer: bool,
    relay: broadcast::Sender<Relayed>,
    view: watch::Sender<SharedView>,
    steering: Mutex<Steering>,
}

/// A shared session's room, made when a session shares its view.
#[derive(Debug, Clone)]
pub struct Room {
    shared: Arc<Shared>,
}

/// Why the room refused a request about the controls: a message naming what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRefusal {
    /// The participant's role does not allow it.
    Forbidden(String),
    /// Not possible as things stand.
    Refused(String),
}

impl Room {
    /// The room of session `host`'s shared view, starting at `view`; `viewers_may_steer`:
    /// whether the host may hand the controls to a viewer.
    pub fn new(host: u64, view: SharedView, viewers_may_steer: bool) -> Self {
        Self::made(host, view, viewers_may_steer, true)
    }

    /// The room of a desktop's share: its followers point and see each other's findings;
    /// the desktop steers through its own channel ([`super::follow`]) and hands over no
    /// controls.
    pub fn without_controls(view: SharedView) -> Self {
        Self::made(DESKTOP_HOST, view, false, false)
    }

    fn made(host: u64, view: SharedView, viewers_may_steer: bool, hands_over: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                host,
                hands_over,
                viewers_may_steer,
                relay: broadcast::channel(ROOM_BACKLOG).0,
                view: watch::channel(view).0,
                steering: Mutex::new(Steering::default()),
            }),
        }
    }

    /// The shared view, for a participant to follow.
    pub fn view(&self) -> watch::Receiver<SharedView> {
        self.shared.view.subscribe()
    }

    /// Session `session` (named `name`; `viewer`: a viewer's) enters the room.
    pub fn enter(&self, session: u64, name: String, viewer: bool) -> Participant {
        Participant {
            room: self.clone(),
            me: Someone { session, name },
            viewer,
            receiver: self.shared.relay.subscribe(),
        }
    }
}

/// One participant of a room; leaving (dropping it) gives back the controls it held.
#[derive(Debug)]
pub struct Participant {
    room: Room,
    me: Someone,
    viewer: bool,
    receiver: broadcast::Receiver<Relayed>,
}

impl Participant {
    fn steering(&self) -> MutexGuard<'_, Steering> {
        // A panic while the lock was held left no half-made change: take it as it is.
        self.room
            .shared
            .steering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn send(&self, to: Audience, message: ServerMessage) {
        // An error only says that no one listens.
        let _ = self.room.shared.relay.send(Relayed {
            from: self.me.session,
            to,
            message: Arc::new(message),
        });
    }

    /// Whether this participant is the room's host.
    pub fn hosts(&self) -> bool {
        self.me.session == self.room.shared.host
    }

    /// Tells every other participant `message`.
    pub fn tell_others(&self, message: ServerMessage) {
        self.send(Audience::Others, message);
    }

    /// Whether this participant may change the view: it steers, or the host left, or
    /// the room hands over no controls.
    pub fn may_steer(&self) -> bool {
        if !self.room.shared.hands_over {
            return true;
        }
        let steering = self.steering();
        steering.host_gone || self.holds_the_controls(&steering)
    }

    /// Whether this participant holds the controls in `steering`: it is the follower
    /// granted them, or the host while no follower is.
    fn holds_the_controls(&self, steering: &Steering) -> bool {
        match &steering.steerer {
            Some(steerer) => *steerer == self.me,
            None => self.hosts(),
        }
    }

    /// The follower who steers now, told as `control`.
    pub fn control(&self) -> ServerMessage {
        control_message(self.steering().steerer.as_ref())
    }

    /// Publishes this participant's view to the others while it steers (never in a room
    /// that hands over no controls).
    pub fn publish(&self, view: SharedView) {
        if !self.room.shared.hands_over {
            return;
        }
        let steers = {
            let steering = self.steering();
            !steering.host_gone && self.holds_the_controls(&steering)
        };
        if steers {
            self.room.shared.view.send_if_modified(|current| {
                let changed = *current != view;
                if changed {
                    *current = view;
                }
                changed
            });
        }
    }

    /// `request_control`: asks the host for the controls.
    pub fn ask_for_control(&self) -> Result<(), ControlRefusal> {
        if !self.room.shared.hands_over {
            return Err(ControlRefusal::Refused(
                "request_control: a desktop's share hands over no controls".into(),
            ));
        }
        if self.hosts() {
            return Err(ControlRefusal::Refused(
                "request_control: the host holds the controls already".into(),
            ));
        }
        if self.viewer && !self.room.shared.viewers_may_steer {
            return Err(ControlRefusal::Forbidden(
                "request_control: this server lets no viewer take the controls".into(),
            ));
        }
        {
            let mut steering = self.steering();
            if steering.host_gone {
                return Err(ControlRefusal::Refused(
                    "request_control: the host has left the shared session".into(),
                ));
            }
            if steering.steerer.as_ref() == Some(&self.me) || steering.asking.contains(&self.me) {
                return Ok(());
            }
            if steering.asking.len() >= MOST_ASKING {
                return Err(ControlRefusal::Refused(format!(
                    "request_control: {MOST_ASKING} followers are waiting for the host's answer"
                )));
            }
            steering.asking.push(self.me.clone());
        }
        self.send(
            Audience::One(self.room.shared.host),
            ServerMessage::ControlRequested {
                session: self.me.session,
                name: self.me.name.clone(),
            },
        );
        Ok(())
    }

    /// `grant_control`: the host hands the controls to follower `session`, who asked.
    pub fn grant(&self, session: u64) -> Result<(), ControlRefusal> {
        let granted = {
            let mut steering = self.answer(session, "grant_control")?;
            let at = steering
                .asking
                .iter()
                .position(|asking| asking.session == session)
                .ok_or_else(|| not_asking(session, "grant_control"))?;
            let granted = steering.asking.remove(at);
            steering.steerer = Some(granted.clone());
            granted
        };
        self.send(Audience::Everyone, control_message(Some(&granted)));
        Ok(())
    }

    /// `refuse_control`: the host says no to follower `session`, who asked.
    pub fn refuse(&self, session: u64) -> Result<(), ControlRefusal> {
        {
            let mut steering = self.answer(session, "refuse_control")?;
            let before = steering.asking.len();
            steering.asking.retain(|asking| asking.session != session);
            if steering.asking.len() == before {
                return Err(not_asking(session, "refuse_control"));
            }
        }
        self.send(Audience::One(session), ServerMessage::ControlRefused);
        Ok(())
    }

    /// The steering, held for the host to answer a request: refused to anyone else.
    fn answer(&self, session: u64, what: &str) -> Result<MutexGuard<'_, Steering>, ControlRefusal> {
        if !self.hosts() {
            return Err(ControlRefusal::Forbidden(format!(
                "{what} {session}: only the host of the shared session hands out the controls"
            )));
        }
        Ok(self.steering())
    }

    /// `revoke_control`: the host takes the controls back, or the follower holding them
    /// gives them back.
    pub fn revoke(&self) -> Result<(), ControlRefusal> {
        {
            let mut steering = self.steering();
            let holds = steering.steerer.as_ref() == Some(&self.me);
            if !self.hosts() && !holds {
                return Err(ControlRefusal::Refused(
                    "revoke_control: this session does not hold the controls".into(),
                ));
            }
            if steering.steerer.take().is_none() {
                return Ok(());
            }
        }
        self.send(Audience::Everyone, control_message(None));
        Ok(())
    }

    /// The next message of the room for this participant (its own left out), or how many
    /// it missed when it fell more than the room's backlog behind.
    pub async fn next(&mut self) -> Heard {
        loop {
            match self.receiver.recv().await {
                Ok(relayed) if self.is_for_me(&relayed) => return Heard::Told(relayed.message),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => return Heard::Missed(missed),
                // Never while this participant holds the room (and its sender); wait.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }

    /// The next message of the room for this participant waiting now, without waiting
    /// (for a participant polled by a window rather than awaited).
    pub fn try_next(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            match self.receiver.try_recv() {
                Ok(relayed) if self.is_for_me(&relayed) => return Some(relayed.message),
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    }

    fn is_for_me(&self, relayed: &Relayed) -> bool {
        match relayed.to {
            Audience::Others => relayed.from != self.me.session,
            Audience::Everyone => true,
            Audience::One(session) => session == self.me.session,
        }
    }
}

impl Drop for Participant {
    /// Leaving gives back the controls this participant held (and withdraws its request);
    /// the host leaving frees every follower's view.
    fn drop(&mut self) {
        let gave_back = {
            let mut steering = self.steering();
            steering.asking.retain(|asking| *asking != self.me);
            if self.hosts() {
                steering.host_gone = true;
                steering.asking.clear();
                steering.steerer.take().is_some()
            } else if steering.steerer.as_ref() == Some(&self.me) {
                steering.steerer = None;
                true
            } else {
                false
            }
        };
        if gave_back {
            self.send(Audience::Everyone, control_message(None));
        }
    }
}

/// What a participant hears from its room.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// A message for it.
    Told(Arc<ServerMessage>),
    /// It fell more than the room's backlog behind (a slow reader) and missed this many
    /// messages: what it keeps of the room (the findings, who steers) is to be told
    /// again whole, late rather than never.
    Missed(u64),
}

/// The next message of `participant`'s room; never, for a session in no room.
pub async fn next_in_room(participant: &mut Option<Participant>) -> Heard {
    match participant {
        Some(participant) => participant.next().await,
        None => std::future::pending().await,
    }
}

fn control_message(steerer: Option<&Someone>) -> ServerMessage {
    ServerMessage::Control {
        session: steerer.map(|steerer| steerer.session),
        name: steerer.map(|steerer| steerer.name.clone()),
    }
}

fn not_asking(session: u64, what: &str) -> ControlRefusal {
    ControlRefusal::Refused(format!(
        "{what} session: {session} has not asked for the controls"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::tests::view;

    fn room(viewers_may_steer: bool) -> Room {
        Room::new(1, view("ct-bone"), viewers_may_steer)
    }

    async fn heard(participant: &mut Participant) -> Option<ServerMessage> {
        match tokio::time::timeout(std::time::Duration::from_millis(50), participant.next()).await {
            Ok(Heard::Told(message)) => Some((*message).clone()),
            Ok(missed @ Heard::Missed(_)) => panic!("{missed:?}"),
            Err(_) => None,
        }
    }

    #[tokio::test]
    async fn a_participant_that_falls_behind_hears_how_many_it_missed_then_the_rest() {
        let room = room(false);
        let (host, mut slow) = (
            room.enter(1, "rita".into(), false),
            room.enter(2, "sam".into(), false),
        );
        let told = ROOM_BACKLOG + 10;
        for _ in 0..told {
            host.tell_others(ServerMessage::ControlRefused);
        }
        let first = tokio::time::timeout(std::time::Duration::from_millis(50), slow.next())
            .await
            .expect("heard");
        assert_eq!(
            first,
            Heard::Missed(10),
            "dropped ones are not passed over in silence"
        );
        for _ in 0..ROOM_BACKLOG {
            assert_eq!(heard(&mut slow).await, Some(ServerMessage::ControlRefused));
        }
        assert_eq!(heard(&mut slow).await, None);
    }

    #[tokio::test]
    async fn others_hear_a_participant_and_one_outside_the_room_hears_nothing() {
        let room = room(false);
        let (mut host, follower) = (
            room.enter(1, "rita".into(), false),
            room.enter(2, "sam".into(), false),
        );
        let mut outsider = self::room(false).enter(3, "ola".into(), false);
        follower.tell_others(ServerMessage::ControlRefused);
        assert_eq!(heard(&mut host).await, Some(ServerMessage::ControlRefused));
        assert_eq!(
            heard(&mut outsider).await,
            None,
            "nothing from another room"
        );
    }

    #[tokio::test]
    async fn the_host_grants_the_controls_to_who_asked_and_takes_them_back() {
        let room = room(false);
        let (mut host, mut sam) = (
            room.enter(1, "rita".into(), false),
            room.enter(2, "sam".into(), false),
        );
        assert!(host.may_steer() && !sam.may_steer());
        assert!(
            matches!(host.grant(2), Err(ControlRefusal::Refused(_))),
            "sam never asked"
        );
        sam.ask_for_control().expect("asked");
        assert_eq!(
            heard(&mut host).await,
            Some(ServerMessage::ControlRequested {
                session: 2,
                name: "sam".into()
            })
        );
        assert!(
            matches!(sam.grant(2), Err(ControlRefusal::Forbidden(_))),
            "only the host grants"
        );
        host.grant(2).expect("granted");
        let told = Some(ServerMessage::Control {
            session: Some(2),
            name: Some("sam".into()),
        });
        assert_eq!(heard(&mut sam).await, told);
        assert_eq!(heard(&mut host).await, told);
        assert!(sam.may_steer() && !host.may_steer());
        let mut following = room.view();
        host.publish(view("ct-lung"));
        assert!(
            !following.has_changed().expect("open"),
            "the host steers no more"
        );
        sam.publish(view("ct-soft"));
        assert!(
            following.has_changed().expect("open"),
            "the steerer publishes"
        );
        following.borrow_and_update();
        host.revoke().expect("taken back");
        assert_eq!(
            heard(&mut sam).await,
            Some(ServerMessage::Control {
                session: None,
                name: None
            })
        );
        assert!(host.may_steer() && !sam.may_steer());
    }

    #[tokio::test]
    async fn a_refused_follower_is_told_and_a_leaving_steerer_gives_the_controls_back() {
        let room = room(false);
        let mut host = room.enter(1, "rita".into(), false);
        let mut sam = room.enter(2, "sam".into(), false);
        sam.ask_for_control().expect("asked");
        heard(&mut host).await;
        host.refuse(2).expect("refused");
        assert_eq!(heard(&mut sam).await, Some(ServerMessage::ControlRefused));
        sam.ask_for_control().expect("asked again");
        heard(&mut host).await;
        host.grant(2).expect("granted");
        heard(&mut host).await;
        drop(sam);
        assert_eq!(
            heard(&mut host).await,
            Some(ServerMessage::Control {
                session: None,
                name: None
            })
        );
        assert!(host.may_steer());
    }

    #[test]
    fn a_viewer_steers_only_where_the_server_allows_it_and_asking_is_bounded() {
        let strict = room(false);
        let viewer = strict.enter(2, "vera".into(), true);
        assert!(matches!(
            viewer.ask_for_control(),
            Err(ControlRefusal::Forbidden(_))
        ));
        let lenient = room(true);
        let viewer = lenient.enter(2, "vera".into(), true);
        viewer.ask_for_control().expect("allowed here");
        let host = lenient.enter(1, "rita".into(), false);
        assert!(matches!(
            host.ask_for_control(),
            Err(ControlRefusal::Refused(_))
        ));
        let crowd: Vec<_> = (3..)
            .take(MOST_ASKING - 1)
            .map(|n| lenient.enter(n, format!("p{n}"), false))
            .collect();
        for follower in &crowd {
            follower.ask_for_control().expect("room to ask");
        }
        let late = lenient.enter(99, "late".into(), false);
        assert!(matches!(
            late.ask_for_control(),
            Err(ControlRefusal::Refused(_))
        ));
        drop(crowd);
        late.ask_for_control()
            .expect("those who left withdrew their requests");
    }

    #[tokio::test]
    async fn a_desktop_shares_followers_point_to_each_other_and_steer_their_own_views() {
        let room = Room::without_controls(view("ct-bone"));
        let (mut ola, sam) = (
            room.enter(3, "ola".into(), false),
            room.enter(4, "sam".into(), true),
        );
        assert!(ola.may_steer() && sam.may_steer(), "each its own view");
        let following = room.view();
        sam.publish(view("ct-soft"));
        assert!(
            !following.has_changed().expect("open"),
            "the desktop publishes, not them"
        );
        assert!(matches!(
            sam.ask_for_control(),
            Err(ControlRefusal::Refused(_))
        ));
        sam.tell_others(ServerMessage::ControlRefused);
        assert_eq!(heard(&mut ola).await, Some(ServerMessage::ControlRefused));
        // The desktop's window polls the room as its host, without waiting.
        let mut desktop = room.enter(DESKTOP_HOST, "desktop".into(), false);
        assert_eq!(desktop.try_next(), None, "nothing told yet");
        sam.tell_others(ServerMessage::ControlRefused);
        assert_eq!(
            desktop.try_next().as_deref(),
            Some(&ServerMessage::ControlRefused)
        );
        desktop.tell_others(ServerMessage::ControlRefused);
        assert_eq!(desktop.try_next(), None, "its own is not told back");
        assert_eq!(heard(&mut ola).await, Some(ServerMessage::ControlRefused));
    }

    #[test]
    fn when_the_host_leaves_every_follower_steers_its_own_view() {
        let room = room(false);
        let host = room.enter(1, "rita".into(), false);
        let sam = room.enter(2, "sam".into(), false);
        assert!(!sam.may_steer());
        drop(host);
        assert!(sam.may_steer());
        let following = room.view();
        sam.publish(view("ct-soft"));
        assert!(
            !following.has_changed().expect("open"),
            "nobody follows a follower"
        );
        assert!(matches!(
            sam.ask_for_control(),
            Err(ControlRefusal::Refused(_))
        ));
    }
}
