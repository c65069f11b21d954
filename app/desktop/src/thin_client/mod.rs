//! The thin client: a series rendered by a Hounsfield server and streamed here. The
//! [`connection`] thread speaks protocol v1 and keeps the latest decoded frame; the
//! [`remote_view`] shows it and turns gestures into inputs and findings; [`rulers`] places the rulers and
//! the value under the cursor the server measures; `reception` makes the connection's
//! frames into pictures and figures, and `webrtc_path` is its WebRTC peer, when the server
//! offers one.

pub(crate) mod connection;
mod reception;
pub(super) mod remote_view;
pub(crate) mod rulers;
mod webrtc_path;

// The gestures, slice overlays, plane lines, findings tools and crop control the remote
// view shares with the local views.
use super::{crop_control, findings, gestures, plane_lines};
