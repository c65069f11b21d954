//! One client's view: applies its inputs to a [`ViewState`], limits their rate, and
//! decides what to render next: interactive frames while the user drags (JPEG, or H.264
//! at the [`RateControl`]'s bitrate when the session streams video), then a
//! full-resolution final still (JPEG or PNG, never video) once the drag ends or input
//! pauses for [`IDLE_FOR_FINAL`]. No I/O here: the connection feeds it messages and the
//! clock. The checks and changes of each input are in [`input`], the limits in
//! [`limits`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use glam::DVec3;
use render_core::transfer::{PresetLibrary, RenderMode};
use render_core::view::{Quality, ViewState};

use crate::compose;
use crate::encode::{Encoding, FINAL_JPEG_QUALITY, INTERACTIVE_JPEG_QUALITY};
use crate::rate::RateControl;
use crate::scheduler::RenderRequest;
use hounsfield_protocol::{
    Action, ClientStats, Codec, CrosshairInCells, ErrorCode, Input, Layout, Opened, SharedView,
    SlicePlanesInCells, SliceScales, Viewport, WindowInfo, bounded_error_message,
};

mod cine;
mod findings;
mod input;
mod limits;
mod measure;
mod over;

pub use crate::series_volumes::curve_info;
pub use cine::{CINE_FPS, CineClock, MAX_CINE_FPS, MIN_CINE_FPS};
pub use findings::measured;
pub use limits::{Admission, MessageKind, MessageRates, SessionLimits};
pub use over::{OverStyle, ShownOver};

use crate::series_volumes::SeriesVolumes;

use input::{bad_value, not_open};

/// Input pause after which the view counts as at rest and gets a final still.
pub const IDLE_FOR_FINAL: Duration = Duration::from_millis(150);
/// After the segments change, how long the 3D view keeps showing them as they were (the
/// slice cells show the change at once): a stroke of the brush sent in pieces redraws the
/// slices alone, and the 3D view takes the segments once no change has come for this long
/// (or at once when the reader does anything else).
pub const SEGMENTS_IN_3D_AFTER: Duration = Duration::from_millis(250);
/// Smallest viewport side accepted (pixels).
pub const MIN_VIEWPORT: u32 = 16;

/// A refused request: the code and message of the `error` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: ErrorCode,
    /// What was wrong, at most [`hounsfield_protocol::MAX_ERROR_MESSAGE_CHARS`] characters.
    /// Numbers are quoted with `{:?}`, so an extreme one reads `1e308`, not 309 digits.
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: bounded_error_message(message.into()),
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
    /// Its volumes: one, or each of a series over time; `view.time_point` says which
    /// is shown.
    volumes: SeriesVolumes,
    /// The volumes played in turn, while a cine plays.
    cine: Option<CineClock>,
    initial: ViewState,
    view: ViewState,
    /// The point the slices of the 2×2 layout pass through (LPS, mm).
    crosshair_lps: DVec3,
    /// The series' segments its slice cells show.
    segments: Arc<[crate::compose::SegmentOverlay]>,
    /// A threshold's preview over the slice cells (`segment_preview`), this session's.
    threshold_preview: Option<crate::compose::SegmentOverlay>,
    /// A calcium score's lesions over the slice cells (`calcium`), this session's.
    calcium_lesions: Arc<[crate::compose::SegmentOverlay]>,
    /// A second series drawn over the slice cells (`over`), this session's.
    over: Option<over::ShownOver>,
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
    /// The segments changed: until this passes, frames keep the 3D view's segments as
    /// they were ([`SEGMENTS_IN_3D_AFTER`]); then a final still shows them there too.
    segments_in_3d_due: Option<Instant>,
}

