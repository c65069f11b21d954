//! A path through the volume, as a radiologist clicks it along a vessel: a centripetal
//! Catmull-Rom spline through the points (it passes through each and does not overshoot
//! between unevenly spaced ones), measured by its arc length and walked at equal steps
//! with a frame that does not twist about the path.

use glam::DVec3;

/// Most points a path may have: a vessel traced by hand has tens.
pub const MAX_PATH_POINTS: usize = 256;
/// The chord of the fine polyline the spline's length is measured on (mm): far below
/// any voxel, so the length is the spline's within a few parts per million.
const MEASURING_CHORD_MM: f64 = 0.05;
/// Most fine pieces one spline segment is cut into (bounds the work of a long segment).
const MAX_PIECES_PER_SEGMENT: usize = 8192;

/// A path through the points it was given (LPS, mm).
#[derive(Debug, Clone, PartialEq)]
pub struct CurvedPath {
    /// Points of the fine polyline along the spline.
    fine: Vec<DVec3>,
    /// The arc length from the start to each fine point (mm).
    along_mm: Vec<f64>,
}

/// A place on a path: where it is and which way the path runs there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathStation {
    /// The point on the path (LPS, mm).
    pub point: DVec3,
    /// The unit tangent, in the path's direction.
    pub tangent: DVec3,
    /// A unit vector across the path, carried along it without twisting (a rotation
    /// minimising frame).
    pub across: DVec3,
}

impl CurvedPath {
    /// The spline through `points`: at least two, at most [`MAX_PATH_POINTS`], finite,
    /// each apart from the one before. The error names the point at fault.
    pub fn through(points: &[DVec3]) -> Result<Self, String> {
        if points.len() < 2 {
            return Err(format!(
                "a path needs at least 2 points, got {}",
                points.len()
            ));
        }
        if points.len() > MAX_PATH_POINTS {
            return Err(format!(
                "a path has at most {MAX_PATH_POINTS} points, got {}",
                points.len()
            ));
        }
        if let Some(n) = points.iter().position(|p| !p.is_finite()) {
            return Err(format!("point {} is not finite", n + 1));
        }
        if let Some(n) = points
            .windows(2)
            .position(|pair| pair[0].distance(pair[1]) < 1e-6)
        {
            return Err(format!("points {} and {} are the same", n + 1, n + 2));
        }
        let mut fine = vec![points[0]];
        for segment in 0..points.len() - 1 {
            let before = if segment == 0 {
                2.0 * points[0] - points[1]
            } else {
                points[segment - 1]
            };
            let after = points
                .get(segment + 2)
                .copied()
                .unwrap_or_else(|| 2.0 * points[segment + 1] - points[segment]);
            let spline = Segment::new(before, points[segment], points[segment + 1], after);
            let pieces =
                ((points[segment].distance(points[segment + 1]) * 1.5 / MEASURING_CHORD_MM).ceil()
                    as usize)
                    .clamp(8, MAX_PIECES_PER_SEGMENT);
            fine.extend((1..=pieces).map(|n| spline.at(n as f64 / pieces as f64)));
        }
        let mut along_mm = Vec::with_capacity(fine.len());
        let mut length = 0.0;
        along_mm.push(0.0);
        for pair in fine.windows(2) {
            length += pair[0].distance(pair[1]);
            along_mm.push(length);
        }
        Ok(Self { fine, along_mm })
    }

    /// The path's length along the spline (mm).
    pub fn length_mm(&self) -> f64 {
        self.along_mm.last().copied().unwrap_or(0.0)
    }

    /// The point `s_mm` along the path (clamped to its ends).
    pub fn point_at(&self, s_mm: f64) -> DVec3 {
        let s = s_mm.clamp(0.0, self.length_mm());
        let n = self
            .along_mm
            .partition_point(|&a| a <= s)
            .clamp(1, self.fine.len() - 1);
        let (a, b) = (self.along_mm[n - 1], self.along_mm[n]);
        let t = if b > a { (s - a) / (b - a) } else { 0.0 };
        self.fine[n - 1].lerp(self.fine[n], t)
    }

    /// `count` stations at the centres of equal steps along the path (the first half a
    /// step from the start), each with its tangent and a frame carried without twist
    /// from `reference` (projected across the path at the start; a unit vector not
    /// along the path there is best).
    pub fn stations(&self, count: usize, reference: DVec3) -> Vec<PathStation> {
        if count == 0 {
            return Vec::new();
        }
        let step = self.length_mm() / count as f64;
        let tangent_at = |s: f64| {
            let half = (step * 0.5).max(MEASURING_CHORD_MM);
            (self.point_at(s + half) - self.point_at(s - half)).normalize_or(DVec3::Z)
        };
        let mut stations: Vec<PathStation> = Vec::with_capacity(count);
        for n in 0..count {
            let s = (n as f64 + 0.5) * step;
            let point = self.point_at(s);
            let tangent = tangent_at(s);
            let across = match stations.last() {
                None => across_from(reference, tangent),
                Some(previous) => carried(previous, point, tangent),
            };
            stations.push(PathStation {
                point,
                tangent,
                across,
            });
        }
        stations
    }
}

