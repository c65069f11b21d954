//! What a client sends: the [`ClientMessage`]s, and the user actions an `input` carries.

use serde::{Deserialize, Serialize};

use crate::{
    Action, CalciumRequest, Codec, FindingRequest, MovieOrder, PlaybackAction, SegmentEdit,
    SegmentPreview, SegmentRequest, StudyRequest, TransportKind,
};

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
    /// Opens a study as the site's hanging protocols lay it out: `hanging` (when one
    /// applies) names each cell's series, then the first cell's series opens as `open`
    /// opens it; without a protocol, the study's first volume series opens.
    OpenStudy {
        /// A study id from `studies`.
        study: String,
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
    /// Creates, redraws or deletes a finding on a slice cell of the open series
    /// (`finding` or `finding_deleted` reply; a session opening the series later is told
    /// it in `findings`).
    Finding(FindingRequest),
    /// Saves the open series' findings as a Measurement Report where the study lives
    /// (`saved` reply); a viewer's is refused.
    SaveFindings,
    /// Scores the open CT's coronary calcium, in a region and with lesions named by
    /// artery regions when given (`calcium` reply).
    Calcium(CalciumRequest),
    /// Adds, describes or deletes a segment of the open series (`segment` or
    /// `segment_deleted` reply); a viewer's is refused.
    Segment(SegmentRequest),
    /// Applies one tool to a segment (`segment` reply, with its new numbers).
    SegmentEdit(SegmentEdit),
    /// Takes a segment's last edit back, or with `redo` makes the last one taken back
    /// again (`segment` reply).
    SegmentUndo {
        /// The segment.
        id: u32,
        /// Redo instead of undo.
        #[serde(default)]
        redo: bool,
    },
    /// Shows over this session's slice cells the voxels a threshold would take (no
    /// reply; nothing is edited), or takes the preview away.
    SegmentPreview(SegmentPreview),
    /// Asks for every segment of the open series with its numbers (`segments` reply).
    Segments,
    /// Saves the open series' segments as a DICOM Segmentation where the study lives
    /// (`saved` reply); a viewer's is refused.
    SaveSegments,
    /// Asks for the DICOM Segmentations saved on the open series where its study lives
    /// (its PACS, or the server's findings folder), newest first (`segmentations` reply).
    Segmentations,
    /// Adds the segments of a saved Segmentation (one the last `segmentations` listed) to
    /// the open series' own, read onto its grid (`segments` reply); a viewer's is refused.
    LoadSegmentation {
        /// Its SOP Instance UID.
        sop_instance_uid: String,
    },
    /// Runs the server's segmentation model (`--model`) on the open series: `model_progress`
    /// as it goes, then a `segment` for each class it found and `segments`; a viewer's is
    /// refused, and one run at a time on a server.
    RunModel,
    /// Stops the model's run this session started (`model_progress`, `stopped`).
    StopModel,
    /// Marks the stored image a slice cell shows now as a key image: a Key Object
    /// Selection document where the study lives (`saved` reply); a viewer's is refused.
    KeyImage {
        /// `axial`, `coronal` or `sagittal`: its slice must be one of the series' images.
        cell: String,
        /// What the radiologist says of it (the document's description).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Stores the 3D view as it is now as a Secondary Capture image where the study lives
    /// (`saved` reply, after a lossless still is drawn); a viewer's is refused.
    Snapshot {
        /// What the radiologist says of it (added to the image's comments).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Where this participant's pointer is in a shared session: relayed as `pointer` to
    /// the session's other participants (no reply; ignored outside a shared session).
    Pointer {
        /// `3d`, `axial`, `coronal` or `sagittal`; null when the pointer left the picture.
        #[serde(default)]
        cell: Option<String>,
        /// Fraction of the cell from its left (0..=1), with a cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x: Option<f64>,
        /// Fraction of the cell from its top (0..=1), with a cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y: Option<f64>,
    },
    /// A follower of a shared session asks its host for the controls (`control_requested`
    /// to the host; `control` to everyone when granted, `control_refused` when not).
    RequestControl,
    /// The host hands the controls to a follower who asked: its inputs steer the shared
    /// view until the host takes them back.
    GrantControl {
        /// The follower's session number (from `control_requested`).
        session: u64,
    },
    /// The host says no to a follower who asked for the controls.
    RefuseControl {
        /// The follower's session number (from `control_requested`).
        session: u64,
    },
    /// The controls go back to the host: sent by the host (taking them back) or by the
    /// follower who holds them (giving them back).
    RevokeControl,
    /// Starts recording this session (its views, pointers and findings over time, not
    /// its pixels): `recording` replies.
    StartRecording,
    /// Stops the recording this session makes and keeps it: `recording` replies.
    StopRecording,
    /// Lists the kept recordings of a series: `recordings` replies.
    ListRecordings {
        /// The series; default: the one open.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
    },
    /// Opens a recording's series and plays the recording: `opened`, then
    /// `playback_state` as it plays.
    PlayRecording {
        /// The recording's id (from `recordings`).
        id: String,
    },
    /// Steers the recording playing: play, pause or seek.
    Playback {
        /// What to do.
        action: PlaybackAction,
        /// Where to go (ms from the recording's start), for `seek`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<f64>,
        /// How fast to play (0.25 to 8; 1 is as recorded), for `play`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speed: Option<f64>,
    },
    /// Asks the server for an MP4 of the series open: `movie_progress` as its frames are
    /// drawn, then `movie_ready` (where to download it) or `movie_failed`.
    ExportMovie(MovieOrder),
    /// Asks for the transfer function the 3D view shows now, with the open volume's
    /// histogram to edit it against (`transfer_function` reply); a change of it is sent
    /// as the `transfer` action.
    TransferFunction {
        /// Bins of the histogram, 1 to [`crate::MOST_HISTOGRAM_BINS`] (256 when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bins: Option<usize>,
    },
    /// Saves a transfer function as a preset of the server's (its presets folder):
    /// offered to every session opened from then on (`preset_saved` reply); an
    /// administrator's only.
    SavePreset {
        /// The preset, as the `transfer` action takes it.
        preset: Box<crate::Preset>,
    },
    /// Draws a second series over the open one's slice cells, restyles it, or takes it
    /// away (`over` reply).
    Over(crate::OverRequest),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Layout, ServerMessage, SlicePlane, parse_client_message};

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
    fn a_set_view_names_its_mode_in_any_case_and_an_unknown_one_is_refused_by_name() {
        let camera = serde_json::json!({
            "focal_point": [0.0, 0.0, 0.0], "direction": [0.0, 1.0, 0.0], "up": [0.0, 0.0, 1.0],
            "distance_mm": 500.0, "scene_radius_mm": 200.0, "zoom": 1.0,
            "view_angle_deg": 30.0, "projection": "perspective"
        });
        let set_view = |mode: &str| {
            let message = serde_json::json!({
                "type": "input", "seq": 1, "action": "set_view",
                "view": {"camera": camera, "preset": "ct-bone", "mode": mode}
            });
            parse_client_message(&message.to_string())
        };
        let Ok(ClientMessage::Input(input)) = set_view("MIP") else {
            panic!("{:?}", set_view("MIP"));
        };
        let Action::SetView { view } = input.action else {
            panic!("{:?}", input.action);
        };
        assert_eq!(view.mode, crate::RenderMode::Mip);
        let refusal = set_view("xray").expect_err("an unknown mode is refused");
        assert_eq!(refusal.code, crate::ErrorCode::BadMessage);
        assert!(
            refusal.message.contains("unknown mode \"xray\""),
            "{}",
            refusal.message
        );
    }
}
