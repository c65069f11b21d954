//! Gestures on a slice that draw, select, move and reshape findings, worked in screen
//! points: the views turn the points a gesture ends with into patient millimetres (the
//! desktop) or fractions of the slice's cell (the thin client).

use eframe::egui::{self, Pos2, Rect};
use glam::DVec2;
use hounsfield_findings::FindingKind;
use hounsfield_findings::outline::Outline;
use hounsfield_protocol::{MAX_POLYGON_VERTICES, SlicePlane};

use super::tools::SliceTool;

/// The least extent (points) of a shape drawn: shorter drags are clicks, and draw nothing.
pub const MIN_EXTENT: f32 = 3.0;
/// How near (points) the pointer must be to a handle or an outline to take it.
pub const GRAB_DISTANCE: f32 = 7.0;
/// The least step (points) between two vertices of a traced outline.
const TRACE_STEP: f32 = 3.0;

/// A finding where it shows on a slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// Its number.
    pub id: u32,
    /// What it draws.
    pub kind: FindingKind,
    /// Its points on screen.
    pub points: Vec<Pos2>,
}

/// What the primary button did over one slice this frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gesture {
    /// A drag began: where the button went down.
    pub began: Option<Pos2>,
    /// Where the pointer is while the button is held, or was as it was let go.
    pub at: Option<Pos2>,
    /// The drag goes on.
    pub dragging: bool,
    /// The drag ended.
    pub ended: bool,
    /// A click (a press and release without a drag), and where.
    pub clicked: Option<Pos2>,
    /// Where the pointer hovers.
    pub hover: Option<Pos2>,
    /// Escape was pressed: what is being drawn or moved is dropped.
    pub cancel: bool,
}

impl Gesture {
    /// The primary button's gesture on `response`. A slow frame may bring the press, the
    /// moves and the release together: each is read on its own.
    pub fn of(ui: &egui::Ui, response: &egui::Response) -> Self {
        let primary = egui::PointerButton::Primary;
        let (involved, origin, cancel) = ui.input(|input| {
            let pointer = &input.pointer;
            (
                pointer.button_down(primary)
                    || pointer.button_pressed(primary)
                    || pointer.button_released(primary),
                pointer.press_origin(),
                input.key_pressed(egui::Key::Escape),
            )
        });
        let at = response.interact_pointer_pos();
        Self {
            began: (involved && response.drag_started())
                .then(|| origin.or(at))
                .flatten(),
            at,
            dragging: response.dragged_by(primary),
            ended: involved && response.drag_stopped(),
            clicked: response.clicked_by(primary).then_some(at).flatten(),
            hover: response.hover_pos(),
            cancel,
        }
    }
}

/// What a gesture did to the findings.
#[derive(Debug, Clone, PartialEq)]
pub enum SketchOutcome {
    /// A new finding drawn on `plane`, by its points on screen.
    Drawn {
        /// The slice drawn on.
        plane: SlicePlane,
        /// What was drawn.
        kind: FindingKind,
        /// Its points on screen.
        points: Vec<Pos2>,
    },
    /// Finding `id` moved or reshaped: all its points on screen.
    Reshaped {
        /// Its number.
        id: u32,
        /// Its new points on screen.
        points: Vec<Pos2>,
    },
    /// The selection changed (to none when a click met no finding).
    Selected(Option<u32>),
}

/// Which part of a finding the pointer took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handle {
    /// The whole shape: it moves.
    Body,
    /// One of its points.
    Point(usize),
    /// A corner of an ellipse's or a box's bounds (0: the first point, then clockwise on
    /// screen from it when the first point is the top left).
    Corner(usize),
}

/// A shape being drawn.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    plane: SlicePlane,
    kind: FindingKind,
    points: Vec<Pos2>,
    /// An angle whose first arm is drawn, waiting for the click that ends the second.
    waiting: bool,
}

