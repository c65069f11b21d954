//! Findings on the slices, for views rendered here and streamed alike: the tools that draw
//! them ([`tools`]), the gestures that draw, select, move and reshape them ([`sketch`]),
//! how they are painted over a slice ([`paint`]) and listed ([`panel`], with key images and
//! snapshots in [`key_images`], and what the panel asks in [`asked`]), the list of the open series' findings ([`model`]). Only
//! where the numbers and documents come from differs: the desktop measures on its own
//! volume and keeps its documents where the series keeps them, its PACS or the findings
//! folder ([`local`], [`store`], off the UI thread with [`pending`]); the thin client asks
//! the server.

pub mod asked;
pub mod key_images;
pub mod local;
pub mod model;
pub mod paint;
pub mod panel;
pub mod pending;
pub mod shape;
pub mod sketch;
pub mod store;
pub mod tools;

pub use asked::{PanelAction, SaveOffer};
pub use local::LocalFindings;
pub use model::{Entry, FindingList};
pub use panel::PanelState;
pub use sketch::{Gesture, Placed, Sketch, SketchOutcome};
pub use tools::{SliceTool, tool_choice};
