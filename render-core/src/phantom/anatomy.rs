//! The phantom's anatomy: which tissue, in HU, lies at an LPS point (mm; x → patient's
//! left, y → posterior, z → superior). Structures are simple shapes (a blended elliptic
//! torso outline measured by depth under the skin, ellipsoids, tubes) laid out as in an
//! adult chest and upper abdomen, and checked from the skin inwards: the first that holds
//! the point decides its tissue.

use std::sync::LazyLock;

use glam::DVec3;

use super::hu;
use super::tube::{Branching, Seeded, Tube, TubeColumns, grow_tree, polyline};

/// Half-width (left-right) of the torso, mm.
const BODY_HALF_WIDTH_MM: f64 = 145.0;
/// Half-depth (front-back) of the torso, mm.
const BODY_HALF_DEPTH_MM: f64 = 102.0;
/// Skin thickness, mm.
const SKIN_MM: f64 = 2.0;
/// Depth under the skin where the chest and abdominal wall ends, at mid-chest, mm.
const WALL_MM: f64 = 26.0;
/// Height of the centre of the first thoracic vertebra (T1), mm.
pub(super) const T1_Z_MM: f64 = 130.0;
/// Distance between vertebral levels, mm.
pub(super) const VERTEBRA_PITCH_MM: f64 = 19.5;
/// Height of an intervertebral disc, mm.
const DISC_MM: f64 = 6.0;
/// Front-back position of the vertebral bodies' centres, mm.
pub(super) const SPINE_Y_MM: f64 = 38.0;
/// Front-back position of the spinal canal's axis, mm.
pub(super) const CANAL_Y_MM: f64 = 66.0;
/// Angle around the torso (0 anterior midline, π posterior) where ribs meet the spine.
const RIB_POSTERIOR_ANGLE: f64 = 2.78;
/// Angle where the costal cartilages of the true ribs meet the sternum.
const RIB_STERNUM_ANGLE: f64 = 0.17;
/// Front of the sternum (y, mm) and its thickness.
const STERNUM_FRONT_Y_MM: f64 = -86.0;
const STERNUM_THICKNESS_MM: f64 = 12.0;
/// Thickness of cortical bone drawn at the rim of vertebrae and sternum, mm.
const CORTEX_MM: f64 = 2.0;

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

/// Where the pulmonary arteries enter the right and left lungs (LPS mm).
const RIGHT_HILUM_MM: [f64; 3] = [-40.0, -4.0, 42.0];
const LEFT_HILUM_MM: [f64; 3] = [44.0, 8.0, 52.0];