/// A finding being moved or reshaped.
#[derive(Debug, Clone, PartialEq)]
struct Grab {
    plane: SlicePlane,
    id: u32,
    kind: FindingKind,
    handle: Handle,
    from: Pos2,
    original: Vec<Pos2>,
    points: Vec<Pos2>,
}

/// What is being drawn or moved on the slices of one view.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    draft: Option<Draft>,
    grab: Option<Grab>,
}

impl Sketch {
    /// Takes `gesture` on `plane`'s slice, shown in `cell`, where `placed` are the
    /// findings it shows: draws with a drawing tool, selects, moves and reshapes with the
    /// select tool. A gesture on another slice than the one being drawn on is ignored.
    pub fn handle(
        &mut self,
        plane: SlicePlane,
        tool: SliceTool,
        gesture: &Gesture,
        cell: Rect,
        placed: &[Placed],
        selected: Option<u32>,
    ) -> Vec<SketchOutcome> {
        if gesture.cancel {
            self.cancel();
            return Vec::new();
        }
        match tool {
            SliceTool::Draw(kind) => self.draw(plane, kind, gesture, cell).into_iter().collect(),
            SliceTool::Select => self.select(plane, gesture, cell, placed, selected),
            SliceTool::Crosshair | SliceTool::Measure | SliceTool::Path | SliceTool::Segment(_) => {
                self.cancel();
                Vec::new()
            }
        }
    }

    /// Drops what is being drawn or moved.
    pub fn cancel(&mut self) {
        self.draft = None;
        self.grab = None;
    }

    /// The shape being drawn on `plane`, to paint.
    pub fn draft_on(&self, plane: SlicePlane) -> Option<(FindingKind, &[Pos2])> {
        self.draft
            .as_ref()
            .filter(|draft| draft.plane == plane)
            .map(|draft| (draft.kind, draft.points.as_slice()))
    }

    /// Where finding `id` is while it is being moved, to paint it there.
    pub fn moving(&self, id: u32) -> Option<&[Pos2]> {
        self.grab
            .as_ref()
            .filter(|grab| grab.id == id)
            .map(|grab| grab.points.as_slice())
    }

    /// Whether a shape is being drawn or moved.
    pub fn busy(&self) -> bool {
        self.draft.is_some() || self.grab.is_some()
    }

    fn draw(
        &mut self,
        plane: SlicePlane,
        kind: FindingKind,
        gesture: &Gesture,
        cell: Rect,
    ) -> Option<SketchOutcome> {
        let inside = |pos: Pos2| pos.clamp(cell.min, cell.max);
        if self.draft.as_ref().is_some_and(|d| d.kind != kind) {
            self.draft = None;
        }
        // An angle's second arm follows the pointer until a click ends it.
        if let Some(draft) = self.draft.as_mut().filter(|d| d.waiting) {
            if draft.plane != plane {
                return None;
            }
            if let Some(pos) = gesture.hover.or(gesture.at) {
                draft.points[2] = inside(pos);
            }
            if let Some(pos) = gesture.clicked.or(gesture.began) {
                draft.points[2] = inside(pos);
                let draft = self.draft.take()?;
                return (draft.points[2].distance(draft.points[1]) >= MIN_EXTENT).then_some(
                    SketchOutcome::Drawn {
                        plane,
                        kind,
                        points: draft.points,
                    },
                );
            }
            return None;
        }
        if let Some(origin) = gesture.began {
            let origin = inside(origin);
            let points = if kind == FindingKind::Polygon {
                vec![origin]
            } else {
                vec![origin, origin]
            };
            self.draft = Some(Draft {
                plane,
                kind,
                points,
                waiting: false,
            });
        }
        let draft = self.draft.as_mut().filter(|d| d.plane == plane)?;
        if (gesture.dragging || gesture.ended)
            && let Some(pos) = gesture.at
        {
            let pos = inside(pos);
            if kind == FindingKind::Polygon {
                trace(&mut draft.points, pos);
            } else if let Some(last) = draft.points.last_mut() {
                *last = pos;
            }
        }
        if !gesture.ended {
            return None;
        }
        let mut draft = self.draft.take()?;
        if kind == FindingKind::Angle {
            if draft.points[0].distance(draft.points[1]) >= MIN_EXTENT {
                draft.points.push(draft.points[1]);
                draft.waiting = true;
                self.draft = Some(draft);
            }
            return None;
        }
        drawn_enough(kind, &draft.points).then_some(SketchOutcome::Drawn {
            plane,
            kind,
            points: draft.points,
        })
    }

