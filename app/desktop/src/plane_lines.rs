//! The other slice planes' lines through the crosshair in a slice cell, for slices rendered
//! here and streamed alike: each along its true direction (tilted once the planes are
//! turned), with a gap about the crosshair and a handle; dragging a handle turns the three
//! planes together about the cell's normal, by the angle the pointer went round the
//! crosshair.

use eframe::egui;
use glam::DVec3;
use hounsfield_protocol::SlicePlane;
use render_core::view::{MprOrientation, PlaneGeometry};

/// Points left clear about the crosshair on each line, so the point stays visible.
pub const GAP: f32 = 8.0;
/// A handle's radius (points).
const HANDLE_RADIUS: f32 = 5.0;
/// How near (points) a press must come to a handle to take it.
const HANDLE_REACH: f32 = 10.0;
/// How far from the crosshair a handle sits: this share of the cell's shorter side.
const HANDLE_SHARE: f32 = 0.3;
/// Nearer the crosshair than this (points) the pointer's angle about it is not read.
const STILL_RADIUS: f32 = 3.0;

/// The lines of the two other planes in one slice cell, through the crosshair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneLines {
    /// The cell's own plane.
    pub cell: SlicePlane,
    /// Where the cell is drawn (egui points).
    pub rect: egui::Rect,
    /// Where the crosshair shows.
    pub at: egui::Pos2,
    /// Each other plane with its line's direction on screen (unit, x right, y down).
    pub lines: [(SlicePlane, egui::Vec2); 2],
}

impl PlaneLines {
    /// The lines in `cell`'s cell drawn in `rect`, through `at`, each other plane's along
    /// `direction(other)` (`[x, y]`, x right and y down).
    pub fn new(
        cell: SlicePlane,
        rect: egui::Rect,
        at: egui::Pos2,
        direction: impl Fn(SlicePlane) -> [f64; 2],
    ) -> Self {
        let mut others = SlicePlane::ALL.into_iter().filter(|other| *other != cell);
        let mut line = || {
            let other = others.next().unwrap_or(cell);
            let [x, y] = direction(other);
            let along = egui::vec2(x as f32, y as f32);
            let along = if along.length() > 1e-6 {
                along.normalized()
            } else {
                egui::Vec2::X
            };
            (other, along)
        };
        let lines = [line(), line()];
        Self {
            cell,
            rect,
            at,
            lines,
        }
    }

    /// How far (points, from `at`) a line along `along` runs inside the cell, backwards
    /// (negative) and forwards; `None` when it misses the cell.
    fn extent(&self, along: egui::Vec2) -> Option<(f32, f32)> {
        let (mut from, mut to) = (f32::NEG_INFINITY, f32::INFINITY);
        for (start, step, min, max) in [
            (self.at.x, along.x, self.rect.left(), self.rect.right()),
            (self.at.y, along.y, self.rect.top(), self.rect.bottom()),
        ] {
            if step.abs() < 1e-6 {
                if start < min || start > max {
                    return None;
                }
                continue;
            }
            let (a, b) = ((min - start) / step, (max - start) / step);
            from = from.max(a.min(b));
            to = to.min(a.max(b));
        }
        (from < to).then_some((from, to))
    }

    /// The handles, one on each line (with its plane): a share of the cell's shorter
    /// side from the crosshair, on the side with more room; `None` for a line that
    /// misses the cell.
    pub fn handles(&self) -> [(SlicePlane, Option<egui::Pos2>); 2] {
        self.lines.map(|(other, along)| {
            let spot = self.extent(along).map(|(from, to)| {
                let room = if to >= -from { to } else { from };
                let wanted = HANDLE_SHARE * self.rect.width().min(self.rect.height());
                let reach = wanted
                    .min(room.abs() - HANDLE_RADIUS)
                    .max(GAP + HANDLE_RADIUS);
                self.at + along * reach * room.signum()
            });
            (other, spot)
        })
    }

