//! What the server sends: the [`ServerMessage`]s and what they carry (the opened series,
//! load progress, session figures, where the crosshair shows in the slice cells).

use serde::{Deserialize, Serialize};

use crate::{
    CalciumReport, Codec, ErrorCode, FindingInfo, HungCell, ModelRunState, MovieMade, Preset,
    RecordingInfo, RecordingState, Saved, SavedSegmentation, SegmentInfo, SharedView, SlicePlane,
    StudyInfo, TransportKind, ValueHistogram, Viewport, WindowInfo,
};

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
        /// The protocol version ([`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION)).
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
    /// Another participant's pointer in the shared session, as they sent it: a client
    /// draws it over the frames in that cell.
    Pointer {
        /// The participant's session number.
        session: u64,
        /// Their name: the signed-in user's, else `participant N`.
        name: String,
        /// Their colour (`#rrggbb`), the same on every client.
        colour: String,
        /// `3d`, `axial`, `coronal` or `sagittal`; null when their pointer left.
        cell: Option<String>,
        /// Fraction of the cell from its left.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x: Option<f64>,
        /// Fraction of the cell from its top.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y: Option<f64>,
    },
    /// A finding another participant of the shared session drew or redrew, told as they
    /// make it (their own client's reply is `finding`).
    SharedFinding {
        /// The participant's session number.
        session: u64,
        /// Their name.
        name: String,
        /// The finding as the series keeps it.
        finding: FindingInfo,
    },
    /// A finding another participant of the shared session deleted.
    SharedFindingDeleted {
        /// The participant's session number.
        session: u64,
        /// Their name.
        name: String,
        /// The finding's number.
        id: u32,
    },
    /// To the host of a shared session: a follower asks for the controls; answer with
    /// `grant_control` or `refuse_control` naming its session.
    ControlRequested {
        /// The follower's session number.
        session: u64,
        /// Their name.
        name: String,
    },
    /// Who steers the shared view: the follower the host granted the controls, or (both
    /// null) the host. Told to every participant when it changes, and on joining.
    Control {
        /// The steering follower's session number; null: the host steers.
        session: Option<u64>,
        /// Their name; null: the host steers.
        name: Option<String>,
    },
    /// To a follower: the host refused its request for the controls.
    ControlRefused,
    /// The recording this session makes: begun, or stopped and kept (the reply to
    /// `start_recording` and `stop_recording`; also when the server stopped it at a
    /// bound, with the reason).
    Recording {
        /// Its id.
        id: String,
        /// The series recorded.
        series: String,
        /// Recording or stopped.
        state: RecordingState,
        /// How long it lasts so far (ms).
        duration_ms: u64,
        /// The moments it holds so far.
        moments: u64,
        /// Why the server stopped it, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The kept recordings of a series, newest first (the reply to `list_recordings`).
    Recordings {
        /// The series.
        series: String,
        /// Its recordings.
        recordings: Vec<RecordingInfo>,
    },
    /// Where the recording playing stands: after `play_recording` and each `playback`,
    /// about four times a second while it plays, and when it reaches its end.
    PlaybackState {
        /// The recording's id.
        id: String,
        /// Where it stands (ms from its start).
        at_ms: f64,
        /// How long it lasts (ms).
        duration_ms: u64,
        /// Whether it plays.
        playing: bool,
        /// How fast it plays (1: as recorded).
        speed: f64,
    },
    /// How far the movie `export_movie` asked for has come (about four times a second).
    MovieProgress {
        /// The movie's id.
        id: String,
        /// Frames drawn and encoded.
        frames_done: u32,
        /// Frames it will have.
        frames: u32,
    },
    /// The movie is made: where to download it (behind the session's sign-in).
    MovieReady(MovieMade),
    /// The movie could not be made; nothing was kept.
    MovieFailed {
        /// The movie's id.
        id: String,
        /// Why.
        message: String,
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
        /// In a series over time, the nearest voxel's value in every volume, in the
        /// order of `opened.volumes` (its time-intensity curve); absent otherwise.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<f64>,
        /// The measures of that curve, with `values`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        curve: Option<CurveInfo>,
        /// The nearest voxel's value of the series drawn over this one (`over`) at the
        /// point; absent without one or outside it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        over_value: Option<f64>,
        /// A PET's `value` in SUV (body weight), when its header gives what SUV is
        /// computed from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suv: Option<f64>,
        /// The PET drawn over's `over_value` in SUV, likewise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        over_suv: Option<f64>,
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
        /// How each slice cell shows its plane (its right and bottom in LPS), once the
        /// planes were turned (`turn_planes`); absent for the standard planes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        planes: Option<SlicePlanesInCells>,
    },
    /// A finding drawn or redrawn on the open series (the reply to `finding`).
    Finding(FindingInfo),
    /// A finding deleted from the open series.
    FindingDeleted {
        /// Its number.
        id: u32,
    },
    /// The same patient's other studies (by PatientID), newest first, told after
    /// `opened` when the series' patient has any, so a reader can open a prior beside it.
    Priors {
        /// The series just opened.
        series: String,
        /// The patient's other studies, each as `studies` lists it.
        studies: Vec<StudyInfo>,
    },
    /// The hanging protocol `open_study` applied: which series each cell of the reading
    /// shows (the first is this session's), told before the first cell's `opened`.
    Hanging {
        /// The protocol's name.
        protocol: String,
        /// The cells in order, 1 to 4; the first shows the current study.
        cells: Vec<HungCell>,
    },
    /// Every finding of the series just opened (after `opened`, also when it has none).
    Findings {
        /// The series.
        series: String,
        /// Its findings, in the order they were drawn.
        findings: Vec<FindingInfo>,
    },
    /// The reply to `save_findings`, `save_segments`, `key_image` and `snapshot`: what
    /// was stored and where.
    Saved(Saved),
    /// The open CT's calcium score: each lesion, each artery named and the total (the
    /// reply to `calcium`).
    Calcium(Box<CalciumReport>),
    /// A segment added, described or edited, with its numbers (the reply to `segment`,
    /// `segment_edit` and `segment_undo`).
    Segment(Box<SegmentInfo>),
    /// A segment deleted from the open series.
    SegmentDeleted {
        /// Its number.
        id: u32,
    },
    /// Every segment of the open series (after `opened`, also when it has none, and the
    /// reply to `segments`).
    Segments {
        /// The series.
        series: String,
        /// Its segments, in the order they were added.
        segments: Vec<SegmentInfo>,
    },
    /// The transfer function the 3D view shows now (a preset, or the one being edited)
    /// and the open volume's histogram, in its units (the reply to `transfer_function`).
    TransferFunction {
        /// The series.
        series: String,
        /// The transfer function, as a `presets/*.toml` file writes it.
        preset: Box<Preset>,
        /// How the volume's values are spread.
        histogram: ValueHistogram,
    },
    /// The binary frame that follows is a cinematic picture of the resting 3D view (its
    /// light's `cinematic`): path traced from `paths` paths a pixel. Sharper ones follow,
    /// each announced so, until the view changes or the picture has `most`.
    Cinematic {
        /// The `frame_seq` of that frame.
        frame_seq: u32,
        /// Paths a pixel it was refined from.
        paths: u32,
        /// Paths a pixel after which the server leaves the picture as it is.
        most: u32,
    },
    /// The binary frame that follows shows another volume of a series over time than the
    /// frame before it (a `time_point` input, a cine step, a followed view): its index
    /// in `opened.volumes`, label and time. Sent before the first frame of each.
    TimePoint {
        /// The `frame_seq` of that frame.
        frame_seq: u32,
        /// The volume's index in `opened.volumes`.
        index: usize,
        /// How many volumes the series has.
        count: usize,
        /// Its label, as `opened.volumes` gives it.
        #[serde(serialize_with = "crate::catalog::listed")]
        label: String,
        /// Its time (s), as `opened.volumes` gives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_s: Option<f64>,
        /// Volumes a second while a cine plays; absent when it does not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cine_fps: Option<f64>,
    },
    /// The series drawn over the open one now (the reply to `over`): absent `shown` when
    /// there is none. Opening another series takes it away.
    Over {
        /// The series drawn over and how.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shown: Option<crate::OverShown>,
    },
    /// A preset saved on the server (the reply to `save_preset`).
    PresetSaved {
        /// Its name.
        name: String,
        /// Every preset the server offers now.
        presets: Vec<String>,
    },
    /// The DICOM Segmentations saved on the open series, newest first (the reply to
    /// `segmentations`).
    Segmentations {
        /// The series.
        series: String,
        /// What each says of itself.
        saved: Vec<SavedSegmentation>,
    },
    /// How the run of the server's segmentation model stands (about four times a second
    /// while it runs, and once when it ends).
    ModelProgress {
        /// The model's name.
        model: String,
        /// Patches run.
        done: usize,
        /// Patches in all.
        total: usize,
        /// Running, done, stopped or failed.
        state: ModelRunState,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A segment another participant of the shared session added or edited.
    SharedSegment {
        /// The participant's session number.
        session: u64,
        /// Their name.
        name: String,
        /// The segment as the series keeps it.
        segment: Box<SegmentInfo>,
    },
    /// A segment another participant of the shared session deleted.
    SharedSegmentDeleted {
        /// The participant's session number.
        session: u64,
        /// Their name.
        name: String,
        /// The segment's number.
        id: u32,
    },
}

fn jpeg() -> Codec {
    Codec::Jpeg
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
    /// Modality code (a listed text: at most [`crate::MAX_LISTED_CHARS`]).
    #[serde(serialize_with = "crate::catalog::listed")]
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
    /// tilt. Absent: nothing to say. Each at most [`crate::MAX_ERROR_MESSAGE_CHARS`].
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "crate::catalog::listed_messages"
    )]
    pub warnings: Vec<String>,
    /// Every volume of a series over time, in order (`time_point` shows one, `cine`
    /// plays them); absent for a series of one volume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<TimePointInfo>,
}

