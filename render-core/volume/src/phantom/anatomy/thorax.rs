//! Above the diaphragm: the heart (four chambers in an ellipsoid, with its wall and fat),
//! the airways' walls, the mediastinum and the lungs with their arteries.

use glam::DVec3;

use super::{Row, SPINE_Y_MM, tube_at};
use crate::phantom::hu;

/// The heart: an ellipsoid whose long axis runs from the base (right, posterior,
/// superior) to the apex (left, anterior, inferior), split into four chambers.
pub(super) struct Heart {
    centre: DVec3,
    /// Unit axes: long (toward the apex), and two across it.
    axes: [DVec3; 3],
    radii_mm: [f64; 3],
    /// Unit normal of the interventricular septum, toward the left ventricle.
    septum: DVec3,
}

/// Centre of the heart (LPS mm).
const HEART_CENTRE_MM: [f64; 3] = [20.0, -20.0, 5.0];

impl Heart {
    pub(super) fn new() -> Self {
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

impl Row<'_> {
    /// Above the diaphragm: heart, airways, mediastinum, lungs.
    pub(super) fn thorax(&self, p: DVec3) -> i16 {
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
}
