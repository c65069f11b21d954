//! Protocol v1: the JSON text messages both ways and the 32-byte header of binary frames.
//! `docs/protocol.md` is the reference for clients; this module is its code.

use serde::{Deserialize, Serialize};

/// The words the protocol shares with the render core: layouts (`1x1`/`2x2`), the
/// standard slice planes (`axial`/`coronal`/`sagittal`), what a series is for
/// (`volume`, `localizer`, `single`) and the view as it travels.
pub use hounsfield_vocabulary::{
    CameraPose, CropInfo, Layout, Projection, SeriesKind, SharedView, SlicePlane, WindowInfo,
};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The codec of a frame's payload, as numbered in the frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// A baseline JPEG (lossy; interactive frames and ordinary stills).
    Jpeg,
    /// A PNG (lossless stills).
    Png,
    /// One H.264 access unit, Annex B (interactive frames of sessions that chose H.264).
    H264,
}

impl Codec {
    /// The codec's number in the frame header.
    pub fn code(self) -> u8 {
        match self {
            Codec::Jpeg => 1,
            Codec::Png => 2,
            Codec::H264 => 3,
        }
    }

    /// The codec with this header number.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Codec::Jpeg),
            2 => Some(Codec::Png),
            3 => Some(Codec::H264),
            _ => None,
        }
    }
}

/// A size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewport {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A message from a client (a JSON text message with a `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Opens the conversation: the token (when the server wants one and the URL did not
    /// carry it), the codecs the client decodes and the size of its canvas.
    Hello {
        /// The server's access token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// Codecs the client can decode, in its order of preference; empty means JPEG
        /// and PNG. The first of `h264` and `jpeg` the server can send carries the
        /// interactive frames; stills are always JPEG or PNG.
        #[serde(default)]
        codecs: Vec<Codec>,
        /// The canvas size; the server's default when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        viewport: Option<Viewport>,
        /// How the client can take frames besides the WebSocket (absent: WebSocket only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        transports: Vec<TransportKind>,
    },
    /// Asks for a page of the catalog, searched and filtered (`studies` reply); every
    /// field may be left out: `{"type":"list_studies"}` asks for the newest 50 studies.
    ListStudies(StudyRequest),
    /// Opens a series by the id `studies` gave it (`opened` reply, then a frame).
    Open {
        /// A series id from `studies`.
        series: String,
    },
    /// One user action on the view.
    Input(Input),
    /// Asks for a full-resolution final still of the current view now.
    Still {
        /// PNG instead of JPEG, for this still and the final stills after it.
        #[serde(default)]
        lossless: bool,
    },
    /// Asks for a frame decodable on its own now (after an H.264 decoding error).
    Keyframe,
    /// Offers a WebRTC connection for the frames (`webrtc_answer` reply).
    WebrtcOffer {
        /// The SDP offer.
        sdp: String,
    },
    /// The client gives WebRTC up; frames come back over the WebSocket.
    WebrtcClose {
        /// Why (for the log).
        #[serde(default)]
        reason: String,
    },
    /// How the client keeps up, about once a second; the server's H.264 rate control
    /// follows it.
    Stats(ClientStats),
    /// Shares this session's view (a reader's or admin's, with a series open): the
    /// `shared` reply gives the id others join it by.
    Share,
    /// Joins a shared session by its id: the series it shows opens here and this session
    /// follows its view (view only for viewers).
    Join {
        /// The id from the sharer's `shared`.
        id: String,
    },
    /// Asks for the voxel under a point of a slice cell (`probe` reply): the value a
    /// thin client shows under the pointer.
    Probe {
        /// `axial`, `coronal` or `sagittal`: the slice cell of the 2×2 layout.
        cell: String,
        /// Fraction (0..=1) of the cell's width, from its left edge.
        x: f64,
        /// Fraction (0..=1) of the cell's height, from its top edge.
        y: f64,
    },
    /// Asks for the distance between two points of one slice cell (`measure` reply).
    Measure {
        /// `axial`, `coronal` or `sagittal`.
        cell: String,
        /// The ruler's start: fractions `[x, y]` of the cell.
        from: [f64; 2],
        /// The ruler's end: fractions `[x, y]` of the cell.
        to: [f64; 2],
    },
}

/// Which studies `list_studies` asks for: those matching `query`, newest first, from
/// `offset`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StudyRequest {
    /// What the studies must match (everything when empty).
    #[serde(default, skip_serializing_if = "StudyQuery::is_empty")]
    pub query: StudyQuery,
    /// Matching studies to skip (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Most studies in the reply, 1 to [`MAX_STUDY_PAGE`] ([`DEFAULT_STUDY_PAGE`] when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// What a `studies` reply holds: one page of the studies matching a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StudyPage {
    /// The page's studies, newest first.
    pub studies: Vec<StudyInfo>,
    /// Studies that matched, before paging.
    pub total: usize,
    /// Matching studies skipped before the page.
    pub offset: usize,
}

/// Studies a `studies` reply holds when `list_studies` gives no `limit`.
pub const DEFAULT_STUDY_PAGE: i64 = 50;
/// The most studies one `studies` reply holds.
pub const MAX_STUDY_PAGE: i64 = 200;
/// The longest string a study query field may be (characters).
pub const MAX_QUERY_CHARS: usize = 128;