/// Aorta and its branches, pulmonary trunk and arteries, venae cavae, oesophagus.
fn great_vessels() -> Vec<Tube> {
    let mut vessels = Vec::new();
    // Aorta: root, ascending on the right, arch over the left main bronchus,
    // descending left of the spine, abdominal in front of it.
    vessels.extend(polyline(
        &[
            [2.0, -18.0, 22.0],
            [-8.0, -34.0, 55.0],
            [-6.0, -30.0, 88.0],
            [4.0, -20.0, 102.0],
            [20.0, -2.0, 100.0],
            [26.0, 16.0, 84.0],
            [26.0, 18.0, 40.0],
            [22.0, 14.0, -40.0],
            [12.0, 8.0, -100.0],
            [8.0, 6.0, -150.0],
        ],
        &[14.0, 15.0, 14.0, 13.0, 12.0, 12.0, 11.5, 11.0, 10.5, 10.0],
        hu::AORTA,
    ));
    // Arch branches: brachiocephalic, left common carotid, left subclavian.
    for (from, to, radius) in [
        ([-2.0, -24.0, 100.0], [-16.0, -26.0, 152.0], 7.0),
        ([8.0, -16.0, 103.0], [14.0, -18.0, 152.0], 5.0),
        ([17.0, -6.0, 101.0], [32.0, 0.0, 152.0], 6.0),
    ] {
        vessels.extend(polyline(&[from, to], &[radius, radius], hu::AORTA));
    }
    // Coeliac trunk and renal arteries.
    vessels.extend(polyline(
        &[
            [10.0, 0.0, -92.0],
            [12.0, -22.0, -94.0],
            [30.0, -26.0, -96.0],
        ],
        &[4.0, 3.5, 3.0],
        hu::AORTA,
    ));
    vessels.extend(polyline(
        &[[9.0, 8.0, -118.0], [58.0, 42.0, -124.0]],
        &[3.5, 3.0],
        hu::AORTA,
    ));
    vessels.extend(polyline(
        &[[5.0, 8.0, -121.0], [-58.0, 42.0, -136.0]],
        &[3.5, 3.0],
        hu::AORTA,
    ));
    // Pulmonary trunk from the right ventricle, and its two branches.
    vessels.extend(polyline(
        &[
            [10.0, -46.0, 20.0],
            [14.0, -34.0, 45.0],
            [12.0, -22.0, 54.0],
        ],
        &[13.0, 13.0, 12.0],
        hu::PULMONARY_ARTERY,
    ));
    vessels.extend(polyline(
        &[[12.0, -22.0, 54.0], [-14.0, -16.0, 46.0], RIGHT_HILUM_MM],
        &[10.0, 9.5, 9.0],
        hu::PULMONARY_ARTERY,
    ));
    vessels.extend(polyline(
        &[[12.0, -22.0, 54.0], [34.0, -4.0, 58.0], LEFT_HILUM_MM],
        &[9.5, 9.0, 8.5],
        hu::PULMONARY_ARTERY,
    ));
    // Superior and inferior venae cavae (less contrast than the arteries).
    vessels.extend(polyline(
        &[[-30.0, -24.0, 152.0], [-26.0, -18.0, 35.0]],
        &[9.0, 10.0],
        hu::VENA_CAVA,
    ));
    vessels.extend(polyline(
        &[
            [-18.0, 20.0, -152.0],
            [-16.0, 14.0, -40.0],
            [-14.0, 2.0, -18.0],
        ],
        &[11.0, 11.0, 12.0],
        hu::VENA_CAVA,
    ));
    // Oesophagus: behind the trachea, down through the hiatus to the stomach.
    vessels.extend(polyline(
        &[
            [4.0, 14.0, 152.0],
            [8.0, 14.0, 40.0],
            [14.0, 8.0, -40.0],
            [45.0, -10.0, -80.0],
        ],
        &[7.0, 7.0, 7.0, 8.0],
        hu::SOFT_TISSUE,
    ));

    vessels
}

