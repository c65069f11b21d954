//! One client's view: applies its inputs to a [`ViewState`], limits their rate, and
//! decides what to render next: interactive frames while the user drags (JPEG, or H.264
//! at the [`RateControl`]'s bitrate when the session streams video), then a
//! full-resolution final still (JPEG or PNG, never video) once the drag ends or input
//! pauses for [`IDLE_FOR_FINAL`]. No I/O here: the connection feeds it messages and the
//! clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::DVec3;
use render_core::Volume;
use render_core::Window;
use render_core::camera::NamedView;
use render_core::transfer::{PresetLibrary, RenderMode};
use render_core::view::{Quality, ViewState, layout};

use crate::server::compose;
use crate::server::encode::{Encoding, FINAL_JPEG_QUALITY, INTERACTIVE_JPEG_QUALITY};
use crate::protocol::{
    Action, ClientStats, Codec, CrosshairInCells, ErrorCode, Input, Layout, Opened, SharedView,
    SlicePlane, Viewport, WindowInfo,
};
use crate::server::rate::RateControl;
use crate::server::scheduler::RenderRequest;

/// Input pause after which the view counts as at rest and gets a final still.
pub const IDLE_FOR_FINAL: Duration = Duration::from_millis(150);
/// Smallest viewport side accepted (pixels).
pub const MIN_VIEWPORT: u32 = 16;

/// A refused request: the code and message of the `error` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Limits on what a session may ask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLimits {
    /// Inputs accepted per second, sustained.
    pub inputs_per_s: f64,
    /// Inputs accepted in a burst above the sustained rate.
    pub input_burst: f64,
    /// Largest viewport side (pixels).
    pub max_viewport: u32,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            inputs_per_s: 240.0,
            input_burst: 120.0,
            max_viewport: 4096,
        }
    }
}

/// A token bucket: `capacity` tokens, refilled at `per_s`.
#[derive(Debug, Clone)]
struct RateLimiter {
    capacity: f64,
    per_s: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    fn new(per_s: f64, capacity: f64, now: Instant) -> Self {
        Self {
            capacity: capacity.max(1.0),
            per_s: per_s.max(0.0),
            tokens: capacity.max(1.0),
            last: now,
        }
    }

    /// Takes a token if there is one.
    fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_s).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the view needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Nothing changed.
    Nothing,
    /// Changed during interaction: an interactive frame.
    Interactive,
    /// Changed at rest (or a still was asked for): a final still.
    Final,
}

/// How a session that streams H.264 encodes its interactive frames.
#[derive(Debug, Clone)]
struct VideoPlan {
    rate: RateControl,
    /// The next H.264 frame must be a keyframe (the client asked).
    keyframe_due: bool,
}

/// The open series and its view.
struct OpenSeries {
    id: String,
    volume: Arc<Volume>,
    initial: ViewState,
    view: ViewState,
    /// The point the slices of the 2×2 layout pass through (LPS, mm).
    crosshair_lps: DVec3,
}

/// One client's view and its render decisions.
pub struct Session {
    limits: SessionLimits,
    presets: PresetLibrary,
    open: Option<OpenSeries>,
    size: [u32; 2],
    /// 3D alone or two by two; kept when another series opens.
    layout: Layout,
    interacting: bool,
    last_input: Option<Instant>,
    input_seq: u32,
    input_t: f64,
    pending: Pending,
    /// An interactive frame was shown: a final still must follow.
    final_owed: bool,
    lossless: bool,
    /// The next request is the first of the series opened.
    preview_due: bool,
    /// Set while interactive frames are H.264.
    video: Option<VideoPlan>,
    limiter: RateLimiter,
}

impl Session {
    /// A session with a viewport and no series open.
    pub fn new(
        limits: SessionLimits,
        presets: PresetLibrary,
        viewport: Viewport,
        now: Instant,
    ) -> Self {
        let mut session = Self {
            limits,
            presets,
            open: None,
            size: [0, 0],
            layout: Layout::Single,
            interacting: false,
            last_input: None,
            input_seq: 0,
            input_t: 0.0,
            pending: Pending::Nothing,
            final_owed: false,
            lossless: false,
            preview_due: false,
            video: None,
            limiter: RateLimiter::new(limits.inputs_per_s, limits.input_burst, now),
        };
        session.size = session.clamp_viewport(viewport);
        session
    }

    /// The frame size (pixels).
    pub fn viewport(&self) -> Viewport {
        Viewport {
            width: self.size[0],
            height: self.size[1],
        }
    }

    /// Sets the frame size (from `hello`), clamped to the limits (even sides while the
    /// session streams H.264).
    pub fn set_viewport(&mut self, viewport: Viewport) {
        self.set_size(self.clamp_viewport(viewport));
        self.mark(Pending::Final);
    }