    fn select(
        &mut self,
        plane: SlicePlane,
        gesture: &Gesture,
        cell: Rect,
        placed: &[Placed],
        selected: Option<u32>,
    ) -> Vec<SketchOutcome> {
        self.draft = None;
        let mut outcomes = Vec::new();
        if let Some(origin) = gesture.began {
            self.grab = None;
            if let Some((finding, handle)) = hit(placed, selected, origin) {
                if selected != Some(finding.id) {
                    outcomes.push(SketchOutcome::Selected(Some(finding.id)));
                }
                self.grab = Some(Grab {
                    plane,
                    id: finding.id,
                    kind: finding.kind,
                    handle,
                    from: origin,
                    original: finding.points.clone(),
                    points: finding.points.clone(),
                });
            }
        }
        if let Some(grab) = self.grab.as_mut().filter(|g| g.plane == plane)
            && (gesture.dragging || gesture.ended)
            && let Some(pos) = gesture.at
        {
            grab.points = reshaped(grab, pos.clamp(cell.min, cell.max), cell);
        }
        if gesture.ended
            && let Some(grab) = self.grab.take_if(|g| g.plane == plane)
            && grab.points != grab.original
            && drawn_enough(grab.kind, &grab.points)
        {
            outcomes.push(SketchOutcome::Reshaped {
                id: grab.id,
                points: grab.points,
            });
        }
        if let Some(pos) = gesture.clicked {
            let hit_id = hit(placed, selected, pos).map(|(finding, _)| finding.id);
            if hit_id != selected {
                outcomes.push(SketchOutcome::Selected(hit_id));
            }
        }
        outcomes
    }
}

/// Adds `pos` to a traced outline when it is a step away from the last vertex, halving
/// the vertices when the outline reaches its bound (the shape stays, coarser).
fn trace(points: &mut Vec<Pos2>, pos: Pos2) {
    if points
        .last()
        .is_some_and(|last| last.distance(pos) < TRACE_STEP)
    {
        return;
    }
    if points.len() >= MAX_POLYGON_VERTICES {
        let kept: Vec<Pos2> = points.iter().step_by(2).copied().collect();
        *points = kept;
    }
    points.push(pos);
}

/// Whether `points` draw a shape large enough to keep: regions at least
/// [`MIN_EXTENT`] across both ways, lines that long.
pub fn drawn_enough(kind: FindingKind, points: &[Pos2]) -> bool {
    let Some(first) = points.first() else {
        return false;
    };
    match kind {
        FindingKind::Ellipse | FindingKind::Rectangle => {
            let size = (points[points.len() - 1] - *first).abs();
            points.len() == 2 && size.x >= MIN_EXTENT && size.y >= MIN_EXTENT
        }
        FindingKind::Polygon => {
            let flat: Vec<DVec2> = points.iter().map(|p| flat(*p)).collect();
            points.len() >= 3
                && Outline::new(kind, &flat)
                    .is_some_and(|o| o.area_mm2() >= f64::from(MIN_EXTENT * MIN_EXTENT))
        }
        FindingKind::Angle => {
            points.len() == 3
                && points[0].distance(points[1]) >= MIN_EXTENT
                && points[2].distance(points[1]) >= MIN_EXTENT
        }
        FindingKind::Arrow | FindingKind::Ruler => {
            points.len() == 2 && first.distance(points[1]) >= MIN_EXTENT
        }
    }
}

