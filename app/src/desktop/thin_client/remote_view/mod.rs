//! The thin-client view: frames streamed from a server shown as an egui texture, mouse
//! gestures sent as protocol inputs. In the 2×2 layout the server draws all four cells
//! into the one frame; the pointer's cell decides what a gesture does (the 3D cell
//! orbits, pans and zooms; on a slice the wheel moves the slice, a click the crosshair,
//! a shift-drag (or a drag with the ruler tool on) draws a ruler the server measures, a
//! right-drag the grey window, and the server reads the value under the cursor). The view is mirrored here (the same camera moves the server makes) so that
//! switching to local rendering keeps it.

use render_core::view::PlaneGeometry;
use std::time::{Duration, Instant};

use eframe::egui;
use hounsfield_protocol::{
    Action, CrosshairInCells, Layout, Opened, SharedView, SlicePlane, TransportKind, Viewport,
    WindowInfo,
};
use render_core::Window;
use render_core::camera::Camera;
use render_core::transfer::RenderMode;
use render_core::view::layout::{cell_index, quad_cells};
use render_core::view::{Cell, CropBox};

use hounsfield_tls::Fingerprint;

use super::connection::{LinkStatus, LinkTarget, RemoteLink};
use super::crop_control::CropEdit;
use super::gestures::{Gesture, GestureReader, dragged_window};
use super::rulers::{ProbeReading, Ruler, SlicePlacement};
use super::slice_view::{OVERLAY_TEXT, paint_orientation_letters, plane_colour};

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
    /// A crop box moved on the sliders and not sent yet (held back while dragging).
    crop_unsent: Option<CropBox>,
    /// When the last `crop` went out.
    crop_sent_at: Option<Instant>,
    /// Where the slices of the frame on screen lie in their cells.
    placement: Option<SlicePlacement>,
    /// A left drag on a slice draws a ruler (a shift-drag does anyway).
    pub ruler_tool: bool,
    /// The rulers measured, each kept with its slice.
    rulers: Vec<Ruler>,
    /// The ruler being drawn: its plane and ends (fractions of the cell).
    draft_ruler: Option<(SlicePlane, [f64; 2], [f64; 2])>,
    /// The value under the cursor the server read last (while over a slice).
    probe: Option<ProbeReading>,
    /// The spot the value under the cursor is wanted for, not asked yet (latest wins).
    probe_wanted: Option<(SlicePlane, [f64; 2])>,
    /// The spot under the cursor last seen.
    probe_spot: Option<(SlicePlane, [f64; 2])>,
    /// When the value under the cursor was last asked for.
    probe_asked_at: Option<Instant>,
}