    /// Interactive frames as H.264 (`true`) or JPEG. With H.264 the frame size is rounded
    /// down to even sides, which the encoder needs.
    pub fn stream_video(&mut self, on: bool) {
        self.video = on.then(|| VideoPlan {
            rate: RateControl::new(self.size),
            keyframe_due: false,
        });
        self.set_size(self.size);
    }

    /// The codec of interactive frames.
    pub fn codec(&self) -> Codec {
        if self.video.is_some() {
            Codec::H264
        } else {
            Codec::Jpeg
        }
    }

    /// The H.264 bitrate aimed at now (kbit/s), while streaming video.
    pub fn bitrate_kbps(&self) -> Option<u32> {
        self.video.as_ref().map(|video| video.rate.target_kbps())
    }

    /// Asks for a frame decodable on its own: an H.264 keyframe of the current view while
    /// the user interacts, else a final still (every still is a keyframe).
    pub fn keyframe(&mut self) -> Result<(), Refusal> {
        if self.open.is_none() {
            return Err(not_open());
        }
        if let Some(video) = &mut self.video {
            video.keyframe_due = true;
        }
        self.mark(if self.interacting {
            Pending::Interactive
        } else {
            Pending::Final
        });
        Ok(())
    }

    /// Takes the client's report on its decoding; the H.264 bitrate follows it.
    pub fn client_stats(&mut self, stats: &ClientStats, now: Instant) -> Result<(), Refusal> {
        if let Some(latency) = stats.latency_ms
            && !(latency.is_finite() && (0.0..=600_000.0).contains(&latency))
        {
            return Err(bad_value(format!(
                "stats latency_ms {latency}: must be 0..=600000"
            )));
        }
        if let Some(video) = &mut self.video {
            video.rate.on_report(stats, now);
        }
        Ok(())
    }

    /// Sets the frame size, even while streaming video, and tells the rate control.
    fn set_size(&mut self, size: [u32; 2]) {
        self.size = match &mut self.video {
            Some(video) => {
                let even = size.map(|side| side & !1);
                video.rate.resize(even);
                even
            }
            None => size,
        };
    }

    /// The highest input seq applied and its client clock.
    pub fn last_input(&self) -> (u32, f64) {
        (self.input_seq, self.input_t)
    }

    /// The current view, when a series is open.
    pub fn view(&self) -> Option<&ViewState> {
        self.open.as_ref().map(|open| &open.view)
    }

    /// How frames are divided: 3D alone or two by two.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The point the slices pass through (LPS, mm), when a series is open.
    pub fn crosshair_lps(&self) -> Option<DVec3> {
        self.open.as_ref().map(|open| open.crosshair_lps)
    }

    /// Where the crosshair shows in the slice cells of the 2×2 layout at this session's
    /// size, when a series is open.
    pub fn crosshair_in_cells(&self) -> Option<CrosshairInCells> {
        let open = self.open.as_ref()?;
        Some(compose::crosshair_in_cells(
            &open.volume,
            open.crosshair_lps,
            self.size,
        ))
    }

    /// The view as it travels (`opened.view`, `set_view`), when a series is open.
    pub fn shared_view(&self) -> Option<SharedView> {
        self.open.as_ref().map(|open| SharedView {
            layout: self.layout,
            crosshair_lps: Some(open.crosshair_lps),
            ..SharedView::of(&open.view)
        })
    }

    /// Opens `volume` as series `id` with its modality's default preset; the first frame
    /// is a final still (its request marked `preview`: see [`RenderRequest::preview`]).
    pub fn open(&mut self, id: &str, volume: Arc<Volume>) -> Opened {
        let preset = self.presets.default_for(&volume.modality);
        let view = ViewState::initial(&volume, &preset.name, preset.mode);
        let opened = Opened {
            series: id.to_string(),
            dims: volume.dims,
            spacing_mm: volume.spacing_mm,
            modality: volume.modality.code().to_string(),
            window: volume.default_window.map(|w| WindowInfo {
                width: w.width,
                center: w.center,
            }),
            presets: self
                .presets
                .names()
                .iter()
                .map(ToString::to_string)
                .collect(),
            preset: preset.name.clone(),
            modes: RenderMode::ALL
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
            mode: preset.mode.name().to_string(),
            view: Some(SharedView {
                layout: self.layout,
                crosshair_lps: Some(volume.centre_lps()),
                ..SharedView::of(&view)
            }),
        };
        self.open = Some(OpenSeries {
            id: id.to_string(),
            crosshair_lps: volume.centre_lps(),
            volume,
            initial: view.clone(),
            view,
        });
        self.final_owed = false;
        self.preview_due = true;
        self.pending = Pending::Final;
        opened
    }

    /// The open series' id.
    pub fn series(&self) -> Option<&str> {
        self.open.as_ref().map(|open| open.id.as_str())
    }