/// What studies must match; an empty field matches everything. Strings are compared
/// case-insensitively, `^` in names as a space.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StudyQuery {
    /// Found in the patient's name or ID, the study's or a series' description or the
    /// accession number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Found in PatientName.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub patient_name: String,
    /// Found in PatientID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub patient_id: String,
    /// A series of the study has this Modality (`CT`, `MR`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modality: String,
    /// StudyDate on or after this day (`YYYYMMDD`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date_from: String,
    /// StudyDate on or before this day (`YYYYMMDD`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date_to: String,
    /// Found in AccessionNumber.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub accession: String,
}

impl StudyQuery {
    /// Whether no field is set (the query matches every study).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// What a client reports about its decoding.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientStats {
    /// Frames received but not yet decoded and drawn.
    #[serde(default)]
    pub decode_queue: u32,
    /// Recent input → frame latency (ms), e.g. the median of the last second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// One input: a sequence number, the client's clock and one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Rises by one per input; frames say the highest one they reflect.
    pub seq: u32,
    /// The client's clock (ms), echoed in `stats`.
    #[serde(default)]
    pub t: f64,
    /// What the user did.
    #[serde(flatten)]
    pub action: Action,
}

/// What an input does to the view. Flat in JSON: `{"action":"orbit","dx":6,"dy":-2}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Turns the camera around the focal point (degrees: `dx` about the screen's vertical
    /// axis, `dy` about its horizontal axis).
    Orbit {
        /// Azimuth change (degrees).
        dx: f64,
        /// Elevation change (degrees).
        dy: f64,
    },
    /// Moves the focal point across the screen (fractions of the view's height; `dx`
    /// right, `dy` up).
    Pan {
        /// Rightwards, in view heights.
        dx: f64,
        /// Upwards, in view heights.
        dy: f64,
    },
    /// Multiplies the magnification (above 1 zooms in).
    Zoom {
        /// The factor, positive.
        factor: f64,
    },
    /// Sets the grey window (the volume's units, HU for CT).
    Window {
        /// Window width.
        width: f64,
        /// Window centre (level).
        center: f64,
    },
    /// Selects a transfer-function preset by name (from `opened`).
    Preset {
        /// The preset's name.
        name: String,
    },
    /// Selects the render mode: `composite`, `mip`, `minip` or `average`.
    Mode {
        /// The mode's name.
        mode: String,
    },
    /// Turns to a named view: `anterior`, `posterior`, `left`, `right`, `superior`, `inferior`.
    View {
        /// The view's name.
        name: String,
    },
    /// Back to the view the series opened with (the crop box too).
    Reset,
    /// Limits the 3D rendering to a box: fractions 0..=1 of the volume along i, j and k
    /// (towards the patient's left, posterior and superior for an axial series); `max`
    /// must exceed `min` by at least 0.01 on each axis. The slices are not cropped.
    Crop {
        /// The box's lower corner `[i, j, k]`.
        min: [f64; 3],
        /// The box's upper corner `[i, j, k]`.
        max: [f64; 3],
    },
    /// Sets the whole 3D view at once: a client switching from local rendering hands over
    /// the view it was showing.
    SetView {
        /// The camera, preset, mode and window to show.
        view: Box<SharedView>,
    },
    /// The canvas changed size (pixels).
    Resize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A drag (or pinch) starts (`true`) or ends (`false`).
    Interact {
        /// Whether the user is interacting.
        active: bool,
    },
    /// Divides the frame: `1x1` (3D alone) or `2x2` (3D, axial, coronal, sagittal).
    Layout {
        /// The layout's name, `1x1` or `2x2`.
        name: String,
    },
    /// Moves the crosshair along a plane's normal (scrolling through its slices), clamped
    /// to the volume.
    Slice {
        /// `axial`, `coronal` or `sagittal`.
        plane: String,
        /// How far (mm): positive towards S for axial, P for coronal, R for sagittal.
        delta_mm: f64,
    },
    /// Moves the crosshair to a point of a plane's cell in the 2×2 layout.
    Crosshair {
        /// `axial`, `coronal` or `sagittal`.
        plane: String,
        /// Fraction (0..=1) of the cell's width, from its left edge.
        x: f64,
        /// Fraction (0..=1) of the cell's height, from its top edge.
        y: f64,
    },
}

impl Action {
    /// Whether it is a step of a drag (orbit, pan, zoom, window): the kinds a WebRTC
    /// `input` channel carries unordered and without retransmission, a lost one outrun by
    /// the next. Other actions go ordered and reliable (the WebSocket).
    pub fn is_drag_step(&self) -> bool {
        matches!(
            self,
            Self::Orbit { .. } | Self::Pan { .. } | Self::Zoom { .. } | Self::Window { .. }
        )
    }
}

