//! Findings on the slices, for views rendered here and streamed alike: the tools that draw
//! them ([`tools`]), the gestures that draw, select, move and reshape them ([`sketch`]),
//! how they are painted over a slice ([`paint`]) and listed ([`panel`]), the list of the
//! open series' findings ([`model`]). Only where the numbers come from differs: the
//! desktop measures on its own volume and keeps reports in its findings folder
//! ([`local`], [`store`]); the thin client asks the server.

pub mod local;
pub mod model;
pub mod paint;
pub mod panel;
pub mod sketch;
pub mod store;
pub mod tools;

pub use local::LocalFindings;
pub use model::{Entry, FindingList};
pub use panel::{PanelAction, PanelState, SaveOffer};
pub use sketch::{Gesture, Placed, Sketch, SketchOutcome};
pub use tools::{SliceTool, tool_choice};
