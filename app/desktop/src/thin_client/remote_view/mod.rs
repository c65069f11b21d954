//! The thin-client view: frames streamed from a server shown as an egui texture, mouse
//! gestures sent as protocol inputs. In the 2×2 layout the server draws all four cells
//! into the one frame; the pointer's cell decides what a gesture does (the 3D cell
//! orbits, pans and zooms; on a slice the wheel moves the slice, a click the crosshair,
//! a shift-drag (or a drag with the ruler tool on) draws a ruler the server measures, the
//! finding tools draw and edit findings the server measures and keeps, a drag of another
//! plane's line by its handle turns the planes (`turn_planes`), a right-drag sets the
//! grey window, and the server reads the value under the cursor). The view is
//! mirrored here (the same camera moves the server makes) so that switching to local
//! rendering keeps it.

mod beside;
mod calcium;
mod findings;
mod mirror;
mod over;
mod overlay;
mod participants;
mod pointer;
mod segments;
mod slabs;
mod status;
pub(crate) mod time;
mod together;
mod turn;

use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::{
    Action, CrosshairInCells, HungCell, Layout, Opened, SharedView, SlicePlane, SlicePlanesInCells,
    StudyInfo, Viewport,
};
use render_core::Window;
use render_core::view::CropBox;

use hounsfield_tls::Fingerprint;

use super::connection::{LinkStatus, LinkTarget, RemoteLink};
use super::crop_control::CropEdit;
use super::findings::SliceTool;
use super::gestures::GestureReader;
use super::plane_lines::PlaneTurn;
use super::rulers::{ProbeReading, Ruler, SlicePlacement};

pub use findings::{RemoteFindings, entry_of};
use mirror::mirror_action;
use overlay::paint_quad_overlays;
pub use segments::RemoteSegments;

/// Wheel movement (points) that moves one slice, as on local slices.
const SCROLL_PER_SLICE: f32 = 40.0;
/// The least time between two asks for the value under the cursor (20 a second).
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// The rulers' colour, as on local slices.
const RULER_COLOUR: egui::Color32 = egui::Color32::from_rgb(255, 200, 0);