/// The handles a selected finding shows: an ellipse's or a box's four corners, each point
/// of the other kinds.
pub fn handles(kind: FindingKind, points: &[Pos2]) -> Vec<Pos2> {
    match (kind, points) {
        (FindingKind::Ellipse | FindingKind::Rectangle, [a, b]) => {
            vec![*a, egui::pos2(b.x, a.y), *b, egui::pos2(a.x, b.y)]
        }
        _ => points.to_vec(),
    }
}

/// The finding under `pos` and the part of it taken: a handle of the selected finding
/// first, then the outline or the lines of the findings, the latest drawn on top.
fn hit(placed: &[Placed], selected: Option<u32>, pos: Pos2) -> Option<(&Placed, Handle)> {
    if let Some(finding) = placed.iter().find(|p| Some(p.id) == selected) {
        let corners = matches!(finding.kind, FindingKind::Ellipse | FindingKind::Rectangle);
        let nearest = handles(finding.kind, &finding.points)
            .into_iter()
            .enumerate()
            .map(|(index, at)| (index, at.distance(pos)))
            .filter(|(_, distance)| *distance <= GRAB_DISTANCE)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((index, _)) = nearest {
            let handle = if corners {
                Handle::Corner(index)
            } else {
                Handle::Point(index)
            };
            return Some((finding, handle));
        }
    }
    placed
        .iter()
        .rev()
        .find(|finding| touches(finding, pos))
        .map(|finding| (finding, Handle::Body))
}

/// Whether `pos` is inside a region, or near its outline or a line of the finding.
fn touches(finding: &Placed, pos: Pos2) -> bool {
    let points = &finding.points;
    if finding.kind.is_region() {
        let flat_points: Vec<DVec2> = points.iter().map(|p| flat(*p)).collect();
        if Outline::new(finding.kind, &flat_points).is_some_and(|o| o.contains(flat(pos))) {
            return true;
        }
    }
    let outline = super::shape::outline(finding.kind, points);
    let closed = finding.kind.is_region();
    let segments = outline.windows(2).map(|w| (w[0], w[1])).chain(
        closed
            .then(|| Some((*outline.last()?, *outline.first()?)))
            .flatten(),
    );
    segments
        .into_iter()
        .any(|(a, b)| distance_to_segment(pos, a, b) <= GRAB_DISTANCE)
}

/// The distance from `p` to the segment from `a` to `b`.
fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let along = b - a;
    let length_squared = along.length_sq();
    if length_squared <= f32::EPSILON {
        return p.distance(a);
    }
    let t = ((p - a).dot(along) / length_squared).clamp(0.0, 1.0);
    p.distance(a + along * t)
}

/// The grabbed finding's points with the pointer at `pos`: moved whole (kept inside
/// `cell`), or one point or corner moved.
fn reshaped(grab: &Grab, pos: Pos2, cell: Rect) -> Vec<Pos2> {
    let mut points = grab.original.clone();
    match grab.handle {
        Handle::Body => {
            let bounds = Rect::from_points(&points);
            let mut delta = pos - grab.from;
            delta.x = delta
                .x
                .clamp(cell.left() - bounds.left(), cell.right() - bounds.right());
            delta.y = delta
                .y
                .clamp(cell.top() - bounds.top(), cell.bottom() - bounds.bottom());
            for point in &mut points {
                *point += delta;
            }
        }
        Handle::Point(index) => {
            if let Some(point) = points.get_mut(index) {
                *point = pos;
            }
        }
        Handle::Corner(corner) => {
            if let [a, b] = points.as_mut_slice() {
                match corner {
                    0 => *a = pos,
                    1 => (b.x, a.y) = (pos.x, pos.y),
                    2 => *b = pos,
                    _ => (a.x, b.y) = (pos.x, pos.y),
                }
            }
        }
    }
    points
}