/// A message from the server (a JSON text message with a `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The reply to `hello`.
    Welcome {
        /// This session's number.
        session: u64,
        /// The server's name and version.
        server: String,
        /// The protocol version ([`PROTOCOL_VERSION`]).
        protocol: u32,
        /// The viewport frames will have until a `resize` (even sides with H.264).
        viewport: Viewport,
        /// The codec of interactive frames: `h264` or `jpeg`.
        #[serde(default = "jpeg")]
        codec: Codec,
        /// The FFmpeg encoder behind `h264` (`libx264`, `h264_nvenc`…).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoder: Option<String>,
        /// Why the session got JPEG although the client offered H.264 first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<String>,
        /// How the server can send this session's frames besides the WebSocket.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        transports: Vec<TransportKind>,
        /// The user the session is (none on a server that asks for no token).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// What the user may do: `viewer`, `reader` or `admin`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// The render node serving the session, when the server is one of several behind
        /// a proxy: a reconnection sends it as the `node` URL parameter to come back here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// The codec of interactive frames changed during the session (the H.264 encoder
    /// failed; JPEG from now on).
    Codec {
        /// The codec from now on.
        codec: Codec,
        /// Why it changed.
        reason: String,
    },
    /// A page of the catalog: the studies `list_studies` asked for, and their series.
    Studies {
        /// The page's studies, newest first.
        studies: Vec<StudyInfo>,
        /// Studies matching the query, before paging.
        #[serde(default)]
        total: usize,
        /// Matching studies skipped before the page's first.
        #[serde(default)]
        offset: usize,
    },
    /// How far the load of a series this session waits for has come: sent at least every
    /// 250 ms while it loads (loads under that get none), the last one with `done` equal
    /// to `total`, then `opened`.
    Progress(LoadProgress),
    /// A series was opened; frames of it follow.
    Opened(Box<Opened>),
    /// The answer to `webrtc_offer`.
    WebrtcAnswer {
        /// The SDP answer (ICE-lite, the server's host candidate inside).
        sdp: String,
    },
    /// Where interactive frames go from now on.
    Transport {
        /// `webrtc` or `websocket`.
        transport: TransportKind,
        /// Why frames are back on the WebSocket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A request was refused; the session stays open unless `code` says otherwise.
    Error {
        /// A stable, machine-readable reason.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
    /// Figures about the session, about once a second while frames flow.
    Stats(Stats),
    /// The reply to `share`: the id others send in `join` to follow this session's view.
    Shared {
        /// The join id (random, 32 hex digits): whoever has it may follow the view.
        id: String,
        /// The web client's address to join with, relative to its page's (`?join=ID`).
        link: String,
    },
    /// The session's whole view, whenever it changed and came to rest (sent with the final
    /// still), so a client can hand it back with `set_view` after a reconnection, to this
    /// node or, when it went away, to another.
    View {
        /// The latest input applied in it (0 before any).
        seq: u32,
        /// The view, as `set_view` takes it (boxed: it is by far the largest message).
        view: Box<SharedView>,
    },
    /// The reply to `probe`: the point, its nearest voxel and that voxel's value.
    Probe {
        /// The cell asked about.
        cell: String,
        /// The point (LPS, mm).
        lps_mm: [f64; 3],
        /// The nearest voxel `[i, j, k]`; absent outside the volume.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voxel: Option<[usize; 3]>,
        /// Its value (modality-rescaled); absent outside the volume.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<f64>,
        /// `HU` for CT, empty for modalities without a unit.
        unit: String,
    },
    /// The reply to `measure`: the distance and both ends.
    Measure {
        /// The cell measured in.
        cell: String,
        /// The distance (mm).
        mm: f64,
        /// The start (LPS, mm).
        from_lps: [f64; 3],
        /// The end (LPS, mm).
        to_lps: [f64; 3],
    },
    /// Where the crosshair is, whenever it or where it shows in the slice cells changes
    /// (a `slice`, `crosshair`, `reset`, `set_view` or `resize` input, an `open`), so the
    /// client can draw it over the slices and its copy of the view (handed back on
    /// reconnection or to local rendering) keeps it.
    Crosshair {
        /// The latest input applied when it moved (0 before any).
        seq: u32,
        /// The crosshair (LPS, mm).
        crosshair_lps: glam::DVec3,
        /// Where it shows in each slice's cell of the 2×2 layout at the session's size.
        cells: CrosshairInCells,
        /// Millimetres per pixel of each slice's cell at the session's size, so that a
        /// client can place any patient point of a slice (a ruler's ends) in its cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mm_per_pixel: Option<SliceScales>,
    },
}

fn jpeg() -> Codec {
    Codec::Jpeg
}

/// Millimetres per pixel of the three slice cells of the 2×2 layout (the same across and
/// down): with the crosshair's spot in a cell, where any point of that slice shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SliceScales {
    /// Of the axial cell.
    pub axial: f64,
    /// Of the coronal cell.
    pub coronal: f64,
    /// Of the sagittal cell.
    pub sagittal: f64,
}

/// Where the crosshair shows in the three slice cells of the 2×2 layout: fractions
/// `[x, y]` of each cell's width and height from its top-left corner (0..=1 inside it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CrosshairInCells {
    /// In the axial cell (top right).
    pub axial: [f64; 2],
    /// In the coronal cell (bottom left).
    pub coronal: [f64; 2],
    /// In the sagittal cell (bottom right).
    pub sagittal: [f64; 2],
}

impl CrosshairInCells {
    /// The spot in `plane`'s cell.
    pub fn of(&self, plane: SlicePlane) -> [f64; 2] {
        match plane {
            SlicePlane::Axial => self.axial,
            SlicePlane::Coronal => self.coronal,
            SlicePlane::Sagittal => self.sagittal,
        }
    }
}

/// One study of the catalog.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StudyInfo {
    /// The StudyInstanceUID (or `phantom`).
    pub id: String,
    /// StudyDescription.
    pub description: String,
    /// StudyDate (YYYYMMDD), may be empty.
    pub date: String,
    /// PatientName, may be empty.
    pub patient_name: String,
    /// PatientID, may be empty.
    pub patient_id: String,
    /// AccessionNumber, may be empty.
    #[serde(default)]
    pub accession: String,
    /// The modalities of its series, each once, in series order.
    #[serde(default)]
    pub modalities: Vec<String>,
    /// The series of the study.
    pub series: Vec<SeriesInfo>,
}