    /// The plane whose handle is under `pos`, when one is.
    pub fn handle_under(&self, pos: egui::Pos2) -> Option<SlicePlane> {
        self.handles()
            .into_iter()
            .filter_map(|(other, spot)| spot.map(|spot| (other, spot.distance(pos))))
            .filter(|(_, distance)| *distance <= HANDLE_REACH)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(other, _)| other)
    }

    /// Paints each line in its plane's colour, broken about the crosshair, and its
    /// handle.
    pub fn paint(&self, painter: &egui::Painter) {
        let painter = painter.with_clip_rect(self.rect);
        for (other, along) in self.lines {
            let Some((from, to)) = self.extent(along) else {
                continue;
            };
            let colour = plane_colour(other.orientation());
            let stroke = egui::Stroke::new(1.0, colour);
            for [a, b] in [[from, -GAP], [GAP, to]] {
                if b > a {
                    painter.line_segment([self.at + along * a, self.at + along * b], stroke);
                }
            }
        }
        for (other, spot) in self.handles() {
            if let Some(spot) = spot {
                let colour = plane_colour(other.orientation());
                painter.circle(
                    spot,
                    HANDLE_RADIUS,
                    colour.gamma_multiply(0.35),
                    egui::Stroke::new(1.5, colour),
                );
            }
        }
    }
}

/// The direction (`[x, y]`, x right and y down) of `other`'s line in `cell`'s cell, where
/// `axes(plane)` is how each cell shows its plane: its right and down (LPS unit vectors,
/// the normal being right × down). The line runs along the cross product of the normals.
pub fn line_direction(
    axes: impl Fn(SlicePlane) -> (DVec3, DVec3),
    cell: SlicePlane,
    other: SlicePlane,
) -> [f64; 2] {
    let (right, down) = axes(cell);
    let (other_right, other_down) = axes(other);
    let along = right.cross(down).cross(other_right.cross(other_down));
    let (x, y) = (along.dot(right), along.dot(down));
    let length = x.hypot(y).max(1e-12);
    [x / length, y / length]
}

/// A handle being dragged: the cell whose normal the planes turn about, and the pointer's
/// last angle about the crosshair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneTurn {
    /// The cell the handle was dragged in.
    pub cell: SlicePlane,
    /// The crosshair on screen.
    centre: egui::Pos2,
    /// The pointer's angle about it when last read (degrees, counter-clockwise).
    last_deg: Option<f64>,
}

impl PlaneTurn {
    /// A drag in `cell`'s cell about `centre`, begun at `pos`.
    pub fn start(cell: SlicePlane, centre: egui::Pos2, pos: egui::Pos2) -> Self {
        Self {
            cell,
            centre,
            last_deg: screen_angle_deg(centre, pos),
        }
    }

    /// How far (degrees, counter-clockwise on the screen) the pointer went round the
    /// crosshair since it was last read, now at `pos`.
    pub fn follow(&mut self, pos: egui::Pos2) -> f64 {
        let Some(now) = screen_angle_deg(self.centre, pos) else {
            return 0.0;
        };
        let turned = self.last_deg.map_or(0.0, |last| wrapped_deg(now - last));
        self.last_deg = Some(now);
        turned
    }
}

/// The angle of `pos` about `centre` (degrees, counter-clockwise on a screen whose y runs
/// down, 0 to the right); `None` too near it to tell.
fn screen_angle_deg(centre: egui::Pos2, pos: egui::Pos2) -> Option<f64> {
    let offset = pos - centre;
    (offset.length() >= STILL_RADIUS)
        .then(|| f64::atan2(-f64::from(offset.y), f64::from(offset.x)).to_degrees())
}

/// `degrees` brought within -180..180.
fn wrapped_deg(degrees: f64) -> f64 {
    (degrees + 180.0).rem_euclid(360.0) - 180.0
}

