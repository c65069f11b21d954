//! Structure-aware fuzzing of the protocol: the text parser and a session's input handling.
//!
//! The parser is fed valid messages of every type (the protocol's own types serialised,
//! and every client example of `docs/protocol.md`) with their structure mutated: fields
//! removed, duplicated, renamed or added, values swapped for other JSON types and for
//! extremes (1e308, 1e400, u64::MAX, i64::MIN, -0, long and non-ASCII strings, lone
//! surrogates, 10 000 nested arrays), then cut at a random byte or spliced with noise.
//! It must never panic, and every refusal must carry a message short enough to send back.
//!
//! A session is fed sequences of structurally generated messages (every action with
//! ordinary, extreme, NaN and infinite values, odd shared views, viewports of 0 and
//! `u32::MAX`, stills, keyframes, stats, a host's views) at arbitrary times, handled as
//! the connection handles them. A refusal must carry a code and change nothing; the
//! session must stay sane (a viewport within the limits, a finite orthonormal camera, a
//! crosshair inside the volume, a view that `set_view` takes back), every render request
//! must be drawable, and with no new input the requests must stop (no busy loop).
//!
//! CI runs 20 000 parser and 6 000 session cases, a few seconds in release;
//! `PROPTEST_CASES=200000 cargo test --release -p hounsfield-server --test protocol_fuzz` runs
//! longer (that many of each). Failing cases proptest finds are kept in
//! `protocol_fuzz.proptest-regressions` and replayed first. `scripts/fuzz.sh` fuzzes the
//! same two paths coverage-guided, with AFL++.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use glam::{DMat4, DVec3};
use hounsfield_protocol::{
    Action, BrushShape, ClientMessage, ClientStats, Codec, ErrorCode, FindingAction,
    FindingRequest, GridPlaneName, Input, IslandsKeep, Layout, MovieOrder, OverRequest, ParseError,
    PlaybackAction, RenderMode, SegmentAction, SegmentEdit, SegmentPreview, SegmentRequest,
    SegmentTool, ServerMessage, SharedView, StudyQuery, StudyRequest, TransportKind, Viewport,
    WindowInfo, parse_client_message,
};
use hounsfield_server::encode::Encoding;
use hounsfield_server::scheduler::RenderRequest;
use hounsfield_server::series_volumes::{SeriesVolumes, TimePointVolume};
use hounsfield_server::session::{
    MIN_VIEWPORT, OverStyle, Refusal, Session, SessionLimits, ShownOver,
};
use hounsfield_server::sharing::Pointed;
use proptest::prelude::*;
use proptest::sample::Index;
use render_core::camera::{Camera, Projection};
use render_core::fusion::{Fusion, SeriesOver};
use render_core::transfer::{OpacityPoint, Preset, PresetLibrary};
use render_core::view::SeriesLink;
use render_core::view::{LightDirection, Lighting, ViewState};
use render_core::{Modality, Volume, Voxels, Window};
use serde_json::Value;

/// The longest error message a refusal may carry (characters): an error must not echo a
/// client's megabyte back to it.
const MAX_ERROR_CHARS: usize = 300;

/// The protocol document, whose client examples seed the parser.
const PROTOCOL_MD: &str = include_str!("../../../docs/protocol.md");

/// Cases per run: `default` in CI, `PROPTEST_CASES` when set.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// Fixtures: small synthetic volumes and a view of one.

/// A volume of `dims` voxels with an oblique, anisotropic voxel grid.
fn volume(dims: [usize; 3], modality: Modality) -> Volume {
    let turn = DMat4::from_rotation_z(0.3) * DMat4::from_rotation_x(-0.2);
    let scale = DMat4::from_scale(DVec3::new(0.7, 1.3, 2.5));
    let shift = DMat4::from_translation(DVec3::new(-40.0, 12.5, 300.0));
    let voxel_to_lps = shift * turn * scale;
    let count = dims[0] * dims[1] * dims[2];
    let voxels = (0..count)
        .map(|n| i16::try_from(n % 2000).expect("small") - 1000)
        .collect();
    let window = Some(Window {
        width: 400.0,
        center: 40.0,
    });
    Volume::new(Voxels::I16(voxels), dims, voxel_to_lps, modality, window).expect("a volume")
}

/// The built-in presets, read once.
static PRESET_LIBRARY: LazyLock<PresetLibrary> = LazyLock::new(PresetLibrary::builtin);

/// The series a session may open, by id: a small oblique CT, a single slice, a single
/// voxel, a small MR and a small MR over time (three volumes).
static SERIES: LazyLock<Vec<(&'static str, SeriesVolumes)>> = LazyLock::new(|| {
    let one = |dims, modality| SeriesVolumes::one(Arc::new(volume(dims, modality)));
    let over_time = (0..3)
        .map(|n| TimePointVolume {
            label: format!("time point {}", n + 1),
            time_s: Some(f64::from(n) * 2.5),
            volume: Arc::new(volume([5, 4, 3], Modality::MR)),
        })
        .collect();
    vec![
        ("small", one([7, 5, 4], Modality::CT)),
        ("slice", one([6, 5, 1], Modality::CT)),
        ("voxel", one([1, 1, 1], Modality::CT)),
        ("mr", one([5, 6, 3], Modality::MR)),
        (
            "cine",
            SeriesVolumes::over_time(over_time).expect("three volumes"),
        ),
    ]
});

/// The series with this id, as the library would open it.
fn series(id: &str) -> Option<SeriesVolumes> {
    SERIES
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, volume)| volume.clone())
}

/// A valid shared view: the small volume's, in the 2×2 layout with a window and crosshair.
fn valid_shared_view() -> SharedView {
    let small = series("small").expect("a fixture").first().clone();
    let view = ViewState::initial(&small, "ct-bone", RenderMode::Composite);
    SharedView {
        layout: Layout::Quad,
        crosshair_lps: Some(small.centre_lps()),
        window: Some(WindowInfo {
            width: 350.0,
            center: 50.0,
        }),
        ..view.shared()
    }
}

/// One action of every kind, with ordinary values.
fn every_action() -> Vec<Action> {
    let name = |s: &str| s.to_string();
    let actions = vec![
        Action::Orbit { dx: 6.0, dy: -2.0 },
        Action::Pan { dx: 0.1, dy: 0.05 },
        Action::Zoom { factor: 1.25 },
        Action::Window {
            width: 400.0,
            center: 40.0,
        },
        Action::Preset {
            name: name("ct-bone"),
        },
        Action::Mode { mode: name("mip") },
        Action::View { name: name("left") },
        Action::Reset,
        Action::Crop {
            min: [0.5, 0.0, 0.0],
            max: [1.0, 1.0, 1.0],
        },
        Action::SetView {
            view: Box::new(valid_shared_view()),
        },
        Action::Resize {
            width: 640,
            height: 480,
        },
        Action::Interact { active: true },
        Action::Layout { name: name("2x2") },
        Action::Slice {
            plane: name("axial"),
            delta_mm: -2.5,
        },
        Action::Crosshair {
            plane: name("coronal"),
            x: 0.25,
            y: 0.5,
        },
        Action::TurnPlanes {
            plane: name("axial"),
            degrees: 12.5,
        },
        Action::ResetPlanes,
        Action::Slab {
            plane: name("coronal"),
            mm: 20.0,
            mode: name("mip"),
        },
        Action::Segments3d {
            show: name("alone"),
        },
        Action::Light(Lighting {
            direction: LightDirection::Toward([0.0, -1.0, 0.0]),
            shadows: true,
            occlusion: true,
            cinematic: true,
        }),
        Action::Transfer {
            preset: Box::new(edited_bone(|preset| preset.opacity[2].opacity = 0.0)),
        },
        Action::TimePoint { index: 0 },
        Action::Cine { fps: 0.0 },
    ];
    // A new action fails to compile here until it is added above.
    for action in &actions {
        match action {
            Action::Orbit { .. }
            | Action::Pan { .. }
            | Action::Zoom { .. }
            | Action::Window { .. }
            | Action::Preset { .. }
            | Action::Mode { .. }
            | Action::View { .. }
            | Action::Reset
            | Action::Crop { .. }
            | Action::SetView { .. }
            | Action::Resize { .. }
            | Action::Interact { .. }
            | Action::Layout { .. }
            | Action::Slice { .. }
            | Action::Crosshair { .. }
            | Action::TurnPlanes { .. }
            | Action::ResetPlanes
            | Action::Slab { .. }
            | Action::Segments3d { .. }
            | Action::Light(_)
            | Action::Transfer { .. }
            | Action::TimePoint { .. }
            | Action::Cine { .. } => {}
        }
    }
    actions
}

