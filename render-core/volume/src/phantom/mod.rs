//! The built-in sample volume: a procedural CT of an adult chest and upper abdomen in
//! Hounsfield units, what Hounsfield shows when it is given no data. Skin, fat and muscle;
//! lungs with branching airways and arteries; ribs, vertebrae with discs, sternum,
//! clavicles and scapulae; the heart and aorta with contrast; liver, spleen, stomach,
//! kidneys. A dense bead on the patient's left anterior chest makes any orientation error
//! show, and mild seeded noise makes it look like a scan. [`ORGANS`] names points inside
//! the organs with their HU so that tests can check what a viewer reads there.

mod anatomy;
mod tube;

use glam::{DMat4, DVec3, DVec4};
use rayon::prelude::*;

use crate::volume::{Modality, Volume, Voxels, Window};

/// Voxel counts (i, j, k) of the phantom.
pub const DIMS: [usize; 3] = [208, 160, 120];
/// Voxel spacing in mm (in-plane, in-plane, slice).
pub const SPACING_MM: [f64; 3] = [1.5, 1.5, 2.5];
/// Largest deviation of the scanner noise from a tissue's HU (noise is not added to the
/// air around the body nor to the marker).
pub const NOISE_HU: i16 = 18;

/// Hounsfield units of the phantom's tissues.
pub mod hu {
    /// Air around the body, in the airways and in bowel gas.
    pub const AIR: i16 = -1000;
    /// Aerated lung.
    pub const LUNG: i16 = -850;
    /// Subcutaneous and retroperitoneal fat.
    pub const FAT: i16 = -100;
    /// Mediastinal fat.
    pub const MEDIASTINAL_FAT: i16 = -90;
    /// Fat around the heart.
    pub const EPICARDIAL_FAT: i16 = -80;
    /// Water-like fluid (stomach contents).
    pub const WATER: i16 = 5;
    /// Bile in the gallbladder.
    pub const BILE: i16 = 10;
    /// Cerebrospinal fluid in the spinal canal.
    pub const CSF: i16 = 10;
    /// Skin.
    pub const SKIN: i16 = 30;
    /// Generic soft tissue: oesophagus, stomach and bowel walls.
    pub const SOFT_TISSUE: i16 = 40;
    /// Airway walls.
    pub const AIRWAY_WALL: i16 = 40;
    /// Spinal cord.
    pub const SPINAL_CORD: i16 = 35;
    /// Skeletal muscle.
    pub const MUSCLE: i16 = 50;
    /// Myocardium.
    pub const MYOCARDIUM: i16 = 45;
    /// Pancreas.
    pub const PANCREAS: i16 = 45;
    /// Spleen.
    pub const SPLEEN: i16 = 55;
    /// Liver parenchyma.
    pub const LIVER: i16 = 60;
    /// Intervertebral disc.
    pub const DISC: i16 = 80;
    /// Costal cartilage (not calcified).
    pub const CARTILAGE: i16 = 120;
    /// Venae cavae: contrast diluted by unenhanced blood.
    pub const VENA_CAVA: i16 = 110;
    /// Renal medulla.
    pub const RENAL_MEDULLA: i16 = 120;
    /// Renal cortex, contrast-enhanced.
    pub const RENAL_CORTEX: i16 = 180;
    /// Right atrium and ventricle (less contrast than the left heart).
    pub const RIGHT_HEART: i16 = 180;
    /// Pulmonary trunk and lung arteries.
    pub const PULMONARY_ARTERY: i16 = 200;
    /// Left atrium and ventricle, contrast-enhanced.
    pub const LEFT_HEART: i16 = 260;
    /// Aorta and its branches, contrast-enhanced.
    pub const AORTA: i16 = 300;
    /// Cancellous bone (vertebral bodies, sternum, rib marrow).
    pub const CANCELLOUS_BONE: i16 = 300;
    /// Scapula (a thin plate of mostly cortical bone).
    pub const SCAPULA: i16 = 600;
    /// Vertebral arch and processes.
    pub const VERTEBRAL_ARCH: i16 = 650;
    /// Cortical bone.
    pub const CORTICAL_BONE: i16 = 1100;
    /// The orientation marker bead.
    pub const MARKER: i16 = 2000;
}

/// Centre of the marker bead, on the skin of the patient's left anterior upper chest
/// (LPS mm).
pub const MARKER_LPS_MM: [f64; 3] = [90.0, -94.0, 100.0];
/// Radius of the marker bead (mm).
pub const MARKER_RADIUS_MM: f64 = 6.0;

/// A named point inside an organ and the HU the generator puts there (before noise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Organ {
    /// What is there, as a radiologist would name it.
    pub name: &'static str,
    /// The point, LPS mm.
    pub lps_mm: [f64; 3],
    /// Its Hounsfield units before noise.
    pub hounsfield: i16,
}