/// One series of the catalog.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// The id `open` takes.
    pub id: String,
    /// SeriesNumber.
    pub number: Option<i32>,
    /// Modality code (CT, MR…).
    pub modality: String,
    /// SeriesDescription.
    pub description: String,
    /// Images (frames) in the series.
    pub images: usize,
    /// Voxels along i, j, k when the images stack into a volume.
    pub dims: Option<[usize; 3]>,
    /// Why the series cannot be opened, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// What the series is for: `volume`, `localizer` or `single`.
    #[serde(default)]
    pub kind: SeriesKind,
    /// The path of its thumbnail (`/thumbnail/ID`, relative to the server's root), when
    /// it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// How far the load of a series has come (the `progress` message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadProgress {
    /// The series being loaded.
    pub series: String,
    /// What is under way: `decoding` (the images into the volume).
    pub stage: String,
    /// Units done (images).
    pub done: usize,
    /// Units in all.
    pub total: usize,
}

/// A way for frames to travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// RTP over a WebRTC peer.
    Webrtc,
    /// Binary messages on the session's WebSocket.
    Websocket,
}

/// What `opened` says about the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    /// The series id.
    pub series: String,
    /// Voxels along i, j, k.
    pub dims: [usize; 3],
    /// Voxel spacing along i, j, k (mm).
    pub spacing_mm: [f64; 3],
    /// Modality code.
    pub modality: String,
    /// The grey window frames start with, when the series has one.
    pub window: Option<WindowInfo>,
    /// The presets `preset` accepts.
    pub presets: Vec<String>,
    /// The preset frames start with.
    pub preset: String,
    /// The modes `mode` accepts.
    pub modes: Vec<String>,
    /// The mode frames start with.
    pub mode: String,
    /// The whole view frames start with (camera in LPS mm), so a client can mirror it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<SharedView>,
    /// What the reader must know about the volume before trusting it: slices missing
    /// (the gaps interpolated), images the PACS did not deliver, spacing resampled, gantry
    /// tilt. Absent: nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Figures about a session.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Frames sent so far.
    pub frames: u64,
    /// Frames sent in the last second or so, per second.
    pub fps: f64,
    /// Payload kilobits per second over the same span.
    pub kbit_s: f64,
    /// The highest input seq applied.
    pub input_seq: u32,
    /// The client clock (`t`) of that input, echoed.
    pub input_t: f64,
    /// Mean render time of those frames (ms).
    pub render_ms: f64,
    /// Mean encode time of those frames (ms).
    pub encode_ms: f64,
    /// `interactive` or `full`: the quality of the last frame.
    pub quality: String,
    /// The H.264 bitrate aimed at now (kbit/s), while the session streams video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    /// The network's estimate of the bandwidth to the client (kbit/s), while frames go
    /// over WebRTC: the bitrate keeps under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_kbps: Option<u32>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text is not a JSON object.
    BadJson,
    /// The `type` is missing or not one of the protocol's.
    UnknownType,
    /// A known type with missing fields or fields of the wrong type.
    BadMessage,
    /// A value out of range (a zero size, a negative zoom…).
    BadValue,
    /// The message is larger than the server accepts.
    TooLarge,
    /// Binary messages are only sent by the server.
    UnexpectedBinary,
    /// `hello` must come first.
    HelloFirst,
    /// The token is missing or wrong; the server closes the connection.
    Unauthorized,
    /// No series with that id (ids come from `studies`; paths are never accepted).
    UnknownSeries,
    /// The series is listed but cannot be opened.
    Unavailable,
    /// Inputs came faster than the server accepts; this one was dropped.
    RateLimited,
    /// No series is open yet.
    NotOpen,
    /// The server failed to load or render; the message says why.
    Internal,
    /// The server is full or shutting down.
    Busy,
    /// This session follows a shared view and may not change it.
    ViewOnly,
    /// The user's role does not allow this (a viewer's `open`, a viewer's `share`).
    Forbidden,
    /// No shared session with that id (it ended, or the id is wrong).
    UnknownShare,
}

/// Flags of a frame (bits of the header's flags byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameFlags(pub u8);

impl FrameFlags {
    /// Decodable on its own (every JPEG and PNG frame).
    pub const KEYFRAME: u8 = 1;
    /// A final still: full resolution and quality, the view at rest.
    pub const FINAL: u8 = 1 << 1;
    /// Lossless (PNG): the renderer's pixels exactly.
    pub const LOSSLESS: u8 = 1 << 2;

    /// Whether the keyframe bit is set.
    pub fn keyframe(self) -> bool {
        self.0 & Self::KEYFRAME != 0
    }

    /// Whether the final-still bit is set.
    pub fn final_still(self) -> bool {
        self.0 & Self::FINAL != 0
    }

    /// Whether the lossless bit is set.
    pub fn lossless(self) -> bool {
        self.0 & Self::LOSSLESS != 0
    }
}

/// The fixed header in front of every binary frame message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The payload's codec.
    pub codec: Codec,
    /// Keyframe, final still, lossless.
    pub flags: FrameFlags,
    /// Frames of this session, counted from 1.
    pub frame_seq: u32,
    /// The highest input seq this frame reflects (0 before any input).
    pub input_seq: u32,
    /// Frame width in pixels.
    pub width: u16,
    /// Frame height in pixels.
    pub height: u16,
    /// Time spent rendering and reading back (µs).
    pub render_us: u32,
    /// Time spent encoding (µs).
    pub encode_us: u32,
    /// The width to show the picture at: the view's, larger than `width` when an
    /// interactive frame is sent at the resolution it was rendered at (a client scales
    /// it up, bilinearly). On the wire 0 means `width`.
    pub display_width: u16,
    /// The height to show the picture at (0 on the wire: `height`).
    pub display_height: u16,
}