/// One message of each segment type, with typical values.
fn segment_messages() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Segment(SegmentRequest {
            action: SegmentAction::Create,
            id: None,
            label: Some("Liver".to_string()),
            colour: Some([200, 90, 60]),
            category: None,
            property_type: Some("SCT:10200004:Liver".to_string()),
            visible: None,
            opacity: Some(0.5),
            locked: None,
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::Grow {
                cell: "axial".to_string(),
                x: 0.5,
                y: 0.5,
                low: 100.0,
                high: 300.0,
            },
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::Paint {
                cell: "coronal".to_string(),
                points: vec![[0.4, 0.5], [0.45, 0.5]],
                radius_mm: 3.0,
                within: None,
                shape: Some(BrushShape::Disc),
            },
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::Median { mm: 1.5 },
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::Islands(IslandsKeep::Split),
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::FillBetween {
                cell: None,
                plane: Some(GridPlaneName::Axial),
            },
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::FillBetween {
                cell: Some("coronal".to_string()),
                plane: None,
            },
        }),
        ClientMessage::SegmentEdit(SegmentEdit {
            id: 1,
            tool: SegmentTool::GrowFromSeeds { others: vec![2, 3] },
        }),
        ClientMessage::SegmentUndo { id: 1, redo: false },
        ClientMessage::SegmentPreview(SegmentPreview {
            id: Some(1),
            low: Some(300.0),
            high: Some(3000.0),
        }),
        ClientMessage::Segments,
        ClientMessage::SaveSegments,
        ClientMessage::Segmentations,
        ClientMessage::LoadSegmentation {
            sop_instance_uid: "1.2.3".to_string(),
        },
        ClientMessage::RunModel,
        ClientMessage::StopModel,
    ]
}

/// One message of every type (and every action), as the protocol's types serialise them.
fn typed_messages() -> Vec<ClientMessage> {
    let mut messages = vec![
        ClientMessage::Hello {
            token: Some("a-token".to_string()),
            codecs: vec![Codec::H264, Codec::Jpeg, Codec::Png],
            viewport: Some(Viewport {
                width: 512,
                height: 384,
            }),
            transports: vec![TransportKind::Webrtc, TransportKind::Websocket],
        },
        ClientMessage::Hello {
            token: None,
            codecs: Vec::new(),
            viewport: None,
            transports: Vec::new(),
        },
        ClientMessage::WebrtcOffer {
            sdp: "v=0\r\n".to_string(),
        },
        ClientMessage::WebrtcClose {
            reason: "no frame within 5 s".to_string(),
        },
        ClientMessage::ListStudies(StudyRequest::default()),
        ClientMessage::ListStudies(StudyRequest {
            query: StudyQuery {
                text: "lumbar".to_string(),
                date_from: "20070101".to_string(),
                ..StudyQuery::default()
            },
            offset: Some(20),
            limit: Some(10),
        }),
        ClientMessage::Open {
            series: "small".to_string(),
        },
        ClientMessage::OpenStudy {
            study: "1.2.3".to_string(),
        },
        ClientMessage::Still { lossless: true },
        ClientMessage::Keyframe,
        ClientMessage::Stats(ClientStats {
            decode_queue: 3,
            latency_ms: Some(41.5),
        }),
        ClientMessage::Stats(ClientStats::default()),
        ClientMessage::Share,
        ClientMessage::Join {
            id: "0123456789abcdef0123456789abcdef".to_string(),
        },
        ClientMessage::Probe {
            cell: "axial".to_string(),
            x: 0.5,
            y: 0.25,
        },
        ClientMessage::Measure {
            cell: "coronal".to_string(),
            from: [0.1, 0.2],
            to: [0.9, 0.8],
        },
        ClientMessage::Finding(FindingRequest {
            action: FindingAction::Create,
            id: None,
            kind: Some("ellipse".to_string()),
            cell: Some("axial".to_string()),
            points: vec![[0.2, 0.3], [0.6, 0.7]],
            note: None,
        }),
        ClientMessage::Finding(FindingRequest {
            action: FindingAction::Update,
            id: Some(1),
            kind: None,
            cell: None,
            points: vec![],
            note: Some("Nodule".to_string()),
        }),
        ClientMessage::SaveFindings,
        ClientMessage::Calcium(hounsfield_protocol::CalciumRequest {
            roi: Some([-10.0, -10.0, -10.0, 10.0, 10.0, 10.0]),
            calibration: None,
            calibration_on_slice: Some(hounsfield_protocol::DrawnDensity {
                cell: "axial".to_string(),
                points: vec![[0.4, 0.4], [0.6, 0.6]],
                mg_per_cm3: 200.0,
            }),
            arteries: Some(vec![hounsfield_protocol::ArteryRegion {
                artery: "LAD".to_string(),
                region: [-5.0, -5.0, -5.0, 5.0, 5.0, 5.0],
            }]),
            name: Some(hounsfield_protocol::LesionNaming {
                artery: "RCA".to_string(),
                cell: "axial".to_string(),
                points: vec![[0.25, 0.5]],
            }),
            highlight: false,
        }),
        ClientMessage::KeyImage {
            cell: "axial".to_string(),
            note: Some("Nodule".to_string()),
        },
        ClientMessage::Snapshot { note: None },
        ClientMessage::Pointer {
            cell: Some("coronal".to_string()),
            x: Some(0.25),
            y: Some(0.75),
        },
        ClientMessage::Pointer {
            cell: None,
            x: None,
            y: None,
        },
        ClientMessage::RequestControl,
        ClientMessage::GrantControl { session: 2 },
        ClientMessage::RefuseControl { session: 2 },
        ClientMessage::RevokeControl,
        ClientMessage::StartRecording,
        ClientMessage::StopRecording,
        ClientMessage::ListRecordings { series: None },
        ClientMessage::PlayRecording {
            id: "0123456789abcdef0123456789abcdef".to_string(),
        },
        ClientMessage::Playback {
            action: PlaybackAction::Seek,
            at_ms: Some(1500.0),
            speed: None,
        },
        ClientMessage::ExportMovie(MovieOrder {
            orbit: Some(360.0),
            frames: Some(36),
            width: Some(640),
            height: Some(480),
            ..MovieOrder::default()
        }),
        ClientMessage::TransferFunction { bins: Some(128) },
        ClientMessage::SavePreset {
            preset: Box::new(edited_bone(|_| {})),
        },
        ClientMessage::Over(OverRequest {
            series: Some("slice".to_string()),
            colour_map: Some("rainbow".to_string()),
            opacity: Some(0.7),
            window: Some(WindowInfo {
                width: 400.0,
                center: 40.0,
            }),
        }),
    ];
    messages.extend(segment_messages());
    for (seq, action) in (1..).zip(every_action()) {
        messages.push(ClientMessage::Input(Input {
            seq,
            t: 1000.0 + f64::from(seq),
            action,
        }));
    }
    // A new message type fails to compile in `listed` until it is added above.
    messages.iter().for_each(listed);
    messages
}

