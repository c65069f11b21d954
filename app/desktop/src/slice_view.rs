//! One multiplanar reformat (axial, coronal or sagittal) in the layout: the slice through
//! the shared crosshair, of the planes as the shared frame turns them (standard, oblique
//! or double oblique), with orientation labels, a scale bar, the other planes' lines with
//! the handles that turn the planes, the value under the cursor (HU for CT), a distance
//! ruler, and the findings drawn on it (facing the way it faces now).

mod geometry;
mod path_marks;
mod segment_strokes;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use glam::DVec3;
use hounsfield_findings::naming::NamingGesture;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_protocol::SlicePlane;
use render_core::gpu::Renderer;
use render_core::view::{
    CellSlabs, MprOrientation, MprPlane, PlaneGeometry, Quality, SliceFrame, ViewState,
};
use render_core::{Volume, Window};

use super::findings::paint::paint_slice;
use super::findings::{Gesture, LocalFindings, SketchOutcome, SliceTool};
use super::gestures::dragged_window;
use super::over::{LocalOver, OverTexture};
use super::plane_lines::{PlaneLines, PlaneTurn, plane_colour};
use super::segments::overlay::SegmentTexture;
use super::segments::{SegmentGesture, ShownSegments};
use super::thin_client::rulers::ProbeReading;
use super::viewport_texture::ViewportTexture;
use geometry::{OnScreen, SliceGeometry};

/// What the slices share: the crosshair point, the planes' frame, the grey window and the
/// tool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceLink {
    /// The point all three planes pass through (LPS, mm).
    pub crosshair: DVec3,
    /// The slice planes: standard, or turned together about the crosshair.
    pub frame: SliceFrame,
    /// The grey window of the slices.
    pub window: Option<Window>,
    /// Each slice cell's slab (thin slices by default).
    pub slabs: CellSlabs,
    /// What a left drag does.
    pub tool: SliceTool,
    /// The segment brush's radius (mm).
    pub brush_mm: f64,
    /// Whether a click or a drag on the axial slice names calcium lesions.
    pub calcium_naming: bool,
}

/// What a slice lays over its picture, and what its probe reads beside the series' own
/// value.
pub struct SliceLayers<'a> {
    /// A second series drawn over it.
    pub over: Option<&'a LocalOver>,
    /// The segments (with a threshold's preview) and the calcium lesions.
    pub segments: &'a ShownSegments,
    /// SUV a Bq/ml of the series shown, a PET.
    pub suv_factor: Option<f64>,
}

impl SliceLayers<'_> {
    /// The probe's reading of `value` at `lps` on `plane` of `volume`: its unit, its SUV
    /// for a PET, and the value (and SUV) of the series drawn over there.
    pub fn reading(
        &self,
        volume: &Volume,
        plane: SlicePlane,
        lps: DVec3,
        value: f64,
    ) -> ProbeReading {
        let over = self.over.and_then(|over| over.reading_at(lps));
        ProbeReading {
            plane,
            lps_mm: lps,
            value: Some(value),
            unit: hounsfield_findings::unit_of(&volume.modality).to_string(),
            values: Vec::new(),
            curve: None,
            over_value: over.map(|(value, _)| value),
            suv: self.suv_factor.map(|factor| value * factor),
            over_suv: over.and_then(|(_, suv)| suv),
        }
    }
}

/// The colour of text drawn over the images (letters, W/L, scale bar).
pub const OVERLAY_TEXT: egui::Color32 = egui::Color32::from_rgb(240, 220, 120);

