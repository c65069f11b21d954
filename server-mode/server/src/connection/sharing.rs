//! Sharing and joining: a reader shares its view, followers join by id and follow the
//! host's view (a viewer watches only); the crosshair and view told to followers.

use std::ops::ControlFlow;
use std::time::Instant;

use glam::DVec3;
use hounsfield_access::audit::{AuditEvent, Refusal};
use hounsfield_protocol::{
    CrosshairInCells, ErrorCode, ServerMessage, SlicePlanesInCells, SliceScales,
};

use super::{Connection, Outgoing, close_code};
use crate::answers::refuse_user;
use crate::sharing::{Participant, Room};

impl Connection {
    /// Refuses `what` for this user's role: `error` `forbidden`, recorded.
    pub(super) async fn forbidden(&mut self, what: &str, why: &str) -> ControlFlow<()> {
        refuse_user(
            &self.app,
            self.client,
            Some(&self.identity),
            Refusal::Forbidden,
            &format!("session {}: {what}", self.slot.id()),
        );
        self.error(ErrorCode::Forbidden, why).await
    }

    /// `share`: shares this session's view under a new join id (`shared` reply); the
    /// series must be open. Sharing again gives the same id.
    pub(super) async fn share(&mut self) -> ControlFlow<()> {
        let (Some(series), Some(view)) = (
            self.session.series().map(str::to_string),
            self.session.shared_view(),
        ) else {
            return self
                .error(ErrorCode::NotOpen, "open a series before sharing it")
                .await;
        };
        let id = match &self.sharing {
            Some(id) => id.clone(),
            None => {
                let Ok(id) = hounsfield_access::generate_token() else {
                    return self
                        .error(ErrorCode::Internal, "no random numbers for a join id")
                        .await;
                };
                let room = self.app.shares.start(
                    &id,
                    self.slot.id(),
                    &series,
                    view,
                    self.app.config.viewers_may_steer,
                );
                // The host follows the view too: a follower she hands the controls to
                // steers it.
                self.host_view = Some(room.view());
                self.room = Some(self.enter(&room));
                self.sharing = Some(id.clone());
                tracing::info!(session = self.slot.id(), "session shared");
                self.app.config.audit.record(&AuditEvent::SessionShared {
                    session: self.slot.id(),
                    user: self.identity.name.clone(),
                    series,
                });
                id
            }
        };
        // Relative to the page's own address, so a reverse proxy's path prefix stays; the
        // node, when there are several, so the proxy sends followers to this one.
        let link = match &self.app.config.node_name {
            Some(node) => format!("?join={id}&node={node}"),
            None => format!("?join={id}"),
        };
        self.send(&ServerMessage::Shared { id, link }).await
    }

    /// `join`: opens the series a shared session shows and follows its view.
    pub(super) async fn join(&mut self, id: &str) -> ControlFlow<()> {
        let shared = self
            .app
            .shares
            .find(id)
            .filter(|shared| shared.host_session != self.slot.id());
        let Some(shared) = shared else {
            return self
                .error(
                    ErrorCode::UnknownShare,
                    "no shared session has that id (it ended, or the id is wrong)",
                )
                .await;
        };
        let volume = match self.load(&shared.series).await {
            Ok(volume) => volume,
            Err(replied) => return replied,
        };
        self.app.config.audit.record(&AuditEvent::SessionJoined {
            session: self.slot.id(),
            user: self.identity.name.clone(),
            host_session: shared.host_session,
            series: shared.series.clone(),
        });
        self.show(&shared.series, volume, Some(shared.room.view()))
            .await?;
        // Opening left any room this session was in: it enters the host's now, and is
        // told who steers.
        let participant = self.enter(&shared.room);
        let steering = participant.control();
        self.room = Some(participant);
        self.send(&steering).await
    }

    /// This session as a participant of `room`.
    pub(super) fn enter(&self, room: &Room) -> Participant {
        let viewer = self.identity.role == hounsfield_access::users::Role::Viewer;
        room.enter(self.slot.id(), self.participant_name(), viewer)
    }