/// Every type of message, named once: a type added to the protocol fails to compile here
/// until [`typed_messages`] sends it.
fn listed(message: &ClientMessage) {
    match message {
        ClientMessage::Hello { .. }
        | ClientMessage::ListStudies(_)
        | ClientMessage::Open { .. }
        | ClientMessage::OpenStudy { .. }
        | ClientMessage::Input(_)
        | ClientMessage::Still { .. }
        | ClientMessage::Keyframe
        | ClientMessage::Stats(_)
        | ClientMessage::Share
        | ClientMessage::Join { .. }
        | ClientMessage::Probe { .. }
        | ClientMessage::Measure { .. }
        | ClientMessage::Finding(_)
        | ClientMessage::SaveFindings
        | ClientMessage::Calcium(_)
        | ClientMessage::KeyImage { .. }
        | ClientMessage::Snapshot { .. }
        | ClientMessage::WebrtcOffer { .. }
        | ClientMessage::WebrtcClose { .. }
        | ClientMessage::Pointer { .. }
        | ClientMessage::RequestControl
        | ClientMessage::GrantControl { .. }
        | ClientMessage::RefuseControl { .. }
        | ClientMessage::RevokeControl
        | ClientMessage::StartRecording
        | ClientMessage::StopRecording
        | ClientMessage::ListRecordings { .. }
        | ClientMessage::PlayRecording { .. }
        | ClientMessage::Playback { .. }
        | ClientMessage::ExportMovie(_)
        | ClientMessage::Segment(_)
        | ClientMessage::SegmentEdit(_)
        | ClientMessage::SegmentUndo { .. }
        | ClientMessage::SegmentPreview(_)
        | ClientMessage::Segments
        | ClientMessage::SaveSegments
        | ClientMessage::Segmentations
        | ClientMessage::LoadSegmentation { .. }
        | ClientMessage::RunModel
        | ClientMessage::StopModel
        | ClientMessage::TransferFunction { .. }
        | ClientMessage::SavePreset { .. }
        | ClientMessage::Over(_) => {}
    }
}

/// The client's messages in `docs/protocol.md` (the `→` lines of its example sessions
/// and the input example), each with the code the parser refuses it with when the
/// document shows it refused so.
fn documented_messages() -> Vec<(String, Option<ErrorCode>)> {
    let lines: Vec<&str> = PROTOCOL_MD.lines().collect();
    let mut found = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if let Some(message) = line.strip_prefix("→ ") {
            let reply = lines.get(n + 1).and_then(|next| next.strip_prefix("← "));
            let refused = match reply.and_then(|text| serde_json::from_str(text).ok()) {
                Some(ServerMessage::Error { code, .. })
                    if matches!(
                        code,
                        ErrorCode::BadJson | ErrorCode::UnknownType | ErrorCode::BadMessage
                    ) =>
                {
                    Some(code)
                }
                _ => None,
            };
            found.push((message.trim().to_string(), refused));
        } else if let Some(example) = line.strip_prefix("Example: `") {
            found.extend(
                example
                    .split('`')
                    .next()
                    .map(|text| (text.to_string(), None)),
            );
        }
    }
    found
}

/// Every seed of the parser, as JSON.
static SEEDS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let mut seeds: Vec<Value> = typed_messages()
        .iter()
        .map(|m| serde_json::to_value(m).expect("a message serialises"))
        .collect();
    seeds.extend(
        documented_messages()
            .iter()
            .filter_map(|(text, _)| serde_json::from_str(text).ok()),
    );
    seeds
});

// The parser.

/// Values that are hard on a parser, as JSON text (some of them not JSON at all).
static EXTREMES: [&str; 44] = [
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "0.5",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e400",
    "5e-324",
    "1e-400",
    "4294967295",
    "4294967296",
    "65536",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890123456789",
    "[]",
    "{}",
    "[1,2,3]",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"🩻 é ß 中\"",
    "NaN",
    "Infinity",
    "-Infinity",
    "01",
    "1.",
    ".5",
    "+1",
    "0x10",
    "1e",
    "\"\\x41\"",
    "{\"width\":0,\"height\":4294967295}",
];

/// Names the protocol knows (types, actions, codecs, presets, modes, views, planes,
/// layouts) and near misses.
static NAMES: [&str; 30] = [
    "hello",
    "list_studies",
    "open",
    "input",
    "still",
    "keyframe",
    "stats",
    "share",
    "join",
    "welcome",
    "orbit",
    "set_view",
    "resize",
    "reset",
    "h264",
    "jpeg",
    "png",
    "ct-bone",
    "mip",
    "anterior",
    "axial",
    "2x2",
    "1x1",
    "type",
    "action",
    "seq",
    "Type",
    "input ",
    "",
    "small",
];

/// `depth` nested arrays around a number.
fn nested_arrays(depth: usize) -> String {
    format!("{}0{}", "[".repeat(depth), "]".repeat(depth))
}

/// `depth` nested objects around a number.
fn nested_objects(depth: usize) -> String {
    format!("{}0{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

/// A JSON text (or near-JSON) to put in place of a value.
fn raw_value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(&EXTREMES[..]).prop_map(str::to_string),
        2 => prop::sample::select(&NAMES[..]).prop_map(|name| format!("\"{name}\"")),
        1 => prop_oneof![Just(70_000usize), 0usize..5_000]
            .prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        1 => prop_oneof![Just(20_000usize), 0usize..200]
            .prop_map(|n| format!("\"{}\"", "🩻é".repeat(n))),
        1 => any::<String>().prop_map(|s| serde_json::to_string(&s).expect("a string")),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
            .prop_map(|x| format!("{x:e}")),
        1 => prop_oneof![Just(10_000usize), Just(127), Just(128), Just(129), 1usize..300]
            .prop_map(nested_arrays),
        1 => prop_oneof![Just(10_000usize), Just(128), 1usize..300].prop_map(nested_objects),
    ]
}

/// A field name: one the protocol uses, or any.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&NAMES[..]).prop_map(str::to_string),
        1 => prop::sample::select(
            vec!["dx", "dy", "width", "height", "name", "view", "camera", "codecs", "viewport",
              "token", "series", "lossless", "latency_ms", "decode_queue", "t", "active",
              "plane", "delta_mm", "x", "y", "factor", "center", "mode", "up"]
        )
        .prop_map(str::to_string),
        1 => ".{0,12}",
        1 => Just("k".repeat(10_000)),
    ]
}

/// A change to the structure of a message.
#[derive(Debug, Clone)]
enum Edit {
    /// A field of some object removed.
    Remove(Index),
    /// A field of some object written twice, the second time with another value.
    Duplicate(Index, String),
    /// A field of some object renamed.
    Rename(Index, String),
    /// A field added to some object.
    Add(Index, String, String),
    /// Some value (the message itself included) replaced by raw text.
    Replace(Index, String),
    /// Some value wrapped in `depth` arrays.
    Wrap(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => any::<Index>().prop_map(Edit::Remove),
        1 => (any::<Index>(), raw_value()).prop_map(|(at, raw)| Edit::Duplicate(at, raw)),
        1 => (any::<Index>(), field_name()).prop_map(|(at, name)| Edit::Rename(at, name)),
        1 => (any::<Index>(), field_name(), raw_value())
            .prop_map(|(at, name, raw)| Edit::Add(at, name, raw)),
        4 => (any::<Index>(), raw_value()).prop_map(|(at, raw)| Edit::Replace(at, raw)),
        1 => (any::<Index>(), prop_oneof![1usize..140, Just(10_000)])
            .prop_map(|(at, depth)| Edit::Wrap(at, depth)),
    ]
}

/// What happens to the text once the structure is edited.
#[derive(Debug, Clone)]
enum Finish {
    /// Sent whole.
    Whole,
    /// Cut at a byte offset (moved back to a character boundary).
    Truncate(Index),
    /// Noise inserted at a byte offset.
    Splice(Index, String),
}

fn finish() -> impl Strategy<Value = Finish> {
    prop_oneof![
        6 => Just(Finish::Whole),
        2 => any::<Index>().prop_map(Finish::Truncate),
        1 => (any::<Index>(), prop_oneof![".{0,8}", "[\\[\\]{}\",:0-9a-z\\\\ ]{0,8}"])
            .prop_map(|(at, noise)| Finish::Splice(at, noise)),
    ]
}