/// Trachea, main and lobar bronchi, and seeded segmental branches.
fn airways(seeded: &mut Seeded) -> Vec<Tube> {
    let mut airways = Vec::new();
    let carina = [0.0, -2.0, 64.0];
    airways.extend(polyline(
        &[[0.0, -3.0, 152.0], carina],
        &[9.0, 9.0],
        hu::AIR,
    ));
    // (from, to, radius): main, intermediate and lobar bronchi.
    let bronchi = [
        (carina, [-26.0, 0.0, 50.0], 7.0),
        ([-26.0, 0.0, 50.0], [-36.0, 4.0, 28.0], 5.5),
        ([-26.0, 0.0, 50.0], [-50.0, -2.0, 68.0], 4.5),
        ([-36.0, 4.0, 28.0], [-50.0, -24.0, 14.0], 3.5),
        ([-36.0, 4.0, 28.0], [-52.0, 20.0, 0.0], 4.5),
        (carina, [36.0, 6.0, 44.0], 6.0),
        ([36.0, 6.0, 44.0], [54.0, -6.0, 64.0], 4.5),
        ([40.0, 4.0, 40.0], [58.0, -26.0, 22.0], 3.5),
        ([36.0, 6.0, 44.0], [54.0, 22.0, 14.0], 4.5),
    ];
    for (from, to, radius) in bronchi {
        airways.extend(polyline(&[from, to], &[radius, radius * 0.9], hu::AIR));
    }
    // Segmental bronchi: from each lobar bronchus's end toward the lobe's periphery.
    let segmental = Branching {
        generations: 2,
        length_ratio: 0.75,
        radius_ratio: 0.8,
        spread_degrees: 26.0,
        hounsfield: hu::AIR,
    };
    for (start, target) in [
        ([-50.0, -2.0, 68.0], [-70.0, -10.0, 115.0]),
        ([-50.0, -24.0, 14.0], [-72.0, -58.0, 0.0]),
        ([-52.0, 20.0, 0.0], [-78.0, 45.0, -55.0]),
        ([54.0, -6.0, 64.0], [70.0, -10.0, 115.0]),
        ([58.0, -26.0, 22.0], [80.0, -52.0, 0.0]),
        ([54.0, 22.0, 14.0], [78.0, 45.0, -55.0]),
    ] {
        grow_tree(
            &mut airways,
            DVec3::from_array(start),
            DVec3::from_array(target),
            0.35,
            3.2,
            segmental,
            seeded,
        );
    }

    airways
}

/// Lung arteries: seeded trees from each hilum toward the lobes.
fn lung_arteries(seeded: &mut Seeded) -> Vec<Tube> {
    // Lung arteries: from each hilum toward the lobes, three generations of branches.
    let mut lung_vessels = Vec::new();
    let arterial = Branching {
        generations: 4,
        length_ratio: 0.72,
        radius_ratio: 0.75,
        spread_degrees: 30.0,
        hounsfield: hu::PULMONARY_ARTERY,
    };
    for (hilum, targets) in [
        (
            RIGHT_HILUM_MM,
            [
                [-65.0, -12.0, 118.0],
                [-72.0, -58.0, 5.0],
                [-75.0, 45.0, -55.0],
                [-108.0, 0.0, -20.0],
            ],
        ),
        (
            LEFT_HILUM_MM,
            [
                [65.0, -12.0, 118.0],
                [82.0, -52.0, 0.0],
                [75.0, 45.0, -60.0],
                [108.0, 0.0, -28.0],
            ],
        ),
    ] {
        for target in targets {
            grow_tree(
                &mut lung_vessels,
                DVec3::from_array(hilum),
                DVec3::from_array(target),
                0.4,
                6.0,
                arterial,
                seeded,
            );
        }
    }

    lung_vessels
}

/// The heart: an ellipsoid whose long axis runs from the base (right, posterior,
/// superior) to the apex (left, anterior, inferior), split into four chambers.
struct Heart {
    centre: DVec3,
    /// Unit axes: long (toward the apex), and two across it.
    axes: [DVec3; 3],
    radii_mm: [f64; 3],
    /// Unit normal of the interventricular septum, toward the left ventricle.
    septum: DVec3,
}

/// Centre of the heart (LPS mm).
pub(super) const HEART_CENTRE_MM: [f64; 3] = [20.0, -20.0, 5.0];

impl Heart {
    fn new() -> Self {
        let long = DVec3::new(0.6, -0.5, -0.62).normalize();
        let across = long.cross(DVec3::Z).normalize();
        let third = long.cross(across);
        let toward_left_ventricle = DVec3::new(0.45, 1.0, 0.0);
        let septum = (toward_left_ventricle - long * toward_left_ventricle.dot(long)).normalize();
        Self {
            centre: DVec3::from_array(HEART_CENTRE_MM),
            axes: [long, across, third],
            radii_mm: [62.0, 48.0, 44.0],
            septum,
        }
    }

