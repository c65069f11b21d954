//! A region's outline in its slice's own coordinates: millimetres along the screen's right
//! and down of the plane it was drawn on, where "inside" and "area" are plane geometry.

use glam::{DVec2, DVec3};
use hounsfield_scene::view::SliceFrame;
use hounsfield_scene::view::mpr::PlaneGeometry;
use hounsfield_vocabulary::{FindingKind, SlicePlane};

/// How far apart two planes' normals may point (as a dot product short of 1) and still
/// be one plane's: about a quarter of a degree.
pub const SAME_FACING: f64 = 0.99999;

/// A slice plane's screen axes: points in LPS become `(right, down)` millimetres and a
/// depth along the normal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneAxes {
    /// The LPS direction drawn towards the screen's right.
    pub right: DVec3,
    /// The LPS direction drawn towards the screen's bottom.
    pub down: DVec3,
    /// The plane's normal, away from the viewer.
    pub normal: DVec3,
}

impl PlaneAxes {
    /// The axes of a standard plane.
    pub fn of(plane: SlicePlane) -> Self {
        let (right, down) = plane.orientation().right_and_down();
        Self {
            right,
            down,
            normal: plane.normal(),
        }
    }

    /// The axes `plane`'s cell shows when the slice planes are turned by `frame` (the
    /// standard ones for the standard frame).
    pub fn turned(frame: &SliceFrame, plane: SlicePlane) -> Self {
        let (right, down) = frame.orientation(plane).right_and_down();
        Self {
            right,
            down,
            normal: frame.normal(plane),
        }
    }

    /// The axes drawn towards `right` and `down` (LPS), made unit length and at right
    /// angles (`down` gives way to `right`), the normal away from the viewer; `None` when
    /// they are not finite or nearly parallel.
    pub fn from_right_and_down(right: DVec3, down: DVec3) -> Option<Self> {
        let right = right.try_normalize()?;
        let down = (down - right * down.dot(right)).try_normalize()?;
        Some(Self {
            right,
            down,
            normal: right.cross(down),
        })
    }

    /// Whether these are `plane`'s standard axes.
    pub fn is_standard(&self, plane: SlicePlane) -> bool {
        let standard = Self::of(plane);
        [
            (self.right, standard.right),
            (self.down, standard.down),
            (self.normal, standard.normal),
        ]
        .iter()
        .all(|(a, b)| a.distance(*b) < 1e-9)
    }

    /// Whether a plane with `normal` faces the way these axes do.
    pub fn faces(&self, normal: DVec3) -> bool {
        self.normal.dot(normal) >= SAME_FACING
    }

    /// `point`'s millimetres along right and down.
    pub fn flatten(&self, point: DVec3) -> DVec2 {
        DVec2::new(point.dot(self.right), point.dot(self.down))
    }

    /// `point`'s depth along the normal.
    pub fn depth(&self, point: DVec3) -> f64 {
        point.dot(self.normal)
    }

    /// The LPS point at `flat` millimetres and `depth`.
    pub fn lift(&self, flat: DVec2, depth: f64) -> DVec3 {
        self.right * flat.x + self.down * flat.y + self.normal * depth
    }
}

/// A closed region in plane millimetres.
#[derive(Debug, Clone, PartialEq)]
pub enum Outline {
    /// The ellipse inscribed in an axis-aligned box.
    Ellipse {
        /// Its centre.
        centre: DVec2,
        /// Half its width and half its height.
        semi_axes: DVec2,
    },
    /// An axis-aligned box.
    Rectangle {
        /// The corner with the smaller coordinates.
        min: DVec2,
        /// The corner with the larger coordinates.
        max: DVec2,
    },
    /// A closed polygon (its last vertex joins its first).
    Polygon {
        /// The vertices in drawing order.
        vertices: Vec<DVec2>,
    },
}

impl Outline {
    /// The outline of a region of `kind` drawn by `points` (already flattened); `None`
    /// for kinds that enclose nothing.
    pub fn new(kind: FindingKind, points: &[DVec2]) -> Option<Self> {
        match (kind, points) {
            (FindingKind::Ellipse, [a, b]) => Some(Self::Ellipse {
                centre: (*a + *b) * 0.5,
                semi_axes: (*b - *a).abs() * 0.5,
            }),
            (FindingKind::Rectangle, [a, b]) => Some(Self::Rectangle {
                min: a.min(*b),
                max: a.max(*b),
            }),
            (FindingKind::Polygon, vertices) if vertices.len() >= 3 => Some(Self::Polygon {
                vertices: vertices.to_vec(),
            }),
            _ => None,
        }
    }

    /// Whether `point` is inside (on the boundary counts as inside for the ellipse and
    /// the box; the polygon follows the even-odd rule).
    pub fn contains(&self, point: DVec2) -> bool {
        match self {
            Self::Ellipse { centre, semi_axes } => {
                let scaled = (point - *centre) / *semi_axes;
                scaled.length_squared() <= 1.0
            }
            Self::Rectangle { min, max } => point.cmpge(*min).all() && point.cmple(*max).all(),
            Self::Polygon { vertices } => polygon_contains(vertices, point),
        }
    }

    /// The area in mm², from the shape itself.
    pub fn area_mm2(&self) -> f64 {
        match self {
            Self::Ellipse { semi_axes, .. } => std::f64::consts::PI * semi_axes.x * semi_axes.y,
            Self::Rectangle { min, max } => (max.x - min.x) * (max.y - min.y),
            Self::Polygon { vertices } => {
                let twice: f64 = vertices
                    .iter()
                    .zip(vertices.iter().cycle().skip(1))
                    .map(|(a, b)| a.perp_dot(*b))
                    .sum();
                twice.abs() * 0.5
            }
        }
    }

