//! Handing over the controls of a shared session: a follower's `request_control`, the
//! host's `grant_control`, `refuse_control` and `revoke_control` (the follower holding the
//! controls may give them back with it too). The room decides who steers; this only
//! answers the client.

use std::ops::ControlFlow;

use hounsfield_protocol::{ClientMessage, ErrorCode};

use super::Connection;
use crate::sharing::{ControlRefusal, Participant};

impl Connection {
    /// One of the control messages, in the room this session shared or joined.
    pub(super) async fn control(&mut self, message: &ClientMessage) -> ControlFlow<()> {
        let Some(room) = &self.room else {
            return self
                .error(
                    ErrorCode::BadValue,
                    "the controls are handed over in a shared session: share or join one first",
                )
                .await;
        };
        let answered = match message {
            ClientMessage::RequestControl => room.ask_for_control(),
            ClientMessage::GrantControl { session } => room.grant(*session),
            ClientMessage::RefuseControl { session } => room.refuse(*session),
            _ => room.revoke(),
        };
        match answered {
            Ok(()) => ControlFlow::Continue(()),
            Err(ControlRefusal::Forbidden(why)) => self.forbidden("control", &why).await,
            Err(ControlRefusal::Refused(why)) => self.error(ErrorCode::BadValue, why).await,
        }
    }

    /// Whether this session may change its view: always, outside a shared session.
    pub(super) fn may_steer(&self) -> bool {
        self.room.as_ref().is_none_or(Participant::may_steer)
    }
}