/// One step into a JSON value.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Item(usize),
}

/// The paths of every value in `value`, itself first.
fn value_paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(path.clone());
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    path.push(Step::Key(key.clone()));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (n, child) in items.iter().enumerate() {
                    path.push(Step::Item(n));
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key.as_str()),
        Step::Item(n) => node.get(*n),
    })
}

fn at_path<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::Item(n) => node.get_mut(*n),
    })
}

/// The text and its placeholders: values written as raw text once the message is
/// serialised.
struct Mutant {
    value: Value,
    raw: Vec<(String, String)>,
}

impl Mutant {
    /// A string value standing for `raw` text, replaced after serialising.
    fn placeholder(&mut self, raw: String) -> Value {
        let mark = format!("\u{1}raw{}\u{1}", self.raw.len());
        self.raw.push((mark.clone(), raw));
        Value::String(mark)
    }

    fn apply(&mut self, edit: &Edit) {
        let paths = value_paths(&self.value);
        // The fields of every object: (the object's path, the key).
        let fields: Vec<(Vec<Step>, String)> = paths
            .iter()
            .filter_map(|path| match path.split_last() {
                Some((Step::Key(key), parent)) => Some((parent.to_vec(), key.clone())),
                _ => None,
            })
            .collect();
        let field =
            |at: &Index| (!fields.is_empty()).then(|| fields[at.index(fields.len())].clone());
        match edit {
            Edit::Remove(at) => {
                if let Some((parent, key)) = field(at)
                    && let Some(Value::Object(map)) = at_path(&mut self.value, &parent)
                {
                    map.remove(&key);
                }
            }
            Edit::Duplicate(at, raw) => {
                if let Some((parent, key)) = field(at) {
                    let twin = self.placeholder(raw.clone());
                    if let Some(Value::Object(map)) = at_path(&mut self.value, &parent) {
                        // A second key that the text names as the first.
                        map.insert(format!("\u{2}{key}\u{2}"), twin);
                    }
                }
            }
            Edit::Rename(at, name) => {
                if let Some((parent, key)) = field(at)
                    && let Some(Value::Object(map)) = at_path(&mut self.value, &parent)
                    && let Some(moved) = map.remove(&key)
                {
                    map.insert(name.clone(), moved);
                }
            }
            Edit::Add(at, name, raw) => {
                let objects: Vec<&Vec<Step>> = paths
                    .iter()
                    .filter(|path| get(&self.value, path).is_some_and(Value::is_object))
                    .collect();
                if objects.is_empty() {
                    return;
                }
                let path = objects[at.index(objects.len())].clone();
                let added = self.placeholder(raw.clone());
                if let Some(Value::Object(map)) = at_path(&mut self.value, &path) {
                    map.insert(name.clone(), added);
                }
            }
            Edit::Replace(at, raw) => {
                let path = &paths[at.index(paths.len())];
                let replacement = self.placeholder(raw.clone());
                if let Some(node) = at_path(&mut self.value, path) {
                    *node = replacement;
                }
            }
            Edit::Wrap(at, depth) => {
                let path = &paths[at.index(paths.len())];
                let Some(inner) = get(&self.value, path).map(Value::to_string) else {
                    return;
                };
                let wrapped = format!("{}{inner}{}", "[".repeat(*depth), "]".repeat(*depth));
                let replacement = self.placeholder(wrapped);
                if let Some(node) = at_path(&mut self.value, path) {
                    *node = replacement;
                }
            }
        }
    }

    /// The message as text, placeholders replaced by their raw text (in reverse, so a
    /// placeholder inside another's raw text is replaced too).
    fn text(&self) -> String {
        let mut text = self.value.to_string();
        for (mark, raw) in self.raw.iter().rev() {
            let quoted = serde_json::to_string(mark).expect("a string");
            text = text.replace(&quoted, raw);
        }
        // Duplicated keys: the twin is named as the original.
        while let Some(start) = text.find("\\u0002") {
            let rest = &text[start + 6..];
            let Some(end) = rest.find("\\u0002") else {
                break;
            };
            text = format!("{}{}{}", &text[..start], &rest[..end], &rest[end + 6..]);
        }
        text
    }
}

/// `text` finished as `finish` says.
fn finished(mut text: String, finish: &Finish) -> String {
    let boundary = |text: &str, at: &Index| {
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match finish {
        Finish::Whole => {}
        Finish::Truncate(at) => {
            let at = boundary(&text, at);
            text.truncate(at);
        }
        Finish::Splice(at, noise) => {
            let at = boundary(&text, at);
            text.insert_str(at, noise);
        }
    }
    text
}

/// The parser's contract for any text: no panic (proptest reports one), an accepted
/// message that serialises and parses again, and a refusal with a message that fits.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match parse_client_message(text) {
        Ok(message) => {
            let again = serde_json::to_string(&message).expect("an accepted message serialises");
            let back = parse_client_message(&again);
            prop_assert!(back.is_ok(), "{again:.300} came back as {back:?}");
        }
        Err(ParseError { code, message }) => {
            prop_assert!(
                matches!(
                    code,
                    ErrorCode::BadJson | ErrorCode::UnknownType | ErrorCode::BadMessage
                ),
                "{code:?}"
            );
            prop_assert!(!message.is_empty(), "{code:?} without a message");
            let chars = message.chars().count();
            prop_assert!(
                chars <= MAX_ERROR_CHARS,
                "a {chars}-character message: {message:.400}…"
            );
            if serde_json::from_str::<Value>(text).is_err() {
                prop_assert_eq!(code, ErrorCode::BadJson);
            }
        }
    }
    Ok(())
}

#[test]
fn every_seed_is_a_valid_message_and_the_documented_ones_are_seeds() {
    let documented = documented_messages();
    assert!(documented.len() >= 20, "{documented:?}");
    for (text, refused) in &documented {
        let parsed = parse_client_message(text).map_err(|e| e.code);
        match refused {
            Some(code) => assert_eq!(parsed.err(), Some(*code), "docs/protocol.md: {text}"),
            None => assert!(parsed.is_ok(), "docs/protocol.md: {text}: {parsed:?}"),
        }
    }
    for seed in SEEDS.iter() {
        let message = parse_client_message(&seed.to_string());
        assert!(message.is_ok(), "{seed}: {message:?}");
    }
    for message in typed_messages() {
        let text = serde_json::to_string(&message).expect("serialises");
        assert_eq!(parse_client_message(&text), Ok(message), "{text}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [128, 129, 10_000, 1_000_000] {
        for deep in [nested_arrays(depth), nested_objects(depth)] {
            let at_top = parse_client_message(&deep).map_err(|e| e.code);
            assert_eq!(at_top, Err(ErrorCode::BadJson), "depth {depth}");
            let in_a_field =
                format!(r#"{{"type":"input","seq":1,"action":"orbit","dx":{deep},"dy":0}}"#);
            let error = parse_client_message(&in_a_field).expect_err("refused");
            assert!(error.message.len() <= MAX_ERROR_CHARS, "{}", error.message);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000), ..ProptestConfig::default() })]

    #[test]
    fn mutated_messages_parse_or_are_refused_briefly(
        seed in any::<Index>(),
        edits in prop::collection::vec(edit(), 0..4),
        finish in finish(),
    ) {
        let mut mutant = Mutant { value: SEEDS[seed.index(SEEDS.len())].clone(), raw: Vec::new() };
        for edit in &edits {
            mutant.apply(edit);
        }
        let text = finished(mutant.text(), &finish);
        check_parse(&text)?;
    }

    #[test]
    fn random_text_parses_or_is_refused_briefly(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        prefix in prop::sample::select(vec!["", "{", "{\"type\":", "{\"type\":\"input\",", "{\"type\":\"input\",\"seq\":1,\"action\":"]),
    ) {
        let text = format!("{prefix}{}", String::from_utf8_lossy(&bytes));
        check_parse(&text)?;
    }
}