/// Draws the patient direction at each edge of a slice shown in `rect` whose screen
/// right and down are the patient directions `right` and `down` (LPS).
pub fn paint_orientation_letters(
    painter: &egui::Painter,
    rect: egui::Rect,
    right: DVec3,
    down: DVec3,
) {
    let font = egui::FontId::proportional(14.0);
    let letters = [
        (
            rect.left_center() + egui::vec2(6.0, 0.0),
            egui::Align2::LEFT_CENTER,
            -right,
        ),
        (
            rect.right_center() - egui::vec2(6.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            right,
        ),
        (
            rect.center_top() + egui::vec2(0.0, 4.0),
            egui::Align2::CENTER_TOP,
            -down,
        ),
        (
            rect.center_bottom() - egui::vec2(0.0, 4.0),
            egui::Align2::CENTER_BOTTOM,
            down,
        ),
    ];
    for (at, align, direction) in letters {
        painter.text(
            at,
            align,
            direction_letter(direction),
            font.clone(),
            OVERLAY_TEXT,
        );
    }
}

/// The letter of the patient direction `direction` points most along: L/R, P/A, S/I.
pub fn direction_letter(direction: DVec3) -> char {
    let magnitudes = direction.abs();
    if magnitudes.x >= magnitudes.y && magnitudes.x >= magnitudes.z {
        if direction.x >= 0.0 { 'L' } else { 'R' }
    } else if magnitudes.y >= magnitudes.z {
        if direction.y >= 0.0 { 'P' } else { 'A' }
    } else if direction.z >= 0.0 {
        'S'
    } else {
        'I'
    }
}

/// A scale bar no longer than `max_mm`: 1, 2 or 5 times a power of ten millimetres.
pub fn scale_bar_mm(max_mm: f64) -> f64 {
    if !(max_mm.is_finite() && max_mm > 0.0) {
        return 0.0;
    }
    let power = 10f64.powf(max_mm.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|step| step * power)
        .find(|mm| *mm <= max_mm)
        .unwrap_or(power)
}

/// One slice view.
pub struct SliceView {
    /// Which plane (turned as the link's frame says).
    pub plane: SlicePlane,
    texture: ViewportTexture,
    /// The view last drawn (none: never).
    drawn: Option<(MprPlane, Option<Window>, [u32; 2])>,
    /// A ruler's ends (LPS), while drawn and after.
    ruler: Option<(DVec3, DVec3)>,
    /// The value under the cursor and where.
    pub probe: Option<(DVec3, f64)>,
    /// The probe as the corner tells it, with the series drawn over's value and SUV.
    pub probe_text: Option<String>,
    /// The last render error.
    error: Option<String>,
    /// Wheel movement not yet turned into slices (points).
    scrolled: f32,
    /// Where the slice was last drawn.
    shown: Option<OnScreen>,
    /// The other planes' lines as last drawn.
    lines: Option<PlaneLines>,
    /// A line's handle being dragged.
    turning: Option<PlaneTurn>,
    /// A point clicked with the Path tool, for the curved reformat to take.
    path_click: Option<DVec3>,
    /// Lesions named on the axial slice since the workspace last asked.
    calcium_gesture: Option<NamingGesture>,
    /// The naming box being dragged on the axial slice (screen points).
    pub naming_box: Option<egui::Rect>,
    /// A second series drawn over the slice.
    over_texture: OverTexture,
    /// The segments laid over the slice.
    segment_texture: SegmentTexture,
    /// A segment brush's stroke under way (LPS).
    stroke: Vec<DVec3>,
    /// A segment tool's gesture finished, for the workspace to take.
    segment_gesture: Option<SegmentGesture>,
}

/// Wheel movement (points) that moves one slice.
const SCROLL_PER_SLICE: f32 = 40.0;

impl SliceView {
    /// Draws the slice again at the next frame (its volume changed).
    pub fn refresh(&mut self) {
        self.drawn = None;
    }

    /// A view of `plane`, not yet drawn.
    pub fn new(plane: SlicePlane) -> Self {
        Self {
            plane,
            texture: ViewportTexture::default(),
            drawn: None,
            ruler: None,
            probe: None,
            probe_text: None,
            error: None,
            scrolled: 0.0,
            shown: None,
            lines: None,
            turning: None,
            path_click: None,
            calcium_gesture: None,
            naming_box: None,
            over_texture: OverTexture::default(),
            segment_texture: SegmentTexture::default(),
            stroke: Vec::new(),
            segment_gesture: None,
        }
    }

    /// Where the slice was last drawn, in egui points.
    #[cfg(test)]
    pub fn rect(&self) -> Option<egui::Rect> {
        self.shown.map(|shown| shown.rect)
    }

    /// The patient point under `pos` on the slice as last drawn.
    #[cfg(test)]
    pub fn lps_at(&self, pos: egui::Pos2) -> Option<DVec3> {
        self.shown.map(|shown| shown.lps_at(pos))
    }

    /// The lesions named on this slice since the workspace last asked, once.
    pub fn take_calcium_gesture(&mut self) -> Option<NamingGesture> {
        self.calcium_gesture.take()
    }

    /// Where a patient point shows on the slice as last drawn.
    #[cfg(test)]
    pub fn screen_of(&self, lps: DVec3) -> Option<egui::Pos2> {
        self.shown.map(|shown| shown.screen_of(lps))
    }

    /// Where the crosshair and the handle on `other`'s line were last drawn.
    #[cfg(test)]
    pub fn handle(&self, other: SlicePlane) -> Option<(egui::Pos2, egui::Pos2)> {
        let lines = self.lines?;
        lines
            .handles()
            .into_iter()
            .find(|(plane, _)| *plane == other)
            .and_then(|(_, spot)| spot)
            .map(|spot| (lines.at, spot))
    }

    /// The slice's pixels as last drawn, rendered again at full quality (RGBA).
    #[cfg(test)]
    pub fn read_back(&self, renderer: &mut Renderer, base: &ViewState) -> Option<Vec<u8>> {
        let (plane, window, size) = self.drawn?;
        let image = renderer
            .render_image(&mpr_view(base, plane, window), size)
            .ok()?;
        Some(image.rgba)
    }

    /// The ruler's length (mm), when one is drawn.
    pub fn ruler_mm(&self) -> Option<f64> {
        self.ruler.map(|(a, b)| a.distance(b))
    }

    /// How the slice is shown: its plane turned as the link's frame says.
    fn orientation(&self, link: &SliceLink) -> MprOrientation {
        link.frame.orientation(self.plane)
    }

    /// Whether the frame tilts this slice off its standard plane (a turn about its own
    /// normal leaves it as it was).
    fn tilted(&self, link: &SliceLink) -> bool {
        link.frame.normal(self.plane).distance(self.plane.normal()) > 1e-9
    }

    /// The plane through the crosshair: centred in-plane on the volume, so the image
    /// stays put while the crosshair moves.
    fn plane(&self, volume: &Volume, link: &SliceLink) -> MprPlane {
        let slab = link.slabs.of(self.plane);
        MprPlane {
            slab_mm: slab.mm,
            slab_mode: slab.mode,
            ..MprPlane::through(volume, self.orientation(link), link.crosshair)
        }
    }

    /// The other planes' lines through the crosshair where the slice is `on_screen`.
    fn plane_lines(&self, link: &SliceLink, on_screen: &OnScreen) -> PlaneLines {
        PlaneLines::new(
            self.plane,
            on_screen.rect,
            on_screen.screen_of(link.crosshair),
            |other| link.frame.line_in_cell(self.plane, other),
        )
    }

    /// A drag of a line's handle: the planes turned about this slice's normal by the
    /// angle the pointer goes round the crosshair. Whether one is under way (the drag is
    /// then the handle's).
    fn turn_by_handle(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        link: &mut SliceLink,
        lines: &PlaneLines,
    ) -> bool {
        if response.drag_started_by(egui::PointerButton::Primary)
            && let Some(origin) = ui.input(|input| input.pointer.press_origin())
            && lines.handle_under(origin).is_some()
        {
            self.turning = Some(PlaneTurn::start(self.plane, lines.at, origin));
        }
        let Some(turn) = &mut self.turning else {
            return false;
        };
        if (response.dragged() || response.drag_stopped())
            && let Some(pos) = response.interact_pointer_pos()
        {
            let degrees = turn.follow(pos);
            if degrees != 0.0 {
                match link.frame.turned(turn.cell, degrees) {
                    Ok(frame) => link.frame = frame,
                    Err(why) => tracing::debug!(%why, "turn not taken"),
                }
            }
        }
        if !response.dragged() {
            self.turning = None;
        }
        true
    }

    /// Draws the slice in `ui`'s remaining space with what `layers` lays over it, handles
    /// its input (which may move the shared crosshair or window, draw and edit findings,
    /// or paint a segment) and paints its overlays.
    #[allow(clippy::too_many_arguments)] // each is one part of what a slice shows
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        renderer: &mut Renderer,
        render_state: &RenderState,
        base: &ViewState,
        link: &mut SliceLink,
        findings: &mut LocalFindings,
        layers: &SliceLayers,
    ) {
        let Some(volume) = renderer.volume().cloned() else {
            return;
        };
        let size = ui.available_size().max(egui::vec2(16.0, 16.0));
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        let pixels_per_point = f64::from(ui.ctx().pixels_per_point());
        let physical = [
            ((f64::from(rect.width()) * pixels_per_point).round() as u32).max(1),
            ((f64::from(rect.height()) * pixels_per_point).round() as u32).max(1),
        ];
        let geometry = SliceGeometry::of(&self.plane(&volume, link), &volume, physical);
        let on_screen = OnScreen {
            rect,
            pixels_per_point,
            geometry,
        };
        let plane = self.plane(&volume, link);
        let in_effect = link
            .window
            .or_else(|| renderer.effective_window(&mpr_view(base, plane, None)));
        let lines = self.plane_lines(link, &on_screen);
        let turning = self.turn_by_handle(ui, &response, link, &lines);
        self.handle_input(ui, &response, &volume, link, in_effect, &on_screen, turning);
        if !turning {
            self.findings_gesture(ui, &response, &volume, link, findings, &on_screen);
            self.segment_stroke(&response, link, &on_screen);
        }
        let plane = self.plane(&volume, link);
        let window = link.window.or(in_effect);
        let wanted = (plane, window, physical);
        if self.drawn != Some(wanted) {
            let view = mpr_view(base, plane, window);
            match renderer.render(&view, physical) {
                Ok(_) => {
                    if let Some(frame) = renderer.frame_texture() {
                        self.texture.copy_from(render_state, frame);
                    }
                    self.error = None;
                }
                Err(error) => self.error = Some(format!("render failed: {error}")),
            }
            self.drawn = Some(wanted);
        }
        let painter = ui.painter_at(rect);
        self.texture.paint(&painter, rect);
        self.over_texture
            .paint(&painter, rect, &volume, &plane, physical, layers.over);
        self.segment_texture
            .paint(&painter, rect, &volume, &plane, physical, layers.segments);
        let geometry = SliceGeometry::of(&plane, &volume, physical);
        self.probe_text = self
            .probe
            .map(|(lps, value)| layers.reading(&volume, self.plane, lps, value).text());
        self.paint_overlays(&painter, rect, pixels_per_point, &geometry, link, window);
        crate::calcium::paint_naming_box(&painter, self.naming_box);
        let shown = OnScreen {
            rect,
            pixels_per_point,
            geometry,
        };
        self.paint_brush(&painter, &response, link, &shown);
        let lines = self.plane_lines(link, &shown);
        lines.paint(&painter);
        self.lines = Some(lines);
        // Findings show on the slice they were drawn on, facing the way it faced.
        let placed = placed_findings(findings, self.plane, &volume, link, &shown);
        paint_slice(
            &painter,
            &findings.list,
            &findings.sketch,
            self.plane,
            &placed,
        );
        self.shown = Some(shown);
    }

    /// A drawing or select tool's gesture: a finding drawn (measured here on `volume`),
    /// moved, reshaped or selected.
    fn findings_gesture(
        &self,
        ui: &egui::Ui,
        response: &egui::Response,
        volume: &Volume,
        link: &SliceLink,
        findings: &mut LocalFindings,
        on_screen: &OnScreen,
    ) {
        let slice = self.plane;
        if !link.tool.acts_on_findings() {
            // Another tool picked: what was being drawn or moved is dropped.
            findings.sketch.cancel();
            return;
        }
        let placed = placed_findings(findings, slice, volume, link, on_screen);
        let gesture = Gesture::of(ui, response);
        let selected = findings.list.selected;
        let outcomes = findings.sketch.handle(
            slice,
            link.tool,
            &gesture,
            on_screen.rect,
            &placed,
            selected,
        );
        let to_lps = |points: &[egui::Pos2]| points.iter().map(|p| on_screen.lps_at(*p)).collect();
        for outcome in outcomes {
            match outcome {
                SketchOutcome::Drawn {
                    plane,
                    kind,
                    points,
                } => {
                    let axes = PlaneAxes::turned(&link.frame, plane);
                    findings.draw(volume, kind, (plane, axes), to_lps(&points));
                }
                SketchOutcome::Reshaped { id, points } => {
                    findings.redraw(volume, id, to_lps(&points));
                }
                SketchOutcome::Selected(id) => findings.list.selected = id,
            }
        }
    }

    /// The value under the cursor, the wheel (along the slice's normal, turned or not),
    /// a left drag or click as the tool says (unless a handle is being dragged:
    /// `turning`), a right drag on the grey window.
    #[allow(clippy::too_many_arguments)]
    fn handle_input(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        volume: &Volume,
        link: &mut SliceLink,
        in_effect: Option<Window>,
        on_screen: &OnScreen,
        turning: bool,
    ) {
        let to_lps = |pos: egui::Pos2| on_screen.lps_at(pos);
        self.probe = response.hover_pos().and_then(|pos| {
            let lps = to_lps(pos);
            volume.nearest_voxel(lps).map(|(_, value)| (lps, value))
        });
        if response.hovered() {
            self.scrolled += ui.input(|input| input.smooth_scroll_delta.y);
            // One slice (the smallest voxel spacing) per wheel notch, towards the viewer
            // when scrolling up.
            let notches = (self.scrolled / SCROLL_PER_SLICE).trunc();
            if notches != 0.0 {
                self.scrolled -= notches * SCROLL_PER_SLICE;
                let step = volume.spacing_mm.iter().copied().fold(f64::MAX, f64::min);
                let normal = link.frame.normal(self.plane);
                link.crosshair -= normal * step * f64::from(notches);
            }
        }
        let primary = response.dragged_by(egui::PointerButton::Primary)
            || response.clicked_by(egui::PointerButton::Primary);
        let naming = link.calcium_naming
            && self.plane == SlicePlane::Axial
            && !self.tilted(link)
            && !ui.input(|input| input.modifiers.shift);
        // The box as the last frame outlined it: its corners are the drag's once let go
        // (the press's origin is forgotten by then).
        let outlined = self.naming_box.take();
        if naming && !turning {
            // Name lesions on: a click names the plaque there, a drag the lesions of the
            // slice in its box (outlined while it is dragged); the tools wait.
            self.naming_box = crate::calcium::naming_box(ui, response);
            if response.clicked_by(egui::PointerButton::Primary)
                && let Some(pos) = response.interact_pointer_pos()
            {
                self.calcium_gesture = Some(NamingGesture::Click(to_lps(pos)));
            } else if response.drag_stopped_by(egui::PointerButton::Primary)
                && let Some(dragged) = crate::calcium::released_box(ui, response, outlined)
            {
                self.calcium_gesture =
                    Some(NamingGesture::Box(to_lps(dragged.min), to_lps(dragged.max)));
            }
        } else if primary
            && !turning
            && let Some(pos) = response.interact_pointer_pos()
        {
            let lps = to_lps(pos);
            match link.tool {
                SliceTool::Crosshair => link.crosshair = lps,
                // Findings and segments take their gestures apart (`findings_gesture`,
                // `segment_stroke`).
                SliceTool::Select | SliceTool::Draw(_) | SliceTool::Segment(_) => {}
                SliceTool::Path => {
                    if response.clicked() {
                        self.path_click = Some(lps);
                    }
                }
                SliceTool::Measure => {
                    if response.drag_started() || response.clicked() {
                        self.ruler = Some((lps, lps));
                    } else if let Some((start, _)) = self.ruler {
                        self.ruler = Some((start, lps));
                    }
                }
            }
        }
        if response.dragged_by(egui::PointerButton::Secondary)
            && let Some(start) = in_effect
        {
            let delta = response.drag_delta();
            link.window = Some(dragged_window(
                start,
                f64::from(delta.x),
                f64::from(delta.y),
            ));
        }
    }

    fn paint_overlays(
        &self,
        painter: &egui::Painter,
        rect: egui::Rect,
        pixels_per_point: f64,
        geometry: &SliceGeometry,
        link: &SliceLink,
        window: Option<Window>,
    ) {
        let to_screen = |lps: DVec3| {
            let (x, y) = geometry.pixel_of(lps);
            egui::pos2(
                rect.min.x + (x / pixels_per_point) as f32,
                rect.min.y + (y / pixels_per_point) as f32,
            )
        };
        if let Some(error) = &self.error {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                error,
                egui::FontId::proportional(14.0),
                egui::Color32::RED,
            );
        }
        // Orientation letters at the edges, and the plane's name.
        paint_orientation_letters(painter, rect, geometry.right, geometry.down);
        let font = egui::FontId::proportional(14.0);
        let text = OVERLAY_TEXT;
        let name = if self.tilted(link) {
            format!("oblique {}", self.plane.name())
        } else {
            self.plane.name().to_string()
        };
        painter.text(
            rect.left_top() + egui::vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            name,
            font.clone(),
            plane_colour(self.plane.orientation()),
        );
        // Scale bar, bottom right: a round length up to a quarter of the width.
        let mm_per_point = geometry.mm_per_pixel * pixels_per_point;
        let bar_mm = scale_bar_mm(f64::from(rect.width()) * 0.25 * mm_per_point);
        if bar_mm > 0.0 {
            let length = (bar_mm / mm_per_point) as f32;
            let end = rect.right_bottom() - egui::vec2(10.0, 24.0);
            let start = end - egui::vec2(length, 0.0);
            painter.line_segment([start, end], egui::Stroke::new(2.0, text));
            for tick in [start, end] {
                painter.line_segment(
                    [tick - egui::vec2(0.0, 4.0), tick + egui::vec2(0.0, 4.0)],
                    egui::Stroke::new(2.0, text),
                );
            }
            painter.text(
                egui::pos2((start.x + end.x) * 0.5, end.y + 4.0),
                egui::Align2::CENTER_TOP,
                format!("{bar_mm:.0} mm"),
                egui::FontId::proportional(12.0),
                text,
            );
        }
        // Window and the value under the cursor, bottom left.
        let mut lines = Vec::new();
        if let Some(window) = window {
            lines.push(format!("W {:.0} L {:.0}", window.width, window.center));
        }
        if let Some(text) = &self.probe_text {
            lines.push(text.clone());
        }
        painter.text(
            rect.left_bottom() + egui::vec2(6.0, -6.0),
            egui::Align2::LEFT_BOTTOM,
            lines.join("\n"),
            egui::FontId::proportional(12.0),
            text,
        );
        // The ruler and its length.
        if let Some((a, b)) = self.ruler {
            let (pa, pb) = (to_screen(a), to_screen(b));
            let stroke = egui::Stroke::new(2.0, egui::Color32::from_rgb(255, 200, 0));
            painter.line_segment([pa, pb], stroke);
            painter.circle_filled(pa, 3.0, stroke.color);
            painter.circle_filled(pb, 3.0, stroke.color);
            painter.text(
                pb + egui::vec2(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{:.1} mm", a.distance(b)),
                egui::FontId::proportional(14.0),
                stroke.color,
            );
        }
    }
}