/// The plane's colour, used for its crosshair line on the other slices.
pub fn plane_colour(orientation: MprOrientation) -> egui::Color32 {
    match orientation {
        MprOrientation::Axial => egui::Color32::from_rgb(230, 80, 80),
        MprOrientation::Coronal => egui::Color32::from_rgb(90, 200, 90),
        MprOrientation::Sagittal => egui::Color32::from_rgb(90, 140, 240),
        MprOrientation::Oblique { .. } => egui::Color32::YELLOW,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::view::SliceFrame;

    fn cell() -> egui::Rect {
        egui::Rect::from_min_size(egui::pos2(100.0, 50.0), egui::vec2(300.0, 200.0))
    }

    #[test]
    fn the_lines_run_along_the_frames_directions_and_their_handles_are_found_again() {
        let frame = SliceFrame::STANDARD
            .turned(SlicePlane::Axial, 30.0)
            .expect("a turn");
        let at = egui::pos2(150.0, 120.0);
        let lines = PlaneLines::new(SlicePlane::Axial, cell(), at, |other| {
            frame.line_in_cell(SlicePlane::Axial, other)
        });
        let coronal = lines
            .lines
            .iter()
            .find(|(plane, _)| *plane == SlicePlane::Coronal)
            .map(|(_, along)| *along)
            .expect("the coronal line");
        // Turned 30° counter-clockwise from level (either way along it).
        let rising = f64::from(-coronal.y)
            .atan2(f64::from(coronal.x))
            .to_degrees();
        let off = wrapped_deg(rising - 30.0)
            .abs()
            .min(wrapped_deg(rising + 150.0).abs());
        assert!(off < 1e-3, "{rising}°");
        for (plane, spot) in lines.handles() {
            let spot = spot.expect("inside the cell");
            assert!(cell().contains(spot), "{plane:?} {spot:?}");
            assert_eq!(
                lines.handle_under(spot + egui::vec2(3.0, -2.0)),
                Some(plane)
            );
            // The handle lies on its line, on the side with more room (right of a
            // crosshair left of the middle).
            let (_, along) = lines.lines.iter().find(|(p, _)| *p == plane).expect("line");
            let offset = spot - at;
            assert!((offset.x * along.y - offset.y * along.x).abs() < 1e-3);
            assert!(offset.length() > GAP + HANDLE_RADIUS - 1e-3);
        }
        assert_eq!(lines.handle_under(at), None, "the crosshair is no handle");
    }

    #[test]
    fn line_directions_from_a_cells_axes_are_the_frames() {
        let frame = SliceFrame::STANDARD
            .turned(SlicePlane::Axial, 25.0)
            .and_then(|frame| frame.turned(SlicePlane::Coronal, -40.0))
            .expect("a double oblique frame");
        let axes = |plane: SlicePlane| frame.orientation(plane).right_and_down();
        for cell in SlicePlane::ALL {
            for other in SlicePlane::ALL.into_iter().filter(|other| *other != cell) {
                let [x, y] = line_direction(axes, cell, other);
                let [fx, fy] = frame.line_in_cell(cell, other);
                assert!(
                    (x - fx).abs() < 1e-9 && (y - fy).abs() < 1e-9,
                    "{cell:?} {other:?}"
                );
            }
        }
    }

    #[test]
    fn a_drag_about_the_crosshair_turns_by_the_angle_it_went_round() {
        let centre = egui::pos2(200.0, 200.0);
        let mut turn = PlaneTurn::start(SlicePlane::Axial, centre, egui::pos2(300.0, 200.0));
        // Half a turn (counter-clockwise on the screen) in steps, then across ±180°.
        let mut total = 0.0;
        for step in 1..=9 {
            let angle = f32::to_radians(20.0 * step as f32);
            total += turn.follow(centre + egui::vec2(angle.cos(), -angle.sin()) * 100.0);
        }
        assert!((total - 180.0).abs() < 1e-3, "{total}");
        let angle = f32::to_radians(200.0);
        let past = turn.follow(centre + egui::vec2(angle.cos(), -angle.sin()) * 100.0);
        assert!((past - 20.0).abs() < 1e-3, "{past}");
        // On the crosshair itself nothing is read.
        assert_eq!(turn.follow(centre), 0.0);
        assert_eq!(wrapped_deg(350.0), -10.0);
        assert_eq!(wrapped_deg(-190.0), 170.0);
    }
}