/// The measures of a time-intensity curve (as `hounsfield probe --json` gives them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurveInfo {
    /// `s` when every volume has a time, else `volume` (the curve's time is its place).
    pub time_unit: TimeUnit,
    /// Mean of the values before the steepest rise.
    pub baseline: f64,
    /// The highest value.
    pub peak: f64,
    /// The peak's time after the first volume's.
    pub time_to_peak: f64,
    /// The steepest rise up to the peak, a time unit.
    pub wash_in_slope: f64,
    /// The area between the curve and its baseline (value × time unit).
    pub area_under_curve: f64,
}

/// What a curve's times count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeUnit {
    /// Seconds from the first volume.
    #[serde(rename = "s")]
    Seconds,
    /// Volumes from the first (the series gives no times).
    #[serde(rename = "volume")]
    Volumes,
}

/// One volume of a series over time as `opened` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePointInfo {
    /// What tells it from the others: `time point 3`, `echo 2`, `trigger 120 ms`,
    /// `b = 1000 s/mm²`, `volume 3` (a listed text: at most [`crate::MAX_LISTED_CHARS`]).
    #[serde(serialize_with = "crate::catalog::listed")]
    pub label: String,
    /// Seconds from the first volume (or its cardiac phase); absent without times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_s: Option<f64>,
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

/// The screen directions of one slice cell in LPS: a patient point's offset from the
/// crosshair dotted with them gives its millimetres right and down of the crosshair's spot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellAxes {
    /// The unit direction towards the cell's right.
    pub right: [f64; 3],
    /// The unit direction towards the cell's bottom.
    pub down: [f64; 3],
}

/// How the three slice cells of the 2×2 layout show their planes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlicePlanesInCells {
    /// The axial cell's.
    pub axial: CellAxes,
    /// The coronal cell's.
    pub coronal: CellAxes,
    /// The sagittal cell's.
    pub sagittal: CellAxes,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, parse_client_message};

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