    /// The heart's tissue at `p`, or `None` outside it and its fat.
    fn tissue(&self, p: DVec3) -> Option<i16> {
        let d = p - self.centre;
        let along = d.dot(self.axes[0]);
        let e = (along / self.radii_mm[0]).powi(2)
            + (d.dot(self.axes[1]) / self.radii_mm[1]).powi(2)
            + (d.dot(self.axes[2]) / self.radii_mm[2]).powi(2);
        if e > 1.2 {
            return None;
        }
        if e > 1.0 {
            return Some(hu::EPICARDIAL_FAT);
        }
        // Depth under the epicardium, on a typical radius.
        let depth = (1.0 - e.sqrt()) * 48.0;
        let side = d.dot(self.septum);
        let wall_mm = if side > 0.0 { 11.0 } else { 5.0 };
        if depth < wall_mm {
            return Some(hu::MYOCARDIUM);
        }
        // The base holds the atria, behind the atrioventricular groove.
        if along < -22.0 {
            return Some(if (along + 22.0).abs() < 3.0 {
                hu::EPICARDIAL_FAT
            } else if side.abs() < 2.5 {
                hu::MYOCARDIUM
            } else if side > 0.0 {
                hu::LEFT_HEART
            } else {
                hu::RIGHT_HEART
            });
        }
        Some(if side.abs() < 5.0 {
            hu::MYOCARDIUM
        } else if side > 0.0 {
            hu::LEFT_HEART
        } else {
            hu::RIGHT_HEART
        })
    }
}

/// A rib near the slice. From the spine it runs nearly level round the back, then falls
/// ever more steeply toward the front, as the ribs do on a chest film; the costal
/// cartilage of the lower true ribs climbs back up to the sternum.
#[derive(Debug, Clone, Copy)]
struct Rib {
    /// Height of the rib's centre beside the spine, mm.
    posterior_z: f64,
    /// Height where bone gives way to cartilage (the rib's lowest point), mm.
    bone_end_z: f64,
    /// Height where the cartilage ends (at the sternum for ribs 1–7), mm.
    end_z: f64,
    /// Angle (from the anterior midline) where bone gives way to costal cartilage.
    bone_end: f64,
    /// Angle where the rib (cartilage included) ends.
    end: f64,
}

/// Heights where the costal cartilages of ribs 1–7 meet the sternum, mm.
const STERNAL_Z_MM: [f64; 7] = [100.0, 84.0, 64.0, 44.0, 24.0, 2.0, -22.0];

impl Rib {
    /// Rib `n` (1 to 12).
    fn numbered(n: usize) -> Self {
        let level = (n - 1) as f64;
        let posterior_z = T1_Z_MM + 4.0 - level * VERTEBRA_PITCH_MM;
        // True ribs (1–7) reach the sternum through cartilage; 8–10 join the costal
        // margin; 11 and 12 float.
        let (bone_end, end, drop_mm) = match n {
            1..=7 => (0.55, RIB_STERNUM_ANGLE, 30.0 + 6.0 * level),
            8..=10 => (0.75, 0.45, (30.0 + 6.0 * level).min(75.0)),
            11 => (1.35, 1.35, 30.0),
            _ => (1.85, 1.85, 20.0),
        };
        let bone_end_z = posterior_z - drop_mm;
        let end_z = match n {
            1..=7 => STERNAL_Z_MM[n - 1],
            8..=10 => bone_end_z + 20.0,
            _ => bone_end_z,
        };
        Self {
            posterior_z,
            bone_end_z,
            end_z,
            bone_end,
            end,
        }
    }

    /// The lowest and highest heights of the rib's centre, mm.
    fn z_range(&self) -> (f64, f64) {
        (self.bone_end_z.min(self.end_z), self.posterior_z)
    }