/// Points inside the phantom's organs, each at least a few voxels from any other tissue.
pub const ORGANS: &[Organ] = &[
    organ("air outside the body", [140.0, -110.0, 0.0], hu::AIR),
    organ("orientation marker", MARKER_LPS_MM, hu::MARKER),
    organ("trachea", [0.0, -3.0, 120.0], hu::AIR),
    organ("right upper lobe", [-90.0, 10.0, 90.0], hu::LUNG),
    organ("left lower lobe", [95.0, 30.0, 0.0], hu::LUNG),
    organ("left ventricle", [40.0, -20.0, -5.0], hu::LEFT_HEART),
    organ("right ventricle", [10.0, -50.0, -10.0], hu::RIGHT_HEART),
    organ("ascending aorta", [-8.0, -34.0, 55.0], hu::AORTA),
    organ("descending aorta", [26.0, 18.0, 20.0], hu::AORTA),
    organ("liver", [-80.0, 0.0, -110.0], hu::LIVER),
    organ("spleen", [95.0, 30.0, -88.0], hu::SPLEEN),
    organ("left renal cortex", [94.0, 52.0, -126.0], hu::RENAL_CORTEX),
    organ("T8 vertebral body", [0.0, 38.0, -6.5], hu::CANCELLOUS_BONE),
    organ("T8-T9 disc", [0.0, 38.0, -16.25], hu::DISC),
    organ("spinal cord", [0.0, 66.0, 0.0], hu::SPINAL_CORD),
    organ("sternum", [0.0, -80.0, 30.0], hu::CANCELLOUS_BONE),
    organ("erector spinae muscle", [20.0, 84.0, 0.0], hu::MUSCLE),
    organ("subcutaneous fat", [0.0, -96.0, -60.0], hu::FAT),
];

const fn organ(name: &'static str, lps_mm: [f64; 3], hounsfield: i16) -> Organ {
    Organ {
        name,
        lps_mm,
        hounsfield,
    }
}

/// Builds the phantom volume: axial, i → left, j → posterior, k → superior.
pub fn ct_phantom() -> Volume {
    let [ni, nj, nk] = DIMS;
    let origin = origin_lps_mm();
    let voxel_to_lps = DMat4::from_cols(
        DVec4::new(SPACING_MM[0], 0.0, 0.0, 0.0),
        DVec4::new(0.0, SPACING_MM[1], 0.0, 0.0),
        DVec4::new(0.0, 0.0, SPACING_MM[2], 0.0),
        DVec4::from((origin, 1.0)),
    );
    let anatomy = &*anatomy::ANATOMY;
    let mut voxels = vec![hu::AIR; ni * nj * nk];
    voxels
        .par_chunks_mut(ni * nj)
        .enumerate()
        .for_each(|(k, slice)| {
            let z = origin.z + k as f64 * SPACING_MM[2];
            let tissue = anatomy::Slice::new(anatomy, z);
            for j in 0..nj {
                let y = origin.y + j as f64 * SPACING_MM[1];
                let row = tissue.row(y);
                for i in 0..ni {
                    let x = origin.x + i as f64 * SPACING_MM[0];
                    let sample = row.sample(x, y);
                    slice[i + ni * j] = if sample.noisy {
                        sample
                            .hounsfield
                            .saturating_add(noise_at([i, j, k]))
                            .max(hu::AIR)
                    } else {
                        sample.hounsfield
                    };
                }
            }
        });
    let window = Some(Window {
        width: 400.0,
        center: 40.0,
    });
    // The dimensions match the buffer by construction.
    Volume::new(
        Voxels::I16(voxels),
        DIMS,
        voxel_to_lps,
        Modality::CT,
        window,
    )
    .unwrap_or_else(|e| unreachable!("phantom dimensions are fixed: {e}"))
}

/// The tissue at an LPS point (mm), in HU, before noise.
pub fn tissue_at(p: DVec3) -> i16 {
    anatomy::Slice::new(&anatomy::ANATOMY, p.z)
        .row(p.y)
        .sample(p.x, p.y)
        .hounsfield
}

/// The scanner noise added to voxel (i, j, k) inside the body: a seeded hash, triangular
/// in −[`NOISE_HU`]..=[`NOISE_HU`] (standard deviation about 7.7 HU).
pub fn noise_at([i, j, k]: [usize; 3]) -> i16 {
    let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (k as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    let span = NOISE_HU as u64 + 1;
    let a = ((h & 0xFFFF) * span) >> 16;
    let b = (((h >> 16) & 0xFFFF) * span) >> 16;
    (a + b) as i16 - NOISE_HU
}

/// LPS position (mm) of voxel (0, 0, 0): the volume is centred on the origin.
fn origin_lps_mm() -> DVec3 {
    let [ni, nj, nk] = DIMS;
    DVec3::new(
        -(ni as f64 - 1.0) / 2.0 * SPACING_MM[0],
        -(nj as f64 - 1.0) / 2.0 * SPACING_MM[1],
        -(nk as f64 - 1.0) / 2.0 * SPACING_MM[2],
    )
}

#[cfg(test)]
mod tests;
