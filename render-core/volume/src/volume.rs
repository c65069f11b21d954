//! A scalar volume placed in the patient: voxels, their grid and the voxel → LPS affine.
//!
//! Voxel indices follow DICOM image order: `i` runs along a row (columns), `j` down the
//! columns (rows), `k` through the slices. The affine maps the *centre* of voxel
//! `(i, j, k)` to patient coordinates in millimetres, LPS (x → patient's left, y →
//! posterior, z → superior), so geometry never depends on how a file was ordered.

use std::borrow::Cow;
use std::ops::Range;

use glam::{DMat4, DVec3, DVec4};
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::packed::PackedSlices;

/// The imaging modality, as DICOM's Modality (0008,0060) names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Modality {
    /// Computed tomography: voxels are Hounsfield units.
    CT,
    /// Magnetic resonance: voxels are scanner-relative intensities.
    MR,
    /// Any other modality, by its DICOM code (e.g. `PT`, `US`).
    Other(String),
}

impl Modality {
    /// Parses DICOM's Modality code.
    pub fn from_code(code: &str) -> Self {
        match code.trim() {
            "CT" => Modality::CT,
            "MR" => Modality::MR,
            other => Modality::Other(other.to_string()),
        }
    }

    /// DICOM's code for this modality.
    pub fn code(&self) -> &str {
        match self {
            Modality::CT => "CT",
            Modality::MR => "MR",
            Modality::Other(code) => code,
        }
    }
}

/// A display window: values in `center ± width/2` map onto the grey ramp.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Window width, in the volume's units (HU for CT).
    pub width: f64,
    /// Window centre (level), in the volume's units.
    pub center: f64,
}

impl Window {
    /// The grey level (0 black .. 1 white) of `value`: linear across `center ± width/2`,
    /// clamped outside. The GPU shaders use the same formula.
    pub fn grey(&self, value: f64) -> f64 {
        let width = self.width.max(1e-6);
        ((value - (self.center - width * 0.5)) / width).clamp(0.0, 1.0)
    }

    /// The 8-bit grey level of `value`, rounded.
    pub fn grey_u8(&self, value: f64) -> u8 {
        (self.grey(value) * 255.0).round() as u8
    }
}

/// Smallest and largest voxel value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueRange {
    /// Smallest voxel value.
    pub min: f64,
    /// Largest voxel value.
    pub max: f64,
}

