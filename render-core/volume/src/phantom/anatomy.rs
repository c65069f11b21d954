//! The phantom's anatomy: which tissue, in HU, lies at an LPS point (mm; x → patient's
//! left, y → posterior, z → superior). Structures are simple shapes (a blended elliptic
//! torso outline measured by depth under the skin, ellipsoids, tubes) laid out as in an
//! adult chest and upper abdomen, and checked from the skin inwards: the first that holds
//! the point decides its tissue.
//!
//! This module lays the slice out and walks a point from the skin inwards; the structures
//! live in its submodules: `skeleton` (spine, ribs, sternum, clavicles, scapulae),
//! `thorax` (heart, airways' walls, mediastinum, lungs), `abdomen` (the organs under the
//! diaphragm) and `vessels_and_airways` (the tubes of the great vessels, the bronchial tree
//! and the lung arteries).

mod abdomen;
mod skeleton;
mod thorax;
mod vessels_and_airways;

use std::sync::LazyLock;

use glam::DVec3;

use super::hu;
use super::tube::{Seeded, Tube, TubeColumns, polyline};
use skeleton::{RIB_HALF_DEPTH_MM, RIB_HALF_HEIGHT_MM, Rib, VertebralLevel, rib_centre_depth};
use thorax::Heart;
use vessels_and_airways::{airways, great_vessels, lung_arteries};

/// Half-width (left-right) of the torso, mm.
const BODY_HALF_WIDTH_MM: f64 = 145.0;
/// Half-depth (front-back) of the torso, mm.
const BODY_HALF_DEPTH_MM: f64 = 102.0;
/// Skin thickness, mm.
const SKIN_MM: f64 = 2.0;
/// Depth under the skin where the chest and abdominal wall ends, at mid-chest, mm.
const WALL_MM: f64 = 26.0;

/// Front-back position of the vertebral bodies' centres, mm.
pub(super) const SPINE_Y_MM: f64 = 38.0;

/// The tubes and the heart, built once per process.
pub(super) struct Anatomy {
    /// Aorta and its branches, pulmonary trunk, venae cavae, oesophagus.
    vessels: Vec<Tube>,
    /// Trachea, bronchi and their segmental branches (air inside a wall).
    airways: Vec<Tube>,
    /// Pulmonary arteries out into the lungs.
    lung_vessels: Vec<Tube>,
    /// Clavicles.
    clavicles: Vec<Tube>,
    /// Transverse colon (gas inside a wall) and pancreas.
    bowel: Vec<Tube>,
    heart: Heart,
}

/// The anatomy shared by every slice.
pub(super) static ANATOMY: LazyLock<Anatomy> = LazyLock::new(Anatomy::build);

impl Anatomy {
    fn build() -> Self {
        let mut seeded = Seeded::new(0x5EED_0019);
        let airways = airways(&mut seeded);
        let lung_vessels = lung_arteries(&mut seeded);
        let mut clavicles = Vec::new();
        for side in [-1.0, 1.0] {
            clavicles.extend(polyline(
                &[
                    [side * 16.0, -88.0, 112.0],
                    [side * 60.0, -92.0, 128.0],
                    [side * 115.0, -72.0, 142.0],
                ],
                &[7.0, 6.0, 7.0],
                hu::CORTICAL_BONE,
            ));
        }

        let mut bowel = polyline(
            &[
                [-80.0, -40.0, -132.0],
                [0.0, -62.0, -142.0],
                [82.0, -40.0, -122.0],
            ],
            &[17.0, 17.0, 16.0],
            hu::AIR,
        );
        bowel.extend(polyline(
            &[
                [-12.0, 0.0, -116.0],
                [40.0, 10.0, -110.0],
                [72.0, 24.0, -104.0],
            ],
            &[11.0, 10.0, 8.0],
            hu::PANCREAS,
        ));

        Self {
            vessels: great_vessels(),
            airways,
            lung_vessels,
            clavicles,
            bowel,
            heart: Heart::new(),
        }
    }
}

/// Everything about one axial slice that does not change across it.
pub(super) struct Slice<'a> {
    z: f64,
    anatomy: &'a Anatomy,
    vessels: Vec<&'a Tube>,
    airways: Vec<&'a Tube>,
    lung_vessels: Vec<&'a Tube>,
    clavicles: Vec<&'a Tube>,
    bowel: Vec<&'a Tube>,
    ribs: Vec<Rib>,
    /// Depths under the skin between which a rib can lie on this slice, mm.
    rib_depth_mm: (f64, f64),
    vertebra: Option<VertebralLevel>,
    wall_mm: f64,
}

/// What a point holds: its tissue, and whether scanner noise shows on it (not on the air
/// around the body nor on the metal marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sample {
    pub hounsfield: i16,
    pub noisy: bool,
}

impl<'a> Slice<'a> {
    /// The slice at height `z` (mm).
    pub fn new(anatomy: &'a Anatomy, z: f64) -> Self {
        let near = |tubes: &'a [Tube]| -> Vec<&'a Tube> {
            tubes.iter().filter(|t| t.spans_z(z, 4.0)).collect()
        };
        let ribs = (1..=12)
            .map(Rib::numbered)
            .filter(|rib| {
                let (low, high) = rib.z_range();
                z > low - 10.0 && z < high + 10.0
            })
            .collect();
        // The chest narrows toward the thoracic inlet and closes over the lung apices.
        let wall_mm = wall_at(z);
        Self {
            z,
            anatomy,
            vessels: near(&anatomy.vessels),
            airways: near(&anatomy.airways),
            lung_vessels: near(&anatomy.lung_vessels),
            clavicles: near(&anatomy.clavicles),
            bowel: near(&anatomy.bowel),
            ribs,
            // A rib's centre lies 5 mm inside the wall at its own height, at most
            // RIB_HALF_HEIGHT_MM from the slice; its half-thickness is RIB_HALF_DEPTH_MM.
            rib_depth_mm: (
                rib_centre_depth(z - RIB_HALF_HEIGHT_MM) - RIB_HALF_DEPTH_MM,
                rib_centre_depth(z + RIB_HALF_HEIGHT_MM) + RIB_HALF_DEPTH_MM,
            ),
            vertebra: VertebralLevel::at(z),
            wall_mm,
        }
    }