    /// Applies one input at `now`; a refused input changes nothing.
    pub fn apply(&mut self, input: &Input, now: Instant) -> Result<(), Refusal> {
        if !self.limiter.allow(now) {
            return Err(Refusal::new(
                ErrorCode::RateLimited,
                format!(
                    "more than {} inputs a second: input {} dropped",
                    self.limits.inputs_per_s, input.seq
                ),
            ));
        }
        let change = self.change_view(&input.action)?;
        if input.seq > self.input_seq {
            self.input_seq = input.seq;
            self.input_t = if input.t.is_finite() { input.t } else { 0.0 };
        }
        self.last_input = Some(now);
        self.mark(change);
        Ok(())
    }

    /// Adopts a shared session's host view at `now`: frames follow as after a viewer's own
    /// input (interactive while it keeps changing, a final still when it rests).
    pub fn follow(&mut self, shared: &SharedView, now: Instant) -> Result<(), Refusal> {
        self.adopt(shared)?;
        self.last_input = Some(now);
        self.mark(Pending::Interactive);
        Ok(())
    }

    /// Asks for a final still now; `lossless` also becomes the kind of later stills.
    pub fn still(&mut self, lossless: bool) -> Result<(), Refusal> {
        if self.open.is_none() {
            return Err(not_open());
        }
        self.lossless = lossless;
        self.pending = Pending::Final;
        Ok(())
    }

    /// The render request due at `now`, if any; taking it clears what was due.
    pub fn next_request(&mut self, now: Instant) -> Option<RenderRequest> {
        let open = self.open.as_ref()?;
        let idle = self
            .last_input
            .is_none_or(|at| now.saturating_duration_since(at) >= IDLE_FOR_FINAL);
        let final_still = match self.pending {
            Pending::Final => true,
            Pending::Interactive => false,
            // Owed after interactive frames: due once input pauses (the end of a drag asks
            // for it at once through `interact`).
            Pending::Nothing if self.final_owed && idle => true,
            Pending::Nothing => return None,
        };
        let mut view = open.view.clone();
        let encoding = if final_still {
            view.quality = Quality::Full;
            if self.lossless {
                Encoding::Png
            } else {
                Encoding::Jpeg {
                    quality: FINAL_JPEG_QUALITY,
                }
            }
        } else {
            view.quality = Quality::Interactive;
            match &mut self.video {
                Some(video) => Encoding::H264 {
                    keyframe: std::mem::take(&mut video.keyframe_due),
                    bitrate_kbps: video.rate.target_kbps(),
                },
                None => Encoding::Jpeg {
                    quality: INTERACTIVE_JPEG_QUALITY,
                },
            }
        };
        self.pending = Pending::Nothing;
        self.final_owed = !final_still;
        let preview = std::mem::take(&mut self.preview_due);
        Some(RenderRequest {
            volume: open.volume.clone(),
            view,
            size: self.size,
            layout: self.layout,
            crosshair_lps: open.crosshair_lps,
            input_seq: self.input_seq,
            final_still,
            encoding,
            preview,
        })
    }

