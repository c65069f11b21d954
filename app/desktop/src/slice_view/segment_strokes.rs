//! The segment tools on a slice: a drag of the brush or the eraser gathered into a stroke
//! (points no further apart than half the brush's radius, so the discs join), a click to
//! grow from, and the brush drawn under the pointer and along the stroke under way. The
//! workspace takes each finished gesture and edits the selected segment with it.

use eframe::egui;
use glam::DVec3;
use hounsfield_segment::edit::MOST_STROKE_POINTS;

use super::SliceView;
use super::geometry::OnScreen;
use crate::findings::SliceTool;
use crate::segments::{SegmentBrush, SegmentGesture};
use crate::slice_view::SliceLink;

/// The brush's colour under the pointer and along a stroke.
const BRUSH_COLOUR: egui::Color32 = egui::Color32::from_rgba_premultiplied(90, 90, 90, 90);

impl SliceView {
    /// Follows a segment tool's gesture on the slice `on_screen`.
    pub(super) fn segment_stroke(
        &mut self,
        response: &egui::Response,
        link: &SliceLink,
        on_screen: &OnScreen,
    ) {
        let SliceTool::Segment(brush) = link.tool else {
            self.stroke.clear();
            return;
        };
        let primary = egui::PointerButton::Primary;
        let at = response
            .interact_pointer_pos()
            .map(|pos| on_screen.lps_at(pos));
        let normal_lps = link.frame.normal(self.plane);
        let gesture = |points_lps| SegmentGesture {
            brush,
            points_lps,
            normal_lps,
        };
        if brush == SegmentBrush::Grow {
            if response.clicked_by(primary)
                && let Some(lps) = at
            {
                self.segment_gesture = Some(gesture(vec![lps]));
            }
            return;
        }
        // A drag's stroke starts where the button went down, not where the pointer had
        // gone by the time it counted as a drag.
        if response.drag_started_by(primary)
            && let Some(origin) = response.ctx.input(|input| input.pointer.press_origin())
        {
            self.stroke.clear();
            self.extend_stroke(on_screen.lps_at(origin), link.brush_mm * 0.5);
        }
        let pressed = response.dragged_by(primary)
            || response.drag_stopped_by(primary)
            || response.clicked_by(primary);
        if pressed && let Some(lps) = at {
            self.extend_stroke(lps, link.brush_mm * 0.5);
        }
        let ended = response.drag_stopped_by(primary) || response.clicked_by(primary);
        if !self.stroke.is_empty() && (ended || self.stroke.len() >= MOST_STROKE_POINTS) {
            let points = if ended {
                std::mem::take(&mut self.stroke)
            } else {
                // The stroke goes on from its last point.
                let last = self.stroke[self.stroke.len() - 1];
                std::mem::replace(&mut self.stroke, vec![last])
            };
            self.segment_gesture = Some(gesture(points));
        }
    }

    /// Adds `lps` to the stroke, with points between at most `step_mm` apart.
    fn extend_stroke(&mut self, lps: DVec3, step_mm: f64) {
        let Some(&last) = self.stroke.last() else {
            self.stroke.push(lps);
            return;
        };
        let length = last.distance(lps);
        if length < 1e-6 {
            return;
        }
        let steps = (length / step_mm.max(0.1))
            .ceil()
            .min(MOST_STROKE_POINTS as f64) as usize;
        for step in 1..=steps.max(1) {
            if self.stroke.len() >= MOST_STROKE_POINTS {
                break;
            }
            self.stroke
                .push(last.lerp(lps, step as f64 / steps.max(1) as f64));
        }
    }

    /// The gesture finished since the workspace last asked.
    pub fn take_segment_gesture(&mut self) -> Option<SegmentGesture> {
        self.segment_gesture.take()
    }

    /// Draws the brush under the pointer and along the stroke under way.
    pub(super) fn paint_brush(
        &self,
        painter: &egui::Painter,
        response: &egui::Response,
        link: &SliceLink,
        on_screen: &OnScreen,
    ) {
        if !matches!(
            link.tool,
            SliceTool::Segment(SegmentBrush::Paint | SegmentBrush::Erase)
        ) {
            return;
        }
        let mm_per_point = on_screen.geometry.mm_per_pixel * on_screen.pixels_per_point;
        let radius = (link.brush_mm / mm_per_point.max(1e-6)) as f32;
        for &lps in &self.stroke {
            painter.circle_filled(on_screen.screen_of(lps), radius, BRUSH_COLOUR);
        }
        if let Some(pos) = response.hover_pos() {
            painter.circle_stroke(pos, radius, egui::Stroke::new(1.0, egui::Color32::WHITE));
        }
    }
}