    /// Publishes this session's view to the others of its shared session, while it
    /// steers it.
    pub(super) fn publish_view(&self) {
        if let Some(room) = &self.room
            && let Some(view) = self.session.shared_view()
        {
            room.publish(view);
        }
    }

    /// Ends this session's share: its followers keep the last view.
    pub(super) fn stop_sharing(&mut self) {
        if let Some(id) = self.sharing.take() {
            self.app.shares.stop(&id);
        }
    }

    /// The server ended the session (its user went, or an admin): close code 1008 with
    /// the reason.
    pub(super) async fn ended(&mut self) -> ControlFlow<()> {
        let Some(ending) = *self.ending.borrow_and_update() else {
            return ControlFlow::Continue(());
        };
        tracing::info!(
            session = self.slot.id(),
            reason = ending.audit_reason(),
            "session ended by the server"
        );
        self.end = ending.audit_reason();
        let _ = self
            .out
            .send(Outgoing::Close(close_code::POLICY, ending.close_reason()))
            .await;
        ControlFlow::Break(())
    }

    /// Whether this session may only watch: a viewer's, or a view-only desktop share's.
    pub(super) fn view_only(&self) -> bool {
        self.identity.role == hounsfield_access::users::Role::Viewer
            || self
                .app
                .config
                .follow
                .as_ref()
                .is_some_and(|follow| follow.view_only)
    }

    /// Tells the client where the crosshair is when it, or where it shows in the slice
    /// cells, changed since the client was last told: the client cannot work the point
    /// out itself.
    pub(super) async fn tell_crosshair(&mut self) -> ControlFlow<()> {
        let (Some(crosshair_lps), Some(cells)) = (
            self.session.crosshair_lps(),
            self.session.crosshair_in_cells(),
        ) else {
            return ControlFlow::Continue(());
        };
        let mm_per_pixel = self.session.slice_scales();
        let planes = self.session.slice_planes();
        let told = ToldCrosshair {
            crosshair_lps,
            cells,
            mm_per_pixel,
            planes,
        };
        if self.told_crosshair.as_ref() == Some(&told) {
            return ControlFlow::Continue(());
        }
        self.told_crosshair = Some(told);
        let moved = ServerMessage::Crosshair {
            seq: self.session.last_input().0,
            crosshair_lps,
            cells,
            mm_per_pixel,
            planes,
        };
        self.send(&moved).await
    }

    /// Tells the client the view at rest when it changed since the client was last told,
    /// for it to hand back after a reconnection.
    pub(super) async fn tell_view(&mut self) -> ControlFlow<()> {
        let Some(view) = self.session.shared_view() else {
            return ControlFlow::Continue(());
        };
        if self.told_view.as_ref() == Some(&view) {
            return ControlFlow::Continue(());
        }
        self.told_view = Some(view.clone());
        let seq = self.session.last_input().0;
        self.send(&ServerMessage::View {
            seq,
            view: Box::new(view),
        })
        .await
    }

    /// The one who steers changed the view: this session shows it too (unless it is this
    /// session's own).
    pub(super) fn follow_host(&mut self) -> ControlFlow<()> {
        let Some(view) = &mut self.host_view else {
            return ControlFlow::Continue(());
        };
        let shared = view.borrow_and_update().clone();
        if self.session.shared_view().as_ref() == Some(&shared) {
            return ControlFlow::Continue(());
        }
        if let Err(refusal) = self.session.follow(&shared, Instant::now()) {
            tracing::warn!(message = %refusal.message, "the host's view was not adopted");
        }
        ControlFlow::Continue(())
    }
}

/// Waits for the host's next view change; never, when the session follows no host (or the
/// host has gone).
pub(super) async fn host_moved(
    view: &mut Option<tokio::sync::watch::Receiver<hounsfield_protocol::SharedView>>,
) {
    match view {
        Some(receiver) => {
            if receiver.changed().await.is_err() {
                *view = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// What a client was last told of the crosshair, to tell it again only when it changed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ToldCrosshair {
    crosshair_lps: DVec3,
    cells: CrosshairInCells,
    mm_per_pixel: Option<SliceScales>,
    planes: Option<SlicePlanesInCells>,
}