    /// Height of the rib's centre at `angle`.
    fn z_at(&self, angle: f64) -> f64 {
        if angle >= self.bone_end {
            let t = ((RIB_POSTERIOR_ANGLE - angle) / (RIB_POSTERIOR_ANGLE - self.bone_end))
                .clamp(0.0, 1.0);
            self.posterior_z - (self.posterior_z - self.bone_end_z) * t * t.sqrt()
        } else {
            let t = ((self.bone_end - angle) / (self.bone_end - self.end)).clamp(0.0, 1.0);
            self.bone_end_z + (self.end_z - self.bone_end_z) * t
        }
    }
}

/// Where a slice cuts the spine.
#[derive(Debug, Clone, Copy)]
struct VertebralLevel {
    /// −1 for C7, 0 for T1, 12 for L1…
    index: i32,
    /// Height above the vertebra's centre, mm.
    dz: f64,
}

impl VertebralLevel {
    /// The level at height `z`, from C7 down.
    fn at(z: f64) -> Option<Self> {
        let level = ((T1_Z_MM - z) / VERTEBRA_PITCH_MM).round();
        (level >= -1.0).then_some(Self {
            index: level as i32,
            dz: z - (T1_Z_MM - level * VERTEBRA_PITCH_MM),
        })
    }

    fn half_height(&self) -> f64 {
        (VERTEBRA_PITCH_MM - DISC_MM) / 2.0
    }

    fn in_disc(&self) -> bool {
        self.dz.abs() > self.half_height()
    }