/// A 3D view rendered by a server.
pub struct RemoteView {
    link: RemoteLink,
    texture: Option<egui::TextureHandle>,
    /// The size the texture's frame is shown at (its display size, which the linear
    /// filter scales a smaller interactive picture up to).
    shown_size: Option<[u32; 2]>,
    gestures: GestureReader,
    /// The view as the server shows it, mirrored from the inputs sent.
    pub mirror: Option<SharedView>,
    /// The series as the server opened it.
    pub opened: Option<Opened>,
    /// Frame size last asked of the server.
    size: [u32; 2],
    /// Whether the frame on screen is a final still of the view asked for.
    pub final_shown: bool,
    /// The first input whose frames show the view asked for (1 after a hand-over: the
    /// view sent with `set_view`).
    first_own_input: u32,
    /// Wheel movement over a slice cell not yet turned into slices (points).
    scrolled: f32,
    /// Where the crosshair shows in the slice cells of the frame on screen.
    crosshair_cells: Option<CrosshairInCells>,
    /// How the slice cells of the frame on screen show their turned planes (`None`: the
    /// standard planes).
    planes: Option<SlicePlanesInCells>,
    /// A line's handle being dragged.
    turning: Option<PlaneTurn>,
    /// A crop box moved on the sliders and not sent yet (held back while dragging).
    crop_unsent: Option<CropBox>,
    /// When the last `crop` went out.
    crop_sent_at: Option<Instant>,
    /// Where the slices of the frame on screen lie in their cells.
    placement: Option<SlicePlacement>,
    /// What a left drag on a slice does (a shift-drag draws a ruler whatever the tool).
    pub tool: SliceTool,
    /// The findings of the series, as the server measured them.
    pub findings: RemoteFindings,
    /// The series' segments, as the server told them.
    pub segments: RemoteSegments,
    /// The rulers measured, each kept with its slice.
    rulers: Vec<Ruler>,
    /// The ruler being drawn: its plane and ends (fractions of the cell).
    draft_ruler: Option<(SlicePlane, [f64; 2], [f64; 2])>,
    /// Where the frame was last drawn (egui points).
    shown_rect: Option<egui::Rect>,
    /// The value under the cursor the server read last (while over a slice).
    probe: Option<ProbeReading>,
    /// The spot the value under the cursor is wanted for, not asked yet (latest wins).
    probe_wanted: Option<(SlicePlane, [f64; 2])>,
    /// The spot under the cursor last seen.
    probe_spot: Option<(SlicePlane, [f64; 2])>,
    /// When the value under the cursor was last asked for.
    probe_asked_at: Option<Instant>,
    /// This participant's pointer as told to a shared session joined.
    shared_pointer: participants::PointerShared,
    /// The rate a cine plays at (volumes a second).
    cine_fps: f64,
    /// Whether a cine was asked to play (`Some(true)`) or pause, until the server tells
    /// a volume that agrees.
    cine_asked: Option<bool>,
    /// Restyles of the series drawn over the slices, held to their pace.
    over_sending: over::OverSending,
    /// The calcium bar: the server's score and how lesions are named.
    pub calcium: calcium::RemoteCalcium,
    /// The hanging protocol's cell this view shows, applied once its series opens.
    hung_cell: Option<HungCell>,
    /// A series streamed beside this one, following it.
    beside: Option<Box<beside::RemoteBeside>>,
    /// The patient's other studies, as the server told them.
    priors: Vec<StudyInfo>,
    /// The last reading with a curve (a series over time): kept when the pointer leaves
    /// the slices, so that its plot stays to be saved; gone with its series.
    curve: Option<ProbeReading>,
    /// What the bar's curve is of: the voxel under the cursor, a region or a segment.
    pub(crate) curve_of: time::CurveOf,
    /// Where a curve saved as CSV goes (the folder screenshots go to).
    pub(crate) curve_folder: std::path::PathBuf,
    /// The last curve saved: its file, or why not.
    pub(crate) curve_saved: Option<Result<std::path::PathBuf, String>>,
}

/// The shortest time between two `crop` inputs while a slider is dragged.
pub const CROP_SEND_INTERVAL: Duration = Duration::from_millis(50);

#[cfg(test)]
impl RemoteView {
    /// The link to the server, for a test to send what a panel would.
    pub(crate) fn link(&self) -> &RemoteLink {
        &self.link
    }
}

impl RemoteView {
    /// Connects to `target`, showing `initial` (a view handed over from local rendering)
    /// when given.
    pub fn connect(
        ctx: &egui::Context,
        target: LinkTarget,
        initial: Option<SharedView>,
    ) -> std::io::Result<Self> {
        let size = [target.viewport.width, target.viewport.height];
        let wake = ctx.clone();
        let link = RemoteLink::start(target, initial.clone(), move || wake.request_repaint())?;
        let first_own_input = u32::from(initial.is_some());
        Ok(Self {
            link,
            texture: None,
            shown_size: None,
            gestures: GestureReader::default(),
            mirror: initial,
            opened: None,
            size,
            final_shown: false,
            first_own_input,
            scrolled: 0.0,
            crosshair_cells: None,
            planes: None,
            turning: None,
            crop_unsent: None,
            crop_sent_at: None,
            placement: None,
            tool: SliceTool::Crosshair,
            findings: RemoteFindings::default(),
            segments: RemoteSegments::default(),
            rulers: Vec::new(),
            draft_ruler: None,
            shown_rect: None,
            probe: None,
            probe_wanted: None,
            probe_spot: None,
            probe_asked_at: None,
            shared_pointer: participants::PointerShared::default(),
            cine_fps: time::DEFAULT_CINE_FPS,
            cine_asked: None,
            over_sending: over::OverSending::default(),
            calcium: calcium::RemoteCalcium::default(),
            hung_cell: None,
            beside: None,
            priors: Vec::new(),
            curve: None,
            curve_of: time::CurveOf::Pointer,
            curve_folder: crate::screenshot::user_folder(),
            curve_saved: None,
        })
    }