/// `reference` made perpendicular to `tangent`; another axis when it runs along it.
fn across_from(reference: DVec3, tangent: DVec3) -> DVec3 {
    [reference, DVec3::X, DVec3::Y, DVec3::Z]
        .into_iter()
        .map(|r| r - tangent * r.dot(tangent))
        .find(|r| r.length() > 0.1)
        .map_or(DVec3::X, DVec3::normalize)
}

/// The across vector of `previous` carried to the station at `point` with `tangent` by
/// two reflections (Wang, Jüttler, Zheng and Liu's double reflection method): the frame
/// turns with the path and never about it.
fn carried(previous: &PathStation, point: DVec3, tangent: DVec3) -> DVec3 {
    let v1 = point - previous.point;
    let c1 = v1.dot(v1);
    if c1 < 1e-18 {
        return across_from(previous.across, tangent);
    }
    let reflected_across = previous.across - v1 * (2.0 / c1) * v1.dot(previous.across);
    let reflected_tangent = previous.tangent - v1 * (2.0 / c1) * v1.dot(previous.tangent);
    let v2 = tangent - reflected_tangent;
    let c2 = v2.dot(v2);
    let across = if c2 < 1e-18 {
        reflected_across
    } else {
        reflected_across - v2 * (2.0 / c2) * v2.dot(reflected_across)
    };
    across_from(across, tangent)
}

/// One centripetal Catmull-Rom segment from `p1` to `p2`, shaped by `p0` and `p3`.
struct Segment {
    points: [DVec3; 4],
    knots: [f64; 4],
}

impl Segment {
    fn new(p0: DVec3, p1: DVec3, p2: DVec3, p3: DVec3) -> Self {
        let points = [p0, p1, p2, p3];
        let mut knots = [0.0; 4];
        for n in 1..4 {
            // Centripetal: knots spaced by the square root of the chord.
            knots[n] = knots[n - 1] + points[n - 1].distance(points[n]).sqrt().max(1e-9);
        }
        Self { points, knots }
    }

    /// The point a fraction `u` (0..=1) of the way from `p1` to `p2` in knot time
    /// (Barry and Goldman's pyramid).
    fn at(&self, u: f64) -> DVec3 {
        let [p0, p1, p2, p3] = self.points;
        let [t0, t1, t2, t3] = self.knots;
        let t = t1 + (t2 - t1) * u;
        let mix = |a: DVec3, b: DVec3, ta: f64, tb: f64| {
            a * ((tb - t) / (tb - ta)) + b * ((t - ta) / (tb - ta))
        };
        let a1 = mix(p0, p1, t0, t1);
        let a2 = mix(p1, p2, t1, t2);
        let a3 = mix(p2, p3, t2, t3);
        let b1 = mix(a1, a2, t0, t2);
        let b2 = mix(a2, a3, t1, t3);
        mix(b1, b2, t1, t2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_path_is_as_long_as_its_chord_and_passes_through_its_points() {
        let points = [
            DVec3::ZERO,
            DVec3::new(10.0, 0.0, 0.0),
            DVec3::new(30.0, 0.0, 0.0),
        ];
        let path = CurvedPath::through(&points).expect("a path");
        assert!(
            (path.length_mm() - 30.0).abs() < 1e-6,
            "{}",
            path.length_mm()
        );
        assert!(path.point_at(10.0).distance(points[1]) < 1e-6);
        let stations = path.stations(3, DVec3::Y);
        assert!(stations.iter().all(|s| s.tangent.distance(DVec3::X) < 1e-9));
        assert!(stations.iter().all(|s| s.across.distance(DVec3::Y) < 1e-9));
    }

    #[test]
    fn a_circle_through_its_points_is_about_its_circumference_and_does_not_twist() {
        let radius = 20.0;
        let points: Vec<DVec3> = (0..=24)
            .map(|n| {
                let angle = n as f64 * std::f64::consts::TAU / 24.0;
                DVec3::new(radius * angle.cos(), radius * angle.sin(), 0.0)
            })
            .collect();
        let path = CurvedPath::through(&points).expect("a path");
        let circumference = std::f64::consts::TAU * radius;
        assert!(
            (path.length_mm() / circumference - 1.0).abs() < 1e-3,
            "{} mm for {circumference}",
            path.length_mm()
        );
        // Across the path out of its plane at the start, it stays out of it all round.
        for station in path.stations(100, DVec3::Z) {
            assert!(station.across.distance(DVec3::Z) < 1e-6, "{station:?}");
            assert!(station.across.dot(station.tangent).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_paths_are_refused_by_point() {
        assert!(CurvedPath::through(&[DVec3::ZERO]).is_err());
        let same = CurvedPath::through(&[DVec3::ZERO, DVec3::X, DVec3::X]).expect_err("same");
        assert!(same.contains("points 2 and 3"), "{same}");
        let nan = CurvedPath::through(&[DVec3::ZERO, DVec3::splat(f64::NAN)]).expect_err("nan");
        assert!(nan.contains("point 2"), "{nan}");
        let many = vec![DVec3::ZERO; MAX_PATH_POINTS + 1];
        assert!(CurvedPath::through(&many).is_err());
    }
}