    /// Half-axes of the vertebral body (left-right, front-back), larger going down.
    fn body_radii(&self) -> [f64; 2] {
        let n = f64::from(self.index);
        [19.0 + 0.5 * n, 15.0 + 0.35 * n]
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

    /// Clavicles, scapulae, ribs and costal cartilage, sternum.
    fn wall_bone(&self, p: DVec3, depth: f64) -> Option<i16> {
        let (x, y, z) = (p.x, p.y, p.z);
        if let Some(bone) = self.clavicles.near(x).iter().find_map(|tube| {
            let (distance, radius) = tube.distance(p, 0.0)?;
            (distance <= radius).then_some(if distance < radius - CORTEX_MM {
                hu::CANCELLOUS_BONE
            } else {
                hu::CORTICAL_BONE
            })
        }) {
            return Some(bone);
        }
        // Scapulae: thin triangular plates over the upper back ribs.
        if y > 0.0 && (10.0..15.0).contains(&depth) && (30.0..140.0).contains(&z) {
            let t = (z - 30.0) / 110.0;
            let (medial, lateral) = (75.0 - 27.0 * t, 75.0 + 50.0 * t);
            if (medial..lateral).contains(&x.abs()) {
                return Some(hu::SCAPULA);
            }
        }
        let (shallowest, deepest) = self.slice.rib_depth_mm;
        if !self.slice.ribs.is_empty() && depth > 12.0 && (shallowest..=deepest).contains(&depth) {
            let angle = x.abs().atan2(-y);
            if angle <= RIB_POSTERIOR_ANGLE {
                for rib in &self.slice.ribs {
                    if angle < rib.end {
                        continue;
                    }
                    let centre_z = rib.z_at(angle);
                    let e = ((depth - rib_centre_depth(centre_z)) / RIB_HALF_DEPTH_MM).powi(2)
                        + ((z - centre_z) / RIB_HALF_HEIGHT_MM).powi(2);
                    if e <= 1.0 {
                        return Some(if angle < rib.bone_end {
                            hu::CARTILAGE
                        } else if e > 0.2 {
                            hu::CORTICAL_BONE
                        } else {
                            hu::CANCELLOUS_BONE
                        });
                    }
                }
            }
        }
        // Sternum: manubrium, body, xiphoid process.
        let half_width = match z {
            z if (65.0..110.0).contains(&z) => 24.0 - (110.0 - z) * 0.1,
            z if (-25.0..65.0).contains(&z) => 15.0,
            z if (-45.0..-25.0).contains(&z) => 7.0,
            _ => return None,
        };
        let from_front = y - STERNUM_FRONT_Y_MM;
        if x.abs() < half_width && (0.0..STERNUM_THICKNESS_MM).contains(&from_front) {
            let rim = (half_width - x.abs())
                .min(from_front)
                .min(STERNUM_THICKNESS_MM - from_front);
            return Some(if rim < CORTEX_MM {
                hu::CORTICAL_BONE
            } else {
                hu::CANCELLOUS_BONE
            });
        }
        None
    }

    /// Vertebral body or disc, spinal canal and cord, arch and processes.
    fn spine(&self, x: f64, y: f64) -> Option<i16> {
        let level = self.slice.vertebra?;
        let [rx, ry] = level.body_radii();
        let e = (x / rx).powi(2) + ((y - SPINE_Y_MM) / ry).powi(2);
        if e <= 1.0 {
            if level.in_disc() {
                return Some(hu::DISC);
            }
            let rim = ((1.0 - e.sqrt()) * ry).min(level.half_height() - level.dz.abs());
            return Some(if rim < CORTEX_MM {
                hu::CORTICAL_BONE
            } else {
                hu::CANCELLOUS_BONE
            });
        }
        let from_canal = (x * x + (y - CANAL_Y_MM).powi(2)).sqrt();
        if from_canal < 4.5 {
            return Some(hu::SPINAL_CORD);
        }
        if from_canal < 8.5 {
            return Some(hu::CSF);
        }
        if level.in_disc() {
            return None;
        }
        if from_canal < 13.5 {
            return Some(hu::VERTEBRAL_ARCH);
        }
        // Transverse processes, longer in the lumbar spine.
        let lumbar = level.index >= 12;
        let (reach, front, back) = if lumbar {
            (42.0, 56.0, 63.0)
        } else {
            (38.0, 62.0, 72.0)
        };
        if (8.0..reach).contains(&x.abs()) && (front..back).contains(&y) && level.dz.abs() < 5.0 {
            return Some(hu::VERTEBRAL_ARCH);
        }
        // Spinous process, sloping down behind the thoracic spine.
        if x.abs() < 3.5 && (76.0..88.0).contains(&y) {
            let slope = if lumbar { 0.0 } else { 0.8 };
            if (level.dz + (y - 76.0) * slope).abs() < 5.0 {
                return Some(hu::VERTEBRAL_ARCH);
            }
        }
        None
    }

    /// Above the diaphragm: heart, airways, mediastinum, lungs.
    fn thorax(&self, p: DVec3) -> i16 {
        let (x, y, z) = (p.x, p.y, p.z);
        if let Some(airway) = self.airways.near(x).iter().find_map(|tube| {
            let (distance, radius) = tube.distance(p, 3.0)?;
            let wall = (0.3 * radius).max(1.2);
            if distance <= radius {
                Some(hu::AIR)
            } else {
                (distance <= radius + wall).then_some(hu::AIRWAY_WALL)
            }
        }) {
            return airway;
        }
        if let Some(heart) = self.slice.anatomy.heart.tissue(p) {
            return heart;
        }
        // Mediastinum: a narrow band behind the sternum, widening around the great
        // vessels and trachea above the heart, and around the spine behind it.
        let upper = ((z - 45.0) / 20.0).clamp(0.0, 1.0);
        let mediastinum = x.abs() < 12.0 + 4.0 * upper
            || ((x - 4.0) / (8.0 + 24.0 * upper)).powi(2) + ((y + 8.0) / 42.0).powi(2) <= 1.0
            || (x / 32.0).powi(2) + ((y - SPINE_Y_MM) / 34.0).powi(2) <= 1.0;
        if mediastinum {
            return hu::MEDIASTINAL_FAT;
        }
        tube_at(self.lung_vessels.near(x), p).unwrap_or(hu::LUNG)
    }

    /// Below the diaphragm: kidneys, psoas, stomach, spleen, gallbladder, liver, bowel.
    fn abdomen(&self, p: DVec3, diaphragm: f64) -> i16 {
        let (x, y, z) = (p.x, p.y, p.z);
        if z > diaphragm - 4.0 {
            return hu::MUSCLE;
        }
        for (centre, side) in [(LEFT_KIDNEY_MM, 1.0), (RIGHT_KIDNEY_MM, -1.0)] {
            let d = (p - DVec3::from_array(centre)) / DVec3::from_array(KIDNEY_RADII_MM);
            let e = d.length_squared();
            if e <= 1.0 {
                let depth = (1.0 - e.sqrt()) * KIDNEY_RADII_MM[0];
                let sinus = DVec3::new(centre[0] - side * 12.0, centre[1], centre[2]);
                let in_sinus = ((p - sinus) / DVec3::new(9.0, 8.0, 24.0)).length_squared() <= 1.0;
                return if in_sinus {
                    hu::FAT
                } else if depth < 6.0 {
                    hu::RENAL_CORTEX
                } else {
                    hu::RENAL_MEDULLA
                };
            }
            if e <= 1.5 {
                return hu::FAT;
            }
        }
        if z < -95.0 {
            let grow = (-95.0 - z) * 0.12;
            let psoas = ((x.abs() - 36.0) / (10.0 + grow)).powi(2) + ((y - 38.0) / 14.0).powi(2);
            if psoas <= 1.0 {
                return hu::MUSCLE;
            }
        }
        let stomach = (p - DVec3::new(58.0, -20.0, -88.0)) / DVec3::new(38.0, 32.0, 42.0);
        let e = stomach.length_squared();
        if e <= 1.0 {
            return if (1.0 - e.sqrt()) * 34.0 < 4.0 {
                hu::SOFT_TISSUE
            } else if y < -30.0 {
                // Supine: the gas rises to the front.
                hu::AIR
            } else {
                hu::WATER
            };
        }
        if ((p - DVec3::new(88.0, 42.0, -92.0)) / DVec3::new(22.0, 36.0, 46.0)).length_squared()
            <= 1.0
        {
            return hu::SPLEEN;
        }
        if ((p - DVec3::new(-45.0, -52.0, -120.0)) / DVec3::new(15.0, 15.0, 30.0)).length_squared()
            <= 1.0
        {
            return hu::BILE;
        }
        let liver_bottom = -155.0 + 0.45 * (x + 110.0);
        if x < 25.0 - 0.55 * (y + 10.0) && z > liver_bottom {
            return hu::LIVER;
        }
        if let Some(bowel) = self.bowel.near(x).iter().find_map(|tube| {
            let (distance, radius) = tube.distance(p, 0.0)?;
            if distance > radius {
                None
            } else if tube.hounsfield == hu::AIR && distance > radius - 3.0 {
                Some(hu::SOFT_TISSUE)
            } else {
                Some(tube.hounsfield)
            }
        }) {
            return bowel;
        }
        hu::FAT
    }
}

/// Centre of the left kidney (LPS mm).
pub(super) const LEFT_KIDNEY_MM: [f64; 3] = [72.0, 52.0, -126.0];
/// Centre of the right kidney, lower than the left under the liver (LPS mm).
pub(super) const RIGHT_KIDNEY_MM: [f64; 3] = [-72.0, 52.0, -138.0];
/// Half-axes of a kidney (mm).
const KIDNEY_RADII_MM: [f64; 3] = [26.0, 20.0, 52.0];

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

/// Half-height of a rib's cross-section, mm.
const RIB_HALF_HEIGHT_MM: f64 = 5.5;
/// Half-thickness (across the chest wall) of a rib's cross-section, mm.
const RIB_HALF_DEPTH_MM: f64 = 3.5;

/// Depth under the skin of a rib's centre where the centre is at height `z`.
fn rib_centre_depth(z: f64) -> f64 {
    wall_at(z) - 5.0
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
