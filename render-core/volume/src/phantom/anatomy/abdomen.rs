//! Below the diaphragm: kidneys in their fat, psoas muscles, stomach with its gas and
//! fluid, spleen, gallbladder, liver, pancreas and transverse colon.

use glam::DVec3;

use super::Row;
use crate::phantom::hu;

/// Centre of the left kidney (LPS mm).
const LEFT_KIDNEY_MM: [f64; 3] = [72.0, 52.0, -126.0];
/// Centre of the right kidney, lower than the left under the liver (LPS mm).
const RIGHT_KIDNEY_MM: [f64; 3] = [-72.0, 52.0, -138.0];
/// Half-axes of a kidney (mm).
const KIDNEY_RADII_MM: [f64; 3] = [26.0, 20.0, 52.0];

impl Row<'_> {
    /// Below the diaphragm: kidneys, psoas, stomach, spleen, gallbladder, liver, bowel.
    pub(super) fn abdomen(&self, p: DVec3, diaphragm: f64) -> i16 {
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
