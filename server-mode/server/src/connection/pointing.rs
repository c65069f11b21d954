//! Pointing in a shared session: a participant's `pointer`, checked and told through the
//! room to the others as `pointer` (see [`crate::room`]).

use std::ops::ControlFlow;

use hounsfield_protocol::{ErrorCode, ServerMessage};

use super::Connection;
use crate::sharing::{Heard, Participant, Pointed};

impl Connection {
    /// `pointer`: tells the shared session's other participants where this one points;
    /// nothing outside a shared session.
    pub(super) async fn point(
        &mut self,
        cell: Option<&str>,
        x: Option<f64>,
        y: Option<f64>,
    ) -> ControlFlow<()> {
        match Pointed::checked(self.slot.id(), self.participant_name(), cell, x, y) {
            Ok(pointed) => {
                let told = pointed.told();
                if let Some(room) = &self.room {
                    room.tell_others(told.clone());
                }
                self.record_told(&told).await
            }
            Err(why) => self.error(ErrorCode::BadValue, why).await,
        }
    }

    /// Tells the client what another participant of its shared session told it (and
    /// records it, while the session records).
    pub(super) async fn told_in_room(&mut self, told: &ServerMessage) -> ControlFlow<()> {
        if matches!(
            told,
            ServerMessage::SharedSegment { .. } | ServerMessage::SharedSegmentDeleted { .. }
        ) {
            // Another participant's edit shows over this session's slices too.
            self.show_segments(false);
        }
        self.record_told(told).await?;
        self.send(told).await
    }

    /// What the room told, or, when this participant read too slowly and missed some of
    /// it, the room's state told again whole: the open series' findings (a `findings`
    /// list, which replaces the client's) and who steers. Pointers and views missed are
    /// outrun by the next ones.
    pub(super) async fn heard_in_room(&mut self, heard: Heard) -> ControlFlow<()> {
        match heard {
            Heard::Told(told) => self.told_in_room(&told).await,
            Heard::Missed(messages) => {
                tracing::debug!(
                    session = self.slot.id(),
                    messages,
                    "a slow participant missed messages of its room: its findings told again"
                );
                if let Some(series) = self.session.series().map(str::to_string) {
                    self.tell_findings(&series).await?;
                    self.show_segments(false);
                }
                match self.room.as_ref().map(Participant::control) {
                    Some(control) => self.send(&control).await,
                    None => ControlFlow::Continue(()),
                }
            }
        }
    }

    /// The name the other participants of a shared session know this one by: the
    /// signed-in user's, else `participant N`.
    pub(super) fn participant_name(&self) -> String {
        self.identity
            .name
            .clone()
            .unwrap_or_else(|| format!("participant {}", self.slot.id()))
    }
}