/// The findings on `slice` through the crosshair, where they show on screen.
fn placed_findings(
    findings: &LocalFindings,
    slice: SlicePlane,
    volume: &Volume,
    link: &SliceLink,
    on_screen: &OnScreen,
) -> Vec<super::findings::Placed> {
    let step = volume.spacing_mm.iter().copied().fold(f64::MAX, f64::min);
    let normal = link.frame.normal(slice);
    let depth = link.crosshair.dot(normal);
    findings
        .list
        .placed_on(slice, normal, depth, step * 0.5, |lps| {
            on_screen.screen_of(lps)
        })
}

/// `base` turned into the reformat `plane` with `window`, at full quality.
fn mpr_view(base: &ViewState, plane: MprPlane, window: Option<Window>) -> ViewState {
    let mut view = base.clone();
    view.mpr = Some(plane);
    view.window = window;
    view.quality = Quality::Full;
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_letters_follow_the_reading_convention() {
        // Axial from the feet: patient's left on the screen's right, anterior at the top.
        let (right, down) = MprOrientation::Axial.right_and_down();
        assert_eq!(direction_letter(right), 'L');
        assert_eq!(direction_letter(-right), 'R');
        assert_eq!(direction_letter(-down), 'A');
        assert_eq!(direction_letter(down), 'P');
        let (right, down) = MprOrientation::Sagittal.right_and_down();
        assert_eq!(direction_letter(right), 'P');
        assert_eq!(direction_letter(-down), 'S');
        let (_, down) = MprOrientation::Coronal.right_and_down();
        assert_eq!(direction_letter(down), 'I');
    }

    #[test]
    fn scale_bars_are_round_lengths_that_fit() {
        assert_eq!(scale_bar_mm(73.0), 50.0);
        assert_eq!(scale_bar_mm(20.0), 20.0);
        assert_eq!(scale_bar_mm(19.9), 10.0);
        assert_eq!(scale_bar_mm(3.2), 2.0);
        assert_eq!(scale_bar_mm(0.0), 0.0);
    }
}
