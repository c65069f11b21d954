//! Pointing in a shared session: a participant's `pointer`, checked and told through the
//! room to the others as `pointer` (see [`crate::room`]).

use std::ops::ControlFlow;

use hounsfield_protocol::{ErrorCode, ServerMessage};

use super::Connection;
use crate::sharing::Pointed;

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
        self.record_told(told).await?;
        self.send(told).await
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