// A session's input handling.

/// A float: ordinary, at the edges of what is accepted, or extreme (NaN and infinities
/// too, which no JSON carries but a Rust client could build).
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -400.0..400.0f64,
        2 => -2.0..2.0f64,
        2 => prop::sample::select(vec![
            0.0, -0.0, 1.0, -1.0, 0.01, 0.009_999, 10.0, 10.000_001, 100.0, 100.000_01,
            179.0, 360.0, 360.000_001, 1e4, 1e5, 1e6, 1e308, -1e308, f64::MAX, f64::MIN,
            f64::MIN_POSITIVE, 5e-324, f64::EPSILON, f64::NAN, f64::INFINITY,
            f64::NEG_INFINITY,
        ]),
        1 => any::<f64>(),
    ]
}

/// A viewport side: ordinary, at the limits, or extreme.
fn any_side() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 16u32..1200,
        2 => prop::sample::select(vec![0, 1, 15, 16, 17, 4095, 4096, 4097, 65_535, 65_536, u32::MAX]),
        1 => any::<u32>(),
    ]
}

/// A name: one the protocol knows, a near miss, or anything.
fn any_name(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(known).prop_map(str::to_string),
        1 => prop::sample::select(vec!["", " anterior ", "ANTERIOR", "ct-bone\0", "3x3", "oblique"])
            .prop_map(str::to_string),
        1 => ".{0,20}",
        1 => Just("🩻".repeat(5_000)),
    ]
}

static PRESETS: [&str; 8] = [
    "ct-angio",
    "ct-bone",
    "ct-bone-flat",
    "ct-lung",
    "ct-mip",
    "ct-soft-tissue",
    "mr-default",
    "mr-mip",
];
static MODES: [&str; 4] = ["composite", "mip", "minip", "average"];
static VIEWS: [&str; 6] = [
    "anterior",
    "posterior",
    "left",
    "right",
    "superior",
    "inferior",
];
static PLANES: [&str; 3] = ["axial", "coronal", "sagittal"];
static SLAB_MODES: [&str; 3] = ["mip", "minip", "average"];
static SEGMENTS_3D: [&str; 3] = ["with_volume", "alone", "hidden"];
static LAYOUTS: [&str; 2] = ["1x1", "2x2"];

fn vec3() -> impl Strategy<Value = DVec3> {
    prop_oneof![
        3 => (-300.0..300.0f64, -300.0..300.0f64, -300.0..300.0f64),
        1 => (any_f64(), any_f64(), any_f64()),
    ]
    .prop_map(|(x, y, z)| DVec3::new(x, y, z))
}

/// A camera's direction and up: orthonormal (accepted) or anything.
fn direction_and_up() -> impl Strategy<Value = (DVec3, DVec3)> {
    let orthonormal = (
        0.0..std::f64::consts::TAU,
        -1.5..1.5f64,
        0.0..std::f64::consts::TAU,
    )
        .prop_map(|(azimuth, elevation, roll)| {
            let direction = DVec3::new(
                elevation.cos() * azimuth.cos(),
                elevation.cos() * azimuth.sin(),
                elevation.sin(),
            );
            let side = direction.any_orthonormal_vector();
            let up = glam::DQuat::from_axis_angle(direction, roll) * side;
            (direction, up.normalize())
        });
    prop_oneof![3 => orthonormal, 1 => (vec3(), vec3())]
}

fn camera() -> impl Strategy<Value = Camera> {
    (
        vec3(),
        direction_and_up(),
        prop_oneof![3 => 1.0..5000.0f64, 1 => any_f64()],
        prop_oneof![3 => 0.05..50.0f64, 1 => any_f64()],
        prop_oneof![3 => 1.0..179.0f64, 1 => any_f64()],
        any_f64(),
        any::<bool>(),
    )
        .prop_map(
            |(focal_point, (direction, up), distance_mm, zoom, view_angle_deg, radius, ortho)| {
                Camera {
                    focal_point,
                    direction,
                    up,
                    distance_mm,
                    scene_radius_mm: radius,
                    zoom,
                    view_angle_deg,
                    projection: if ortho {
                        Projection::Orthographic
                    } else {
                        Projection::Perspective
                    },
                }
            },
        )
}

fn window_info() -> impl Strategy<Value = Option<WindowInfo>> {
    prop::option::of(
        (any_f64(), any_f64()).prop_map(|(width, center)| WindowInfo { width, center }),
    )
}

/// A float mostly within `range` (so that the input is accepted), else any.
fn mostly(range: std::ops::RangeInclusive<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![3 => range, 1 => any_f64()]
}

/// A corner of a crop box: mostly fractions, sometimes any number.
fn fraction3() -> impl Strategy<Value = [f64; 3]> {
    (mostly(0.0..=1.0), mostly(0.0..=1.0), mostly(0.0..=1.0)).prop_map(|(i, j, k)| [i, j, k])
}

/// A shared view a session accepts: every field within its range.
fn accepted_shared_view() -> impl Strategy<Value = SharedView> {
    let camera = (
        (-300.0..300.0f64, -300.0..300.0f64, -300.0..300.0f64),
        direction_and_up(),
        1.0..1.0e6f64,
        Camera::MIN_ZOOM..=Camera::MAX_ZOOM,
        1.0..=179.0f64,
        any::<bool>(),
    )
        .prop_map(
            |((x, y, z), (direction, up), distance_mm, zoom, view_angle_deg, ortho)| Camera {
                focal_point: DVec3::new(x, y, z),
                direction,
                up,
                distance_mm,
                scene_radius_mm: 1.0,
                zoom,
                view_angle_deg,
                projection: if ortho {
                    Projection::Orthographic
                } else {
                    Projection::Perspective
                },
            },
        );
    let window = prop::option::of(
        (1.0..4000.0f64, -1000.0..3000.0f64)
            .prop_map(|(width, center)| WindowInfo { width, center }),
    );
    let crosshair = prop::option::of(
        (-1.0e5..1.0e5f64, -1.0e5..1.0e5f64, -1.0e5..1.0e5f64)
            .prop_map(|(x, y, z)| DVec3::new(x, y, z)),
    );
    (
        camera,
        prop::sample::select(&PRESETS[..]),
        prop::sample::select(&RenderMode::ALL[..]),
        window,
        any::<bool>(),
        crosshair,
    )
        .prop_map(
            |(camera, preset, mode, window, quad, crosshair_lps)| SharedView {
                camera,
                preset: preset.to_string(),
                mode,
                window,
                layout: if quad { Layout::Quad } else { Layout::Single },
                crosshair_lps,
                crop: None,
                slice_rotation: None,
                slabs: Default::default(),
                lighting: Lighting::default(),
                transfer: None,
                time_point: 0,
            },
        )
}