/// What the server says, on the WebRTC data channel, of each frame it sends over RTP
/// (the RTP packets carry no frame header): `{"type":"frame",…}`, found by the low 32 bits
/// of the frame's RTP time (see docs/protocol.md, "WebRTC").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "frame")]
pub struct FrameNote {
    /// The frame's `frame_seq`.
    pub frame_seq: u32,
    /// The highest input seq it reflects.
    pub input_seq: u32,
    /// The low 32 bits of its RTP time (90 kHz), as on the wire.
    pub rtp: u32,
    /// Its width in pixels.
    pub width: u16,
    /// Its height in pixels.
    pub height: u16,
    /// The width to show it at.
    pub display_width: u16,
    /// The height to show it at.
    pub display_height: u16,
    /// Whether it is a keyframe.
    pub keyframe: bool,
    /// Time spent rendering it (µs).
    #[serde(default)]
    pub render_us: u32,
    /// Time spent encoding it (µs).
    #[serde(default)]
    pub encode_us: u32,
}

impl FrameNote {
    /// The note of an H.264 frame numbered `frame_seq` sent at RTP time `rtp` (only its
    /// low 32 bits are kept: those the wire carries).
    pub fn of(header: &FrameHeader, frame_seq: u32, rtp: u64) -> Self {
        let or_own = |shown: u16, own: u16| if shown == 0 { own } else { shown };
        Self {
            frame_seq,
            input_seq: header.input_seq,
            // The low 32 bits, as the RTP header carries them.
            rtp: (rtp & u64::from(u32::MAX)) as u32,
            width: header.width,
            height: header.height,
            display_width: or_own(header.display_width, header.width),
            display_height: or_own(header.display_height, header.height),
            keyframe: header.flags.keyframe(),
            render_us: header.render_us,
            encode_us: header.encode_us,
        }
    }

    /// The header the frame would have had on the WebSocket.
    pub fn header(&self) -> FrameHeader {
        FrameHeader {
            codec: Codec::H264,
            flags: FrameFlags(if self.keyframe {
                FrameFlags::KEYFRAME
            } else {
                0
            }),
            frame_seq: self.frame_seq,
            input_seq: self.input_seq,
            width: self.width,
            height: self.height,
            render_us: self.render_us,
            encode_us: self.encode_us,
            display_width: self.display_width,
            display_height: self.display_height,
        }
    }
}

/// Why bytes are not a frame header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer bytes than a header.
    #[error("a frame needs at least 32 bytes, got {0}")]
    TooShort(usize),
    /// The first four bytes are not `HFRM`.
    #[error("not a frame: the magic is {0:?}, not HFRM")]
    BadMagic([u8; 4]),
    /// A protocol version this client does not speak.
    #[error("frame version {0}, this build reads version 1")]
    Version(u8),
    /// A codec number not in the protocol.
    #[error("unknown codec number {0}")]
    Codec(u8),
}

impl FrameHeader {
    /// The header's size in bytes.
    pub const LEN: usize = 32;
    /// The first four bytes of every frame.
    pub const MAGIC: [u8; 4] = *b"HFRM";
    /// The frame format version.
    pub const VERSION: u8 = 1;

    /// The header's 32 bytes, little-endian.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&Self::MAGIC);
        out[4] = Self::VERSION;
        out[5] = self.codec.code();
        out[6] = self.flags.0;
        out[8..12].copy_from_slice(&self.frame_seq.to_le_bytes());
        out[12..16].copy_from_slice(&self.input_seq.to_le_bytes());
        out[16..18].copy_from_slice(&self.width.to_le_bytes());
        out[18..20].copy_from_slice(&self.height.to_le_bytes());
        out[20..24].copy_from_slice(&self.render_us.to_le_bytes());
        out[24..28].copy_from_slice(&self.encode_us.to_le_bytes());
        out[28..30].copy_from_slice(&self.display_width.to_le_bytes());
        out[30..32].copy_from_slice(&self.display_height.to_le_bytes());
        out
    }

    /// Reads a header from the front of `bytes` (the payload follows it).
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        let Some(header) = bytes.first_chunk::<{ Self::LEN }>() else {
            return Err(HeaderError::TooShort(bytes.len()));
        };
        let u32_at =
            |n: usize| u32::from_le_bytes([header[n], header[n + 1], header[n + 2], header[n + 3]]);
        let u16_at = |n: usize| u16::from_le_bytes([header[n], header[n + 1]]);
        let magic = [header[0], header[1], header[2], header[3]];
        if magic != Self::MAGIC {
            return Err(HeaderError::BadMagic(magic));
        }
        if header[4] != Self::VERSION {
            return Err(HeaderError::Version(header[4]));
        }
        let (width, height) = (u16_at(16), u16_at(18));
        let or_picture = |display: u16, picture: u16| if display == 0 { picture } else { display };
        Ok(Self {
            codec: Codec::from_code(header[5]).ok_or(HeaderError::Codec(header[5]))?,
            flags: FrameFlags(header[6]),
            frame_seq: u32_at(8),
            input_seq: u32_at(12),
            width,
            height,
            render_us: u32_at(20),
            encode_us: u32_at(24),
            display_width: or_picture(u16_at(28), width),
            display_height: or_picture(u16_at(30), height),
        })
    }
}