    /// The layout shown (the mirror's; 1×1 before the series opens).
    pub fn layout(&self) -> Layout {
        self.mirror
            .as_ref()
            .map_or(Layout::Single, |mirror| mirror.layout)
    }

    /// Asks the server for `layout`.
    pub fn set_layout(&mut self, layout: Layout) {
        if self.layout() != layout {
            self.act(Action::Layout {
                name: layout.name().to_string(),
            });
        }
    }

    /// What the server is loading and how far it has come (0..=1), while it loads.
    pub fn loading(&self) -> Option<(String, f32)> {
        let state = self.link.state();
        let progress = state.loading.as_ref()?;
        let fraction = progress.done as f32 / progress.total.max(1) as f32;
        Some((
            format!(
                "{} {} of {} images",
                progress.stage, progress.done, progress.total
            ),
            fraction.clamp(0.0, 1.0),
        ))
    }

    /// The last error the server answered with.
    pub fn server_error(&self) -> Option<String> {
        self.link.state().server_error.clone()
    }

    /// The server's certificate and why it is not trusted, while the link waits for the
    /// user to trust it.
    pub fn untrusted(&self) -> Option<(Fingerprint, String)> {
        match &self.link.state().status {
            Some(LinkStatus::Untrusted {
                fingerprint,
                reason,
            }) => Some((*fingerprint, reason.clone())),
            _ => None,
        }
    }

    /// Where the link connects.
    pub fn target(&self) -> &LinkTarget {
        &self.link.target
    }