/// The shortest time between two `crop` inputs while a slider is dragged.
pub const CROP_SEND_INTERVAL: Duration = Duration::from_millis(50);

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
            crop_unsent: None,
            crop_sent_at: None,
            placement: None,
            ruler_tool: false,
            rulers: Vec::new(),
            draft_ruler: None,
            probe: None,
            probe_wanted: None,
            probe_spot: None,
            probe_asked_at: None,
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

    /// The link's status line: state, latency, frame rate, bit rate, and the codec and
    /// transport of the frames.
    pub fn status_text(&self) -> String {
        let state = self.link.state();
        let status = match &state.status {
            None => "connecting".to_string(),
            Some(LinkStatus::Connecting { attempt: 0, .. }) => "connecting".to_string(),
            Some(LinkStatus::Connecting {
                attempt,
                reason: Some(reason),
            }) => format!("reconnecting (attempt {attempt}): {reason}"),
            Some(LinkStatus::Connecting { attempt, .. }) => {
                format!("reconnecting (attempt {attempt})")
            }
            Some(LinkStatus::Connected) => "connected".to_string(),
            Some(LinkStatus::Closed(reason)) => format!("closed: {reason}"),
            Some(LinkStatus::Untrusted { .. }) => {
                "waiting: the certificate is not trusted".to_string()
            }
        };
        let latency = state
            .latency_ms
            .map_or_else(String::new, |ms| format!(" · latency {ms:.0} ms"));
        let codec = if state.codec.is_empty() {
            String::new()
        } else {
            format!(
                " · {}",
                frames_carried(
                    &state.codec,
                    state.transport,
                    state.webrtc_fallback.as_deref()
                )
            )
        };
        let user = state
            .user
            .as_ref()
            .map_or_else(String::new, |user| format!(" as {user}"));
        format!(
            "remote · {}{user} · {status}{latency} · {:.0} fps · {:.0} kbit/s{codec}",
            self.link.target.url, state.fps, state.kbit_s
        )
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
        if !self.link.send(action) {
            tracing::debug!("input dropped: the link is busy or stopped");
        }
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
        self.handle_input(ui, &response);
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
                    );
                    self.paint_measurements(&ui.painter_at(rect), rect);
                }
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
        let (frame, opened, crosshair, crosshair_cells, placement) = {
            let mut state = self.link.state();
            if let Some(reading) = state.probe.take() {
                self.probe = Some(reading);
            }
            self.rulers.extend(state.measured.drain(..));
            (
                state.frame.take(),
                state.opened.take(),
                state.crosshair_lps.take(),
                state.crosshair_cells,
                state.slice_placement,
            )
        };
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
            }
            self.opened = Some(opened);
        }
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

    /// The frame size the cells are laid out on: the shown frame's, else the one asked for.
    fn frame_size(&self) -> [u32; 2] {
        self.shown_size.unwrap_or(self.size)
    }

    /// The four cells of the 2×2 layout where they are drawn in `rect`.
    fn cells_on_screen(&self, rect: egui::Rect) -> [egui::Rect; 4] {
        cells_in(rect, self.frame_size())
    }

    /// The slice plane under `pos` in the 2×2 layout and the fractions of its cell;
    /// `None` over the 3D cell or in the 1×1 layout.
    fn slice_at(&self, rect: egui::Rect, pos: egui::Pos2) -> Option<(SlicePlane, f64, f64)> {
        if self.layout() != Layout::Quad {
            return None;
        }
        slice_under(&self.cells_on_screen(rect), pos)
    }

    /// The slice step (mm): the smallest voxel spacing.
    fn slice_step_mm(&self) -> f64 {
        self.opened
            .as_ref()
            .map(|opened| opened.spacing_mm.iter().copied().fold(f64::MAX, f64::min))
            .filter(|step| step.is_finite() && *step > 0.0)
            .unwrap_or(1.0)
    }

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response) {
        let rect = response.rect;
        // A drag belongs to the cell it started in; the wheel to the cell under the pointer.
        let pointer = if response.dragged() || response.drag_stopped() {
            ui.input(|input| input.pointer.press_origin())
        } else {
            response.hover_pos()
        };
        let on_slice = pointer.and_then(|pos| self.slice_at(rect, pos));
        if let Some((plane, _, _)) = on_slice
            && response.hovered()
            && !response.dragged()
        {
            self.scrolled += ui.input(|input| input.smooth_scroll_delta.y);
            let notches = (self.scrolled / SCROLL_PER_SLICE).trunc();
            if notches != 0.0 {
                self.scrolled -= notches * SCROLL_PER_SLICE;
                // Scrolling up moves towards the viewer, as on local slices.
                self.act(Action::Slice {
                    plane: plane.name().to_string(),
                    delta_mm: -self.slice_step_mm() * f64::from(notches),
                });
            }
        }
        self.ask_value_under_cursor(ui, response, rect);
        let primary = response.dragged_by(egui::PointerButton::Primary)
            || response.clicked_by(egui::PointerButton::Primary);
        let measuring = self.ruler_tool || ui.input(|input| input.modifiers.shift);
        if ui.input(|input| input.key_pressed(egui::Key::Escape)) {
            self.draft_ruler = None;
        }
        // A ruler begun is drawn to its end, though shift is let go with the button or the
        // pointer leaves the slice (on slow frames both can come with the release).
        if self.draft_ruler.is_some() || (measuring && on_slice.is_some()) {
            let origin = ui.input(|input| input.pointer.press_origin());
            self.draw_ruler(response, rect, origin);
        } else if on_slice.is_some()
            && primary
            && let Some((plane, x, y)) = response
                .interact_pointer_pos()
                .and_then(|pos| self.slice_at(rect, pos))
            && Some(plane) == on_slice.map(|(plane, _, _)| plane)
        {
            self.act(Action::Crosshair {
                plane: plane.name().to_string(),
                x,
                y,
            });
        }
        for gesture in self.gestures.read(ui, response) {
            let action = match gesture {
                Gesture::Begin => Action::Interact { active: true },
                Gesture::End => Action::Interact { active: false },
                // On a slice the drag moved the crosshair and the wheel the slice.
                Gesture::Orbit(..) | Gesture::Pan(..) | Gesture::Zoom(_) if on_slice.is_some() => {
                    continue;
                }
                Gesture::Orbit(dx, dy) => Action::Orbit { dx, dy },
                Gesture::Pan(dx, dy) => Action::Pan { dx, dy },
                Gesture::Zoom(factor) => Action::Zoom { factor },
                Gesture::Window(dx, dy) => {
                    let Some(window) = self.current_window() else {
                        continue;
                    };
                    let changed = dragged_window(window, dx, dy);
                    Action::Window {
                        width: changed.width,
                        center: changed.center,
                    }
                }
            };
            self.act(action);
        }
    }

    /// Asks the server for the value under the cursor on a slice: at most 20 times a
    /// second, the latest spot winning; forgets the value off the slices.
    fn ask_value_under_cursor(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        rect: egui::Rect,
    ) {
        let hovered = response
            .hover_pos()
            .and_then(|pos| self.slice_at(rect, pos));
        match hovered {
            Some((plane, x, y)) => {
                if self.probe_spot != Some((plane, [x, y])) {
                    self.probe_spot = Some((plane, [x, y]));
                    self.probe_wanted = self.probe_spot;
                }
            }
            None => {
                self.probe = None;
                self.probe_wanted = None;
                self.probe_spot = None;
            }
        }
        let Some((plane, at)) = self.probe_wanted else {
            return;
        };
        let since = self.probe_asked_at.map(|asked| asked.elapsed());
        match since {
            Some(since) if since < PROBE_EVERY => {
                ui.ctx().request_repaint_after(PROBE_EVERY - since);
            }
            _ => {
                if self.link.probe(plane, at) {
                    self.probe_wanted = None;
                    self.probe_asked_at = Some(Instant::now());
                }
            }
        }
    }

    /// A left drag on a slice with the ruler on: the ruler follows it, and its release
    /// asks the server to measure it (a click, under 3 pixels, measures nothing).
    fn draw_ruler(
        &mut self,
        response: &egui::Response,
        rect: egui::Rect,
        origin: Option<egui::Pos2>,
    ) {
        // From where the button went down (a drag starts a few pixels later).
        let at = origin
            .or_else(|| response.interact_pointer_pos())
            .and_then(|pos| self.slice_at(rect, pos));
        let cells = self.cells_on_screen(rect);
        if response.drag_started_by(egui::PointerButton::Primary) {
            self.draft_ruler = at.map(|(plane, x, y)| (plane, [x, y], [x, y]));
            if let Some((plane, ..)) = at {
                tracing::debug!("ruler begun on {}", plane.name());
            }
        }
        // A slow frame may bring the start, the moves and the release together: the end
        // follows the pointer on each of them.
        let moving = response.dragged_by(egui::PointerButton::Primary) || response.drag_stopped();
        if moving
            && let Some((plane, _, end)) = &mut self.draft_ruler
            && let Some(pos) = response.interact_pointer_pos()
        {
            // Kept to the cell it started in.
            let cell = cells[cell_index(*plane)];
            let inside = cell.shrink(0.01);
            let clamped = pos.clamp(inside.min, inside.max);
            if let Some((_, x, y)) = slice_under(&cells, clamped) {
                *end = [x, y];
            }
        }
        if response.drag_stopped()
            && let Some((plane, from, to)) = self.draft_ruler.take()
            && self.frame_pixels(plane, from, to) >= 3.0
            && !self.link.measure(plane, from, to)
        {
            tracing::debug!("ruler dropped: the link is busy or stopped");
        }
        if !response.dragged() && !response.drag_stopped() {
            // The button is up and no drag ends here: nothing is being drawn.
            self.draft_ruler = None;
        }
    }

    /// The length in frame pixels between fractions `from` and `to` of `plane`'s cell.
    fn frame_pixels(&self, plane: SlicePlane, from: [f64; 2], to: [f64; 2]) -> f64 {
        let cell = quad_cells(self.frame_size())[cell_index(plane)];
        f64::hypot(
            (to[0] - from[0]) * f64::from(cell.width),
            (to[1] - from[1]) * f64::from(cell.height),
        )
    }

    /// The rulers on the slices shown, the one being drawn, and in each slice's corner the
    /// grey window and (under the cursor) the value the server read.
    fn paint_measurements(&self, painter: &egui::Painter, rect: egui::Rect) {
        let cells = self.cells_on_screen(rect);
        let size = self.frame_size();
        let on_screen = |plane: SlicePlane, [x, y]: [f64; 2]| {
            let cell = cells[cell_index(plane)];
            egui::pos2(
                cell.left() + x as f32 * cell.width(),
                cell.top() + y as f32 * cell.height(),
            )
        };
        let font = egui::FontId::proportional(14.0);
        let paint = |plane: SlicePlane, from: [f64; 2], to: [f64; 2], label: Option<String>| {
            let (a, b) = (on_screen(plane, from), on_screen(plane, to));
            let painter = painter.with_clip_rect(cells[cell_index(plane)]);
            painter.line_segment([a, b], egui::Stroke::new(2.0, RULER_COLOUR));
            painter.circle_filled(a, 3.0, RULER_COLOUR);
            painter.circle_filled(b, 3.0, RULER_COLOUR);
            if let Some(label) = label {
                painter.text(
                    b + egui::vec2(8.0, -8.0),
                    egui::Align2::LEFT_BOTTOM,
                    label,
                    font.clone(),
                    RULER_COLOUR,
                );
            }
        };
        if let Some(placement) = &self.placement {
            let tolerance = self.slice_step_mm() / 2.0;
            for ruler in &self.rulers {
                if placement.shows(ruler.plane, ruler.from_lps, tolerance) {
                    let from = placement.spot_of(ruler.plane, ruler.from_lps, size);
                    let to = placement.spot_of(ruler.plane, ruler.to_lps, size);
                    paint(ruler.plane, from, to, Some(format!("{:.1} mm", ruler.mm)));
                }
            }
        }
        if let Some((plane, from, to)) = self.draft_ruler {
            let mm = self.placement.map(|placement| {
                let scale = match plane {
                    SlicePlane::Axial => placement.mm_per_pixel.axial,
                    SlicePlane::Coronal => placement.mm_per_pixel.coronal,
                    SlicePlane::Sagittal => placement.mm_per_pixel.sagittal,
                };
                format!("{:.1} mm", self.frame_pixels(plane, from, to) * scale)
            });
            paint(plane, from, to, mm);
        }
        let window = self
            .current_window()
            .map(|window| format!("W {:.0} L {:.0}", window.width, window.center));
        for plane in SlicePlane::ALL {
            let mut lines: Vec<String> = window.iter().cloned().collect();
            if let Some(reading) = self.probe.as_ref().filter(|reading| reading.plane == plane) {
                lines.push(reading.text());
            }
            painter.text(
                cells[cell_index(plane)].left_bottom() + egui::vec2(6.0, -6.0),
                egui::Align2::LEFT_BOTTOM,
                lines.join("\n"),
                egui::FontId::proportional(12.0),
                OVERLAY_TEXT,
            );
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

/// Applies `action` to `mirror` as the server applies it to its view.
fn mirror_action(mirror: &mut SharedView, opened: Option<&Opened>, action: &Action) {
    match action {
        Action::Orbit { dx, dy } => move_camera(mirror, |camera| camera.orbit(*dx, *dy)),
        Action::Pan { dx, dy } => move_camera(mirror, |camera| camera.pan(*dx, *dy)),
        Action::Zoom { factor } => move_camera(mirror, |camera| camera.zoom_by(*factor)),
        Action::Window { width, center } => {
            mirror.window = Some(WindowInfo {
                width: *width,
                center: *center,
            });
        }
        Action::Preset { name } => {
            mirror.preset = name.clone();
            if let Some(mode) = render_core::transfer::PresetLibrary::builtin()
                .get(name)
                .map(|preset| preset.mode)
            {
                mirror.mode = mode.name().to_string();
            }
        }
        Action::Mode { mode } => mirror.mode = mode.clone(),
        Action::View { name } => {
            if let Some(view) = render_core::camera::NamedView::from_name(name) {
                move_camera(mirror, |camera| camera.set_view(view));
            }
        }
        Action::Reset => {
            if let Some(view) = opened.and_then(|opened| opened.view.clone()) {
                *mirror = view;
            }
        }
        Action::Crop { min, max } => {
            mirror.crop = CropBox::checked(*min, *max)
                .ok()
                .and_then(|crop| crop.to_info());
        }
        Action::SetView { view } => *mirror = (**view).clone(),
        Action::Layout { name } => {
            if let Some(layout) = Layout::from_name(name) {
                mirror.layout = layout;
            }
        }
        // The server says where the crosshair went (`crosshair` message).
        Action::Slice { .. } | Action::Crosshair { .. } => {}
        Action::Resize { .. } | Action::Interact { .. } => {}
    }
}

/// Moves the mirror's camera as the render core moves a camera.
fn move_camera(mirror: &mut SharedView, motion: impl FnOnce(&mut Camera)) {
    let mut camera = Camera::from(mirror.camera);
    motion(&mut camera);
    mirror.camera = camera.into();
}

/// The four cells (3D, axial, coronal, sagittal) of a 2×2 frame of `size` pixels drawn
/// stretched over `rect`.
fn cells_in(rect: egui::Rect, size: [u32; 2]) -> [egui::Rect; 4] {
    let scale = egui::vec2(
        rect.width() / size[0].max(1) as f32,
        rect.height() / size[1].max(1) as f32,
    );
    quad_cells(size).map(|cell: Cell| {
        egui::Rect::from_min_size(
            rect.min + egui::vec2(cell.x as f32 * scale.x, cell.y as f32 * scale.y),
            egui::vec2(cell.width as f32 * scale.x, cell.height as f32 * scale.y),
        )
    })
}

/// The slice plane whose cell holds `pos`, with the fractions (0..=1) of that cell from
/// its top left; `None` over the 3D cell or outside.
fn slice_under(cells: &[egui::Rect; 4], pos: egui::Pos2) -> Option<(SlicePlane, f64, f64)> {
    let index = cells.iter().position(|cell| cell.contains(pos))?;
    let plane = *SlicePlane::ALL.get(index.checked_sub(1)?)?;
    let cell = cells[index];
    let fraction =
        |at: f32, min: f32, extent: f32| f64::from(((at - min) / extent.max(1.0)).clamp(0.0, 1.0));
    Some((
        plane,
        fraction(pos.x, cell.min.x, cell.width()),
        fraction(pos.y, cell.min.y, cell.height()),
    ))
}

/// Lines between the cells of the 2×2 layout, each slice's name and orientation letters,
/// and the crosshair where the server says it shows (the server draws the images only).
fn paint_quad_overlays(
    painter: &egui::Painter,
    cells: &[egui::Rect; 4],
    crosshair: Option<&CrosshairInCells>,
) {
    let divider = egui::Stroke::new(1.0, egui::Color32::from_gray(90));
    let whole = cells[0].union(cells[3]);
    let middle = cells[3].min;
    painter.line_segment(
        [
            egui::pos2(middle.x, whole.top()),
            egui::pos2(middle.x, whole.bottom()),
        ],
        divider,
    );
    painter.line_segment(
        [
            egui::pos2(whole.left(), middle.y),
            egui::pos2(whole.right(), middle.y),
        ],
        divider,
    );
    let font = egui::FontId::proportional(14.0);
    let text = OVERLAY_TEXT;
    for (plane, cell) in SlicePlane::ALL.into_iter().zip(&cells[1..]) {
        if let Some(crosshair) = crosshair {
            paint_crosshair(painter, *cell, plane, crosshair.of(plane));
        }
        let (right, down) = plane.orientation().right_and_down();
        paint_orientation_letters(painter, *cell, right, down);
        painter.text(
            cell.left_top() + egui::vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            plane.name(),
            font.clone(),
            text,
        );
    }
}

/// The crosshair at fractions `[x, y]` of `plane`'s cell: the traces of the other two
/// planes, each in its plane's colour, with a gap around the point so it stays visible.
fn paint_crosshair(painter: &egui::Painter, cell: egui::Rect, plane: SlicePlane, [x, y]: [f64; 2]) {
    const GAP: f32 = 8.0;
    let at = egui::pos2(
        cell.left() + x as f32 * cell.width(),
        cell.top() + y as f32 * cell.height(),
    );
    let (right, down) = plane.orientation().right_and_down();
    let painter = painter.with_clip_rect(cell);
    for other in SlicePlane::ALL.into_iter().filter(|other| *other != plane) {
        let stroke = egui::Stroke::new(1.0, plane_colour(other.orientation()));
        let normal = other.normal();
        if normal.dot(down).abs() > 0.5 {
            // Its trace runs across the cell.
            for [from, to] in [[cell.left(), at.x - GAP], [at.x + GAP, cell.right()]] {
                if to > from {
                    painter.line_segment([egui::pos2(from, at.y), egui::pos2(to, at.y)], stroke);
                }
            }
        } else if normal.dot(right).abs() > 0.5 {
            // Its trace runs down the cell.
            for [from, to] in [[cell.top(), at.y - GAP], [at.y + GAP, cell.bottom()]] {
                if to > from {
                    painter.line_segment([egui::pos2(at.x, from), egui::pos2(at.x, to)], stroke);
                }
            }
        }
    }
}

/// The render mode a mirror names (composite when unknown).
pub fn mirror_mode(mirror: &SharedView) -> RenderMode {
    RenderMode::from_name(&mirror.mode).unwrap_or(RenderMode::Composite)
}

/// How the frames come, for the status line: the codec and, once connected, the transport,
/// with why it is not WebRTC when WebRTC was tried (`H.264 over WebSocket (WebRTC: …)`).
fn frames_carried(codec: &str, transport: Option<TransportKind>, fallback: Option<&str>) -> String {
    let codec = match codec {
        "h264" => "H.264",
        "jpeg" => "JPEG",
        "png" => "PNG",
        other => other,
    };
    match (transport, fallback) {
        (None, _) => codec.to_string(),
        (Some(TransportKind::Webrtc), _) => format!("{codec} over WebRTC"),
        (Some(TransportKind::Websocket), None) => format!("{codec} over WebSocket"),
        (Some(TransportKind::Websocket), Some(why)) => {
            format!("{codec} over WebSocket (WebRTC: {why})")
        }
    }
}

/// The viewport a new link asks for before the first layout.
pub const START_VIEWPORT: Viewport = Viewport {
    width: 1024,
    height: 720,
};

#[cfg(test)]
mod tests {
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
            paint_quad_overlays(&painter, &cells, Some(&crosshair));
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
            paint_quad_overlays(&painter, &cells, None);
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
