//! Tubes for the phantom's vessels, airways and long thin bones: straight segments whose
//! radius tapers from one end to the other, polylines of them, and a seeded generator of
//! branching trees (lung arteries, segmental bronchi).

use glam::DVec3;

/// A straight tube from `start` to `start + axis`, rounded at both ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tube {
    start: DVec3,
    axis: DVec3,
    inverse_length_squared: f64,
    radius_start_mm: f64,
    radius_end_mm: f64,
    /// Bounding box, radius included.
    min: DVec3,
    max: DVec3,
    /// What fills it, in HU.
    pub hounsfield: i16,
}

impl Tube {
    /// A tube from `start` to `end` with radii at each end (mm) filled with `hounsfield`.
    pub fn new(start: DVec3, end: DVec3, radii_mm: [f64; 2], hounsfield: i16) -> Self {
        let axis = end - start;
        let reach = DVec3::splat(radii_mm[0].max(radii_mm[1]));
        Self {
            start,
            axis,
            inverse_length_squared: 1.0 / axis.length_squared().max(1e-9),
            radius_start_mm: radii_mm[0],
            radius_end_mm: radii_mm[1],
            min: start.min(end) - reach,
            max: start.max(end) + reach,
            hounsfield,
        }
    }

    /// Whether the tube, widened by `margin_mm`, reaches the axial plane at height `z`.
    pub fn spans_z(&self, z: f64, margin_mm: f64) -> bool {
        z >= self.min.z - margin_mm && z <= self.max.z + margin_mm
    }

    /// Whether the tube, widened by `margin_mm`, reaches the coronal plane at depth `y`.
    pub fn spans_y(&self, y: f64, margin_mm: f64) -> bool {
        y >= self.min.y - margin_mm && y <= self.max.y + margin_mm
    }

    /// The distance of `p` from the axis and the tube's radius there, or `None` when `p` is
    /// farther than `margin_mm` outside the bounding box.
    pub fn distance(&self, p: DVec3, margin_mm: f64) -> Option<(f64, f64)> {
        let outside = p.x < self.min.x - margin_mm
            || p.x > self.max.x + margin_mm
            || p.y < self.min.y - margin_mm
            || p.y > self.max.y + margin_mm
            || p.z < self.min.z - margin_mm
            || p.z > self.max.z + margin_mm;
        if outside {
            return None;
        }
        let t = ((p - self.start).dot(self.axis) * self.inverse_length_squared).clamp(0.0, 1.0);
        let distance = p.distance(self.start + self.axis * t);
        let radius = self.radius_start_mm + (self.radius_end_mm - self.radius_start_mm) * t;
        Some((distance, radius))
    }

    /// The end point of the tube.
    pub fn end(&self) -> DVec3 {
        self.start + self.axis
    }
}

/// Tubes joining `points` in turn, the radius at each point from `radii_mm`.
pub(super) fn polyline(points: &[[f64; 3]], radii_mm: &[f64], hounsfield: i16) -> Vec<Tube> {
    points
        .windows(2)
        .zip(radii_mm.windows(2))
        .map(|(p, r)| {
            Tube::new(
                DVec3::from_array(p[0]),
                DVec3::from_array(p[1]),
                [r[0], r[1]],
                hounsfield,
            )
        })
        .collect()
}

/// A small deterministic generator (xorshift64*), so that the phantom is the same on
/// every machine and every run.
pub(super) struct Seeded(u64);

impl Seeded {
    /// A generator started from `seed` (any value but zero works; zero is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next value, uniform in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }

    /// A unit vector perpendicular to `direction`, in a random orientation.
    fn perpendicular(&mut self, direction: DVec3) -> DVec3 {
        loop {
            let candidate = DVec3::new(
                self.next_unit() - 0.5,
                self.next_unit() - 0.5,
                self.next_unit() - 0.5,
            );
            let off_axis = candidate - direction * candidate.dot(direction);
            if off_axis.length_squared() > 1e-4 {
                return off_axis.normalize();
            }
        }
    }
}