fn flat(pos: Pos2) -> DVec2 {
    DVec2::new(f64::from(pos.x), f64::from(pos.y))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELL: Rect = Rect {
        min: egui::pos2(0.0, 0.0),
        max: egui::pos2(400.0, 300.0),
    };

    fn drag(from: Pos2, to: Pos2) -> [Gesture; 3] {
        [
            Gesture {
                began: Some(from),
                at: Some(from),
                dragging: true,
                ..Gesture::default()
            },
            Gesture {
                at: Some(to),
                dragging: true,
                ..Gesture::default()
            },
            Gesture {
                at: Some(to),
                ended: true,
                ..Gesture::default()
            },
        ]
    }

    fn run(
        sketch: &mut Sketch,
        tool: SliceTool,
        gestures: &[Gesture],
        placed: &[Placed],
        selected: Option<u32>,
    ) -> Vec<SketchOutcome> {
        gestures
            .iter()
            .flat_map(|g| sketch.handle(SlicePlane::Axial, tool, g, CELL, placed, selected))
            .collect()
    }

    #[test]
    fn an_ellipse_is_drawn_by_a_drag_and_a_click_draws_nothing() {
        let mut sketch = Sketch::default();
        let tool = SliceTool::Draw(FindingKind::Ellipse);
        let [down, moved, up] = drag(egui::pos2(100.0, 100.0), egui::pos2(160.0, 140.0));
        assert!(run(&mut sketch, tool, &[down, moved], &[], None).is_empty());
        assert_eq!(
            sketch.draft_on(SlicePlane::Axial).map(|(_, p)| p.to_vec()),
            Some(vec![egui::pos2(100.0, 100.0), egui::pos2(160.0, 140.0)]),
            "the ellipse follows the pointer"
        );
        assert!(sketch.draft_on(SlicePlane::Coronal).is_none());
        let outcomes = run(&mut sketch, tool, &[up], &[], None);
        assert_eq!(
            outcomes,
            [SketchOutcome::Drawn {
                plane: SlicePlane::Axial,
                kind: FindingKind::Ellipse,
                points: vec![egui::pos2(100.0, 100.0), egui::pos2(160.0, 140.0)],
            }]
        );
        assert!(!sketch.busy());
        // A drag off the cell is kept to it; one too small draws nothing.
        let gestures = drag(egui::pos2(390.0, 290.0), egui::pos2(500.0, 400.0));
        let outcomes = run(&mut sketch, tool, &gestures, &[], None);
        let SketchOutcome::Drawn { points, .. } = &outcomes[0] else {
            panic!("drawn: {outcomes:?}");
        };
        assert_eq!(points[1], egui::pos2(400.0, 300.0));
        let gestures = drag(egui::pos2(10.0, 10.0), egui::pos2(11.0, 30.0));
        assert!(run(&mut sketch, tool, &gestures, &[], None).is_empty());
    }

    #[test]
    fn an_angle_takes_a_drag_then_a_click_and_escape_drops_it() {
        let mut sketch = Sketch::default();
        let tool = SliceTool::Draw(FindingKind::Angle);
        let arm = drag(egui::pos2(50.0, 50.0), egui::pos2(100.0, 100.0));
        assert!(run(&mut sketch, tool, &arm, &[], None).is_empty());
        let hover = Gesture {
            hover: Some(egui::pos2(150.0, 100.0)),
            ..Gesture::default()
        };
        assert!(run(&mut sketch, tool, &[hover], &[], None).is_empty());
        assert_eq!(
            sketch.draft_on(SlicePlane::Axial).map(|(_, p)| p.len()),
            Some(3)
        );
        let click = Gesture {
            clicked: Some(egui::pos2(150.0, 100.0)),
            ..Gesture::default()
        };
        let outcomes = run(&mut sketch, tool, &[click], &[], None);
        assert!(
            matches!(&outcomes[..], [SketchOutcome::Drawn { kind: FindingKind::Angle, points, .. }] if points[1] == egui::pos2(100.0, 100.0)),
            "{outcomes:?}"
        );
        assert!(run(&mut sketch, tool, &arm, &[], None).is_empty());
        let escape = Gesture {
            cancel: true,
            ..Gesture::default()
        };
        run(&mut sketch, tool, &[escape], &[], None);
        assert!(!sketch.busy());
    }

    #[test]
    fn a_traced_outline_becomes_a_polygon() {
        let mut sketch = Sketch::default();
        let tool = SliceTool::Draw(FindingKind::Polygon);
        let mut gestures = vec![Gesture {
            began: Some(egui::pos2(100.0, 100.0)),
            at: Some(egui::pos2(100.0, 100.0)),
            dragging: true,
            ..Gesture::default()
        }];
        for at in [
            (150.0, 100.0),
            (151.0, 100.5),
            (150.0, 150.0),
            (100.0, 150.0),
        ] {
            gestures.push(Gesture {
                at: Some(egui::pos2(at.0, at.1)),
                dragging: true,
                ..Gesture::default()
            });
        }
        gestures.push(Gesture {
            at: Some(egui::pos2(100.0, 150.0)),
            ended: true,
            ..Gesture::default()
        });
        let outcomes = run(&mut sketch, tool, &gestures, &[], None);
        let [SketchOutcome::Drawn { points, .. }] = &outcomes[..] else {
            panic!("{outcomes:?}");
        };
        assert_eq!(
            points.len(),
            4,
            "a point under a step from the last is left out"
        );
    }

    #[test]
    fn the_select_tool_selects_moves_and_reshapes() {
        let ellipse = Placed {
            id: 7,
            kind: FindingKind::Ellipse,
            points: vec![egui::pos2(100.0, 100.0), egui::pos2(200.0, 160.0)],
        };
        let ruler = Placed {
            id: 8,
            kind: FindingKind::Ruler,
            points: vec![egui::pos2(10.0, 250.0), egui::pos2(90.0, 250.0)],
        };
        let placed = [ellipse.clone(), ruler];
        let mut sketch = Sketch::default();
        let click = |x, y| Gesture {
            clicked: Some(egui::pos2(x, y)),
            ..Gesture::default()
        };
        let tool = SliceTool::Select;
        assert_eq!(
            run(&mut sketch, tool, &[click(150.0, 130.0)], &placed, None),
            [SketchOutcome::Selected(Some(7))],
            "inside the ellipse"
        );
        assert_eq!(
            run(&mut sketch, tool, &[click(50.0, 253.0)], &placed, Some(7)),
            [SketchOutcome::Selected(Some(8))],
            "near the ruler's line"
        );
        assert_eq!(
            run(&mut sketch, tool, &[click(300.0, 20.0)], &placed, Some(8)),
            [SketchOutcome::Selected(None)]
        );
        // A drag inside moves it whole.
        let moved = run(
            &mut sketch,
            tool,
            &drag(egui::pos2(150.0, 130.0), egui::pos2(170.0, 120.0)),
            &placed,
            Some(7),
        );
        assert_eq!(
            moved,
            [SketchOutcome::Reshaped {
                id: 7,
                points: vec![egui::pos2(120.0, 90.0), egui::pos2(220.0, 150.0)],
            }]
        );
        // A drag of its top-right corner widens it and lowers its top.
        let reshaped = run(
            &mut sketch,
            tool,
            &drag(egui::pos2(201.0, 99.0), egui::pos2(240.0, 110.0)),
            &placed,
            Some(7),
        );
        assert_eq!(
            reshaped,
            [SketchOutcome::Reshaped {
                id: 7,
                points: vec![egui::pos2(100.0, 110.0), egui::pos2(240.0, 160.0)],
            }]
        );
        // While it moves, it is painted where the pointer takes it.
        let [down, moving, _] = drag(egui::pos2(150.0, 130.0), egui::pos2(150.0, 140.0));
        run(&mut sketch, tool, &[down, moving], &placed, Some(7));
        assert_eq!(
            sketch.moving(7),
            Some(&[egui::pos2(100.0, 110.0), egui::pos2(200.0, 170.0)][..])
        );
    }
}
