//! What a user does to a view or a session ([`Action`]), declared once for everyone who
//! speaks it: a client sends it in an `input` message (flat in JSON:
//! `{"action":"orbit","dx":6,"dy":-2}`), the server applies it to its session, the thin
//! client mirrors it on its copy of the view, and the desktop applies its own gestures as
//! the same actions. The render core says what each change of the view does
//! (`ViewState::apply`); here it is plain data.

use serde::{Deserialize, Serialize};

use crate::{Lighting, Preset, SharedView};

/// What an input does to the view or the session. Flat in JSON:
/// `{"action":"orbit","dx":6,"dy":-2}`.
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
    /// Shows the 3D view with a transfer function the reader is editing (the whole
    /// function, every change of it: a point dragged, added or removed), in place of the
    /// named preset's; `Preset` (a named one) or `Reset` goes back to a stored preset.
    Transfer {
        /// The transfer function, as a `presets/*.toml` file writes it.
        preset: Box<Preset>,
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
    /// Turns the slice planes of the 2×2 layout together about the crosshair, about the
    /// normal of `plane` (a drag of another plane's line in `plane`'s cell): the other two
    /// planes tilt (oblique, then double oblique), `plane`'s own picture stays.
    TurnPlanes {
        /// `axial`, `coronal` or `sagittal`: the cell the line was dragged in.
        plane: String,
        /// Counter-clockwise as that cell shows it (degrees, at most 360 either way).
        degrees: f64,
    },
    /// Back to the standard axial, coronal and sagittal planes (the crosshair stays).
    ResetPlanes,
    /// Thickens one slice cell's slice into a slab through the crosshair, on the standard
    /// and the turned planes alike (0 mm: a thin slice again).
    Slab {
        /// `axial`, `coronal` or `sagittal`: the cell.
        plane: String,
        /// Thickness (mm), 0 to 100.
        mm: f64,
        /// `mip` (maximum), `minip` (minimum) or `average` intensity.
        mode: String,
    },
    /// How the 3D view shows the series' segments: `with_volume` (coloured regions inside
    /// the volume rendering), `alone`, or `hidden`.
    #[serde(rename = "segments_3d")]
    Segments3d {
        /// `with_volume`, `alone` or `hidden`.
        show: String,
    },
    /// The 3D view's light: `direction` (`head`, a side of the patient such as
    /// `anterior` or `superior`, or a vector `[x, y, z]` in LPS towards the light), and
    /// whether it casts `shadows` and darkens hollows (`occlusion`). Flat in JSON:
    /// `{"action":"light","direction":"superior","shadows":true,"occlusion":false}`.
    Light(Lighting),
    /// Shows one volume of a series over time: its index (from 0) in `opened.volumes`.
    /// The picture changes; the camera, the slices and the window stay.
    TimePoint {
        /// The volume's index.
        index: usize,
    },
    /// Plays a series over time: the view steps to the next volume `fps` times a second,
    /// from the last back to the first; `fps` 0 stops it where it is.
    Cine {
        /// Volumes a second, 0 (stop) to the server's most.
        fps: f64,
    },
}

impl Action {
    /// Whether it is a step of a drag (orbit, pan, zoom, window, a turn of the planes):
    /// interactive frames follow these, and a WebRTC `input` channel carries them
    /// unordered and without retransmission, a lost one outrun by the next. The others
    /// are discrete: they go ordered and reliable (the WebSocket) and call for a final
    /// still at rest.
    pub fn is_drag_step(&self) -> bool {
        matches!(
            self,
            Self::Orbit { .. }
                | Self::Pan { .. }
                | Self::Zoom { .. }
                | Self::Window { .. }
                | Self::TurnPlanes { .. }
        )
    }

    /// Whether it changes the view alone (the camera, the grey window, the preset, the
    /// mode, a named view, the crop box, an edited transfer function, the slice planes' turn, a slab or the light), which the
    /// render core applies (`ViewState::apply`); the others act on the session: its
    /// reset, a whole view handed over, its size, an interaction, the layout, the slices,
    /// the crosshair, the volume of a series over time shown and its cine.
    pub fn changes_view(&self) -> bool {
        match self {
            Self::Orbit { .. }
            | Self::Pan { .. }
            | Self::Zoom { .. }
            | Self::Window { .. }
            | Self::Preset { .. }
            | Self::Transfer { .. }
            | Self::Mode { .. }
            | Self::View { .. }
            | Self::Crop { .. }
            | Self::TurnPlanes { .. }
            | Self::ResetPlanes
            | Self::Slab { .. }
            | Self::Segments3d { .. }
            | Self::Light(_) => true,
            Self::Reset
            | Self::SetView { .. }
            | Self::Resize { .. }
            | Self::Interact { .. }
            | Self::Layout { .. }
            | Self::Slice { .. }
            | Self::Crosshair { .. }
            | Self::TimePoint { .. }
            | Self::Cine { .. } => false,
        }
    }
}
