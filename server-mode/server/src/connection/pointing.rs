//! Pointing in a shared session: a participant's `pointer`, checked and passed to the
//! room, and the others' pointers told to this client as `pointer` (its own left out).

use crate::pointers::Pointed;

use super::*;

impl Connection {
    /// `pointer`: tells the shared session's other participants where this one points;
    /// nothing outside a shared session.
    pub(super) async fn point(
        &mut self,
        cell: Option<&str>,
        x: Option<f64>,
        y: Option<f64>,
    ) -> ControlFlow<()> {
        let session = self.slot.id();
        let name = self
            .identity
            .name
            .clone()
            .unwrap_or_else(|| format!("participant {session}"));
        match Pointed::checked(session, name, cell, x, y) {
            Ok(pointed) => {
                if let Some(participant) = &self.pointers {
                    participant.point(pointed);
                }
                ControlFlow::Continue(())
            }
            Err(why) => self.error(ErrorCode::BadValue, why).await,
        }
    }

    /// Tells the client another participant's pointer.
    pub(super) async fn relay_pointer(&mut self, pointed: Pointed) -> ControlFlow<()> {
        if pointed.session == self.slot.id() {
            return ControlFlow::Continue(());
        }
        let told = ServerMessage::Pointer {
            session: pointed.session,
            colour: pointed.colour().to_string(),
            name: pointed.name,
            cell: pointed.cell.map(str::to_string),
            x: pointed.at.map(|[x, _]| x),
            y: pointed.at.map(|[_, y]| y),
        };
        self.send(&told).await
    }
}
