//! The thin client: a series rendered by a Hounsfield server and streamed here. The
//! [`connection`] thread speaks protocol v1 and keeps the latest decoded frame; the
//! [`remote_view`] shows it and turns gestures into inputs; [`rulers`] places the rulers and
//! the value under the cursor the server measures.

pub(crate) mod connection;
pub(super) mod remote_view;
pub(crate) mod rulers;

// The gestures and slice overlays the remote view shares with the local views.
use super::{gestures, slice_view};