impl Session {
    /// A session with a viewport and no series open.
    pub fn new(limits: SessionLimits, presets: PresetLibrary, viewport: Viewport) -> Self {
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
            segments_in_3d_due: None,
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

    /// The H.264 bitrate the session would stream pictures of `picture` pixels shown at
    /// `view` at with bandwidth to spare (kbit/s), while streaming video: what a network
    /// estimate is asked to find room for.
    pub fn desired_bitrate_kbps(&self, picture: [u32; 2], view: [u32; 2]) -> Option<u32> {
        self.video.as_ref().map(|video| {
            crate::rate::Bitrate::at(video.rate.nominal_kbps()).for_picture(picture, view)
        })
    }

    /// Takes the network's estimate of the bandwidth to the client (kbit/s, over WebRTC;
    /// `None` once frames left it): the H.264 bitrate keeps under it.
    pub fn network_estimate(&mut self, kbps: Option<f64>) {
        if let Some(video) = &mut self.video {
            video.rate.on_network_estimate(kbps);
        }
    }

    /// The network's estimate of the bandwidth to the client (kbit/s), while streaming
    /// video over WebRTC.
    pub fn network_kbps(&self) -> Option<u32> {
        self.video
            .as_ref()
            .and_then(|video| video.rate.network_kbps())
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
                "stats latency_ms {latency:?}: must be 0..=600000"
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

    /// The transfer function the 3D view shows (the one being edited, else its preset),
    /// when a series is open.
    pub fn transfer_function(&self) -> Option<&render_core::transfer::Preset> {
        self.open.as_ref()?.view.preset_in(&self.presets)
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
            open.volume(),
            &open.view.slice_frame,
            open.crosshair_lps,
            self.size,
        ))
    }

    /// Millimetres per pixel of each slice's cell at the session's size, when a series is
    /// open.
    pub fn slice_scales(&self) -> Option<SliceScales> {
        let open = self.open.as_ref()?;
        Some(compose::slice_scales(
            open.volume(),
            &open.view.slice_frame,
            self.size,
        ))
    }

    /// The slice planes of the 2×2 layout (turned or standard), when a series is open.
    pub fn slice_frame(&self) -> Option<render_core::view::SliceFrame> {
        self.open.as_ref().map(|open| open.view.slice_frame)
    }

    /// How each slice cell shows its plane, when a series is open and its slice planes
    /// are turned (`None` for the standard planes).
    pub fn slice_planes(&self) -> Option<SlicePlanesInCells> {
        let open = self.open.as_ref()?;
        (!open.view.slice_frame.is_standard())
            .then(|| compose::slice_planes_in_cells(&open.view.slice_frame))
    }

    /// The view as it travels (`opened.view`, `set_view`), when a series is open.
    pub fn shared_view(&self) -> Option<SharedView> {
        self.open.as_ref().map(|open| SharedView {
            layout: self.layout,
            crosshair_lps: Some(open.crosshair_lps),
            ..open.view.shared()
        })
    }