    /// Whether the link gave up (and why).
    pub fn closed(&self) -> Option<String> {
        match &self.link.state().status {
            Some(LinkStatus::Closed(reason)) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Sends `action` and applies it to the mirror.
    pub fn act(&mut self, action: Action) {
        if let Some(mirror) = &mut self.mirror {
            mirror_action(mirror, self.opened.as_ref(), &action);
            self.link.remember(mirror.clone());
        }
        self.lead_beside(&action);
        if !self.link.send(action) {
            tracing::debug!("input dropped: the link is busy or stopped");
        }
    }

    /// Asks the server for the transfer function shown and the volume's histogram.
    pub fn ask_transfer_function(&self) {
        if !self.link.ask_transfer_function() {
            tracing::debug!("transfer_function not asked: the link is busy or stopped");
        }
    }

    /// The transfer function and histogram the server answered, once.
    pub fn take_transfer_function(
        &mut self,
    ) -> Option<(
        render_core::transfer::Preset,
        render_core::transfer::ValueHistogram,
    )> {
        let (preset, histogram) = self.link.state().transfer_function.take()?;
        Some((*preset, histogram))
    }

    /// Asks the server to keep `preset` as its own (an administrator's).
    pub fn save_preset_on_server(&self, preset: render_core::transfer::Preset) {
        if !self.link.save_preset(preset) {
            tracing::debug!("save_preset not sent: the link is busy or stopped");
        }
    }

    /// What the server said of the last `save_preset`, once: the presets it offers now
    /// are offered here too.
    pub fn take_preset_saved(&mut self) -> Option<Result<String, String>> {
        let said = self.link.state().preset_saved.take()?;
        Some(said.map(|(name, presets)| {
            if let Some(opened) = &mut self.opened {
                opened.presets = presets;
            }
            name
        }))
    }

    /// The view the server last told at rest (`view`), when it told one.
    #[cfg(test)]
    pub fn told_view(&self) -> Option<hounsfield_protocol::SharedView> {
        self.link.state().told_view.clone()
    }

    /// The crop box to show on the sliders: the one being dragged, else the mirror's.
    pub fn shown_crop(&self) -> CropBox {
        self.crop_unsent.unwrap_or_else(|| {
            self.mirror
                .as_ref()
                .and_then(|mirror| mirror.crop)
                .and_then(|crop| render_core::view::CropBox::from_info(&crop).ok())
                .unwrap_or_default()
        })
    }

    /// Whether a crop box waits to be sent.
    pub fn crop_held(&self) -> bool {
        self.crop_unsent.is_some()
    }

    /// Sends the crop box the sliders made: `interact` around a drag, and during it at
    /// most one `crop` every [`CROP_SEND_INTERVAL`] (the last always goes out).
    pub fn edit_crop(&mut self, crop: CropBox, edit: CropEdit, now: Instant) {
        if edit.drag_started {
            self.act(Action::Interact { active: true });
        }
        if edit.changed {
            self.crop_unsent = Some(crop);
        }
        let held = edit.dragging
            && !edit.drag_stopped
            && self
                .crop_sent_at
                .is_some_and(|at| now.duration_since(at) < CROP_SEND_INTERVAL);
        if !held && let Some(crop) = self.crop_unsent.take() {
            self.act(Action::Crop {
                min: crop.min.map(f64::from),
                max: crop.max.map(f64::from),
            });
            self.crop_sent_at = Some(now);
        }
        if edit.drag_stopped {
            self.act(Action::Interact { active: false });
        }
    }

    /// Removes every ruler.
    pub fn clear_rulers(&mut self) {
        self.rulers.clear();
        self.draft_ruler = None;
    }

    /// Asks for a lossless final still (diagnostic quality).
    pub fn lossless_still(&self) {
        self.link.still(true);
    }

    /// Shows the latest frame in all of `ui`'s remaining space and sends its input.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.take_news(ui.ctx());
        self.together_bar(ui);
        self.time_bar(ui);
        self.over_bar(ui);
        self.calcium_bar(ui);
        let size = ui.available_size().max(egui::vec2(16.0, 16.0));
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        let pixels_per_point = ui.ctx().pixels_per_point();
        let physical = [
            ((rect.width() * pixels_per_point).round() as u32).clamp(16, 4096),
            ((rect.height() * pixels_per_point).round() as u32).clamp(16, 4096),
        ];
        if physical != self.size && !response.dragged() {
            self.size = physical;
            self.act(Action::Resize {
                width: physical[0],
                height: physical[1],
            });
        }
        // A naming box is outlined only while its drag lasts (`calcium_gesture`).
        self.calcium.forget_box();
        self.handle_input(ui, &response);
        self.share_pointer(&response);
        self.follow_told_view();
        self.shown_rect = Some(rect);
        ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
        match &self.texture {
            Some(texture) => {
                let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
                ui.painter()
                    .image(texture.id(), rect, uv, egui::Color32::WHITE);
                if self.layout() == Layout::Quad {
                    paint_quad_overlays(
                        &ui.painter_at(rect),
                        &self.cells_on_screen(rect),
                        self.crosshair_cells.as_ref(),
                        self.planes.as_ref(),
                    );
                    self.paint_measurements(&ui.painter_at(rect), rect);
                    self.paint_findings(&ui.painter_at(rect), rect);
                    self.paint_segment_stroke(&ui.painter_at(rect), rect);
                    crate::calcium::paint_naming_box(&ui.painter_at(rect), self.calcium.naming_box);
                }
                self.paint_pointers(&ui.painter_at(rect), rect);
                self.slab_controls(ui, rect);
            }
            None => {
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    self.status_text(),
                    egui::FontId::proportional(14.0),
                    ui.visuals().text_color(),
                );
            }
        }
        if let Some((step, fraction)) = self.loading() {
            let bar = egui::Rect::from_center_size(
                rect.center() + egui::vec2(0.0, 28.0),
                egui::vec2(rect.width().min(360.0), 20.0),
            );
            ui.put(bar, egui::ProgressBar::new(fraction).text(step));
        }
    }