/// How a branching tree grows from its root segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Branching {
    /// Number of generations of two children after the root segment.
    pub generations: u32,
    /// Each child's length and radius against its parent's.
    pub length_ratio: f64,
    /// Each child's radius against its parent's end radius.
    pub radius_ratio: f64,
    /// Angle between a child and its parent's direction, degrees.
    pub spread_degrees: f64,
    /// What the tubes hold, in HU.
    pub hounsfield: i16,
}

/// Grows a tree: a root from `start` toward `target` (`root_share` of the way there,
/// radius `radius_mm` tapering by a fifth), then `generations` of paired children bent
/// away from their parent and drawn back toward `target`.
pub(super) fn grow_tree(
    out: &mut Vec<Tube>,
    start: DVec3,
    target: DVec3,
    root_share: f64,
    radius_mm: f64,
    branching: Branching,
    seeded: &mut Seeded,
) {
    let to_target = target - start;
    let length = to_target.length() * root_share;
    let direction = to_target.normalize_or_zero();
    let root = Tube::new(
        start,
        start + direction * length,
        [radius_mm, radius_mm * 0.8],
        branching.hounsfield,
    );
    out.push(root);
    grow_children(
        out,
        root.end(),
        direction,
        target,
        length * branching.length_ratio,
        radius_mm * 0.8 * branching.radius_ratio,
        branching.generations,
        branching,
        seeded,
    );
}

#[allow(clippy::too_many_arguments)]
fn grow_children(
    out: &mut Vec<Tube>,
    start: DVec3,
    parent: DVec3,
    target: DVec3,
    length: f64,
    radius_mm: f64,
    generations_left: u32,
    branching: Branching,
    seeded: &mut Seeded,
) {
    if generations_left == 0 {
        return;
    }
    let spread = branching.spread_degrees.to_radians() * (0.75 + 0.5 * seeded.next_unit());
    let side = seeded.perpendicular(parent);
    let toward_target = (target - start).normalize_or(parent);
    for sign in [1.0, -1.0] {
        let bent = parent * spread.cos() + side * (sign * spread.sin());
        let direction = (bent * 0.75 + toward_target * 0.25).normalize_or(parent);
        let end = start + direction * length;
        out.push(Tube::new(
            start,
            end,
            [radius_mm, radius_mm * 0.85],
            branching.hounsfield,
        ));
        grow_children(
            out,
            end,
            direction,
            target,
            length * branching.length_ratio,
            radius_mm * 0.85 * branching.radius_ratio,
            generations_left - 1,
            branching,
            seeded,
        );
    }
}

/// Tubes sorted into columns along x (10 mm wide), so that a point checks only the tubes
/// that can reach it.
pub(super) struct TubeColumns<'a> {
    columns: Vec<Vec<&'a Tube>>,
}

/// Left edge and width of the first column, mm.
const COLUMNS_FROM_MM: f64 = -200.0;
const COLUMN_MM: f64 = 10.0;
const COLUMN_COUNT: usize = 40;

impl<'a> TubeColumns<'a> {
    /// `tubes` sorted into the columns their bounding boxes (widened by `margin_mm`) reach.
    pub fn new(tubes: impl IntoIterator<Item = &'a Tube>, margin_mm: f64) -> Self {
        let mut columns = vec![Vec::new(); COLUMN_COUNT];
        for tube in tubes {
            let first = column_of(tube.min.x - margin_mm);
            let last = column_of(tube.max.x + margin_mm);
            for column in &mut columns[first..=last] {
                column.push(tube);
            }
        }
        Self { columns }
    }

    /// The tubes that can reach a point at `x`.
    pub fn near(&self, x: f64) -> &[&'a Tube] {
        &self.columns[column_of(x)]
    }
}

fn column_of(x: f64) -> usize {
    (((x - COLUMNS_FROM_MM) / COLUMN_MM).floor().max(0.0) as usize).min(COLUMN_COUNT - 1)
}