impl ValueRange {
    /// The range of whole values (an integer fold, which vectorises), or `None` when empty.
    pub fn of_i16(values: &[i16]) -> Option<ValueRange> {
        let (min, max) = values
            .iter()
            .fold((i16::MAX, i16::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        (!values.is_empty()).then(|| ValueRange {
            min: f64::from(min),
            max: f64::from(max),
        })
    }

    /// The range of float values, or `None` when empty.
    pub fn of_f32(values: &[f32]) -> Option<ValueRange> {
        let mut iter = values.iter().map(|&v| f64::from(v));
        let first = iter.next()?;
        let (min, max) = iter.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
        Some(ValueRange { min, max })
    }

    /// The range covering both.
    pub fn union(self, other: ValueRange) -> ValueRange {
        ValueRange {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

/// Voxel storage that loses nothing of the modality-rescaled values.
#[derive(Debug, Clone, PartialEq)]
pub enum Voxels {
    /// Whole values that fit in 16 bits (CT in HU, most MR).
    I16(Vec<i16>),
    /// Fractional or wide values (e.g. Philips' rescale slopes).
    F32(Vec<f32>),
    /// Whole 16-bit values kept compressed slice by slice: a served volume's CPU copy,
    /// read now and then while its texture draws every frame ([`Volume::packed`]).
    Packed(PackedSlices),
}

/// The voxels of a run of whole slices: borrowed, or decoded from [`Voxels::Packed`].
pub enum Slab<'a> {
    /// Whole 16-bit values.
    I16(Cow<'a, [i16]>),
    /// Float values.
    F32(&'a [f32]),
}

impl Voxels {
    /// Number of voxels.
    pub fn len(&self) -> usize {
        match self {
            Voxels::I16(v) => v.len(),
            Voxels::F32(v) => v.len(),
            Voxels::Packed(p) => p.len(),
        }
    }

    /// Whether there are no voxels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at a flat index.
    pub fn get(&self, index: usize) -> Option<f64> {
        match self {
            Voxels::I16(v) => v.get(index).map(|&x| f64::from(x)),
            Voxels::F32(v) => v.get(index).map(|&x| f64::from(x)),
            Voxels::Packed(p) => p.get(index).map(f64::from),
        }
    }

    /// Smallest and largest value, or `None` when empty.
    pub fn value_range(&self) -> Option<ValueRange> {
        match self {
            Voxels::I16(v) => ValueRange::of_i16(v),
            Voxels::F32(v) => ValueRange::of_f32(v),
            Voxels::Packed(p) => (0..p.slice_count())
                .into_par_iter()
                .filter_map(|k| ValueRange::of_i16(&p.unpack(k..k + 1)))
                .reduce_with(ValueRange::union),
        }
    }

    /// The voxels of slices `slices`, `slice_len` voxels each: borrowed where they are
    /// kept plain, decoded where packed.
    pub fn slab(&self, slices: Range<usize>, slice_len: usize) -> Slab<'_> {
        let flat =
            |len: usize| (slices.start * slice_len).min(len)..(slices.end * slice_len).min(len);
        match self {
            Voxels::I16(v) => Slab::I16(Cow::Borrowed(&v[flat(v.len())])),
            Voxels::F32(v) => Slab::F32(&v[flat(v.len())]),
            Voxels::Packed(p) => Slab::I16(Cow::Owned(p.unpack(slices))),
        }
    }

    /// Bytes the voxels take as kept (compressed, when packed).
    pub fn held_bytes(&self) -> usize {
        match self {
            Voxels::I16(v) => v.len() * 2,
            Voxels::F32(v) => v.len() * 4,
            Voxels::Packed(p) => p.packed_bytes(),
        }
    }
}

/// A volume in patient space, shared read-only by renderers and sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Voxel values, `i` fastest, then `j`, then `k`.
    pub voxels: Voxels,
    /// Voxel counts along i (columns), j (rows), k (slices).
    pub dims: [usize; 3],
    /// Distance between voxel centres along i, j, k in mm.
    pub spacing_mm: [f64; 3],
    /// Voxel index (i, j, k, 1) → LPS millimetres.
    pub voxel_to_lps: DMat4,
    /// Smallest and largest voxel value.
    pub value_range: ValueRange,
    /// The modality; for CT, voxels are Hounsfield units.
    pub modality: Modality,
    /// The window the header suggests, if any.
    pub default_window: Option<Window>,
}

impl Volume {
    /// Builds a volume, computing its value range; the voxel count must match `dims`.
    pub fn new(
        voxels: Voxels,
        dims: [usize; 3],
        voxel_to_lps: DMat4,
        modality: Modality,
        default_window: Option<Window>,
    ) -> Result<Self, VolumeError> {
        let value_range = voxels.value_range().ok_or(VolumeError::VoxelCount {
            dims,
            found: voxels.len(),
        })?;
        Self::with_value_range(
            voxels,
            dims,
            voxel_to_lps,
            modality,
            default_window,
            value_range,
        )
    }

    /// A volume whose value range the caller has measured already (a loader does while
    /// each slice is still in cache, instead of reading every voxel again).
    pub fn with_value_range(
        voxels: Voxels,
        dims: [usize; 3],
        voxel_to_lps: DMat4,
        modality: Modality,
        default_window: Option<Window>,
        value_range: ValueRange,
    ) -> Result<Self, VolumeError> {
        let expected = dims[0] * dims[1] * dims[2];
        if voxels.len() != expected || expected == 0 {
            return Err(VolumeError::VoxelCount {
                dims,
                found: voxels.len(),
            });
        }
        let spacing_mm = [
            voxel_to_lps.x_axis.truncate().length(),
            voxel_to_lps.y_axis.truncate().length(),
            voxel_to_lps.z_axis.truncate().length(),
        ];
        Ok(Self {
            voxels,
            dims,
            spacing_mm,
            voxel_to_lps,
            value_range,
            modality,
            default_window,
        })
    }

    /// Flat index of voxel `(i, j, k)`, or `None` outside the grid.
    pub fn index(&self, [i, j, k]: [usize; 3]) -> Option<usize> {
        let [ni, nj, nk] = self.dims;
        (i < ni && j < nj && k < nk).then(|| i + ni * (j + nj * k))
    }

    /// The value of voxel `(i, j, k)`, or `None` outside the grid.
    pub fn value(&self, ijk: [usize; 3]) -> Option<f64> {
        self.voxels.get(self.index(ijk)?)
    }

    /// The LPS position (mm) of a continuous voxel index.
    pub fn voxel_to_lps_point(&self, ijk: DVec3) -> DVec3 {
        (self.voxel_to_lps * DVec4::from((ijk, 1.0))).truncate()
    }

    /// The continuous voxel index of an LPS position (mm).
    pub fn lps_to_voxel(&self, lps_mm: DVec3) -> DVec3 {
        (self.voxel_to_lps.inverse() * DVec4::from((lps_mm, 1.0))).truncate()
    }

    /// The value at a continuous voxel index, interpolated trilinearly between the eight
    /// surrounding voxel centres; `None` outside the box of voxel centres.
    pub fn trilinear(&self, ijk: DVec3) -> Option<f64> {
        let last = DVec3::new(
            self.dims[0].saturating_sub(1) as f64,
            self.dims[1].saturating_sub(1) as f64,
            self.dims[2].saturating_sub(1) as f64,
        );
        if !ijk.is_finite() || ijk.cmplt(DVec3::ZERO).any() || ijk.cmpgt(last).any() {
            return None;
        }
        // The lower corner stays one voxel below the last so that its upper neighbour
        // exists; a point on the last centre then takes the whole upper weight.
        let low = ijk.floor().min((last - DVec3::ONE).max(DVec3::ZERO));
        let fraction = ijk - low;
        let [i, j, k] = [low.x as usize, low.y as usize, low.z as usize];
        let mut value = 0.0;
        for corner in 0..8_usize {
            let step = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
            let weight = (0..3)
                .map(|axis| {
                    if step[axis] == 1 {
                        fraction[axis]
                    } else {
                        1.0 - fraction[axis]
                    }
                })
                .product::<f64>();
            if weight == 0.0 {
                continue;
            }
            value += weight * self.value([i + step[0], j + step[1], k + step[2]])?;
        }
        Some(value)
    }

    /// The nearest voxel to an LPS position and its value, or `None` outside the volume.
    pub fn nearest_voxel(&self, lps_mm: DVec3) -> Option<([usize; 3], f64)> {
        let index = self.nearest_ijk(lps_mm)?;
        Some((index, self.value(index)?))
    }

    /// The flat index of the voxel nearest to an LPS point, or `None` outside the grid.
    pub fn nearest_index(&self, lps_mm: DVec3) -> Option<usize> {
        self.index(self.nearest_ijk(lps_mm)?)
    }

    fn nearest_ijk(&self, lps_mm: DVec3) -> Option<[usize; 3]> {
        let ijk = self.lps_to_voxel(lps_mm).round();
        (ijk.min_element() >= 0.0).then_some([ijk.x as usize, ijk.y as usize, ijk.z as usize])
    }

    /// Gives `tally` the value of each voxel in `indices` (flat; those outside the grid
    /// are skipped), in index order: a packed volume then decodes each slice once,
    /// whatever order the voxels were asked in (a region on a tilted plane crosses the
    /// slices over and over).
    pub fn tally_values(&self, indices: &mut [usize], mut tally: impl FnMut(f64)) {
        indices.sort_unstable();
        for &index in indices.iter() {
            if let Some(value) = self.voxels.get(index) {
                tally(value);
            }
        }
    }

    /// The LPS centre of the volume (the mean of its corner voxel centres).
    pub fn centre_lps(&self) -> DVec3 {
        let corners = self.corner_centres_lps();
        corners.iter().sum::<DVec3>() / corners.len() as f64
    }

    /// The LPS centres of the eight corner voxels, `k` varying fastest, then `j`, then `i`.
    pub fn corner_centres_lps(&self) -> [DVec3; 8] {
        let last = |n: usize| n.saturating_sub(1) as f64;
        let mut corners = [DVec3::ZERO; 8];
        for (n, corner) in corners.iter_mut().enumerate() {
            let ijk = DVec3::new(
                if n & 4 != 0 { last(self.dims[0]) } else { 0.0 },
                if n & 2 != 0 { last(self.dims[1]) } else { 0.0 },
                if n & 1 != 0 { last(self.dims[2]) } else { 0.0 },
            );
            *corner = self.voxel_to_lps_point(ijk);
        }
        corners
    }

    /// The volume's affine as four rows of four, as JSON and the CLI print it.
    pub fn voxel_to_lps_rows(&self) -> [[f64; 4]; 4] {
        affine_rows(&self.voxel_to_lps)
    }

    /// Size of the voxel data in bytes, as plain values (16 bits a whole value, packed or
    /// not): what memory figures are measured against.
    pub fn size_bytes(&self) -> usize {
        match &self.voxels {
            Voxels::I16(v) => v.len() * 2,
            Voxels::F32(v) => v.len() * 4,
            Voxels::Packed(p) => p.len() * 2,
        }
    }

    /// The voxels of slices `slices` (see [`Voxels::slab`]).
    pub fn slab(&self, slices: Range<usize>) -> Slab<'_> {
        self.voxels.slab(slices, self.dims[0] * self.dims[1])
    }

    /// The same volume with its whole 16-bit voxels packed ([`Voxels::Packed`]); float
    /// voxels, and any Zstandard will not take, are kept as they are.
    pub fn packed(self) -> Volume {
        let Voxels::I16(values) = &self.voxels else {
            return self;
        };
        match PackedSlices::pack(values, self.dims[0] * self.dims[1]) {
            Some(packed) => Volume {
                voxels: Voxels::Packed(packed),
                ..self
            },
            None => self,
        }
    }
}

/// A 4×4 affine as rows (glam stores columns).
pub fn affine_rows(m: &DMat4) -> [[f64; 4]; 4] {
    m.transpose().to_cols_array_2d()
}

/// Why a volume could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The voxel buffer does not match the dimensions.
    #[error("volume of {dims:?} needs {} voxels, found {found}", dims[0] * dims[1] * dims[2])]
    VoxelCount {
        /// The declared dimensions.
        dims: [usize; 3],
        /// Voxels actually present.
        found: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_volume() -> Volume {
        let affine = DMat4::from_cols(
            DVec4::new(0.5, 0.0, 0.0, 0.0),
            DVec4::new(0.0, 0.5, 0.0, 0.0),
            DVec4::new(0.0, 0.0, 2.0, 0.0),
            DVec4::new(-10.0, 20.0, 30.0, 1.0),
        );
        let voxels = Voxels::I16((0..24).collect());
        Volume::new(voxels, [2, 3, 4], affine, Modality::CT, None).expect("valid volume")
    }

    #[test]
    fn index_runs_i_fastest() {
        let volume = small_volume();
        assert_eq!(volume.value([1, 0, 0]), Some(1.0));
        assert_eq!(volume.value([0, 1, 0]), Some(2.0));
        assert_eq!(volume.value([0, 0, 1]), Some(6.0));
        assert_eq!(volume.value([2, 0, 0]), None);
    }

    #[test]
    fn lps_round_trip_and_nearest() {
        let volume = small_volume();
        let p = volume.voxel_to_lps_point(DVec3::new(1.0, 2.0, 3.0));
        assert_eq!(p, DVec3::new(-9.5, 21.0, 36.0));
        assert!((volume.lps_to_voxel(p) - DVec3::new(1.0, 2.0, 3.0)).length() < 1e-12);
        assert_eq!(volume.nearest_voxel(p), Some(([1, 2, 3], 23.0)));
        assert_eq!(volume.nearest_voxel(DVec3::new(-50.0, 0.0, 0.0)), None);
        assert_eq!(volume.spacing_mm, [0.5, 0.5, 2.0]);
        assert_eq!(
            volume.value_range,
            ValueRange {
                min: 0.0,
                max: 23.0
            }
        );
    }

    #[test]
    fn value_range_of_whole_and_float_voxels() {
        let whole = Voxels::I16(vec![-1024, 3071, i16::MIN, 0, i16::MAX, -5]);
        assert_eq!(
            whole.value_range(),
            Some(ValueRange {
                min: -32768.0,
                max: 32767.0
            })
        );
        let whole = Voxels::I16(vec![7; 33]);
        assert_eq!(whole.value_range(), Some(ValueRange { min: 7.0, max: 7.0 }));
        assert_eq!(Voxels::I16(Vec::new()).value_range(), None);
        let float = Voxels::F32(vec![0.5, -2.25, 9.0]);
        assert_eq!(
            float.value_range(),
            Some(ValueRange {
                min: -2.25,
                max: 9.0
            })
        );
    }

    #[test]
    fn wrong_voxel_count_is_refused() {
        let result = Volume::new(
            Voxels::F32(vec![0.0; 5]),
            [2, 2, 2],
            DMat4::IDENTITY,
            Modality::MR,
            None,
        );
        assert!(result.is_err());
    }
}