    /// The smallest axis-aligned box holding the outline.
    pub fn bounds(&self) -> (DVec2, DVec2) {
        match self {
            Self::Ellipse { centre, semi_axes } => (*centre - *semi_axes, *centre + *semi_axes),
            Self::Rectangle { min, max } => (*min, *max),
            Self::Polygon { vertices } => vertices.iter().fold(
                (DVec2::splat(f64::INFINITY), DVec2::splat(f64::NEG_INFINITY)),
                |(low, high), v| (low.min(*v), high.max(*v)),
            ),
        }
    }
}

/// The even-odd rule: a ray towards +x crosses the outline an odd number of times.
fn polygon_contains(vertices: &[DVec2], point: DVec2) -> bool {
    let mut inside = false;
    let mut previous = match vertices.last() {
        Some(last) => *last,
        None => return false,
    };
    for &vertex in vertices {
        if (vertex.y > point.y) != (previous.y > point.y) {
            let crossing_x =
                vertex.x + (point.y - vertex.y) * (previous.x - vertex.x) / (previous.y - vertex.y);
            if point.x < crossing_x {
                inside = !inside;
            }
        }
        previous = vertex;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_the_shapes_own() {
        let ellipse = Outline::new(
            FindingKind::Ellipse,
            &[DVec2::new(10.0, 20.0), DVec2::new(-10.0, 0.0)],
        )
        .expect("a region");
        assert!((ellipse.area_mm2() - std::f64::consts::PI * 100.0).abs() < 1e-9);
        let box_ = Outline::new(
            FindingKind::Rectangle,
            &[DVec2::new(3.0, 1.0), DVec2::new(0.0, 5.0)],
        )
        .expect("a region");
        assert!((box_.area_mm2() - 12.0).abs() < 1e-12);
        // An L of three unit squares, traced either way round.
        let l = [
            DVec2::new(0.0, 0.0),
            DVec2::new(2.0, 0.0),
            DVec2::new(2.0, 1.0),
            DVec2::new(1.0, 1.0),
            DVec2::new(1.0, 2.0),
            DVec2::new(0.0, 2.0),
        ];
        let polygon = Outline::new(FindingKind::Polygon, &l).expect("a region");
        assert!((polygon.area_mm2() - 3.0).abs() < 1e-12);
        let mut reversed = l.to_vec();
        reversed.reverse();
        let polygon = Outline::new(FindingKind::Polygon, &reversed).expect("a region");
        assert!((polygon.area_mm2() - 3.0).abs() < 1e-12);
        assert!(polygon.contains(DVec2::new(0.5, 1.5)));
        assert!(!polygon.contains(DVec2::new(1.5, 1.5)), "the L's notch");
        assert!(!polygon.contains(DVec2::new(2.5, 0.5)));
    }

    #[test]
    fn the_ellipse_holds_its_centre_and_not_its_box_corners() {
        let ellipse = Outline::new(
            FindingKind::Ellipse,
            &[DVec2::new(0.0, 0.0), DVec2::new(4.0, 2.0)],
        )
        .expect("a region");
        assert!(ellipse.contains(DVec2::new(2.0, 1.0)));
        assert!(ellipse.contains(DVec2::new(4.0, 1.0)), "the end of an axis");
        assert!(
            !ellipse.contains(DVec2::new(3.9, 1.9)),
            "near a corner of the box"
        );
        assert_eq!(
            ellipse.bounds(),
            (DVec2::new(0.0, 0.0), DVec2::new(4.0, 2.0))
        );
    }

    #[test]
    fn turned_axes_are_a_right_handed_frame_and_the_standard_frame_gives_the_standard_axes() {
        for plane in SlicePlane::ALL {
            let standard = PlaneAxes::turned(&SliceFrame::STANDARD, plane);
            assert_eq!(standard, PlaneAxes::of(plane));
            assert!(standard.is_standard(plane));
            assert!(
                standard
                    .right
                    .cross(standard.down)
                    .distance(standard.normal)
                    < 1e-12
            );
            let frame = SliceFrame::STANDARD
                .turned(SlicePlane::Axial, 25.0)
                .and_then(|f| f.turned(SlicePlane::Coronal, -10.0))
                .expect("a turn");
            let turned = PlaneAxes::turned(&frame, plane);
            assert!(turned.right.cross(turned.down).distance(turned.normal) < 1e-9);
            assert!(!turned.is_standard(plane), "{plane:?} is turned");
            let again =
                PlaneAxes::from_right_and_down(turned.right * 2.0, turned.down).expect("axes");
            assert!(again.normal.distance(turned.normal) < 1e-9);
            assert!(again.faces(turned.normal) && !again.faces(-turned.normal));
        }
        assert_eq!(
            PlaneAxes::from_right_and_down(DVec3::X, DVec3::X * 3.0),
            None
        );
        assert_eq!(PlaneAxes::from_right_and_down(DVec3::NAN, DVec3::Y), None);
    }

    #[test]
    fn kinds_that_enclose_nothing_have_no_outline() {
        let two = [DVec2::ZERO, DVec2::ONE];
        assert!(Outline::new(FindingKind::Ruler, &two).is_none());
        assert!(Outline::new(FindingKind::Arrow, &two).is_none());
        assert!(Outline::new(FindingKind::Polygon, &two).is_none());
    }
}