    /// Moves a new frame into the texture, a new `opened` into the mirror and the
    /// crosshair the server reports into the mirror.
    fn take_news(&mut self, ctx: &egui::Context) {
        let (frame, opened, crosshair, crosshair_cells, planes, placement, hanging) = {
            let mut state = self.link.state();
            if let Some(priors) = state.priors.take() {
                self.priors = priors;
            }
            if let Some(reading) = state.probe.take() {
                if reading.values.len() > 1 {
                    self.curve = Some(reading.clone());
                }
                self.probe = Some(reading);
            }
            self.rulers.extend(state.measured.drain(..));
            for news in state.finding_news.drain(..) {
                self.findings.take(news);
            }
            for news in state.segment_news.drain(..) {
                self.segments.take(news);
            }
            (
                state.frame.take(),
                state.opened.take(),
                state.crosshair_lps.take(),
                state.crosshair_cells,
                state.slice_planes,
                state.slice_placement,
                state.hanging.take(),
            )
        };
        self.relist_after_a_save();
        if let Some(crosshair) = crosshair
            && let Some(mirror) = &mut self.mirror
        {
            mirror.crosshair_lps = Some(crosshair);
            self.link.remember(mirror.clone());
        }
        if let Some(opened) = opened {
            // A reconnection reopens the series; the link hands the mirror over itself.
            if self.mirror.is_none() {
                self.mirror = opened.view.clone();
            }
            // Rulers belong to their series (a reconnection reopens the same one).
            if self.opened.as_ref().map(|old| &old.series) != Some(&opened.series) {
                self.clear_rulers();
                self.curve = None;
                self.curve_of = time::CurveOf::Pointer;
                self.curve_saved = None;
            }
            self.opened = Some(opened);
            self.forget_calcium();
            self.ask_saved_segmentations();
        }
        if let Some((protocol, cells)) = hanging {
            self.hang(ctx, &protocol, cells);
        }
        self.apply_hung_cell();
        if let Some(frame) = frame {
            self.shown_size = Some(frame.display_size);
            let image = egui::ColorImage::from_rgba_unmultiplied(frame.size, &frame.rgba);
            self.final_shown = frame.final_still && frame.input_seq >= self.first_own_input;
            // The lines move with the picture: from the first frame answering the input
            // that moved them.
            if let Some((seq, cells)) = crosshair_cells
                && frame.input_seq >= seq
            {
                self.crosshair_cells = Some(cells);
            }
            if let Some((seq, planes)) = planes
                && frame.input_seq >= seq
            {
                self.planes = planes;
            }
            if let Some((seq, placement)) = placement
                && frame.input_seq >= seq
            {
                self.placement = Some(placement);
            }
            match &mut self.texture {
                Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("remote-frame", image, egui::TextureOptions::LINEAR));
                }
            }
        }
    }

    /// The window in effect: the mirror's, else the series'.
    fn current_window(&self) -> Option<Window> {
        let info = self
            .mirror
            .as_ref()
            .and_then(|mirror| mirror.window)
            .or_else(|| self.opened.as_ref().and_then(|opened| opened.window))?;
        Some(Window {
            width: info.width,
            center: info.center,
        })
    }
}

/// The viewport a new link asks for before the first layout.
pub const START_VIEWPORT: Viewport = Viewport {
    width: 1024,
    height: 720,
};

#[cfg(test)]
mod tests {
    use hounsfield_protocol::TransportKind;
    use render_core::view::PlaneGeometry;

    use super::super::plane_lines::plane_colour;
    use super::pointer::{cells_in, slice_under};
    use super::status::frames_carried;
    use super::*;

