//! Session recordings: what a session showed over time, not its pixels. A recording is a
//! JSON Lines file in the server's recordings folder: a [`Header`] (the series, who, when,
//! the view and the findings at the start), then one [`Moment`] a line (a view the session
//! came to, a pointer or a finding told, the end). Kept with the server's state, listed per
//! series, played back by any client ([`playback`]) and rendered to a movie.
//!
//! Bounds, each enforced in one place: a recording stops itself at [`MAX_DURATION`],
//! [`MAX_MOMENTS`] or [`MAX_BYTES`] ([`recorder`]); a file is read only up to
//! [`MAX_BYTES`], its lines up to [`MAX_LINE_BYTES`], its findings shown at once up to a
//! series' ([`store`]); a playback applies at most [`playback::MOST_DUE_AT_ONCE`]
//! moments a turn.

pub mod playback;
pub mod recorder;
pub mod store;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use hounsfield_protocol::{FindingInfo, ServerMessage, SharedView};

/// The longest recording: one stops itself after this.
pub const MAX_DURATION: Duration = Duration::from_secs(2 * 3600);
/// The most moments a recording holds.
pub const MAX_MOMENTS: u64 = 200_000;
/// The largest recording file (bytes): written no larger, read no larger.
pub const MAX_BYTES: u64 = 32 << 20;
/// The longest line of a recording (a view with its planes, a finding with 512 points).
pub const MAX_LINE_BYTES: usize = 256 << 10;
/// The format this build writes and reads.
pub const FORMAT: u32 = 1;

/// A recording's first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: u32,
    /// Its id (32 hex digits: also its file's name).
    pub id: String,
    /// The series recorded.
    pub series: String,
    /// Who recorded it (empty on a server without sign-in).
    #[serde(default)]
    pub user: String,
    /// When it began: milliseconds since 1970 (UTC).
    pub started_ms: u64,
    /// The session's view when it began.
    pub view: SharedView,
    /// The series' findings when it began.
    #[serde(default)]
    pub findings: Vec<FindingInfo>,
}

/// One line after the header: what happened, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moment {
    /// Milliseconds from the recording's start.
    pub t_ms: u64,
    /// What happened.
    pub what: Happening,
}

/// What a moment records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Happening {
    /// The session's view changed to this.
    View {
        /// The view.
        view: Box<SharedView>,
    },
    /// A participant's pointer, or a finding drawn or deleted, as the session was told it
    /// (`pointer`, `shared_finding`, `shared_finding_deleted`; nothing else is played).
    Told {
        /// The message.
        message: Box<ServerMessage>,
    },
    /// The recording ended.
    End,
}

impl Happening {
    /// Whether a played recording may tell a client this: views, and the messages a
    /// recording keeps (a file's other lines are skipped, whoever wrote them).
    pub fn playable(&self) -> bool {
        match self {
            Self::View { .. } | Self::End => true,
            Self::Told { message } => matches!(
                **message,
                ServerMessage::Pointer { .. }
                    | ServerMessage::SharedFinding { .. }
                    | ServerMessage::SharedFindingDeleted { .. }
            ),
        }
    }
}

/// A recording read back: its header and moments, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The first line.
    pub header: Header,
    /// The moments, `t_ms` never decreasing.
    pub moments: Vec<Moment>,
}

impl Recording {
    /// How long it lasts (ms): its last moment's time.
    pub fn duration_ms(&self) -> u64 {
        self.moments.last().map_or(0, |moment| moment.t_ms)
    }

    /// The view at `at_ms`: the last view recorded at or before it, else the starting one.
    pub fn view_at(&self, at_ms: f64) -> &SharedView {
        self.moments
            .iter()
            .take_while(|moment| moment.t_ms as f64 <= at_ms)
            .filter_map(|moment| match &moment.what {
                Happening::View { view } => Some(view.as_ref()),
                _ => None,
            })
            .last()
            .unwrap_or(&self.header.view)
    }

