//! Hounsfield's scene: what is drawn of a volume and from where. The camera, the view
//! state of a session or a window (layout, cells, MPR planes and slabs, crop), and the
//! transfer functions with their presets and the volume statistics they are fitted to.
//! Plain data and geometry: no GPU, no UI, no network.

pub mod camera;
pub mod colour_map;
pub mod fusion;
pub mod transfer;
pub mod view;