    #[test]
    fn the_crosshair_lines_cross_where_the_server_says_in_each_slice_cell() {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(400.0, 300.0));
        let cells = cells_in(rect, [400, 300]);
        let crosshair = CrosshairInCells {
            axial: [0.25, 0.75],
            coronal: [0.5, 0.5],
            sagittal: [0.1, 0.2],
        };
        let ctx = egui::Context::default();
        let output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let painter = ui.ctx().layer_painter(egui::LayerId::background());
            paint_quad_overlays(&painter, &cells, Some(&crosshair), None);
        });
        let segments: Vec<([egui::Pos2; 2], egui::Color32)> = output
            .shapes
            .iter()
            .filter_map(|clipped| match &clipped.shape {
                egui::Shape::LineSegment { points, stroke } => Some((*points, stroke.color)),
                _ => None,
            })
            .collect();
        for (plane, cell) in SlicePlane::ALL.into_iter().zip(&cells[1..]) {
            let [x, y] = crosshair.of(plane);
            let at = egui::pos2(
                cell.left() + x as f32 * cell.width(),
                cell.top() + y as f32 * cell.height(),
            );
            // A click there picks the same spot the server named.
            let (picked, px, py) = slice_under(&cells, at).expect("a slice cell");
            assert_eq!(picked, plane);
            assert!((px - x).abs() < 1e-4 && (py - y).abs() < 1e-4, "{plane:?}");
            let inside = |p: egui::Pos2| cell.expand(0.5).contains(p);
            let across: Vec<_> = segments
                .iter()
                .filter(|(p, _)| p[0].y == at.y && p[1].y == at.y && inside(p[0]) && inside(p[1]))
                .collect();
            let down: Vec<_> = segments
                .iter()
                .filter(|(p, _)| p[0].x == at.x && p[1].x == at.x && inside(p[0]) && inside(p[1]))
                .collect();
            assert!(
                !across.is_empty() && !down.is_empty(),
                "{plane:?}: {segments:?}"
            );
            let own = plane_colour(plane.orientation());
            for (points, colour) in across.iter().chain(&down) {
                assert_ne!(*colour, own, "{plane:?}: other planes' traces");
                assert!(
                    points.iter().all(|p| p.distance(at) >= 7.9),
                    "{plane:?}: a gap at the point {points:?}"
                );
            }
            assert_ne!(across[0].1, down[0].1, "{plane:?}: two planes, two colours");
        }
        // Without a crosshair, no lines but the two dividers.
        let bare = ctx.run_ui(egui::RawInput::default(), |ui| {
            let painter = ui.ctx().layer_painter(egui::LayerId::background());
            paint_quad_overlays(&painter, &cells, None, None);
        });
        let lines = bare
            .shapes
            .iter()
            .filter(|c| matches!(c.shape, egui::Shape::LineSegment { .. }))
            .count();
        assert_eq!(lines, 2);
    }

    #[test]
    fn the_status_line_says_what_carries_the_frames_and_why_not_webrtc() {
        assert_eq!(frames_carried("h264", None, None), "H.264");
        assert_eq!(
            frames_carried("h264", Some(TransportKind::Webrtc), None),
            "H.264 over WebRTC"
        );
        assert_eq!(
            frames_carried("jpeg", Some(TransportKind::Websocket), None),
            "JPEG over WebSocket"
        );
        assert_eq!(
            frames_carried(
                "h264",
                Some(TransportKind::Websocket),
                Some("ICE consent lost")
            ),
            "H.264 over WebSocket (WebRTC: ICE consent lost)"
        );
    }

    #[test]
    fn the_pointer_picks_the_cell_and_its_fractions() {
        let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(400.0, 300.0));
        // The frame is half the size of the rect on screen (two pixels a point).
        let cells = cells_in(rect, [200, 150]);
        assert_eq!(cells[0].min, rect.min);
        assert_eq!(cells[3].max, rect.max);
        assert_eq!(slice_under(&cells, egui::pos2(50.0, 50.0)), None, "3D");
        let (plane, x, y) = slice_under(&cells, egui::pos2(310.0, 95.0)).expect("axial");
        assert_eq!(plane, SlicePlane::Axial);
        assert!((x - 0.5).abs() < 1e-6 && (y - 0.5).abs() < 1e-6, "{x} {y}");
        let (plane, x, _) = slice_under(&cells, egui::pos2(10.0, 200.0)).expect("coronal");
        assert_eq!((plane, x), (SlicePlane::Coronal, 0.0));
        let (plane, x, y) = slice_under(&cells, egui::pos2(410.0, 320.0)).expect("sagittal");
        assert_eq!((plane, x, y), (SlicePlane::Sagittal, 1.0, 1.0));
        assert_eq!(
            slice_under(&cells, egui::pos2(500.0, 50.0)),
            None,
            "outside"
        );
    }
}
