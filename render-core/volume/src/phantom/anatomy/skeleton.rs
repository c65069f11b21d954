//! The phantom's skeleton: vertebrae with their discs, arches and processes around the
//! spinal canal and cord; the ribs and their costal cartilage; the sternum; the clavicles
//! and scapulae. Which vertebral level and which ribs a slice cuts, and what bone lies at
//! a point of the chest wall or the spine.

use glam::DVec3;

use super::{Row, SPINE_Y_MM, wall_at};
use crate::phantom::hu;

/// Height of the centre of the first thoracic vertebra (T1), mm.
const T1_Z_MM: f64 = 130.0;
/// Distance between vertebral levels, mm.
const VERTEBRA_PITCH_MM: f64 = 19.5;
/// Height of an intervertebral disc, mm.
const DISC_MM: f64 = 6.0;
/// Front-back position of the spinal canal's axis, mm.
const CANAL_Y_MM: f64 = 66.0;
/// Angle around the torso (0 anterior midline, π posterior) where ribs meet the spine.
const RIB_POSTERIOR_ANGLE: f64 = 2.78;
/// Angle where the costal cartilages of the true ribs meet the sternum.
const RIB_STERNUM_ANGLE: f64 = 0.17;
/// Front of the sternum (y, mm) and its thickness.
const STERNUM_FRONT_Y_MM: f64 = -86.0;
const STERNUM_THICKNESS_MM: f64 = 12.0;
/// Thickness of cortical bone drawn at the rim of vertebrae and sternum, mm.
const CORTEX_MM: f64 = 2.0;

/// Half-height of a rib's cross-section, mm.
pub(super) const RIB_HALF_HEIGHT_MM: f64 = 5.5;
/// Half-thickness (across the chest wall) of a rib's cross-section, mm.
pub(super) const RIB_HALF_DEPTH_MM: f64 = 3.5;

/// Depth under the skin of a rib's centre where the centre is at height `z`.
pub(super) fn rib_centre_depth(z: f64) -> f64 {
    wall_at(z) - 5.0
}

/// A rib near the slice. From the spine it runs nearly level round the back, then falls
/// ever more steeply toward the front, as the ribs do on a chest film; the costal
/// cartilage of the lower true ribs climbs back up to the sternum.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rib {
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
    pub(super) fn numbered(n: usize) -> Self {
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
    pub(super) fn z_range(&self) -> (f64, f64) {
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
pub(super) struct VertebralLevel {
    /// −1 for C7, 0 for T1, 12 for L1…
    index: i32,
    /// Height above the vertebra's centre, mm.
    dz: f64,
}

impl VertebralLevel {
    /// The level at height `z`, from C7 down.
    pub(super) fn at(z: f64) -> Option<Self> {
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

impl Row<'_> {
    /// Clavicles, scapulae, ribs and costal cartilage, sternum.
    pub(super) fn wall_bone(&self, p: DVec3, depth: f64) -> Option<i16> {
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
    pub(super) fn spine(&self, x: f64, y: f64) -> Option<i16> {
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
}