    /// The findings at `at_ms`: those at the start, with what was drawn and deleted until
    /// then.
    pub fn findings_at(&self, at_ms: f64) -> Vec<FindingInfo> {
        // By id: each moment costs a look-up, not a pass over the findings so far.
        let mut findings: BTreeMap<u32, &FindingInfo> = self
            .header
            .findings
            .iter()
            .map(|finding| (finding.id, finding))
            .collect();
        for moment in self
            .moments
            .iter()
            .take_while(|moment| moment.t_ms as f64 <= at_ms)
        {
            if let Happening::Told { message } = &moment.what {
                match message.as_ref() {
                    ServerMessage::SharedFinding { finding, .. } => {
                        findings.insert(finding.id, finding);
                    }
                    ServerMessage::SharedFindingDeleted { id, .. } => {
                        findings.remove(id);
                    }
                    _ => {}
                }
            }
        }
        findings.into_values().cloned().collect()
    }
}

/// Whether `id` is a recording id: 32 lowercase hex digits (so it names a file in the
/// recordings folder and nothing else).
pub fn is_recording_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hounsfield_protocol::{Camera, FindingKind, Projection, SlicePlane};

    /// A view told apart by its preset's name.
    pub(crate) fn view(preset: &str) -> SharedView {
        SharedView {
            camera: Camera {
                focal_point: glam::DVec3::ZERO,
                direction: glam::DVec3::Y,
                up: glam::DVec3::NEG_Z,
                distance_mm: 500.0,
                scene_radius_mm: 200.0,
                zoom: 1.0,
                view_angle_deg: Camera::DEFAULT_VIEW_ANGLE_DEG,
                projection: Projection::Perspective,
            },
            preset: preset.to_string(),
            transfer: None,
            mode: hounsfield_protocol::RenderMode::default(),
            window: None,
            layout: hounsfield_protocol::Layout::default(),
            crosshair_lps: None,
            crop: None,
            slice_rotation: None,
            slabs: Default::default(),
            lighting: Default::default(),
            time_point: 0,
        }
    }

    /// A ruler numbered `id`.
    pub(crate) fn ruler(id: u32) -> FindingInfo {
        FindingInfo {
            id,
            kind: FindingKind::Ruler,
            cell: SlicePlane::Axial,
            points_lps: vec![[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]],
            axes: None,
            stats: None,
            values: Vec::new(),
            curve: None,
            length_mm: Some(10.0),
            angle_deg: None,
            note: String::new(),
            author: "rita".to_string(),
        }
    }

    /// A recording starting on `ct-bone`: `ct-lung` at 100 ms, a pointer at 200, a
    /// ruler drawn at 500, `ct-soft` at 600, the ruler deleted at 900, the end at 1000.
    pub(crate) fn recording() -> Recording {
        let told = |message: ServerMessage| Happening::Told {
            message: Box::new(message),
        };
        let at = |t_ms: u64, what: Happening| Moment { t_ms, what };
        Recording {
            header: Header {
                format: FORMAT,
                id: "0123456789abcdef0123456789abcdef".to_string(),
                series: "phantom".to_string(),
                user: "rita".to_string(),
                started_ms: 1,
                view: view("ct-bone"),
                findings: Vec::new(),
            },
            moments: vec![
                at(
                    100,
                    Happening::View {
                        view: Box::new(view("ct-lung")),
                    },
                ),
                at(
                    200,
                    told(ServerMessage::Pointer {
                        session: 1,
                        name: "rita".into(),
                        colour: "#ff6b6b".into(),
                        cell: Some("3d".into()),
                        x: Some(0.5),
                        y: Some(0.5),
                    }),
                ),
                at(
                    500,
                    told(ServerMessage::SharedFinding {
                        session: 1,
                        name: "rita".into(),
                        finding: ruler(1),
                    }),
                ),
                at(
                    600,
                    Happening::View {
                        view: Box::new(view("ct-soft")),
                    },
                ),
                at(
                    900,
                    told(ServerMessage::SharedFindingDeleted {
                        session: 1,
                        name: "rita".into(),
                        id: 1,
                    }),
                ),
                at(1000, Happening::End),
            ],
        }
    }

    #[test]
    fn only_32_lowercase_hex_digits_name_a_recording() {
        assert!(is_recording_id("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef/123456789abcdef",
        ] {
            assert!(!is_recording_id(bad), "{bad}");
        }
    }

    #[test]
    fn only_pointers_and_findings_are_played_of_what_was_told() {
        let told = |message: ServerMessage| Happening::Told {
            message: Box::new(message),
        };
        assert!(told(ServerMessage::ControlRefused).playable().eq(&false));
        assert!(
            told(ServerMessage::SharedFindingDeleted {
                session: 1,
                name: "rita".into(),
                id: 3
            })
            .playable()
        );
        assert!(Happening::End.playable());
    }
}
