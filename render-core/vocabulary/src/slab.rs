//! Slabs: a slice thickened to a slab of some millimetres whose voxels combine into one
//! pixel (maximum, minimum or mean intensity), per slice cell of the 2×2 layout.

use serde::{Deserialize, Serialize};

use crate::SlicePlane;

/// The thickest slab a slice cell may show (mm): clinical slabs run to a few
/// centimetres, and each millimetre is samples under every pixel.
pub const MAX_SLAB_MM: f64 = 100.0;

/// How the voxels across a thick slab combine into one pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlabMode {
    /// The brightest voxel (vessels, nodules).
    #[default]
    Mip,
    /// The darkest voxel (airways).
    Minip,
    /// The mean (a thicker, smoother slice).
    Average,
}

impl SlabMode {
    /// Every mode, in the order a menu shows them.
    pub const ALL: [SlabMode; 3] = [Self::Mip, Self::Minip, Self::Average];

    /// The mode's name on the wire: `mip`, `minip` or `average`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mip => "mip",
            Self::Minip => "minip",
            Self::Average => "average",
        }
    }

    /// The mode named `name` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// One cell's slab: a thickness (0: a thin slice) and how it combines.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Slab {
    /// Thickness (mm), 0 to [`MAX_SLAB_MM`].
    pub mm: f64,
    /// How the slab's voxels combine.
    #[serde(default)]
    pub mode: SlabMode,
}

impl Slab {
    /// A thin slice.
    pub const THIN: Self = Self {
        mm: 0.0,
        mode: SlabMode::Mip,
    };

    /// The slab of `mm` and `mode`; the error names a thickness that is not finite or
    /// outside 0..=[`MAX_SLAB_MM`].
    pub fn checked(mm: f64, mode: SlabMode) -> Result<Self, String> {
        if !(mm.is_finite() && (0.0..=MAX_SLAB_MM).contains(&mm)) {
            return Err(format!("slab mm {mm}: from 0 to {MAX_SLAB_MM}"));
        }
        Ok(Self { mm, mode })
    }

    /// Whether it is a thin slice.
    pub fn is_thin(&self) -> bool {
        self.mm == 0.0
    }
}

/// The slab of each slice cell of the 2×2 layout.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CellSlabs {
    /// The axial cell's.
    #[serde(default)]
    pub axial: Slab,
    /// The coronal cell's.
    #[serde(default)]
    pub coronal: Slab,
    /// The sagittal cell's.
    #[serde(default)]
    pub sagittal: Slab,
}

impl CellSlabs {
    /// `plane`'s cell's slab.
    pub fn of(&self, plane: SlicePlane) -> Slab {
        match plane {
            SlicePlane::Axial => self.axial,
            SlicePlane::Coronal => self.coronal,
            SlicePlane::Sagittal => self.sagittal,
        }
    }

    /// `plane`'s cell's slab, to change.
    pub fn of_mut(&mut self, plane: SlicePlane) -> &mut Slab {
        match plane {
            SlicePlane::Axial => &mut self.axial,
            SlicePlane::Coronal => &mut self.coronal,
            SlicePlane::Sagittal => &mut self.sagittal,
        }
    }

    /// Whether every cell shows a thin slice.
    pub fn all_thin(&self) -> bool {
        SlicePlane::ALL
            .into_iter()
            .all(|plane| self.of(plane).is_thin())
    }

    /// Each slab checked as [`Slab::checked`] checks one, the error naming its cell.
    pub fn checked(&self) -> Result<Self, String> {
        for plane in SlicePlane::ALL {
            let slab = self.of(plane);
            Slab::checked(slab.mm, slab.mode)
                .map_err(|problem| format!("slabs.{}: {problem}", plane.name()))?;
        }
        Ok(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slabs_are_checked_by_cell_and_modes_read_by_name() {
        assert_eq!(SlabMode::from_name(" MinIP "), Some(SlabMode::Minip));
        assert_eq!(SlabMode::from_name("max"), None);
        assert!(Slab::checked(20.0, SlabMode::Mip).is_ok());
        assert!(Slab::checked(-1.0, SlabMode::Mip).is_err());
        assert!(Slab::checked(f64::NAN, SlabMode::Mip).is_err());
        let mut slabs = CellSlabs::default();
        assert!(slabs.all_thin());
        slabs.of_mut(SlicePlane::Coronal).mm = 1000.0;
        let refused = slabs.checked().expect_err("too thick");
        assert!(refused.starts_with("slabs.coronal"), "{refused}");
    }
}