/// The longest message an `error` reply carries (characters): messages quote what was
/// refused, and a client's value may be as long as its message.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// `message` cut to [`MAX_ERROR_MESSAGE_CHARS`] characters where it is longer: its start
/// and its end (where serde says what it expected) kept, `…` in place of the middle.
pub fn bounded_error_message(message: String) -> String {
    let chars = message.chars().count();
    if chars <= MAX_ERROR_MESSAGE_CHARS {
        return message;
    }
    let head = MAX_ERROR_MESSAGE_CHARS / 3;
    let tail = MAX_ERROR_MESSAGE_CHARS - head - 1;
    let mut bounded: String = message.chars().take(head).collect();
    bounded.push('…');
    bounded.extend(message.chars().skip(chars - tail));
    bounded
}

/// Why a text message was refused, with the code to reply with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The error code for the `error` reply.
    pub code: ErrorCode,
    /// What was wrong, at most [`MAX_ERROR_MESSAGE_CHARS`] characters.
    pub message: String,
}

impl ParseError {
    fn new(code: ErrorCode, message: String) -> Self {
        Self {
            code,
            message: bounded_error_message(message),
        }
    }
}

/// The `type`s a client may send.
const CLIENT_TYPES: [&str; 13] = [
    "hello",
    "list_studies",
    "open",
    "input",
    "still",
    "keyframe",
    "stats",
    "share",
    "join",
    "probe",
    "measure",
    "webrtc_offer",
    "webrtc_close",
];

