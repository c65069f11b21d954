//! Protocol v1: the JSON text messages both ways and the 32-byte header of binary frames.
//! `docs/protocol.md` is the reference for clients; this crate is its code.
//!
//! The crate's modules, each re-exported here:
//! - `client_message`: what a client sends ([`ClientMessage`], [`Input`]; the [`Action`] an
//!   input carries is the vocabulary's, re-exported below);
//! - `server_message`: what the server sends ([`ServerMessage`], [`Opened`], [`Stats`]…);
//! - `catalog`: the study query and the studies and series of a `studies` reply;
//! - `frame`: the binary frame header, its codec and flags, and its WebRTC note;
//! - `error_code`: the reasons of `error` replies;
//! - `finding`: findings asked for and told (`finding`, `findings`, `saved`);
//! - `segment`: segments asked for, edited and told (`segment`, `segment_edit`, `segments`);
//! - `recording`: session recordings listed and played (`recordings`, `playback`);
//! - `movie`: movies asked for and made (`export_movie`, `movie_ready`);
//! - `over`: a second series drawn over the open one (`over` both ways);
//! - `hanging`: a reading laid out by a hanging protocol, with the patient's priors
//!   (`open_study`, `hanging`, `priors`);
//! - `parse`: reading a client's text message into a [`ClientMessage`];
//! - `intake`: reading a server's text message into a [`ServerMessage`] (and a frame's
//!   WebRTC note), within bounds checked before serde sees it.

mod calcium;
mod catalog;
mod client_message;
mod error_code;
mod finding;
mod frame;
mod hanging;
mod intake;
mod movie;
mod over;
mod parse;
mod recording;
mod segment;
mod server_message;

pub use calcium::{
    ArteryRegion, CalciumRequest, DrawnDensity, KnownDensity, LesionNaming, LpsBox,
    MOST_ARTERY_REGIONS, MOST_KEPT_ARTERY_REGIONS,
};
pub use catalog::{
    DEFAULT_STUDY_PAGE, MAX_LISTED_CHARS, MAX_QUERY_CHARS, MAX_STUDY_PAGE, SeriesInfo, StudyInfo,
    StudyPage, StudyQuery, StudyRequest,
};
pub use client_message::{ClientMessage, ClientStats, Input, Viewport};
pub use error_code::ErrorCode;
pub use finding::{FindingAction, FindingInfo, FindingRequest, Saved};
pub use frame::{
    Codec, FrameFlags, FrameHeader, FrameNote, HeaderError, MAX_FRAME_MESSAGE_BYTES,
    MAX_FRAME_SIDE, TransportKind,
};
pub use hanging::{HungCell, StudyRole};
pub use intake::{
    MAX_FRAME_NOTE_BYTES, MAX_SERVER_JSON_DEPTH, MAX_SERVER_JSON_VALUES, MAX_SERVER_MESSAGE_BYTES,
    MAX_SERVER_STRING_BYTES, parse_frame_note, parse_server_message,
};
pub use movie::{DEFAULT_MOVIE_FPS, DEFAULT_MOVIE_FRAMES, MovieMade, MovieOrder};
pub use over::{OverLink, OverRequest, OverShown};
pub use parse::{MAX_ERROR_MESSAGE_CHARS, ParseError, bounded_error_message, parse_client_message};
pub use recording::{PlaybackAction, RecordingInfo, RecordingState};
pub use segment::{
    BrushShape, GridPlaneName, IslandsKeep, LogicalOperation, ModelRunState, SavedSegmentation,
    SegmentAction, SegmentEdit, SegmentInfo, SegmentNumbers, SegmentPreview, SegmentRequest,
    SegmentTool,
};
pub use server_message::{
    CellAxes, CrosshairInCells, CurveInfo, LoadProgress, Opened, ServerMessage, SlicePlanesInCells,
    SliceScales, Stats, TimePointInfo, TimeUnit,
};

/// The words the protocol shares with the render core: layouts (`1x1`/`2x2`), the
/// standard slice planes (`axial`/`coronal`/`sagittal`), what a series is for
/// (`volume`, `localizer`, `single`) and the view as it travels.
pub use hounsfield_vocabulary::text::cut_with_mark;
pub use hounsfield_vocabulary::{
    Action, ArteryTotals, CalciumLesion, CalciumReport, CalciumTotals, Camera, CropInfo,
    FindingKind, Layout, MAX_NOTE_CHARS, MAX_POLYGON_VERTICES, MOST_HISTOGRAM_BINS, Preset,
    Projection, RegionStatistics, RegionSuv, RenderMode, SeriesKind, SharedView, SlicePlane,
    ValueHistogram, WindowInfo,
};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The name of the login cookie a login (`POST /login`, a sign-in) gives: the WebSocket's
/// upgrade request carries it where it carries no token.
pub const LOGIN_COOKIE: &str = "hounsfield_login";