/// A shared view: valid, or with any field odd (a mode is typed: one the wire names
/// wrongly is refused when the message is read, as `parse_client_message`'s tests show).
fn shared_view() -> impl Strategy<Value = SharedView> {
    let odd = (
        camera(),
        any_name(&PRESETS),
        prop::sample::select(&RenderMode::ALL[..]),
        window_info(),
        any::<bool>(),
        prop::option::of(vec3()),
        prop::option::of(any::<[f64; 4]>()),
        time_point(),
    )
        .prop_map(
            |(camera, preset, mode, window, quad, crosshair_lps, slice_rotation, time_point)| {
                SharedView {
                    camera,
                    preset,
                    mode,
                    window,
                    layout: if quad { Layout::Quad } else { Layout::Single },
                    crosshair_lps,
                    crop: None,
                    slice_rotation,
                    slabs: Default::default(),
                    lighting: Lighting::default(),
                    transfer: None,
                    time_point,
                }
            },
        );
    prop_oneof![accepted_shared_view(), odd]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (any_f64(), any_f64()).prop_map(|(dx, dy)| Action::Orbit { dx, dy }),
        (mostly(-2.0..=2.0), mostly(-2.0..=2.0)).prop_map(|(dx, dy)| Action::Pan { dx, dy }),
        mostly(0.2..=5.0).prop_map(|factor| Action::Zoom { factor }),
        (mostly(1.0..=4000.0), any_f64())
            .prop_map(|(width, center)| Action::Window { width, center }),
        any_name(&PRESETS).prop_map(|name| Action::Preset { name }),
        any_name(&MODES).prop_map(|mode| Action::Mode { mode }),
        any_name(&VIEWS).prop_map(|name| Action::View { name }),
        Just(Action::Reset),
        (fraction3(), fraction3()).prop_map(|(min, max)| Action::Crop { min, max }),
        shared_view().prop_map(|view| Action::SetView {
            view: Box::new(view)
        }),
        (any_side(), any_side()).prop_map(|(width, height)| Action::Resize { width, height }),
        any::<bool>().prop_map(|active| Action::Interact { active }),
        any_name(&LAYOUTS).prop_map(|name| Action::Layout { name }),
        (any_name(&PLANES), any_f64())
            .prop_map(|(plane, delta_mm)| Action::Slice { plane, delta_mm }),
        (any_name(&PLANES), mostly(0.0..=1.0), mostly(0.0..=1.0))
            .prop_map(|(plane, x, y)| Action::Crosshair { plane, x, y }),
        (any_name(&PLANES), any_f64())
            .prop_map(|(plane, degrees)| Action::TurnPlanes { plane, degrees }),
        Just(Action::ResetPlanes),
        (any_name(&PLANES), any_f64(), any_name(&SLAB_MODES))
            .prop_map(|(plane, mm, mode)| Action::Slab { plane, mm, mode }),
        any_name(&SEGMENTS_3D).prop_map(|show| Action::Segments3d { show }),
        lighting().prop_map(Action::Light),
        transfer().prop_map(|preset| Action::Transfer {
            preset: Box::new(preset)
        }),
        time_point().prop_map(|index| Action::TimePoint { index }),
        prop_oneof![mostly(0.0..=40.0), Just(0.0)].prop_map(|fps| Action::Cine { fps }),
    ]
}

/// A volume's index: of the fixtures' (up to three volumes), just past them, or anywhere.
fn time_point() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0..4usize, 1 => any::<usize>()]
}

/// `ct-bone` as a reader's edit of it leaves it.
fn edited_bone(edit: impl FnOnce(&mut Preset)) -> Preset {
    let mut preset = PresetLibrary::builtin()
        .get("ct-bone")
        .expect("built in")
        .clone();
    preset.name = "ct-bone (edited)".to_string();
    edit(&mut preset);
    preset
}

/// An edited transfer function: `ct-bone`'s opacity points moved anywhere (out of order,
/// not finite, out of 0..=1: refused where it is checked) and up to past the most points.
fn transfer() -> impl Strategy<Value = Preset> {
    (
        prop::collection::vec((any_f64(), any_f64()), 0..300),
        any_name(&PRESETS),
    )
        .prop_map(|(points, name)| {
            edited_bone(|preset| {
                preset.name = name;
                preset.opacity = points
                    .into_iter()
                    .map(|(value, opacity)| OpacityPoint {
                        value: value as f32,
                        opacity: opacity as f32,
                    })
                    .collect();
            })
        })
}

/// A light: the headlight, or towards any vector a direction may be made of (one of
/// zero length or not finite is refused when made, so it is the headlight here).
fn lighting() -> impl Strategy<Value = Lighting> {
    (
        prop::option::of(vec3()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(towards, shadows, occlusion, cinematic)| Lighting {
            direction: towards
                .and_then(|v| LightDirection::toward(v.to_array()).ok())
                .unwrap_or_default(),
            shadows,
            occlusion,
            cinematic,
        })
}

fn codecs() -> impl Strategy<Value = Vec<Codec>> {
    prop::collection::vec(
        prop::sample::select(vec![Codec::H264, Codec::Jpeg, Codec::Png]),
        0..4,
    )
}

fn message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        1 => prop::option::of(0usize..2000)
            .prop_map(|bins| ClientMessage::TransferFunction { bins }),
        1 => transfer().prop_map(|preset| ClientMessage::SavePreset { preset: Box::new(preset) }),
        2 => (
                prop::option::of(any_name(&["small", "slice", "voxel", "mr", "cine", "no-such"])),
                prop::option::of(any_name(&["hot", "rainbow", "grey", "gray"])),
                prop::option::of(prop_oneof![0.0..=1.0f64, any_f64()]),
                window_info(),
            )
            .prop_map(|(series, colour_map, opacity, window)| ClientMessage::Over(OverRequest {
                series,
                colour_map,
                opacity,
                window,
            })),
        1 => (codecs(), prop::option::of((any_side(), any_side())))
            .prop_map(|(codecs, size)| ClientMessage::Hello {
                token: None,
                codecs,
                viewport: size.map(|(width, height)| Viewport { width, height }),
                transports: Vec::new(),
            }),
        1 => (prop::option::of(-5i64..300), prop::option::of(-5i64..300)).prop_map(
            |(offset, limit)| ClientMessage::ListStudies(StudyRequest {
                offset,
                limit,
                ..StudyRequest::default()
            })
        ),
        1 => any_name(&["small", "slice", "voxel", "mr", "cine", "no-such"])
            .prop_map(|series| ClientMessage::Open { series }),
        12 => (prop_oneof![1u32..1000, Just(0), Just(u32::MAX)], any_f64(), action())
            .prop_map(|(seq, t, action)| ClientMessage::Input(Input { seq, t, action })),
        1 => any::<bool>().prop_map(|lossless| ClientMessage::Still { lossless }),
        1 => Just(ClientMessage::Keyframe),
        1 => (
                prop_oneof![0u32..10, Just(u32::MAX), any::<u32>()],
                prop::option::of(prop_oneof![0.0..500.0f64, any_f64()]),
            )
            .prop_map(|(decode_queue, latency_ms)| ClientMessage::Stats(ClientStats {
                decode_queue,
                latency_ms,
            })),
    ]
}

/// What happens to a session, one after another.
#[derive(Debug, Clone)]
enum Event {
    /// A client's message arrives.
    Message(ClientMessage),
    /// A shared session's host changes her view.
    Host(SharedView),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        12 => message().prop_map(Event::Message),
        1 => shared_view().prop_map(Event::Host),
    ]
}

/// How long after the previous event one comes (ms).
fn gap_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        3 => 1u64..40,
        2 => prop::sample::select(vec![149u64, 150, 151, 1000, 60_000, 86_400_000]),
    ]
}

fn limits() -> impl Strategy<Value = SessionLimits> {
    prop_oneof![
        4 => Just(SessionLimits::default()),
        1 => Just(SessionLimits { inputs_per_s: 5.0, input_burst: 2.0, ..SessionLimits::default() }),
        1 => prop::sample::select(vec![8u32, 16, 17, 255])
            .prop_map(|max_viewport| SessionLimits { max_viewport, ..SessionLimits::default() }),
    ]
}

/// What a refusal may leave unchanged: everything a client sees of the session.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    view: Option<ViewState>,
    layout: Layout,
    crosshair_lps: Option<DVec3>,
    viewport: Viewport,
    last_input: (u32, u64),
    codec: Codec,
}

fn seen(session: &Session) -> Seen {
    let (seq, t) = session.last_input();
    Seen {
        view: session.view().cloned(),
        layout: session.layout(),
        crosshair_lps: session.crosshair_lps(),
        viewport: session.viewport(),
        last_input: (seq, t.to_bits()),
        codec: session.codec(),
    }
}