    /// Opens `volumes` (one, or each of a series over time, the first shown) as series
    /// `id` with its modality's default preset; the first frame is a final still (its
    /// request marked `preview`: see [`RenderRequest::preview`]).
    pub fn open(&mut self, id: &str, volumes: SeriesVolumes) -> Opened {
        let volume = volumes.first().clone();
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
                ..view.shared()
            }),
            warnings: Vec::new(),
            volumes: volumes.infos(),
        };
        self.open = Some(OpenSeries {
            id: id.to_string(),
            crosshair_lps: volume.centre_lps(),
            volumes,
            cine: None,
            initial: view.clone(),
            view,
            segments: Arc::default(),
            threshold_preview: None,
            calcium_lesions: Arc::default(),
            over: None,
        });
        self.final_owed = false;
        self.preview_due = true;
        self.segments_in_3d_due = None;
        self.pending = Pending::Final;
        opened
    }

    /// The open series' id.
    pub fn series(&self) -> Option<&str> {
        self.open.as_ref().map(|open| open.id.as_str())
    }

    /// Applies one input at `now` (held to its rate before, by the connection's
    /// [`MessageRates`]); a refused input changes nothing.
    pub fn apply(&mut self, input: &Input, now: Instant) -> Result<(), Refusal> {
        let change = match input.action {
            Action::TimePoint { index } => self.show_time_point(index)?,
            Action::Cine { fps } => self.play(fps, now)?,
            ref action => self.change_view(action)?,
        };
        if input.seq > self.input_seq {
            self.input_seq = input.seq;
            self.input_t = if input.t.is_finite() { input.t } else { 0.0 };
        }
        self.last_input = Some(now);
        // Anything else the reader does ends a stroke: the 3D view takes the segments.
        self.segments_in_3d_due = None;
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

    /// Whether final stills are lossless (PNG) now.
    pub fn lossless(&self) -> bool {
        self.lossless
    }

    /// Sets whether later final stills are lossless, without asking for one.
    pub fn set_lossless(&mut self, lossless: bool) {
        self.lossless = lossless;
    }

    /// Shows `segments` over the open series' slice cells from the next frame on (a final
    /// still is due for them), and in the 3D view too: at once, or, when they `changed`
    /// at that instant (an edit), once they have not changed for [`SEGMENTS_IN_3D_AFTER`].
    pub fn show_segments(
        &mut self,
        segments: Arc<[crate::compose::SegmentOverlay]>,
        changed: Option<Instant>,
    ) {
        if let Some(open) = self.open.as_mut() {
            open.segments = segments;
            self.segments_in_3d_due = changed.map(|at| at + SEGMENTS_IN_3D_AFTER);
            self.mark(Pending::Final);
        }
    }

    /// Shows `preview` (a threshold's voxels, [`crate::compose::SegmentOverlay`]) over the
    /// open series' slice cells from the next frame on, or no preview; the 3D view is
    /// unchanged.
    pub fn show_threshold_preview(&mut self, preview: Option<crate::compose::SegmentOverlay>) {
        if let Some(open) = self.open.as_mut() {
            open.threshold_preview = preview;
            self.mark(Pending::Final);
        }
    }

    /// Shows a calcium score's lesions (each artery's, and the candidates no one named,
    /// [`crate::compose::SegmentOverlay`]s) over the open series' slice cells from the
    /// next frame on, or none; the 3D view is unchanged.
    pub fn show_calcium_lesions(&mut self, lesions: Arc<[crate::compose::SegmentOverlay]>) {
        if let Some(open) = self.open.as_mut() {
            open.calcium_lesions = lesions;
            self.mark(Pending::Final);
        }
    }

    /// The render request due at `now`, if any; taking it clears what was due.
    pub fn next_request(&mut self, now: Instant) -> Option<RenderRequest> {
        if self.step_cine(now) {
            self.mark(Pending::Interactive);
        }
        let open = self.open.as_ref()?;
        let idle = self
            .last_input
            .is_none_or(|at| now.saturating_duration_since(at) >= IDLE_FOR_FINAL);
        let playing = open.cine.is_some();
        let final_still = match self.pending {
            Pending::Final => true,
            Pending::Interactive => false,
            // Owed after interactive frames: due once input pauses (the end of a drag asks
            // for it at once through `interact`), and not while a cine plays on.
            Pending::Nothing if self.final_owed && idle && !playing => true,
            // The segments' still for the 3D view, once they rest.
            Pending::Nothing if self.segments_in_3d_due.is_some_and(|due| now >= due) => true,
            Pending::Nothing => return None,
        };
        let segments_in_3d_later = self.segments_in_3d_due.is_some_and(|due| now < due);
        if !segments_in_3d_later {
            self.segments_in_3d_due = None;
        }
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
                    bitrate: video.rate.bitrate(),
                },
                None => Encoding::Jpeg {
                    quality: INTERACTIVE_JPEG_QUALITY,
                },
            }
        };
        // A still that ends interactive frames is refined first.
        let refine_first = final_still
            && self.final_owed
            && (self.layout == Layout::Quad || open.view.mpr.is_none());
        self.pending = Pending::Nothing;
        self.final_owed = !final_still;
        let preview = std::mem::take(&mut self.preview_due);
        Some(RenderRequest {
            volume: open.volume().clone(),
            view,
            size: self.size,
            layout: self.layout,
            crosshair_lps: open.crosshair_lps,
            input_seq: self.input_seq,
            final_still,
            encoding,
            preview,
            refine_first,
            segments: open.segments.clone(),
            segments_in_3d_later,
            threshold_preview: open.threshold_preview.clone(),
            calcium_lesions: open.calcium_lesions.clone(),
            over: open.over.as_ref().map(|shown| shown.drawn.clone()),
        })
    }

    /// When the next request falls due without new input (the final still after a pause,
    /// the segments' still for the 3D view once they rest, or a cine's next volume).
    pub fn next_deadline(&self) -> Option<Instant> {
        let open = self.open.as_ref()?;
        if self.pending != Pending::Nothing {
            return None;
        }
        let cine = open.cine.as_ref().map(CineClock::next_step);
        let after_input = self
            .final_owed
            .then(|| self.last_input.map(|at| at + IDLE_FOR_FINAL))
            .flatten()
            .filter(|_| cine.is_none());
        [after_input, self.segments_in_3d_due, cine]
            .into_iter()
            .flatten()
            .min()
    }

    fn mark(&mut self, change: Pending) {
        self.pending = match (self.pending, change) {
            (Pending::Final, _) | (_, Pending::Final) => Pending::Final,
            (Pending::Interactive, _) | (_, Pending::Interactive) => Pending::Interactive,
            _ => Pending::Nothing,
        };
    }

    fn clamp_viewport(&self, viewport: Viewport) -> [u32; 2] {
        let max = self.limits.max_viewport.max(MIN_VIEWPORT);
        [
            viewport.width.clamp(MIN_VIEWPORT, max),
            viewport.height.clamp(MIN_VIEWPORT, max),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_protocol::{CropInfo, MAX_ERROR_MESSAGE_CHARS};
    use render_core::Window;

    const VIEWPORT: Viewport = Viewport {
        width: 64,
        height: 48,
    };

    fn opened_session() -> Session {
        let mut session =
            Session::new(SessionLimits::default(), PresetLibrary::builtin(), VIEWPORT);
        session.open(
            "phantom",
            SeriesVolumes::one(Arc::new(render_core::phantom::ct_phantom())),
        );
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
        let mut session = opened_session();
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
        let mut session = opened_session();
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
    fn an_edits_segments_show_on_the_slices_at_once_and_in_3d_once_they_rest() {
        let now = Instant::now();
        let mut session = opened_session();
        session.next_request(now);
        // An edit: its still keeps the 3D view's segments, and one is due for them.
        session.show_segments(Arc::default(), Some(now));
        let slices = session.next_request(now).expect("the edit's still");
        assert!(slices.final_still && slices.segments_in_3d_later);
        assert_eq!(session.next_deadline(), Some(now + SEGMENTS_IN_3D_AFTER));
        // Another edit before then puts it off again.
        let soon = now + SEGMENTS_IN_3D_AFTER / 2;
        session.show_segments(Arc::default(), Some(soon));
        assert!(
            session
                .next_request(soon)
                .expect("a still")
                .segments_in_3d_later
        );
        assert!(session.next_request(now + SEGMENTS_IN_3D_AFTER).is_none());
        let rested = soon + SEGMENTS_IN_3D_AFTER;
        assert_eq!(session.next_deadline(), Some(rested));
        let in_3d = session.next_request(rested).expect("the segments' still");
        assert!(in_3d.final_still && !in_3d.segments_in_3d_later);
        assert!(session.next_request(rested).is_none());
        assert_eq!(session.next_deadline(), None);
        // Anything else the reader does brings them into 3D at once, as a series opening.
        session.show_segments(Arc::default(), Some(rested));
        session
            .apply(&input(1, Action::Zoom { factor: 1.1 }), rested)
            .expect("accepted");
        assert!(
            !session
                .next_request(rested)
                .expect("a frame")
                .segments_in_3d_later
        );
        session.show_segments(Arc::default(), None);
        assert!(
            !session
                .next_request(rested)
                .expect("a still")
                .segments_in_3d_later
        );
    }

    #[test]
    fn a_pause_in_input_gives_the_final_still() {
        let now = Instant::now();
        let mut session = opened_session();
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
        );
        assert_eq!(session.codec(), Codec::Jpeg);
        session.stream_video(true);
        assert_eq!(session.codec(), Codec::H264);
        assert_eq!(session.viewport(), VIEWPORT, "sides rounded down to even");
        session.open(
            "phantom",
            SeriesVolumes::one(Arc::new(render_core::phantom::ct_phantom())),
        );
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
                bitrate: crate::rate::Bitrate::at(kbps)
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
        let mut session = opened_session();
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
    fn the_networks_estimate_caps_the_video_bitrate_until_it_is_withdrawn() {
        let mut session = opened_session();
        session.network_estimate(Some(500.0));
        assert_eq!(session.network_kbps(), None, "no video, no estimate kept");
        session.stream_video(true);
        let nominal = session.bitrate_kbps().expect("streaming");
        let [width, height] = session.size;
        assert_eq!(
            session.desired_bitrate_kbps([width / 4, height / 4], [width, height]),
            Some(nominal)
        );
        assert_eq!(
            session.desired_bitrate_kbps([width, height], [width, height]),
            Some(nominal * 4),
            "a picture at full resolution wants four times nominal"
        );
        session.network_estimate(Some(200.0));
        assert_eq!(session.network_kbps(), Some(200));
        let capped = session.bitrate_kbps().expect("streaming");
        assert!(capped < nominal && capped <= 200, "{capped} of {nominal}");
        session.network_estimate(None);
        assert_eq!(session.bitrate_kbps(), Some(nominal));
    }

    #[test]
    fn lossless_stills_are_png() {
        let now = Instant::now();
        let mut session = opened_session();
        session.next_request(now);
        session.still(true).expect("accepted");
        let still = session.next_request(now).expect("a still");
        assert_eq!(still.encoding, Encoding::Png);
        assert!(still.final_still);
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing() {
        let now = Instant::now();
        let mut session = opened_session();
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
    fn a_crop_is_applied_carried_in_the_shared_view_and_cleared_by_reset() {
        let now = Instant::now();
        let mut session = opened_session();
        session.next_request(now);
        assert_eq!(session.shared_view().expect("open").crop, None);
        let half = Action::Crop {
            min: [0.5, 0.0, 0.0],
            max: [1.0, 1.0, 1.0],
        };
        session.apply(&input(1, half), now).expect("accepted");
        let view = session.view().expect("open");
        assert_eq!(view.crop.min, [0.5, 0.0, 0.0]);
        let shared = session.shared_view().expect("open");
        let crop = shared.crop.expect("the crop travels");
        assert_eq!((crop.min, crop.max), ([0.5, 0.0, 0.0], [1.0, 1.0, 1.0]));
        assert!(
            session.next_request(now).is_some(),
            "a frame of the cropped view"
        );
        let refused = [
            ([0.6, 0.0, 0.0], [0.6, 1.0, 1.0], "crop i"),
            ([0.0, 0.9, 0.0], [1.0, 0.1, 1.0], "crop j"),
            ([0.0, 0.0, f64::NAN], [1.0, 1.0, 1.0], "crop k"),
            ([0.0, 0.0, 0.0], [1.0, 1.0, 1.5], "crop k"),
            ([-0.5, 0.0, 0.0], [1.0, 1.0, 1.0], "crop i"),
        ];
        for (seq, (min, max, field)) in (2..).zip(refused) {
            let refusal = session
                .apply(&input(seq, Action::Crop { min, max }), now)
                .expect_err("refused");
            assert_eq!(refusal.code, ErrorCode::BadValue);
            assert!(refusal.message.starts_with(field), "{}", refusal.message);
        }
        assert_eq!(session.view().expect("open").crop.min, [0.5, 0.0, 0.0]);
        // set_view without a crop shows the whole volume; with one, its box.
        let mut handed = shared.clone();
        handed.crop = None;
        session
            .apply(
                &input(
                    10,
                    Action::SetView {
                        view: Box::new(handed.clone()),
                    },
                ),
                now,
            )
            .expect("accepted");
        assert!(session.view().expect("open").crop.is_whole());
        handed.crop = Some(CropInfo {
            min: [0.0, 0.0, 0.25],
            max: [1.0, 1.0, 0.75],
        });
        session
            .apply(
                &input(
                    11,
                    Action::SetView {
                        view: Box::new(handed.clone()),
                    },
                ),
                now,
            )
            .expect("accepted");
        assert_eq!(session.view().expect("open").crop.max, [1.0, 1.0, 0.75]);
        handed.crop = Some(CropInfo {
            min: [0.0, 0.0, 0.8],
            max: [1.0, 1.0, 0.2],
        });
        let refusal = session
            .apply(
                &input(
                    12,
                    Action::SetView {
                        view: Box::new(handed),
                    },
                ),
                now,
            )
            .expect_err("refused");
        assert!(
            refusal.message.starts_with("set_view crop k"),
            "{}",
            refusal.message
        );
        session
            .apply(&input(13, Action::Reset), now)
            .expect("accepted");
        assert!(session.view().expect("open").crop.is_whole());
        assert_eq!(session.shared_view().expect("open").crop, None);
    }

    #[test]
    fn extreme_values_are_refused_with_short_messages() {
        let now = Instant::now();
        let mut session = opened_session();
        let mut huge_angle = session.shared_view().expect("open");
        huge_angle.camera.zoom = 0.05;
        huge_angle.camera.view_angle_deg = 2.369_594_818_387_637_7e213;
        // Each quoted as `{:?}` quotes it, not in its hundreds of digits.
        let refused = [
            (Action::Zoom { factor: 1e308 }, "1e308"),
            (
                Action::Window {
                    width: -1e308,
                    center: f64::MAX,
                },
                "-1e308, 1.7976931348623157e308",
            ),
            (
                Action::Crosshair {
                    plane: "axial".to_string(),
                    x: -f64::MIN_POSITIVE,
                    y: 0.5,
                },
                "-2.2250738585072014e-308",
            ),
            (
                Action::SetView {
                    view: Box::new(huge_angle),
                },
                "2.3695948183876377e213",
            ),
        ];
        for (seq, (action, quoted)) in (1..).zip(refused) {
            let refusal = session
                .apply(&input(seq, action.clone()), now)
                .expect_err("refused");
            assert!(
                refusal.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS,
                "{action:?}: {}",
                refusal.message
            );
            assert!(refusal.message.contains(quoted), "{}", refusal.message);
        }
        let stats = ClientStats {
            decode_queue: u32::MAX,
            latency_ms: Some(f64::MAX),
        };
        let refusal = session.client_stats(&stats, now).expect_err("refused");
        assert!(
            refusal.message.contains("1.7976931348623157e308"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn a_zoom_outside_the_cameras_range_is_refused_and_pans_stay_where_set_view_reaches() {
        let now = Instant::now();
        let mut session = opened_session();
        // Found by the protocol fuzzing: a zoom of 1e-182 was taken, and one pan then moved
        // the focal point by 1e15 mm, so the session's own view was refused when handed back.
        let mut tiny = session.shared_view().expect("open");
        tiny.camera.zoom = 1.019_104_675_336_724_8e-182;
        let refusal = session
            .apply(
                &input(
                    1,
                    Action::SetView {
                        view: Box::new(tiny),
                    },
                ),
                now,
            )
            .expect_err("refused");
        assert!(refusal.message.contains("zoom"), "{}", refusal.message);
        let mut wide = session.shared_view().expect("open");
        wide.camera.zoom = render_core::camera::Camera::MIN_ZOOM;
        wide.camera.distance_mm = 1.0e6;
        wide.camera.view_angle_deg = 179.0;
        session
            .apply(
                &input(
                    2,
                    Action::SetView {
                        view: Box::new(wide),
                    },
                ),
                now,
            )
            .expect("within every range");
        for seq in 3..6 {
            session
                .apply(
                    &input(
                        seq,
                        Action::Pan {
                            dx: 10.0,
                            dy: -10.0,
                        },
                    ),
                    now,
                )
                .expect("accepted");
        }
        let focal = session.view().expect("open").camera.focal_point;
        assert!(focal.abs().max_element() <= 1.0e5, "{focal}");
        let mut other = opened_session();
        let back = session.shared_view().expect("open");
        other
            .apply(
                &input(
                    1,
                    Action::SetView {
                        view: Box::new(back),
                    },
                ),
                now,
            )
            .expect("the view a session shows is one set_view takes");
    }

    #[test]
    fn set_view_adopts_a_clients_camera_preset_mode_and_window() {
        let now = Instant::now();
        let mut session = opened_session();
        let mut view = session.view().cloned().expect("open");
        view.camera.orbit(30.0, 10.0);
        view.camera.zoom_by(1.7);
        view.preset = "ct-soft-tissue".to_string();
        view.mode = RenderMode::Mip;
        view.window = Some(Window {
            width: 350.0,
            center: 50.0,
        });
        let mut shared = view.shared();
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
        let mut session = opened_session();
        let before = session.view().cloned().expect("open");
        let good = before.shared();
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
        let mut session = opened_session();
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
        let mut other = opened_session();
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
        let mut session =
            Session::new(SessionLimits::default(), PresetLibrary::builtin(), VIEWPORT);
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
    fn preset_changes_mode_and_reset_restores_the_opening_view() {
        let now = Instant::now();
        let mut session = opened_session();
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
