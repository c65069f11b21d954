//! Sharing a reading: a host's view followed by other sessions ([`Follow`], [`Shares`]),
//! the room that passes what one participant tells the others and keeps who steers
//! ([`Room`]), and the pointers each participant shows the others ([`Pointed`]). The rest
//! of the server reaches sharing through this door only.

mod follow;
mod pointers;
mod room;

pub(crate) use follow::Shares;
pub use follow::{Follow, Host, changes_the_view};
pub use pointers::{POINTER_CELLS, Pointed};
pub use room::{ControlRefusal, DESKTOP_HOST, Heard, MOST_ASKING, Participant, Room, next_in_room};