/// A connection's handling of one message, with a library that opens the fixtures and an
/// H.264 encoder that always opens.
fn handle(session: &mut Session, message: &ClientMessage, now: Instant) -> Result<(), Refusal> {
    match message {
        ClientMessage::Hello {
            codecs, viewport, ..
        } => {
            if let Some(viewport) = viewport {
                session.set_viewport(*viewport);
            }
            let position = |codec: Codec| codecs.iter().position(|c| *c == codec);
            let h264_first = position(Codec::H264)
                .is_some_and(|h264| position(Codec::Jpeg).is_none_or(|jpeg| h264 < jpeg));
            session.stream_video(h264_first);
            Ok(())
        }
        ClientMessage::ListStudies(_) => Ok(()),
        ClientMessage::Open { series: id } => {
            if let Some(volumes) = series(id) {
                session.open(id, volumes);
            }
            Ok(())
        }
        ClientMessage::Input(input) => session.apply(input, now),
        ClientMessage::Still { lossless } => session.still(*lossless),
        ClientMessage::Keyframe => session.keyframe(),
        ClientMessage::Stats(stats) => session.client_stats(stats, now),
        // Sharing, joining, a study laid out by its hanging protocol, handing over the controls,
        // recordings and WebRTC signalling are the connection's (a join, a study and a
        // recording played open as `open` does).
        ClientMessage::Share
        | ClientMessage::OpenStudy { .. }
        | ClientMessage::Join { .. }
        | ClientMessage::RequestControl
        | ClientMessage::GrantControl { .. }
        | ClientMessage::RefuseControl { .. }
        | ClientMessage::RevokeControl
        | ClientMessage::StartRecording
        | ClientMessage::StopRecording
        | ClientMessage::ListRecordings { .. }
        | ClientMessage::PlayRecording { .. }
        | ClientMessage::Playback { .. }
        | ClientMessage::ExportMovie(_)
        | ClientMessage::WebrtcOffer { .. }
        | ClientMessage::WebrtcClose { .. } => Ok(()),
        // Segments are the connection's and its book's (their tools are tested with the
        // book and end to end).
        ClientMessage::Segment(_)
        | ClientMessage::SegmentEdit(_)
        | ClientMessage::SegmentUndo { .. }
        | ClientMessage::SegmentPreview(_)
        | ClientMessage::Segments
        | ClientMessage::SaveSegments
        | ClientMessage::Segmentations
        | ClientMessage::LoadSegmentation { .. }
        | ClientMessage::RunModel
        | ClientMessage::StopModel
        // Saving a preset is the connection's (tested end to end, by role).
        | ClientMessage::SavePreset { .. } => Ok(()),
        // A series over the slices, as the connection draws it: checked before it loads,
        // then the fixture's first volume in one frame with the open series.
        ClientMessage::Over(request) => {
            let style = OverStyle::checked(request)?;
            let over = request.series.as_deref().and_then(|id| {
                let volume = series(id)?.first().clone();
                let fusion = style.applied_to(Fusion::initial(&volume));
                let link = SeriesLink::SameFrame;
                let drawn = SeriesOver { volume, fusion, link };
                let id = id.to_string();
                Some(ShownOver { id, drawn, suv_factor: Some(0.5) })
            });
            if request.series.is_some() && over.is_none() {
                return Ok(());
            }
            session.show_over(over).map(|shown| {
                if let Some(shown) = shown {
                    assert!((0.0..=1.0).contains(&shown.opacity), "{shown:?}");
                    assert!(shown.window.width > 0.0 && shown.window.width.is_finite());
                }
            })
        }
        // What the view shows, asked for: it must name a function the view can draw.
        ClientMessage::TransferFunction { .. } => {
            if session.view().is_some() {
                assert!(session.transfer_function().is_some(), "the shown function");
            }
            Ok(())
        }
        // Measurements change nothing: their answer must stay finite, or be refused.
        ClientMessage::Probe { cell, x, y } => session.probe(cell, *x, *y).map(|answer| {
            assert_measurement_finite(&answer);
        }),
        ClientMessage::Measure { cell, from, to } => {
            session.measure(cell, *from, *to).map(|answer| {
                assert_measurement_finite(&answer);
            })
        }
        // A finding is drawn and measured by the session (the connection keeps it): its
        // points and numbers must be finite, or it is refused.
        ClientMessage::Finding(request) => session
            .draw_finding(request, 1)
            .and_then(|(finding, volume)| {
                hounsfield_server::session::measured(&volume, &finding)
                    .map(|measurement| (finding, measurement))
            })
            .map(|(finding, measurement)| {
                assert!(
                    finding.points_lps.iter().all(|p| p.is_finite()),
                    "{finding:?}"
                );
                let (stats, length, angle) = measurement.parts();
                if let Some(stats) = stats {
                    assert!(
                        [stats.mean, stats.sd, stats.min, stats.max, stats.area_mm2]
                            .iter()
                            .all(|v| v.is_finite()),
                        "{stats:?}"
                    );
                }
                assert!(length.is_none_or(f64::is_finite) && angle.is_none_or(f64::is_finite));
            }),
        // A calcium score is the connection's (its boxes are checked where it is scored).
        ClientMessage::Calcium(_) => Ok(()),
        // Documents are the connection's (it stores them where the study lives).
        ClientMessage::SaveFindings
        | ClientMessage::KeyImage { .. }
        | ClientMessage::Snapshot { .. } => Ok(()),
        // A pointer is the connection's to relay: checked, it holds a known cell and
        // fractions within the cell, or nothing.
        ClientMessage::Pointer { cell, x, y } => {
            if let Ok(pointed) = Pointed::checked(1, "p".into(), cell.as_deref(), *x, *y) {
                assert!(
                    pointed
                        .at
                        .is_none_or(|at| at.iter().all(|v| (0.0..=1.0).contains(v))),
                    "{pointed:?}"
                );
                assert_eq!(pointed.cell.is_some(), pointed.at.is_some(), "{pointed:?}");
            }
            Ok(())
        }
    }
}

/// A `probe` or `measure` answer holds finite numbers only.
fn assert_measurement_finite(answer: &ServerMessage) {
    match answer {
        ServerMessage::Probe {
            lps_mm,
            value,
            over_value,
            over_suv,
            ..
        } => {
            assert!(lps_mm.iter().all(|v| v.is_finite()), "{answer:?}");
            assert!(value.is_none_or(f64::is_finite), "{answer:?}");
            assert!(over_value.is_none_or(f64::is_finite), "{answer:?}");
            assert!(over_suv.is_none_or(f64::is_finite), "{answer:?}");
        }
        ServerMessage::Measure {
            mm,
            from_lps,
            to_lps,
            ..
        } => {
            assert!(mm.is_finite() && *mm >= 0.0, "{answer:?}");
            assert!(
                from_lps.iter().chain(to_lps).all(|v| v.is_finite()),
                "{answer:?}"
            );
        }
        other => panic!("not a measurement: {other:?}"),
    }
}

fn finite(v: DVec3) -> bool {
    v.is_finite()
}

/// A camera the renderer can draw: finite, orthonormal, positive distance, zoom and angle.
fn check_camera(camera: &Camera) -> Result<(), TestCaseError> {
    prop_assert!(
        finite(camera.focal_point) && finite(camera.direction) && finite(camera.up),
        "{camera:?}"
    );
    let unit = |v: DVec3| (v.length() - 1.0).abs() < 1e-3;
    prop_assert!(unit(camera.direction) && unit(camera.up), "{camera:?}");
    prop_assert!(camera.direction.dot(camera.up).abs() < 1e-3, "{camera:?}");
    let positive = |x: f64, max: f64| x.is_finite() && x > 0.0 && x <= max;
    prop_assert!(positive(camera.distance_mm, 1e6), "{camera:?}");
    prop_assert!(positive(camera.zoom, 100.0), "{camera:?}");
    prop_assert!(positive(camera.view_angle_deg, 179.0), "{camera:?}");
    prop_assert!(positive(camera.scene_radius_mm, 1e6), "{camera:?}");
    Ok(())
}

fn check_window(window: Option<Window>) -> Result<(), TestCaseError> {
    if let Some(window) = window {
        prop_assert!(
            window.width.is_finite() && window.width > 0.0 && window.center.is_finite(),
            "{window:?}"
        );
    }
    Ok(())
}