    /// When the next request falls due without new input (the final still after a pause).
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.final_owed && self.pending == Pending::Nothing && self.open.is_some() {
            self.last_input.map(|at| at + IDLE_FOR_FINAL)
        } else {
            None
        }
    }

    fn mark(&mut self, change: Pending) {
        self.pending = match (self.pending, change) {
            (Pending::Final, _) | (_, Pending::Final) => Pending::Final,
            (Pending::Interactive, _) | (_, Pending::Interactive) => Pending::Interactive,
            _ => Pending::Nothing,
        };
    }

    /// Changes the view as `action` says; what kind of frame that calls for.
    fn change_view(&mut self, action: &Action) -> Result<Pending, Refusal> {
        // While interacting, even discrete changes get interactive frames.
        let at_rest = |interacting: bool| {
            if interacting {
                Pending::Interactive
            } else {
                Pending::Final
            }
        };
        match action {
            Action::Interact { active } => {
                self.interacting = *active;
                // The end of a drag owes its final still now, not after the pause.
                if !*active && self.final_owed {
                    return Ok(Pending::Final);
                }
                return Ok(Pending::Nothing);
            }
            Action::Resize { width, height } => {
                let max = self.limits.max_viewport;
                if !(MIN_VIEWPORT..=max).contains(width) || !(MIN_VIEWPORT..=max).contains(height) {
                    return Err(bad_value(format!(
                        "resize {width}×{height}: each side must be {MIN_VIEWPORT}..={max} pixels"
                    )));
                }
                self.set_size([*width, *height]);
                return Ok(at_rest(self.interacting));
            }
            Action::SetView { view: shared } => {
                self.adopt(shared)?;
                return Ok(at_rest(self.interacting));
            }
            Action::Layout { name } => {
                self.layout = Layout::from_name(name).ok_or_else(|| {
                    bad_value(format!(
                        "layout name \"{}\": must be 1x1 or 2x2",
                        clip(name)
                    ))
                })?;
                return Ok(at_rest(self.interacting));
            }
            _ => {}
        }
        let interacting = self.interacting;
        let size = self.size;
        let open = self.open.as_mut().ok_or_else(not_open)?;
        let view = &mut open.view;
        match action {
            Action::Orbit { dx, dy } => {
                check_finite_within("orbit dx, dy (degrees)", &[*dx, *dy], 360.0)?;
                view.camera.orbit(*dx, *dy);
                Ok(Pending::Interactive)
            }
            Action::Pan { dx, dy } => {
                check_finite_within("pan dx, dy (view heights)", &[*dx, *dy], 10.0)?;
                view.camera.pan(*dx, *dy);
                Ok(Pending::Interactive)
            }
            Action::Zoom { factor } => {
                if !factor.is_finite() || *factor < 0.01 || *factor > 100.0 {
                    return Err(bad_value(format!(
                        "zoom factor {factor}: must be 0.01..=100"
                    )));
                }
                view.camera.zoom_by(*factor);
                Ok(Pending::Interactive)
            }
            Action::Window { width, center } => {
                if !width.is_finite() || !center.is_finite() || *width <= 0.0 {
                    return Err(bad_value(format!(
                        "window {width}, {center}: the width must be positive and both finite"
                    )));
                }
                view.window = Some(Window {
                    width: *width,
                    center: *center,
                });
                Ok(Pending::Interactive)
            }
            Action::Preset { name } => {
                let preset = self.presets.get(name).ok_or_else(|| {
                    bad_value(format!(
                        "unknown preset \"{}\" (known: {})",
                        clip(name),
                        self.presets.names().join(", ")
                    ))
                })?;
                view.preset = preset.name.clone();
                view.mode = preset.mode;
                Ok(at_rest(interacting))
            }
            Action::Mode { mode } => {
                view.mode = RenderMode::from_name(mode).ok_or_else(|| {
                    bad_value(format!(
                        "unknown mode \"{}\" (known: composite, mip, minip, average)",
                        clip(mode)
                    ))
                })?;
                Ok(at_rest(interacting))
            }
            Action::View { name } => {
                let named = NamedView::from_name(name).ok_or_else(|| {
                    bad_value(format!(
                        "unknown view \"{}\" (known: anterior, posterior, left, right, superior, inferior)",
                        clip(name)
                    ))
                })?;
                view.camera.set_view(named);
                Ok(at_rest(interacting))
            }
            Action::Reset => {
                open.view = open.initial.clone();
                open.crosshair_lps = open.volume.centre_lps();
                Ok(at_rest(interacting))
            }
            Action::Slice { plane, delta_mm } => {
                let plane = slice_plane("slice", plane)?;
                check_finite_within("slice delta_mm", &[*delta_mm], 1.0e4)?;
                let moved = open.crosshair_lps + plane.normal() * *delta_mm;
                open.crosshair_lps = layout::clamp_to_volume(&open.volume, moved);
                Ok(Pending::Interactive)
            }
            Action::Crosshair { plane, x, y } => {
                let plane = slice_plane("crosshair", plane)?;
                for (field, value) in [("x", x), ("y", y)] {
                    if !(value.is_finite() && (0.0..=1.0).contains(value)) {
                        return Err(bad_value(format!(
                            "crosshair {field} {value}: must be a fraction 0..=1 of the cell"
                        )));
                    }
                }
                let point =
                    layout::lps_in_cell(&open.volume, plane, open.crosshair_lps, size, *x, *y);
                open.crosshair_lps = layout::clamp_to_volume(&open.volume, point);
                Ok(at_rest(interacting))
            }
            Action::Interact { .. }
            | Action::Resize { .. }
            | Action::SetView { .. }
            | Action::Layout { .. } => Ok(Pending::Nothing),
        }
    }

    /// Adopts `shared` as the open view, its layout and crosshair; nothing changes when a
    /// field is refused.
    fn adopt(&mut self, shared: &SharedView) -> Result<(), Refusal> {
        let (view, crosshair_lps) = self.adopted_view(shared)?;
        self.layout = shared.layout;
        if let Some(open) = self.open.as_mut() {
            open.view = view;
            open.crosshair_lps = crosshair_lps;
        }
        Ok(())
    }

    /// The open view and crosshair changed to `shared`, after checking every field; the
    /// scene radius stays the server's own, a crosshair is moved into the volume, and a
    /// view without one keeps the current crosshair.
    fn adopted_view(&self, shared: &SharedView) -> Result<(ViewState, DVec3), Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let crosshair_lps = match shared.crosshair_lps {
            Some(point) => {
                check_finite_within("set_view crosshair_lps (mm)", &point.to_array(), 1.0e5)?;
                layout::clamp_to_volume(&open.volume, point)
            }
            None => open.crosshair_lps,
        };
        let camera = &shared.camera;
        let vectors = [camera.focal_point, camera.direction, camera.up];
        let components: Vec<f64> = vectors.iter().flat_map(|v| v.to_array()).collect();
        check_finite_within("set_view camera vectors (mm)", &components, 1.0e5)?;
        let unit = |v: glam::DVec3| (v.length() - 1.0).abs() < 1e-3;
        if !unit(camera.direction)
            || !unit(camera.up)
            || camera.direction.dot(camera.up).abs() > 1e-3
        {
            return Err(bad_value(
                "set_view camera: direction and up must be orthogonal unit vectors".to_string(),
            ));
        }
        let positive = |x: f64, max: f64| x.is_finite() && x > 0.0 && x <= max;
        if !positive(camera.distance_mm, 1.0e6)
            || !positive(camera.zoom, 100.0)
            || !positive(camera.view_angle_deg, 179.0)
        {
            return Err(bad_value(format!(
                "set_view camera: distance_mm {}, zoom {} and view_angle_deg {} must be positive and finite",
                camera.distance_mm, camera.zoom, camera.view_angle_deg
            )));
        }
        let preset = self.presets.get(&shared.preset).ok_or_else(|| {
            bad_value(format!(
                "set_view: unknown preset \"{}\" (known: {})",
                clip(&shared.preset),
                self.presets.names().join(", ")
            ))
        })?;
        let mode = RenderMode::from_name(&shared.mode).ok_or_else(|| {
            bad_value(format!(
                "set_view: unknown mode \"{}\" (known: composite, mip, minip, average)",
                clip(&shared.mode)
            ))
        })?;
        let window = match shared.window {
            Some(w) if !w.width.is_finite() || !w.center.is_finite() || w.width <= 0.0 => {
                return Err(bad_value(format!(
                    "set_view window {}, {}: the width must be positive and both finite",
                    w.width, w.center
                )));
            }
            Some(w) => Some(Window {
                width: w.width,
                center: w.center,
            }),
            None => None,
        };
        let mut view = open.view.clone();
        view.camera = render_core::camera::Camera {
            scene_radius_mm: view.camera.scene_radius_mm,
            ..*camera
        };
        view.preset = preset.name.clone();
        view.mode = mode;
        view.window = window;
        Ok((view, crosshair_lps))
    }

    fn clamp_viewport(&self, viewport: Viewport) -> [u32; 2] {
        let max = self.limits.max_viewport.max(MIN_VIEWPORT);
        [
            viewport.width.clamp(MIN_VIEWPORT, max),
            viewport.height.clamp(MIN_VIEWPORT, max),
        ]
    }
}