    /// The row at depth `y` of this slice, with the tubes that reach it sorted along x.
    pub fn row(&self, y: f64) -> Row<'_> {
        let near = |tubes: &[&'a Tube], margin_mm: f64| {
            TubeColumns::new(
                tubes.iter().copied().filter(|t| t.spans_y(y, margin_mm)),
                margin_mm,
            )
        };
        Row {
            slice: self,
            vessels: near(&self.vessels, 1.0),
            airways: near(&self.airways, 4.0),
            lung_vessels: near(&self.lung_vessels, 1.0),
            clavicles: near(&self.clavicles, 1.0),
            bowel: near(&self.bowel, 1.0),
        }
    }
}

/// One row (fixed y) of a slice: the tubes that reach it, sorted along x.
pub(super) struct Row<'s> {
    slice: &'s Slice<'s>,
    vessels: TubeColumns<'s>,
    airways: TubeColumns<'s>,
    lung_vessels: TubeColumns<'s>,
    clavicles: TubeColumns<'s>,
    bowel: TubeColumns<'s>,
}

impl Row<'_> {
    /// The tissue at (x, y) on this slice.
    pub fn sample(&self, x: f64, y: f64) -> Sample {
        let p = DVec3::new(x, y, self.slice.z);
        let noisy = |hounsfield| Sample {
            hounsfield,
            noisy: true,
        };
        if p.distance_squared(DVec3::from_array(super::MARKER_LPS_MM))
            <= super::MARKER_RADIUS_MM.powi(2)
        {
            return Sample {
                hounsfield: hu::MARKER,
                noisy: false,
            };
        }
        let Some(depth) = depth_under_skin(x, y) else {
            return Sample {
                hounsfield: hu::AIR,
                noisy: false,
            };
        };
        noisy(self.tissue(p, depth))
    }

    fn tissue(&self, p: DVec3, depth: f64) -> i16 {
        let (x, y, z) = (p.x, p.y, p.z);
        if depth < SKIN_MM {
            return hu::SKIN;
        }
        if let Some(bone) = self.wall_bone(p, depth) {
            return bone;
        }
        // Subcutaneous fat, thinner over the back.
        let fat_mm = 14.0 - 6.0 * (y / 60.0).clamp(0.0, 1.0);
        if depth < fat_mm {
            return hu::FAT;
        }
        if let Some(bone) = self.spine(x, y) {
            return bone;
        }
        // Erector spinae beside the spinous processes, and the chest and abdominal wall.
        let erector = ((x.abs() - 24.0) / 20.0).powi(2) + ((y - 76.0) / 20.0).powi(2) <= 1.0;
        if erector || depth < self.slice.wall_mm {
            return hu::MUSCLE;
        }
        if let Some(hounsfield) = tube_at(self.vessels.near(x), p) {
            return hounsfield;
        }
        let diaphragm = diaphragm_z(x, y);
        if z > diaphragm {
            self.thorax(p)
        } else {
            self.abdomen(p, diaphragm)
        }
    }
}

/// Depth under the skin of the torso outline at (x, y), or `None` outside the body. The
/// outline blends an ellipse with a squarer quartic so that the flanks are full and the
/// back flat, as in a supine patient.
fn depth_under_skin(x: f64, y: f64) -> Option<f64> {
    let (u, v) = (x / BODY_HALF_WIDTH_MM, y / BODY_HALF_DEPTH_MM);
    let (e2, e4) = (u * u + v * v, u.powi(4) + v.powi(4));
    // The scale λ with 0.6·e2/λ² + 0.4·e4/λ⁴ = 1 puts (x, y)/λ on the outline.
    if e4 <= 0.0 {
        return Some(BODY_HALF_DEPTH_MM);
    }
    let mu = (-0.6 * e2 + (0.36 * e2 * e2 + 1.6 * e4).sqrt()) / (0.8 * e4);
    let lambda = 1.0 / mu.sqrt();
    // Plain square roots: `hypot` guards against overflows these millimetres never reach.
    (lambda <= 1.0).then(|| (x * x + y * y).sqrt() * (1.0 / lambda - 1.0))
}

/// Depth of the chest wall at height `z` (its ribs lie just inside it).
fn wall_at(z: f64) -> f64 {
    WALL_MM + 0.5 * (z - 70.0).max(0.0) + 3.0 * (z - 132.0).max(0.0)
}

/// Height of the diaphragm at (x, y): the right dome above the liver higher than the left,
/// a flatter central tendon under the heart, both falling into the posterior recesses.
fn diaphragm_z(x: f64, y: f64) -> f64 {
    let right = -38.0 - 0.009 * ((x + 55.0).powi(2) + 0.8 * (y + 5.0).powi(2));
    let left = -52.0 - 0.009 * ((x - 55.0).powi(2) + 0.8 * (y + 5.0).powi(2));
    let tendon = -45.0 - 0.004 * (x * x + (y + 20.0).powi(2));
    right.max(left).max(tendon)
}

/// What the first of `tubes` to hold `p` is filled with.
fn tube_at(tubes: &[&Tube], p: DVec3) -> Option<i16> {
    tubes.iter().find_map(|tube| {
        let (distance, radius) = tube.distance(p, 0.0)?;
        (distance <= radius).then_some(tube.hounsfield)
    })
}