/// A point inside the volume (between its outermost voxel centres).
fn check_inside(volume: &Volume, point: DVec3) -> Result<(), TestCaseError> {
    prop_assert!(finite(point), "{point}");
    let ijk = volume.lps_to_voxel(point);
    for axis in 0..3 {
        let last = volume.dims[axis].saturating_sub(1) as f64;
        prop_assert!(
            (-1e-6..=last + 1e-6).contains(&ijk[axis]),
            "crosshair {point} is voxel {ijk} of {:?}",
            volume.dims
        );
    }
    Ok(())
}

/// The session, between events: everything a client or the renderer could be handed.
fn check_session(
    session: &Session,
    limits: &SessionLimits,
    open: Option<&SeriesVolumes>,
) -> Result<(), TestCaseError> {
    let Viewport { width, height } = session.viewport();
    let max = limits.max_viewport.max(MIN_VIEWPORT);
    for side in [width, height] {
        prop_assert!((MIN_VIEWPORT..=max).contains(&side), "{width}×{height}");
        if session.codec() == Codec::H264 {
            prop_assert!(side % 2 == 0, "{width}×{height} with H.264");
        }
    }
    let (Some(view), Some(volumes)) = (session.view(), open) else {
        return Ok(());
    };
    prop_assert!(
        view.time_point < volumes.count(),
        "time point {} of {} volumes",
        view.time_point,
        volumes.count()
    );
    let volume = volumes.first();
    check_camera(&view.camera)?;
    check_window(view.window)?;
    let crosshair = session.crosshair_lps().expect("open");
    check_inside(volume, crosshair)?;
    let cells = session.crosshair_in_cells().expect("open");
    for spot in [cells.axial, cells.coronal, cells.sagittal] {
        prop_assert!(spot.iter().all(|x| x.is_finite()), "{cells:?}");
    }
    // The view as it travels survives JSON and another session takes it whole (a client
    // hands it back on reconnection).
    let shared = session.shared_view().expect("open");
    let text = serde_json::to_string(&shared).expect("serialises");
    let back: SharedView = serde_json::from_str(&text).expect("parses back");
    let mut other = Session::new(
        SessionLimits::default(),
        PRESET_LIBRARY.clone(),
        session.viewport(),
    );
    other.open("again", volumes.clone());
    let taken = other.apply(
        &Input {
            seq: 1,
            t: 0.0,
            action: Action::SetView {
                view: Box::new(back),
            },
        },
        Instant::now(),
    );
    prop_assert!(taken.is_ok(), "{taken:?} for {text}");
    Ok(())
}

/// A request the scheduler can draw and encode.
fn check_request(
    request: &RenderRequest,
    session: &Session,
    limits: &SessionLimits,
) -> Result<(), TestCaseError> {
    let viewport = session.viewport();
    prop_assert_eq!(request.size, [viewport.width, viewport.height]);
    let max = limits.max_viewport.max(MIN_VIEWPORT);
    prop_assert!(
        request
            .size
            .iter()
            .all(|side| (MIN_VIEWPORT..=max).contains(side))
    );
    check_camera(&request.view.camera)?;
    check_window(request.view.window)?;
    check_inside(&request.volume, request.crosshair_lps)?;
    prop_assert_eq!(request.input_seq, session.last_input().0);
    match request.encoding {
        Encoding::H264 { bitrate, .. } => {
            prop_assert!(!request.final_still, "a final still as H.264");
            prop_assert!(bitrate.for_nominal_picture() > 0);
            prop_assert!(bitrate.for_picture(request.size, request.size) > 0);
            prop_assert!(request.size.iter().all(|side| side % 2 == 0));
        }
        Encoding::Jpeg { quality } => prop_assert!((1..=100).contains(&quality)),
        Encoding::Png => prop_assert!(request.final_still, "an interactive PNG"),
    }
    Ok(())
}

/// With no new input, the session owes at most an interactive frame and a final still
/// (once a cine playing is stopped: until then it steps a volume at each deadline); a
/// deadline it names is one at which a request is due, so a connection waiting for it
/// never spins.
fn check_drains(
    session: &mut Session,
    limits: &SessionLimits,
    mut now: Instant,
) -> Result<(), TestCaseError> {
    if let Some(fps) = session.cine_fps() {
        let count = session.volumes().expect("open").count();
        prop_assert!(
            count > 1 && fps > 0.0 && fps <= 30.0,
            "{fps} fps over {count}"
        );
        while session.next_request(now).is_some() {}
        for _ in 0..count + 1 {
            let shown = session.view().expect("open").time_point;
            let due = session.next_deadline().expect("a cine steps");
            prop_assert!(
                due > now
                    && due <= now + Duration::from_secs_f64(1.0 / fps) + Duration::from_millis(1)
            );
            now = due;
            let request = session.next_request(now).expect("a step's frame");
            check_request(&request, session, limits)?;
            prop_assert_eq!(request.view.time_point, (shown + 1) % count);
        }
        let stop = Input {
            seq: session.last_input().0.saturating_add(1),
            t: 0.0,
            action: Action::Cine { fps: 0.0 },
        };
        prop_assert!(session.apply(&stop, now).is_ok());
        prop_assert!(session.cine_fps().is_none());
    }
    let mut taken = 0;
    loop {
        if let Some(request) = session.next_request(now) {
            check_request(&request, session, limits)?;
            taken += 1;
            prop_assert!(taken <= 2, "request {taken} without new input");
            continue;
        }
        match session.next_deadline() {
            None => break,
            Some(due) => {
                prop_assert!(due > now, "due {:?} ago, yet nothing was", now - due);
                now = due;
            }
        }
    }
    let much_later = now + Duration::from_secs(3600);
    prop_assert!(session.next_request(much_later).is_none());
    prop_assert!(session.next_deadline().is_none());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(6_000), ..ProptestConfig::default() })]

    #[test]
    fn sessions_refuse_with_codes_stay_sane_and_stop_asking(
        limits in limits(),
        viewport in (any_side(), any_side()),
        open_first in prop::option::weighted(0.8, prop::sample::select(vec!["small", "slice", "voxel", "mr", "cine"])),
        events in prop::collection::vec((gap_ms(), event()), 1..40),
    ) {
        let mut now = Instant::now();
        let viewport = Viewport { width: viewport.0, height: viewport.1 };
        let mut session = Session::new(limits, PRESET_LIBRARY.clone(), viewport);
        let mut open = None;
        if let Some(id) = open_first {
            let volumes = series(id).expect("a fixture");
            session.open(id, volumes.clone());
            open = Some(volumes);
        }
        check_session(&session, &limits, open.as_ref())?;
        for (gap, event) in &events {
            now += Duration::from_millis(*gap);
            // The deadline timer: a request due by now is taken first.
            if session.next_deadline().is_some_and(|due| due <= now)
                && let Some(request) = session.next_request(now)
            {
                check_request(&request, &session, &limits)?;
            }
            let before = seen(&session);
            let result = match event {
                Event::Message(message) => {
                    if let ClientMessage::Open { series: id } = message
                        && let Some(volumes) = series(id)
                    {
                        open = Some(volumes);
                    }
                    handle(&mut session, message, now)
                }
                Event::Host(view) => session.follow(view, now),
            };
            if let Err(refusal) = result {
                prop_assert!(
                    matches!(refusal.code, ErrorCode::BadValue | ErrorCode::NotOpen | ErrorCode::RateLimited),
                    "{refusal:?}"
                );
                let chars = refusal.message.chars().count();
                prop_assert!(
                    (1..=MAX_ERROR_CHARS).contains(&chars),
                    "a {chars}-character message: {:.400}", refusal.message
                );
                prop_assert_eq!(&seen(&session), &before, "{:?} changed the session", refusal);
            }
            check_session(&session, &limits, open.as_ref())?;
            // The connection takes what is due after every event.
            if let Some(request) = session.next_request(now) {
                check_request(&request, &session, &limits)?;
            }
        }
        check_drains(&mut session, &limits, now)?;
    }
}