fn not_open() -> Refusal {
    Refusal::new(ErrorCode::NotOpen, "open a series first (see list_studies)")
}

fn bad_value(message: String) -> Refusal {
    Refusal::new(ErrorCode::BadValue, message)
}

/// The plane `name` names, or a refusal of `action`'s `plane` field.
fn slice_plane(action: &str, name: &str) -> Result<SlicePlane, Refusal> {
    SlicePlane::from_name(name).ok_or_else(|| {
        bad_value(format!(
            "{action} plane \"{}\": must be axial, coronal or sagittal",
            clip(name)
        ))
    })
}

fn check_finite_within(what: &str, values: &[f64], limit: f64) -> Result<(), Refusal> {
    if values.iter().all(|v| v.is_finite() && v.abs() <= limit) {
        Ok(())
    } else {
        Err(bad_value(format!(
            "{what}: {values:?} must be finite and within ±{limit}"
        )))
    }
}

/// A client string cut short for echoing in a message.
fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEWPORT: Viewport = Viewport {
        width: 64,
        height: 48,
    };

    fn opened_session(now: Instant) -> Session {
        let mut session = Session::new(
            SessionLimits::default(),
            PresetLibrary::builtin(),
            VIEWPORT,
            now,
        );
        session.open("phantom", Arc::new(render_core::phantom::ct_phantom()));
        session
    }

    fn input(seq: u32, action: Action) -> Input {
        Input {
            seq,
            t: f64::from(seq) * 10.0,
            action,
        }
    }

    #[test]
    fn opening_gives_a_final_still_at_the_viewport_size() {
        let now = Instant::now();
        let mut session = opened_session(now);
        let request = session.next_request(now).expect("a first frame");
        assert!(request.final_still);
        assert!(request.preview, "the first request may be previewed");
        assert_eq!(request.view.quality, Quality::Full);
        assert_eq!(request.size, [64, 48]);
        assert!(session.next_request(now).is_none(), "nothing more is due");
        session.still(false).expect("open");
        assert!(!session.next_request(now).expect("a still").preview);
    }

    #[test]
    fn a_drag_gives_interactive_frames_then_a_final_still_when_it_ends() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.next_request(now);
        let active = input(1, Action::Interact { active: true });
        session.apply(&active, now).expect("accepted");
        assert!(
            session.next_request(now).is_none(),
            "interact alone changes nothing"
        );
        session
            .apply(&input(2, Action::Orbit { dx: 5.0, dy: 0.0 }), now)
            .expect("accepted");
        session
            .apply(&input(3, Action::Orbit { dx: 5.0, dy: 1.0 }), now)
            .expect("accepted");
        let frame = session.next_request(now).expect("an interactive frame");
        assert!(!frame.final_still);
        assert_eq!(frame.view.quality, Quality::Interactive);
        assert_eq!(
            frame.encoding,
            Encoding::Jpeg {
                quality: INTERACTIVE_JPEG_QUALITY
            }
        );
        assert_eq!(frame.input_seq, 3, "both orbits are in the frame");
        let end = input(4, Action::Interact { active: false });
        session.apply(&end, now).expect("accepted");
        let last = session.next_request(now).expect("the final still");
        assert!(last.final_still && last.input_seq == 4);
        assert_eq!(last.view.quality, Quality::Full);
        assert!(session.next_request(now + IDLE_FOR_FINAL * 2).is_none());
    }

    #[test]
    fn a_pause_in_input_gives_the_final_still() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.next_request(now);
        session
            .apply(&input(1, Action::Zoom { factor: 1.1 }), now)
            .expect("accepted");
        assert!(!session.next_request(now).expect("interactive").final_still);
        assert!(
            session
                .next_request(now + Duration::from_millis(50))
                .is_none()
        );
        assert_eq!(session.next_deadline(), Some(now + IDLE_FOR_FINAL));
        let later = now + IDLE_FOR_FINAL;
        let still = session.next_request(later).expect("the final still");
        assert!(still.final_still);
        assert_eq!(session.next_deadline(), None);
    }

    #[test]
    fn a_video_session_sends_h264_while_dragging_and_jpeg_stills_at_rest() {
        let now = Instant::now();
        let mut session = Session::new(
            SessionLimits::default(),
            PresetLibrary::builtin(),
            Viewport {
                width: 65,
                height: 49,
            },
            now,
        );
        assert_eq!(session.codec(), Codec::Jpeg);
        session.stream_video(true);
        assert_eq!(session.codec(), Codec::H264);
        assert_eq!(session.viewport(), VIEWPORT, "sides rounded down to even");
        session.open("phantom", Arc::new(render_core::phantom::ct_phantom()));
        let first = session.next_request(now).expect("the first still");
        assert_eq!(first.encoding, Encoding::Jpeg { quality: 95 });
        let kbps = session.bitrate_kbps().expect("streaming");
        session
            .apply(&input(1, Action::Interact { active: true }), now)
            .expect("accepted");
        session
            .apply(&input(2, Action::Orbit { dx: 3.0, dy: 0.0 }), now)
            .expect("accepted");
        let moving = session.next_request(now).expect("an interactive frame");
        assert_eq!(
            moving.encoding,
            Encoding::H264 {
                keyframe: false,
                bitrate_kbps: kbps
            }
        );
        session.keyframe().expect("open");
        let key = session.next_request(now).expect("a frame at once");
        assert!(!key.final_still);
        assert!(matches!(
            key.encoding,
            Encoding::H264 { keyframe: true, .. }
        ));
        session
            .apply(
                &input(
                    3,
                    Action::Resize {
                        width: 101,
                        height: 77,
                    },
                ),
                now,
            )
            .expect("accepted");
        let resized = session.next_request(now).expect("a frame");
        assert_eq!(resized.size, [100, 76]);
        assert!(matches!(
            resized.encoding,
            Encoding::H264 {
                keyframe: false,
                ..
            }
        ));
        session
            .apply(&input(4, Action::Interact { active: false }), now)
            .expect("accepted");
        let still = session.next_request(now).expect("the final still");
        assert!(still.final_still);
        assert_eq!(still.encoding, Encoding::Jpeg { quality: 95 });
        session.keyframe().expect("open");
        let again = session.next_request(now).expect("a keyframe at rest");
        assert!(again.final_still, "at rest a keyframe is a still");
        session.stream_video(false);
        assert_eq!(session.codec(), Codec::Jpeg);
        assert_eq!(session.bitrate_kbps(), None);
    }

    #[test]
    fn client_stats_steer_the_bitrate_and_nonsense_is_refused() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.stream_video(true);
        let nominal = session.bitrate_kbps().expect("streaming");
        let lagging = ClientStats {
            decode_queue: 8,
            latency_ms: Some(90.0),
        };
        session.client_stats(&lagging, now).expect("accepted");
        assert!(session.bitrate_kbps().expect("streaming") < nominal);
        for latency in [-1.0, f64::INFINITY, 1e9] {
            let refusal = session
                .client_stats(
                    &ClientStats {
                        decode_queue: 0,
                        latency_ms: Some(latency),
                    },
                    now,
                )
                .expect_err("refused");
            assert_eq!(refusal.code, ErrorCode::BadValue);
        }
    }

    #[test]
    fn lossless_stills_are_png() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.next_request(now);
        session.still(true).expect("accepted");
        let still = session.next_request(now).expect("a still");
        assert_eq!(still.encoding, Encoding::Png);
        assert!(still.final_still);
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.next_request(now);
        let before = session.view().cloned();
        let refused = [
            Action::Zoom { factor: -1.0 },
            Action::Zoom { factor: f64::NAN },
            Action::Orbit {
                dx: f64::INFINITY,
                dy: 0.0,
            },
            Action::Window {
                width: 0.0,
                center: 40.0,
            },
            Action::Preset {
                name: "no-such".to_string(),
            },
            Action::Mode {
                mode: "xray".to_string(),
            },
            Action::View {
                name: "sideways".to_string(),
            },
            Action::Resize {
                width: 0,
                height: 10,
            },
            Action::Resize {
                width: 100_000,
                height: 100,
            },
        ];
        for (n, action) in refused.into_iter().enumerate() {
            let refusal = session
                .apply(&input(n as u32 + 1, action.clone()), now)
                .expect_err("refused");
            assert_eq!(refusal.code, ErrorCode::BadValue, "{action:?}");
        }
        assert_eq!(session.view().cloned(), before);
        assert_eq!(session.last_input().0, 0, "refused inputs do not count");
        assert!(session.next_request(now).is_none());
    }

    #[test]
    fn set_view_adopts_a_clients_camera_preset_mode_and_window() {
        let now = Instant::now();
        let mut session = opened_session(now);
        let mut view = session.view().cloned().expect("open");
        view.camera.orbit(30.0, 10.0);
        view.camera.zoom_by(1.7);
        view.preset = "ct-soft-tissue".to_string();
        view.mode = RenderMode::Mip;
        view.window = Some(Window {
            width: 350.0,
            center: 50.0,
        });
        let mut shared = SharedView::of(&view);
        shared.camera.scene_radius_mm = 1.0;
        session
            .apply(
                &input(
                    1,
                    Action::SetView {
                        view: Box::new(shared),
                    },
                ),
                now,
            )
            .expect("a valid view is adopted");
        let adopted = session.view().expect("open");
        assert_eq!(adopted.camera.direction, view.camera.direction);
        assert_eq!(adopted.camera.up, view.camera.up);
        assert_eq!(adopted.camera.zoom, view.camera.zoom);
        assert_eq!(adopted.preset, "ct-soft-tissue");
        assert_eq!(adopted.mode, RenderMode::Mip);
        assert_eq!(adopted.window, view.window);
        assert_eq!(
            adopted.camera.scene_radius_mm, view.camera.scene_radius_mm,
            "the scene radius stays the server's"
        );
    }

    #[test]
    fn set_view_with_a_bad_field_is_refused_and_changes_nothing() {
        let now = Instant::now();
        let mut session = opened_session(now);
        let before = session.view().cloned().expect("open");
        let good = SharedView::of(&before);
        let mut bad = Vec::new();
        let mut skewed = good.clone();
        skewed.camera.up = skewed.camera.direction;
        bad.push(skewed);
        let mut far = good.clone();
        far.camera.focal_point.x = f64::INFINITY;
        bad.push(far);
        let mut zero = good.clone();
        zero.camera.distance_mm = 0.0;
        bad.push(zero);
        let mut preset = good.clone();
        preset.preset = "no-such-preset".to_string();
        bad.push(preset);
        let mut mode = good.clone();
        mode.mode = "xray".to_string();
        bad.push(mode);
        let mut window = good;
        window.window = Some(WindowInfo {
            width: -1.0,
            center: 0.0,
        });
        bad.push(window);
        for (seq, shared) in (1..).zip(bad) {
            let refusal = session
                .apply(
                    &input(
                        seq,
                        Action::SetView {
                            view: Box::new(shared.clone()),
                        },
                    ),
                    now,
                )
                .expect_err("refused");
            assert_eq!(refusal.code, ErrorCode::BadValue, "{shared:?}");
            assert!(refusal.message.contains("set_view"), "{}", refusal.message);
            assert_eq!(session.view(), Some(&before));
        }
    }

    #[test]
    fn layout_and_crosshair_travel_with_the_view_and_reset_recentres_the_crosshair() {
        let now = Instant::now();
        let mut session = opened_session(now);
        session.next_request(now);
        let centre = session.crosshair_lps().expect("open");
        session
            .apply(
                &input(
                    1,
                    Action::Layout {
                        name: "2x2".to_string(),
                    },
                ),
                now,
            )
            .expect("accepted");
        let request = session.next_request(now).expect("a still");
        assert!(request.final_still);
        assert_eq!(request.layout, Layout::Quad);
        session
            .apply(
                &input(
                    2,
                    Action::Slice {
                        plane: "axial".to_string(),
                        delta_mm: 1.0e3,
                    },
                ),
                now,
            )
            .expect("accepted");
        let moved = session.crosshair_lps().expect("open");
        assert!(moved.z > centre.z, "towards S");
        let volume = render_core::phantom::ct_phantom();
        let top = volume.lps_to_voxel(moved);
        assert!(
            (top.z - (volume.dims[2] as f64 - 1.0)).abs() < 1e-6,
            "clamped: {top}"
        );
        let shared = session.shared_view().expect("open");
        assert_eq!(shared.layout, Layout::Quad);
        assert_eq!(shared.crosshair_lps, Some(moved));
        // Another session adopts it all through set_view.
        let mut other = opened_session(now);
        other
            .apply(
                &input(
                    1,
                    Action::SetView {
                        view: Box::new(shared),
                    },
                ),
                now,
            )
            .expect("adopted");
        assert_eq!(other.layout(), Layout::Quad);
        assert_eq!(other.crosshair_lps(), Some(moved));
        other
            .apply(&input(2, Action::Reset), now)
            .expect("accepted");
        assert_eq!(other.crosshair_lps(), Some(centre));
        assert_eq!(other.layout(), Layout::Quad, "reset keeps the layout");
        let mut far = other.shared_view().expect("open");
        far.crosshair_lps = Some(glam::DVec3::new(f64::NAN, 0.0, 0.0));
        let refusal = other
            .apply(
                &input(
                    3,
                    Action::SetView {
                        view: Box::new(far),
                    },
                ),
                now,
            )
            .expect_err("refused");
        assert!(
            refusal.message.contains("crosshair_lps"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn view_inputs_before_open_are_refused() {
        let now = Instant::now();
        let mut session = Session::new(
            SessionLimits::default(),
            PresetLibrary::builtin(),
            VIEWPORT,
            now,
        );
        let refusal = session
            .apply(&input(1, Action::Orbit { dx: 1.0, dy: 0.0 }), now)
            .expect_err("refused");
        assert_eq!(refusal.code, ErrorCode::NotOpen);
        assert!(
            session
                .apply(
                    &input(
                        2,
                        Action::Resize {
                            width: 100,
                            height: 80
                        }
                    ),
                    now
                )
                .is_ok()
        );
        assert_eq!(
            session.viewport(),
            Viewport {
                width: 100,
                height: 80
            }
        );
        assert_eq!(
            session.still(false).map_err(|r| r.code),
            Err(ErrorCode::NotOpen)
        );
    }

    #[test]
    fn inputs_beyond_the_rate_are_dropped() {
        let now = Instant::now();
        let limits = SessionLimits {
            inputs_per_s: 10.0,
            input_burst: 5.0,
            ..SessionLimits::default()
        };
        let mut session = Session::new(limits, PresetLibrary::builtin(), VIEWPORT, now);
        session.open("phantom", Arc::new(render_core::phantom::ct_phantom()));
        let results: Vec<bool> = (1..=8)
            .map(|seq| {
                session
                    .apply(&input(seq, Action::Orbit { dx: 1.0, dy: 0.0 }), now)
                    .is_ok()
            })
            .collect();
        assert_eq!(results.iter().filter(|ok| **ok).count(), 5, "{results:?}");
        assert!(
            session
                .apply(&input(9, Action::Reset), now + Duration::from_millis(200))
                .is_ok()
        );
    }

    #[test]
    fn preset_changes_mode_and_reset_restores_the_opening_view() {
        let now = Instant::now();
        let mut session = opened_session(now);
        let initial = session.view().cloned().expect("open");
        session
            .apply(
                &input(
                    1,
                    Action::Preset {
                        name: "ct-mip".to_string(),
                    },
                ),
                now,
            )
            .expect("a built-in preset");
        assert_eq!(session.view().map(|v| v.mode), Some(RenderMode::Mip));
        session
            .apply(&input(2, Action::Orbit { dx: 30.0, dy: 0.0 }), now)
            .expect("accepted");
        session
            .apply(&input(3, Action::Reset), now)
            .expect("accepted");
        assert_eq!(session.view(), Some(&initial));
        assert!(session.next_request(now).expect("due").final_still);
    }
}