/// Parses a client's text message, telling bad JSON, unknown types and bad fields apart.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| ParseError::new(ErrorCode::BadJson, format!("not JSON: {error}")))?;
    let Some(object) = value.as_object() else {
        return Err(ParseError::new(
            ErrorCode::BadJson,
            "a message is a JSON object with a \"type\"".to_string(),
        ));
    };
    match object.get("type").and_then(|t| t.as_str()) {
        Some(kind) if CLIENT_TYPES.contains(&kind) => {}
        Some(kind) => {
            return Err(ParseError::new(
                ErrorCode::UnknownType,
                format!(
                    "unknown message type \"{}\" (known: {})",
                    kind.chars().take(40).collect::<String>(),
                    CLIENT_TYPES.join(", ")
                ),
            ));
        }
        None => {
            return Err(ParseError::new(
                ErrorCode::UnknownType,
                "the message has no string \"type\"".to_string(),
            ));
        }
    }
    // serde's messages quote the value refused (an unknown action, a string where a
    // number belongs), whatever its length: ParseError::new cuts them short.
    serde_json::from_value(value)
        .map_err(|error| ParseError::new(ErrorCode::BadMessage, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_note_says_the_frame_and_gives_back_its_header() {
        let header = FrameHeader {
            codec: Codec::H264,
            flags: FrameFlags(FrameFlags::KEYFRAME),
            frame_seq: 0,
            input_seq: 17,
            width: 512,
            height: 384,
            render_us: 9000,
            encode_us: 3000,
            display_width: 1024,
            display_height: 0,
        };
        let note = FrameNote::of(&header, 42, (1 << 32) + 123_456);
        assert_eq!(
            serde_json::to_value(note).expect("serialises"),
            serde_json::json!({"type": "frame", "frame_seq": 42, "input_seq": 17, "rtp": 123_456,
                "width": 512, "height": 384, "display_width": 1024, "display_height": 384,
                "keyframe": true, "render_us": 9000, "encode_us": 3000})
        );
        let back: FrameNote =
            serde_json::from_str(&serde_json::to_string(&note).expect("text")).expect("parses");
        assert_eq!(
            back.header(),
            FrameHeader {
                frame_seq: 42,
                display_height: 384,
                ..header
            }
        );
        assert!(serde_json::from_str::<FrameNote>(r#"{"type":"stats","frame_seq":1}"#).is_err());
    }

    fn header() -> FrameHeader {
        FrameHeader {
            codec: Codec::Png,
            flags: FrameFlags(FrameFlags::KEYFRAME | FrameFlags::FINAL | FrameFlags::LOSSLESS),
            frame_seq: 0x0102_0304,
            input_seq: 0x0A0B_0C0D,
            width: 1024,
            height: 768,
            render_us: 123_456,
            encode_us: 7_890,
            display_width: 2048,
            display_height: 1536,
        }
    }

    #[test]
    fn the_header_has_the_documented_32_byte_layout() {
        let bytes = header().encode();
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[0..4], b"HFRM");
        assert_eq!(bytes[4], 1, "version");
        assert_eq!(bytes[5], 2, "codec PNG");
        assert_eq!(bytes[6], 0b111, "keyframe, final, lossless");
        assert_eq!(bytes[7], 0, "reserved");
        assert_eq!(&bytes[8..12], &[0x04, 0x03, 0x02, 0x01], "frame_seq LE");
        assert_eq!(&bytes[12..16], &[0x0D, 0x0C, 0x0B, 0x0A], "input_seq LE");
        assert_eq!(&bytes[16..18], &1024u16.to_le_bytes());
        assert_eq!(&bytes[18..20], &768u16.to_le_bytes());
        assert_eq!(&bytes[20..24], &123_456u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &7_890u32.to_le_bytes());
        assert_eq!(&bytes[28..30], &2048u16.to_le_bytes(), "display width");
        assert_eq!(&bytes[30..32], &1536u16.to_le_bytes(), "display height");
    }

    #[test]
    fn a_header_without_a_display_size_is_shown_at_its_own() {
        let mut bytes = header().encode();
        bytes[28..32].fill(0);
        let back = FrameHeader::decode(&bytes).expect("decodes");
        assert_eq!((back.display_width, back.display_height), (1024, 768));
    }

    #[test]
    fn the_header_round_trips_and_bad_headers_are_named() {
        let mut bytes = header().encode().to_vec();
        bytes.extend_from_slice(b"payload");
        let back = FrameHeader::decode(&bytes).expect("decodes");
        assert_eq!(back, header());
        assert!(back.flags.final_still() && back.flags.lossless() && back.flags.keyframe());
        assert_eq!(
            FrameHeader::decode(&bytes[..31]),
            Err(HeaderError::TooShort(31))
        );
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(
            FrameHeader::decode(&bad),
            Err(HeaderError::BadMagic(_))
        ));
        let mut bad = bytes.clone();
        bad[4] = 2;
        assert_eq!(FrameHeader::decode(&bad), Err(HeaderError::Version(2)));
        let mut bad = bytes;
        bad[5] = 9;
        assert_eq!(FrameHeader::decode(&bad), Err(HeaderError::Codec(9)));
    }

    #[test]
    fn inputs_are_flat_objects() {
        let text = r#"{"type":"input","seq":17,"t":81234,"action":"orbit","dx":6,"dy":-2}"#;
        let message = parse_client_message(text).expect("parses");
        assert_eq!(
            message,
            ClientMessage::Input(Input {
                seq: 17,
                t: 81234.0,
                action: Action::Orbit { dx: 6.0, dy: -2.0 },
            })
        );
        let back: serde_json::Value = serde_json::to_value(&message).expect("serialises");
        assert_eq!(back["action"], "orbit");
        assert_eq!(back["type"], "input");
        assert_eq!(back["dy"], -2.0);
        let reset = parse_client_message(r#"{"type":"input","seq":3,"action":"reset"}"#);
        assert!(matches!(
            reset,
            Ok(ClientMessage::Input(Input {
                seq: 3,
                action: Action::Reset,
                ..
            }))
        ));
    }

    #[test]
    fn bad_messages_get_distinct_codes() {
        let code = |text: &str| parse_client_message(text).map_err(|e| e.code).err();
        assert_eq!(code("{not json"), Some(ErrorCode::BadJson));
        assert_eq!(code("[1,2]"), Some(ErrorCode::BadJson));
        assert_eq!(code(r#"{"type":"launch"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(code(r#"{"kind":"hello"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(
            code(r#"{"type":"open","series":7}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(
            code(r#"{"type":"input","seq":"x","action":"reset"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(
            code(r#"{"type":"input","seq":1,"action":"fly"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(code(r#"{"type":"list_studies"}"#), None);
        assert_eq!(
            code(r#"{"type":"list_studies","limit":"many"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(code(r#"{"type":"still"}"#), None);
        assert_eq!(code(r#"{"type":"keyframe"}"#), None);
        assert_eq!(
            code(r#"{"type":"stats","decode_queue":"many"}"#),
            Some(ErrorCode::BadMessage)
        );
    }

    #[test]
    fn long_values_are_not_echoed_whole_in_errors() {
        let long = "x".repeat(70_000);
        for text in [
            format!(r#"{{"type":"input","seq":1,"action":"{long}"}}"#),
            format!(r#"{{"type":"input","seq":"{long}","action":"reset"}}"#),
            format!(r#"{{"type":"hello","codecs":["{long}"]}}"#),
            format!(r#"{{"type":"{long}"}}"#),
        ] {
            let error = parse_client_message(&text).expect_err("refused");
            assert!(
                error.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS,
                "{} characters",
                error.message.len()
            );
        }
        let error =
            parse_client_message(&format!(r#"{{"type":"input","seq":1,"action":"{long}"}}"#))
                .expect_err("refused");
        assert!(
            error.message.starts_with("unknown variant `xxx"),
            "{}",
            error.message
        );
        assert!(error.message.contains('…'), "{}", error.message);
        assert!(error.message.ends_with("`crosshair`"), "{}", error.message);
        let short = "a short message".to_string();
        assert_eq!(bounded_error_message(short.clone()), short);
    }

    #[test]
    fn list_studies_takes_a_query_offset_and_limit_all_optional() {
        assert_eq!(
            parse_client_message(r#"{"type":"list_studies"}"#),
            Ok(ClientMessage::ListStudies(StudyRequest::default()))
        );
        let message = parse_client_message(
            r#"{"type":"list_studies","query":{"text":"lumbar","modality":"MR","date_from":"20070101"},"offset":20,"limit":10}"#,
        )
        .expect("parses");
        let ClientMessage::ListStudies(request) = &message else {
            panic!("{message:?}");
        };
        assert_eq!(request.query.text, "lumbar");
        assert_eq!(request.query.modality, "MR");
        assert_eq!(request.query.date_from, "20070101");
        assert!(request.query.patient_name.is_empty());
        assert_eq!((request.offset, request.limit), (Some(20), Some(10)));
        let back = serde_json::to_value(&message).expect("serialises");
        assert_eq!(back["query"]["text"], "lumbar");
        assert!(back["query"].get("accession").is_none(), "{back}");
        let bare = serde_json::to_value(ClientMessage::ListStudies(StudyRequest::default()))
            .expect("serialises");
        assert_eq!(bare, serde_json::json!({"type": "list_studies"}));
        // An older server's reply (no total, accession, kind) still reads.
        let older: ServerMessage = serde_json::from_str(
            r#"{"type":"studies","studies":[{"id":"s","description":"","date":"","patient_name":"","patient_id":"","series":[{"id":"a","number":1,"modality":"CT","description":"","images":3,"dims":[2,2,3]}]}]}"#,
        )
        .expect("parses");
        let ServerMessage::Studies { studies, total, .. } = older else {
            panic!("{older:?}");
        };
        assert_eq!(total, 0);
        assert_eq!(studies[0].series[0].kind, SeriesKind::Volume);
    }

    #[test]
    fn codecs_keyframe_and_client_stats_parse() {
        let hello = parse_client_message(r#"{"type":"hello","codecs":["h264","jpeg","png"]}"#);
        assert!(matches!(
            hello,
            Ok(ClientMessage::Hello { codecs, .. }) if codecs == [Codec::H264, Codec::Jpeg, Codec::Png]
        ));
        assert_eq!(
            parse_client_message(r#"{"type":"keyframe"}"#),
            Ok(ClientMessage::Keyframe)
        );
        assert_eq!(
            parse_client_message(r#"{"type":"stats","decode_queue":3,"latency_ms":85.5}"#),
            Ok(ClientMessage::Stats(ClientStats {
                decode_queue: 3,
                latency_ms: Some(85.5)
            }))
        );
        assert_eq!(
            parse_client_message(r#"{"type":"stats"}"#),
            Ok(ClientMessage::Stats(ClientStats::default()))
        );
        // An older server's welcome (no codec) reads as JPEG.
        let welcome: ServerMessage = serde_json::from_str(
            r#"{"type":"welcome","session":1,"server":"s","protocol":1,"viewport":{"width":8,"height":8}}"#,
        )
        .expect("parses");
        assert!(matches!(
            welcome,
            ServerMessage::Welcome {
                codec: Codec::Jpeg,
                encoder: None,
                ..
            }
        ));
    }

    #[test]
    fn server_messages_are_tagged_by_type() {
        let error = ServerMessage::Error {
            code: ErrorCode::UnknownSeries,
            message: "no".to_string(),
        };
        let json = serde_json::to_value(&error).expect("serialises");
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "unknown_series");
        let stats = ServerMessage::Stats(Stats::default());
        let json = serde_json::to_value(&stats).expect("serialises");
        assert_eq!(json["type"], "stats");
        assert_eq!(json["frames"], 0);
    }

    #[test]
    fn layout_slice_and_crosshair_inputs_are_flat_objects() {
        let parse = |text: &str| match parse_client_message(text) {
            Ok(ClientMessage::Input(input)) => Some(input.action),
            _ => None,
        };
        assert_eq!(
            parse(r#"{"type":"input","seq":1,"action":"layout","name":"2x2"}"#),
            Some(Action::Layout {
                name: "2x2".to_string()
            })
        );
        assert_eq!(
            parse(r#"{"type":"input","seq":2,"action":"slice","plane":"axial","delta_mm":-2.5}"#),
            Some(Action::Slice {
                plane: "axial".to_string(),
                delta_mm: -2.5
            })
        );
        assert_eq!(
            parse(
                r#"{"type":"input","seq":3,"action":"crosshair","plane":"coronal","x":0.25,"y":0.5}"#
            ),
            Some(Action::Crosshair {
                plane: "coronal".to_string(),
                x: 0.25,
                y: 0.5
            })
        );
        assert_eq!(
            parse(r#"{"type":"input","seq":4,"action":"slice","plane":"axial"}"#),
            None,
            "delta_mm is required"
        );
        assert_eq!(Layout::from_name("2x2"), Some(Layout::Quad));
        assert_eq!(Layout::from_name("3x3"), None);
        assert_eq!(
            SlicePlane::from_name("sagittal"),
            Some(SlicePlane::Sagittal)
        );
        assert_eq!(SlicePlane::from_name("oblique"), None);
    }

    #[test]
    fn a_crop_travels_as_an_input() {
        let input = parse_client_message(
            r#"{"type":"input","seq":5,"action":"crop","min":[0.5,0,0],"max":[1,1,1]}"#,
        );
        assert_eq!(
            input.map(|message| match message {
                ClientMessage::Input(input) => Some(input.action),
                _ => None,
            }),
            Ok(Some(Action::Crop {
                min: [0.5, 0.0, 0.0],
                max: [1.0, 1.0, 1.0]
            }))
        );
    }

    #[test]
    fn webrtc_signalling_has_the_documented_shapes() {
        let back = ServerMessage::Transport {
            transport: TransportKind::Websocket,
            reason: Some("ICE consent lost".to_string()),
        };
        assert_eq!(
            serde_json::to_value(&back).expect("serialises"),
            serde_json::json!({"type": "transport", "transport": "websocket", "reason": "ICE consent lost"})
        );
        let moved = ServerMessage::Transport {
            transport: TransportKind::Webrtc,
            reason: None,
        };
        assert_eq!(
            serde_json::to_value(&moved).expect("serialises"),
            serde_json::json!({"type": "transport", "transport": "webrtc"})
        );
        assert_eq!(
            parse_client_message(r#"{"type":"hello","transports":["webrtc","websocket"]}"#),
            Ok(ClientMessage::Hello {
                token: None,
                codecs: Vec::new(),
                viewport: None,
                transports: vec![TransportKind::Webrtc, TransportKind::Websocket],
            })
        );
        let refused = parse_client_message(r#"{"type":"hello","transports":["carrier pigeon"]}"#);
        assert_eq!(refused.map_err(|e| e.code), Err(ErrorCode::BadMessage));
        assert_eq!(
            parse_client_message(r#"{"type":"webrtc_close"}"#),
            Ok(ClientMessage::WebrtcClose {
                reason: String::new()
            })
        );
    }
}
