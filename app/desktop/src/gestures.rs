//! Mouse gestures on a 3D view, read from egui once and applied by both the local view
//! (to its camera) and the thin client (to its mirror, and sent to the server): drag
//! orbits, shift- or middle-drag pans, right-drag sets window/level, the wheel zooms.

use std::time::{Duration, Instant};

use eframe::egui;
use render_core::Window;

/// How long after the last wheel step the view counts as at rest.
pub const WHEEL_SETTLE: Duration = Duration::from_millis(250);
/// Degrees of orbit per pixel dragged.
const ORBIT_DEG_PER_PIXEL: f64 = 0.4;

/// One change a gesture asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gesture {
    /// An interaction (drag or wheel) begins.
    Begin,
    /// Turn the camera: azimuth and elevation in degrees.
    Orbit(f64, f64),
    /// Move the focal point: right and up, in view heights.
    Pan(f64, f64),
    /// Multiply the magnification.
    Zoom(f64),
    /// A right-drag of (dx, dy) pixels on the grey window.
    Window(f64, f64),
    /// The interaction ended: time for a full-quality frame.
    End,
}

/// Reads gestures off a view's response, remembering wheel activity between frames.
#[derive(Debug, Default)]
pub struct GestureReader {
    wheel_at: Option<Instant>,
}

impl GestureReader {
    /// The gestures this frame; asks for a repaint while a wheel interaction settles.
    pub fn read(&mut self, ui: &egui::Ui, response: &egui::Response) -> Vec<Gesture> {
        let mut gestures = Vec::new();
        let height = f64::from(response.rect.height().max(1.0));
        let shift = ui.input(|input| input.modifiers.shift);
        if response.drag_started() && self.wheel_at.is_none() {
            gestures.push(Gesture::Begin);
        }
        if response.dragged() {
            let delta = response.drag_delta();
            let (dx, dy) = (f64::from(delta.x), f64::from(delta.y));
            if dx != 0.0 || dy != 0.0 {
                if response.dragged_by(egui::PointerButton::Middle)
                    || (shift && response.dragged_by(egui::PointerButton::Primary))
                {
                    gestures.push(Gesture::Pan(-dx / height, dy / height));
                } else if response.dragged_by(egui::PointerButton::Primary) {
                    gestures.push(Gesture::Orbit(
                        -dx * ORBIT_DEG_PER_PIXEL,
                        dy * ORBIT_DEG_PER_PIXEL,
                    ));
                } else if response.dragged_by(egui::PointerButton::Secondary) {
                    gestures.push(Gesture::Window(dx, dy));
                }
            }
        }
        if response.drag_stopped() {
            gestures.push(Gesture::End);
        }
        if response.hovered() {
            let scroll = ui.input(|input| input.smooth_scroll_delta.y);
            if scroll != 0.0 {
                if self.wheel_at.is_none() && !response.dragged() {
                    gestures.push(Gesture::Begin);
                }
                gestures.push(Gesture::Zoom((f64::from(scroll) * 0.002).exp()));
                self.wheel_at = Some(Instant::now());
            }
        }
        if let Some(at) = self.wheel_at {
            let since = at.elapsed();
            if since >= WHEEL_SETTLE && !response.dragged() {
                self.wheel_at = None;
                gestures.push(Gesture::End);
            } else {
                ui.ctx()
                    .request_repaint_after(WHEEL_SETTLE.saturating_sub(since));
            }
        }
        gestures
    }
}

/// The window after a right-drag of (`dx`, `dy`) pixels: right widens it, down raises its
/// centre (as most viewers do), by 1/256 of the width per pixel (at least 1 HU).
pub fn dragged_window(window: Window, dx: f64, dy: f64) -> Window {
    let step = (window.width / 256.0).max(1.0);
    Window {
        width: (window.width + dx * step).max(1.0),
        center: window.center + dy * step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_drag_widens_and_raises_the_window_and_never_inverts_it() {
        let start = Window {
            width: 512.0,
            center: 40.0,
        };
        let wider = dragged_window(start, 10.0, 5.0);
        assert_eq!(wider.width, 532.0);
        assert_eq!(wider.center, 50.0);
        let narrowest = dragged_window(start, -10_000.0, 0.0);
        assert_eq!(narrowest.width, 1.0);
    }
}
