//! Coronary calcium scoring on a CT without contrast, by the rules scanners' software
//! applies (Agatston's score, with the volume and mass scores beside it):
//!
//! - on each acquired (axial) slice, a lesion is a set of 8-connected pixels at or above
//!   [`LESION_THRESHOLD_HU`] whose area is at least [`MIN_LESION_AREA_MM2`];
//! - its Agatston score is its area (mm²) times the weight of its peak
//!   ([`density_weight`]: 130–199 HU 1, 200–299 2, 300–399 3, 400 and above 4), scaled by
//!   the slice spacing over [`REFERENCE_SLICE_MM`], so that thin slices count as the
//!   3 mm slices the score was defined on;
//! - its volume score is its voxels times a voxel's volume (mm³);
//! - its mass score (mg) is its mean value times its volume (cm³) times a calibration
//!   factor: the density of a region of known calcium (mg/cm³) over that region's mean
//!   value, or [`DEFAULT_MG_PER_CM3_PER_HU`] where none is marked.
//!
//! The total's risk category follows its Agatston score ([`RiskCategory`]).

use glam::DVec3;
use hounsfield_volume::volume::Slab;
use hounsfield_volume::{Modality, Volume};

/// The lowest value of a lesion's pixels (HU).
pub const LESION_THRESHOLD_HU: f64 = 130.0;
/// The smallest lesion (mm²): smaller sets of bright pixels are noise.
pub const MIN_LESION_AREA_MM2: f64 = 1.0;
/// The slice spacing Agatston's score was defined on (mm).
pub const REFERENCE_SLICE_MM: f64 = 3.0;
/// The calibration factor where the reader marks no region of known density
/// (mg/cm³ of calcium hydroxyapatite per HU): a typical scanner's at 120 kVp.
pub const DEFAULT_MG_PER_CM3_PER_HU: f64 = 0.743;
/// The largest angle between the slices' normal and the patient's head–foot axis for the
/// slices to count as axial (degrees).
const MOST_TILT_DEG: f64 = 30.0;

/// The weight Agatston's score gives a lesion's peak value.
pub fn density_weight(peak_hu: f64) -> u8 {
    match peak_hu {
        p if p >= 400.0 => 4,
        p if p >= 300.0 => 3,
        p if p >= 200.0 => 2,
        p if p >= LESION_THRESHOLD_HU => 1,
        _ => 0,
    }
}

/// The risk category of a total Agatston score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskCategory {
    /// 0: no calcium seen.
    None,
    /// 1–99.
    Mild,
    /// 100–399.
    Moderate,
    /// 400 and above.
    Severe,
}

impl RiskCategory {
    /// The category of `agatston`.
    pub fn of(agatston: f64) -> Self {
        match agatston {
            a if a >= 400.0 => Self::Severe,
            a if a >= 100.0 => Self::Moderate,
            a if a > 0.0 => Self::Mild,
            _ => Self::None,
        }
    }

    /// Its name: `none`, `mild`, `moderate` or `severe`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Mild => "mild",
            Self::Moderate => "moderate",
            Self::Severe => "severe",
        }
    }

    /// Its range of scores, as reports print it.
    pub fn range(self) -> &'static str {
        match self {
            Self::None => "0",
            Self::Mild => "1-99",
            Self::Moderate => "100-399",
            Self::Severe => "400 and above",
        }
    }
}

/// Why a series could not be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalciumError {
    /// Scores are defined on CT values.
    #[error("calcium scoring needs a CT; this series is {0}")]
    NotCt(String),
    /// The slices are not axial enough for per-slice lesions.
    #[error(
        "calcium scoring needs axial slices; this series' slices are tilted {0:.0}° from axial"
    )]
    NotAxial(f64),
    /// A box given holds no voxel of the volume.
    #[error("the {0} box holds no voxel of the series")]
    OutsideVolume(&'static str),
    /// A number given is not a finite positive one.
    #[error("{what}: {value} is not a positive number")]
    NotPositive {
        /// What was given.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A click named no lesion: none holds the voxel clicked (on this slice).
    #[error(
        "no lesion at the point clicked (slice {0}): a lesion is 1 mm² or more of pixels at 130 HU or above, inside the region scored"
    )]
    NoLesionClicked(f64),
    /// A box named no lesion: no lesion's centre of its slice lies inside.
    #[error("no lesion's centre lies in the box drawn (slice {0})")]
    NoLesionInBox(f64),
    /// A naming would keep more regions than allowed.
    #[error(
        "{kept} lesions named already and {more} more: at most {most}; give boxes round the arteries instead"
    )]
    TooManyNames {
        /// Regions kept.
        kept: usize,
        /// Regions the naming adds.
        more: usize,
        /// The most kept.
        most: usize,
    },
    /// The calibration region does not look like calcium.
    #[error("the calibration region's mean is {0:.1} HU: mark an insert of known calcium density")]
    NoCalibrationInsert(f64),
}

/// A box of the volume's voxels: `from` inclusive, `to` exclusive, along i, j, k.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoxelBox {
    /// The first voxel inside.
    pub from: [usize; 3],
    /// One past the last voxel inside.
    pub to: [usize; 3],
}

impl VoxelBox {
    /// The whole volume.
    pub fn whole(volume: &Volume) -> Self {
        Self {
            from: [0; 3],
            to: volume.dims,
        }
    }

    /// The voxels whose centres lie in the box with opposite corners `a` and `b` (LPS
    /// mm); `what` names it in the error when it holds none.
    pub fn of_lps(
        volume: &Volume,
        a: DVec3,
        b: DVec3,
        what: &'static str,
    ) -> Result<Self, CalciumError> {
        let (a, b) = (volume.lps_to_voxel(a), volume.lps_to_voxel(b));
        let (low, high) = (a.min(b), a.max(b));
        let mut from = [0; 3];
        let mut to = [0; 3];
        for axis in 0..3 {
            let count = volume.dims[axis] as f64;
            let first = low[axis].ceil().max(0.0);
            let last = high[axis].floor().min(count - 1.0);
            if !(first.is_finite() && last.is_finite()) || first > last {
                return Err(CalciumError::OutsideVolume(what));
            }
            from[axis] = first as usize;
            to[axis] = last as usize + 1;
        }
        Ok(Self { from, to })
    }
}

/// One lesion: 8-connected pixels of one slice at or above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesion {
    /// The slice it lies on (k).
    pub slice: usize,
    /// The centre of its pixels (LPS mm).
    pub centre_lps: DVec3,
    /// Its pixels.
    pub pixels: usize,
    /// Its area (mm²).
    pub area_mm2: f64,
    /// Its highest value (HU).
    pub peak_hu: f64,
    /// Its mean value (HU).
    pub mean_hu: f64,
    /// The weight of its peak.
    pub weight: u8,
    /// Its Agatston score.
    pub agatston: f64,
    /// Its volume score (mm³).
    pub volume_mm3: f64,
    /// Its mass score (mg).
    pub mass_mg: f64,
}

/// Scores added up over lesions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// Agatston's score.
    pub agatston: f64,
    /// The volume score (mm³).
    pub volume_mm3: f64,
    /// The mass score (mg).
    pub mass_mg: f64,
    /// Lesions counted.
    pub lesions: usize,
}

impl Scores {
    /// The sum over `lesions`.
    pub fn of<'a>(lesions: impl IntoIterator<Item = &'a Lesion>) -> Self {
        lesions
            .into_iter()
            .fold(Self::default(), |sum, lesion| Self {
                agatston: sum.agatston + lesion.agatston,
                volume_mm3: sum.volume_mm3 + lesion.volume_mm3,
                mass_mg: sum.mass_mg + lesion.mass_mg,
                lesions: sum.lesions + 1,
            })
    }

    /// The risk category of the Agatston score.
    pub fn category(&self) -> RiskCategory {
        RiskCategory::of(self.agatston)
    }
}

/// The calcium of a region of a CT.
#[derive(Debug, Clone, PartialEq)]
pub struct CalciumScore {
    /// The lesions, slice by slice.
    pub lesions: Vec<Lesion>,
    /// Their sum.
    pub total: Scores,
    /// The calibration factor the mass score used (mg/cm³ per HU).
    pub mg_per_cm3_per_hu: f64,
    /// The slice spacing (mm).
    pub slice_mm: f64,
    /// A pixel's area (mm²).
    pub pixel_area_mm2: f64,
}

/// The calibration factor from a region of known density: `mg_per_cm3` over the region's
/// mean value.
pub fn calibration_factor(
    volume: &Volume,
    region: VoxelBox,
    mg_per_cm3: f64,
) -> Result<f64, CalciumError> {
    if !(mg_per_cm3.is_finite() && mg_per_cm3 > 0.0) {
        return Err(CalciumError::NotPositive {
            what: "calibration density (mg/cm³)",
            value: mg_per_cm3,
        });
    }
    let (mut sum, mut count) = (0.0, 0usize);
    for k in region.from[2]..region.to[2] {
        each_in_slice(volume, region, k, |_, _, value| {
            sum += value;
            count += 1;
        });
    }
    let mean = sum / count.max(1) as f64;
    if mean < LESION_THRESHOLD_HU {
        return Err(CalciumError::NoCalibrationInsert(mean));
    }
    Ok(mg_per_cm3 / mean)
}

/// The calibration factor (mg/cm³ per HU) of the insert of `mg_per_cm3` in `region`
/// (two opposite corners `[x0, y0, z0, x1, y1, z1]`, LPS mm) of `volume`: the voxels
/// whose centres the box holds, as [`calibration_factor`] takes them.
pub fn insert_factor(
    volume: &Volume,
    region: [f64; 6],
    mg_per_cm3: f64,
) -> Result<f64, CalciumError> {
    let [x0, y0, z0, x1, y1, z1] = region;
    let (a, b) = (DVec3::new(x0, y0, z0), DVec3::new(x1, y1, z1));
    let insert = VoxelBox::of_lps(volume, a, b, "calibration")?;
    calibration_factor(volume, insert, mg_per_cm3)
}

/// The box of `volume` drawn on one axial slice with corners `a` and `b` (LPS mm, on the
/// slice): their two points reaching a quarter of a slice above and below the slice `a`
/// lies on, so that it holds the voxels of that slice and no other's. As `[x0, y0, z0,
/// x1, y1, z1]` (LPS mm), what a calibration region is given as.
pub fn box_on_slice(volume: &Volume, a: DVec3, b: DVec3) -> [f64; 6] {
    let (mut a, mut b) = (volume.lps_to_voxel(a), volume.lps_to_voxel(b));
    let k = a.z.round();
    (a.z, b.z) = (k - 0.25, k + 0.25);
    let (a, b) = (
        volume.voxel_to_lps.transform_point3(a),
        volume.voxel_to_lps.transform_point3(b),
    );
    [a.x, a.y, a.z, b.x, b.y, b.z]
}

/// Scores the calcium of `volume` inside `region`, the mass with `mg_per_cm3_per_hu`.
pub fn score(
    volume: &Volume,
    region: VoxelBox,
    mg_per_cm3_per_hu: f64,
) -> Result<CalciumScore, CalciumError> {
    score_each(volume, region, mg_per_cm3_per_hu, |_, _| {})
}

/// As [`score`], telling `each(lesion, voxels)` every lesion as it is found with its
/// voxels (flat indices of the volume, `i` fastest): what draws the lesions over the
/// slices without keeping every lesion's voxels at once.
pub fn score_each(
    volume: &Volume,
    region: VoxelBox,
    mg_per_cm3_per_hu: f64,
    mut each: impl FnMut(&Lesion, &[usize]),
) -> Result<CalciumScore, CalciumError> {
    let rules = Rules::of(volume, mg_per_cm3_per_hu)?;
    let mut lesions = Vec::new();
    for k in region.from[2]..region.to[2] {
        for found in slice_lesions(volume, region, k) {
            if let Some(lesion) = rules.lesion(volume, k, &found) {
                each(&lesion, &found.voxels);
                lesions.push(lesion);
            }
        }
    }
    Ok(CalciumScore {
        total: Scores::of(&lesions),
        lesions,
        mg_per_cm3_per_hu,
        slice_mm: rules.slice_mm,
        pixel_area_mm2: rules.pixel_area_mm2,
    })
}

/// A lesion with its voxels (flat indices of the volume).
pub type LesionVoxels = (Lesion, Vec<usize>);

/// The lesions of `region` that are one plaque with the lesion holding voxel `at`: it,
/// and across the slices above and below those whose pixels touch (26-connected) a
/// lesion already taken, each as [`score`] finds it, with its voxels. None when no
/// lesion holds `at` (a pixel below the threshold, or of a set too small to count).
pub fn joined_lesions(
    volume: &Volume,
    region: VoxelBox,
    mg_per_cm3_per_hu: f64,
    at: [usize; 3],
) -> Result<Vec<LesionVoxels>, CalciumError> {
    let rules = Rules::of(volume, mg_per_cm3_per_hu)?;
    let inside = (0..3).all(|axis| (region.from[axis]..region.to[axis]).contains(&at[axis]));
    if !inside {
        return Ok(Vec::new());
    }
    let [width, height, _] = volume.dims;
    let slice_len = width * height;
    let clicked = at[2] * slice_len + at[1] * width + at[0];
    let lesions_of = |k: usize| {
        slice_lesions(volume, region, k)
            .into_iter()
            .filter_map(|found| {
                rules
                    .lesion(volume, k, &found)
                    .map(|lesion| (lesion, found))
            })
            .collect::<Vec<_>>()
    };
    let Some((first, found)) = lesions_of(at[2])
        .into_iter()
        .find(|(_, found)| found.voxels.contains(&clicked))
    else {
        return Ok(Vec::new());
    };
    let start = Footprint::of(&found.voxels, width, height);
    let mut joined = vec![(first, found.voxels)];
    // Up the slices, then down, while a slice holds a lesion touching the last ones.
    for step in [1isize, -1] {
        let mut touched = start.clone();
        let mut k = at[2] as isize + step;
        while (region.from[2] as isize..region.to[2] as isize).contains(&k) && !touched.is_empty() {
            let mut next = Footprint::empty(width, height);
            for (lesion, found) in lesions_of(k as usize) {
                if found
                    .voxels
                    .iter()
                    .any(|&voxel| touched.touches(voxel % slice_len))
                {
                    next.add(&found.voxels);
                    joined.push((lesion, found.voxels));
                }
            }
            touched = next;
            k += step;
        }
    }
    Ok(joined)
}

/// The pixels of one slice some lesions cover, for finding those of the next slice that
/// touch them.
#[derive(Clone)]
struct Footprint {
    width: usize,
    height: usize,
    covered: Vec<bool>,
    any: bool,
}

impl Footprint {
    fn empty(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            covered: vec![false; width * height],
            any: false,
        }
    }

    fn of(voxels: &[usize], width: usize, height: usize) -> Self {
        let mut footprint = Self::empty(width, height);
        footprint.add(voxels);
        footprint
    }

    /// Covers `voxels` (flat indices of the volume).
    fn add(&mut self, voxels: &[usize]) {
        let slice_len = self.covered.len();
        for &voxel in voxels {
            self.covered[voxel % slice_len] = true;
            self.any = true;
        }
    }

    fn is_empty(&self) -> bool {
        !self.any
    }

    /// Whether the pixel `at` (a flat index of the slice) or one of its 8 neighbours is
    /// covered.
    fn touches(&self, at: usize) -> bool {
        let (i, j) = (at % self.width, at / self.width);
        let columns = i.saturating_sub(1)..=(i + 1).min(self.width - 1);
        (j.saturating_sub(1)..=(j + 1).min(self.height - 1))
            .any(|y| columns.clone().any(|x| self.covered[y * self.width + x]))
    }
}

/// What turns a set of bright pixels into a lesion and scores it on `volume`'s grid.
struct Rules {
    pixel_area_mm2: f64,
    slice_mm: f64,
    mg_per_cm3_per_hu: f64,
}

impl Rules {
    /// The rules on `volume`, once it is checked to be an axial CT and the factor a
    /// positive number.
    fn of(volume: &Volume, mg_per_cm3_per_hu: f64) -> Result<Self, CalciumError> {
        if volume.modality != Modality::CT {
            return Err(CalciumError::NotCt(volume.modality.code().to_string()));
        }
        let tilt = slice_tilt_deg(volume);
        if tilt > MOST_TILT_DEG {
            return Err(CalciumError::NotAxial(tilt));
        }
        if !(mg_per_cm3_per_hu.is_finite() && mg_per_cm3_per_hu > 0.0) {
            return Err(CalciumError::NotPositive {
                what: "calibration factor (mg/cm³ per HU)",
                value: mg_per_cm3_per_hu,
            });
        }
        let [si, sj, sk] = volume.spacing_mm;
        Ok(Self {
            pixel_area_mm2: si * sj,
            slice_mm: sk,
            mg_per_cm3_per_hu,
        })
    }

    /// `found` on slice `k` scored as a lesion; none when its area is too small.
    fn lesion(&self, volume: &Volume, k: usize, found: &Found) -> Option<Lesion> {
        let pixels = found.voxels.len();
        let area_mm2 = pixels as f64 * self.pixel_area_mm2;
        if area_mm2 < MIN_LESION_AREA_MM2 {
            return None;
        }
        let weight = density_weight(found.peak);
        let volume_mm3 = area_mm2 * self.slice_mm;
        let mean_hu = found.sum / pixels as f64;
        let centre = DVec3::new(
            found.sum_i / pixels as f64,
            found.sum_j / pixels as f64,
            k as f64,
        );
        Some(Lesion {
            slice: k,
            centre_lps: volume.voxel_to_lps_point(centre),
            pixels,
            area_mm2,
            peak_hu: found.peak,
            mean_hu,
            weight,
            agatston: area_mm2 * f64::from(weight) * self.slice_mm / REFERENCE_SLICE_MM,
            volume_mm3,
            mass_mg: mean_hu * volume_mm3 / 1000.0 * self.mg_per_cm3_per_hu,
        })
    }
}

/// The angle between the slices' normal (the k axis) and the head–foot axis (degrees).
fn slice_tilt_deg(volume: &Volume) -> f64 {
    let normal = volume.voxel_to_lps.z_axis.truncate().normalize_or_zero();
    normal
        .dot(DVec3::Z)
        .abs()
        .clamp(0.0, 1.0)
        .acos()
        .to_degrees()
}

/// Calls `each(i, j, value)` for every voxel of slice `k` inside `region`.
fn each_in_slice(
    volume: &Volume,
    region: VoxelBox,
    k: usize,
    mut each: impl FnMut(usize, usize, f64),
) {
    let width = volume.dims[0];
    let slab = volume.slab(k..k + 1);
    let value = |n: usize| match &slab {
        Slab::I16(values) => values.get(n).map(|&v| f64::from(v)),
        Slab::F32(values) => values.get(n).map(|&v| f64::from(v)),
    };
    for j in region.from[1]..region.to[1] {
        for i in region.from[0]..region.to[0] {
            if let Some(v) = value(j * width + i) {
                each(i, j, v);
            }
        }
    }
}

/// A set of connected pixels found on a slice, before its area is checked.
struct Found {
    /// Its voxels (flat indices of the volume).
    voxels: Vec<usize>,
    peak: f64,
    sum: f64,
    sum_i: f64,
    sum_j: f64,
}

/// The 8-connected sets of pixels at or above the threshold on slice `k` inside `region`.
fn slice_lesions(volume: &Volume, region: VoxelBox, k: usize) -> Vec<Found> {
    let (width, height) = (region.to[0] - region.from[0], region.to[1] - region.from[1]);
    let slice_start = k * volume.dims[0] * volume.dims[1];
    // The slice's values inside the region; NaN below the threshold.
    let mut values = vec![f64::NAN; width * height];
    each_in_slice(volume, region, k, |i, j, value| {
        if value >= LESION_THRESHOLD_HU {
            values[(j - region.from[1]) * width + (i - region.from[0])] = value;
        }
    });
    let mut queued = vec![false; values.len()];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..values.len() {
        if values[start].is_nan() || queued[start] {
            continue;
        }
        let mut lesion = Found {
            voxels: Vec::new(),
            peak: f64::MIN,
            sum: 0.0,
            sum_i: 0.0,
            sum_j: 0.0,
        };
        queued[start] = true;
        stack.push(start);
        while let Some(at) = stack.pop() {
            let value = values[at];
            let (x, y) = (at % width, at / width);
            let (i, j) = (x + region.from[0], y + region.from[1]);
            lesion.voxels.push(slice_start + j * volume.dims[0] + i);
            lesion.peak = lesion.peak.max(value);
            lesion.sum += value;
            lesion.sum_i += i as f64;
            lesion.sum_j += j as f64;
            let (x0, x1) = (x.saturating_sub(1), (x + 1).min(width - 1));
            let (y0, y1) = (y.saturating_sub(1), (y + 1).min(height - 1));
            for ny in y0..=y1 {
                for nx in x0..=x1 {
                    let next = ny * width + nx;
                    if !values[next].is_nan() && !queued[next] {
                        queued[next] = true;
                        stack.push(next);
                    }
                }
            }
        }
        found.push(lesion);
    }
    found
}

#[cfg(test)]
mod tests {
    use glam::DMat4;
    use hounsfield_volume::Voxels;

    use super::*;

    /// A CT of 40 × 40 pixels of 0.5 mm and `slices` slices `slice_mm` apart at −50 HU,
    /// with `paint(i, j, k)` giving the value of a voxel where it gives one.
    fn ct(
        slices: usize,
        slice_mm: f64,
        paint: impl Fn(usize, usize, usize) -> Option<i16>,
    ) -> Volume {
        let dims = [40, 40, slices];
        let mut voxels = vec![-50i16; dims[0] * dims[1] * dims[2]];
        for k in 0..slices {
            for j in 0..40 {
                for i in 0..40 {
                    if let Some(value) = paint(i, j, k) {
                        voxels[(k * 40 + j) * 40 + i] = value;
                    }
                }
            }
        }
        let affine = DMat4::from_cols_array(&[
            0.5, 0.0, 0.0, 0.0, //
            0.0, 0.5, 0.0, 0.0, //
            0.0, 0.0, slice_mm, 0.0, //
            -10.0, -10.0, 0.0, 1.0,
        ]);
        Volume::new(Voxels::I16(voxels), dims, affine, Modality::CT, None).expect("a CT")
    }

    /// An 8 × 8-pixel square (16 mm²) at 250 HU with one pixel at 410, on slices
    /// `slices`; a 2 × 2 square (1 mm²) at 450 HU on slice 0; a 3 × 1 strip (0.75 mm²)
    /// at 600 HU on slice 0.
    fn lesions(i: usize, j: usize, k: usize, slices: std::ops::Range<usize>) -> Option<i16> {
        if slices.contains(&k) && (10..18).contains(&i) && (10..18).contains(&j) {
            return Some(if (i, j) == (12, 12) { 410 } else { 250 });
        }
        if k == 0 && (30..32).contains(&i) && (30..32).contains(&j) {
            return Some(450);
        }
        if k == 0 && (2..5).contains(&i) && j == 35 {
            return Some(600);
        }
        None
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn a_box_on_a_slice_holds_that_slices_voxels_between_its_corners() {
        let volume = ct(6, 3.0, |_, _, _| None);
        let a = volume.voxel_to_lps_point(DVec3::new(10.2, 12.6, 3.1));
        let b = volume.voxel_to_lps_point(DVec3::new(14.8, 17.4, 3.1));
        let [x0, y0, z0, x1, y1, z1] = box_on_slice(&volume, a, b);
        let held = VoxelBox::of_lps(
            &volume,
            DVec3::new(x0, y0, z0),
            DVec3::new(x1, y1, z1),
            "box",
        )
        .expect("voxels");
        assert_eq!(
            held,
            VoxelBox {
                from: [11, 13, 3],
                to: [15, 18, 4]
            }
        );
    }

    #[test]
    fn peaks_weigh_and_totals_fall_in_their_categories_at_the_boundaries() {
        assert_eq!(
            [
                129.9, 130.0, 199.9, 200.0, 299.0, 300.0, 399.9, 400.0, 3000.0
            ]
            .map(density_weight),
            [0, 1, 1, 2, 2, 3, 3, 4, 4]
        );
        assert_eq!(
            [0.0, 0.5, 99.9, 100.0, 399.9, 400.0].map(RiskCategory::of),
            [
                RiskCategory::None,
                RiskCategory::Mild,
                RiskCategory::Mild,
                RiskCategory::Moderate,
                RiskCategory::Moderate,
                RiskCategory::Severe
            ]
        );
    }

    #[test]
    fn lesions_on_3_mm_slices_score_as_worked_out_by_hand() {
        let volume = ct(4, 3.0, |i, j, k| lesions(i, j, k, 1..3));
        let scored =
            score(&volume, VoxelBox::whole(&volume), DEFAULT_MG_PER_CM3_PER_HU).expect("scored");
        // The strip of 0.75 mm² is left out; the 1 mm² square is in.
        assert_eq!(scored.lesions.len(), 3, "{:?}", scored.lesions);
        let small = &scored.lesions[0];
        assert_eq!((small.slice, small.pixels, small.weight), (0, 4, 4));
        assert!(close(small.area_mm2, 1.0));
        // 1 mm² × weight 4 × 3/3.
        assert!(close(small.agatston, 4.0));
        assert!(close(small.volume_mm3, 3.0));
        assert!(close(small.mass_mg, 450.0 * 3.0 / 1000.0 * 0.743));
        for square in &scored.lesions[1..] {
            // 64 pixels of 0.25 mm²; the peak 410 weighs 4.
            assert_eq!((square.pixels, square.weight), (64, 4));
            assert!(close(square.area_mm2, 16.0));
            assert!(close(square.agatston, 64.0));
            assert!(close(square.volume_mm3, 48.0));
            let mean = (63.0 * 250.0 + 410.0) / 64.0;
            assert!(close(square.mean_hu, mean));
            assert!(close(square.mass_mg, mean * 48.0 / 1000.0 * 0.743));
            // The square's centre, (13.5, 13.5) in pixels, in the patient.
            assert!((square.centre_lps.x - (-10.0 + 13.5 * 0.5)).abs() < 1e-9);
        }
        assert!(close(scored.total.agatston, 132.0));
        assert!(close(scored.total.volume_mm3, 99.0));
        assert_eq!(scored.total.lesions, 3);
        assert_eq!(scored.total.category(), RiskCategory::Moderate);
    }

    #[test]
    fn the_same_calcium_on_half_millimetre_slices_scores_the_same() {
        // The square 6 mm long: two 3 mm slices, or twelve of 0.5 mm.
        let thick = ct(4, 3.0, |i, j, k| lesions(i, j, k, 1..3).filter(|_| k > 0));
        let thin = ct(16, 0.5, |i, j, k| lesions(i, j, k, 2..14).filter(|_| k > 0));
        let whole = |volume: &Volume| {
            score(volume, VoxelBox::whole(volume), DEFAULT_MG_PER_CM3_PER_HU)
                .expect("scored")
                .total
        };
        let (thick, thin) = (whole(&thick), whole(&thin));
        assert_eq!((thick.lesions, thin.lesions), (2, 12));
        assert!(close(thick.agatston, thin.agatston), "{thick:?} {thin:?}");
        assert!(close(thick.volume_mm3, thin.volume_mm3));
        assert!(close(thick.mass_mg, thin.mass_mg));
    }

    #[test]
    fn pixels_touching_at_a_corner_are_one_lesion_and_a_box_keeps_to_its_voxels() {
        // A diagonal line of 8 pixels at 300 HU: 2 mm², one lesion.
        let volume = ct(1, 3.0, |i, j, _| {
            (i == j && (20..28).contains(&i)).then_some(300)
        });
        let scored = score(&volume, VoxelBox::whole(&volume), 1.0).expect("scored");
        assert_eq!(scored.lesions.len(), 1);
        assert_eq!(scored.lesions[0].pixels, 8);
        assert!(close(scored.total.agatston, 2.0 * 3.0));
        // A box over the first half of the line (LPS corners of pixels 20..=23).
        let at = |n: f64| DVec3::new(-10.0 + n * 0.5, -10.0 + n * 0.5, 0.0);
        let half = VoxelBox::of_lps(&volume, at(19.6), at(23.4), "region").expect("a box");
        assert_eq!(half.from, [20, 20, 0]);
        assert_eq!(half.to, [24, 24, 1]);
        let scored = score(&volume, half, 1.0).expect("scored");
        assert_eq!(scored.lesions[0].pixels, 4);
        let outside = VoxelBox::of_lps(&volume, at(100.0), at(120.0), "region");
        assert_eq!(outside, Err(CalciumError::OutsideVolume("region")));
    }

    #[test]
    fn a_calibration_insert_sets_the_mass_factor_and_other_series_are_refused() {
        let volume = ct(2, 3.0, |i, j, _| (i < 6 && j < 6).then_some(400));
        let insert = VoxelBox {
            from: [0, 0, 0],
            to: [6, 6, 2],
        };
        let factor = calibration_factor(&volume, insert, 200.0).expect("a factor");
        assert!(close(factor, 0.5));
        let soft = VoxelBox {
            from: [20, 20, 0],
            to: [30, 30, 2],
        };
        assert!(matches!(
            calibration_factor(&volume, soft, 200.0),
            Err(CalciumError::NoCalibrationInsert(_))
        ));
        let mut mr = volume.clone();
        mr.modality = Modality::MR;
        assert_eq!(
            score(&mr, insert, 1.0),
            Err(CalciumError::NotCt("MR".to_string()))
        );
        let mut coronal = volume;
        coronal.voxel_to_lps = DMat4::from_cols_array(&[
            0.5, 0.0, 0.0, 0.0, //
            0.0, 0.0, 0.5, 0.0, //
            0.0, 3.0, 0.0, 0.0, //
            0.0, 0.0, 0.0, 1.0,
        ]);
        assert!(matches!(
            score(&coronal, insert, 1.0),
            Err(CalciumError::NotAxial(_))
        ));
    }

    #[test]
    fn each_lesion_is_told_with_its_voxels_and_a_click_joins_a_plaque_across_slices() {
        // The square on slices 1 to 3, a pixel more to the right on slice 3 (touching);
        // another square on slice 5, apart from it by slice 4.
        let volume = ct(6, 3.0, |i, j, k| {
            if k == 5 && (10..14).contains(&i) && (10..14).contains(&j) {
                return Some(300);
            }
            let shift = usize::from(k == 3);
            let square = (10 + shift..18 + shift).contains(&i) && (10..18).contains(&j);
            if (1..4).contains(&k) && square {
                return Some(250);
            }
            lesions(i, j, k, 0..0)
        });
        let whole = VoxelBox::whole(&volume);
        let mut told = Vec::new();
        let scored = score_each(&volume, whole, 1.0, |lesion, voxels| {
            told.push((lesion.slice, voxels.to_vec()));
        })
        .expect("scored");
        assert_eq!(told.len(), scored.lesions.len());
        for ((slice, voxels), lesion) in told.iter().zip(&scored.lesions) {
            assert_eq!(voxels.len(), lesion.pixels);
            assert!(voxels.iter().all(|&v| v / (40 * 40) == *slice));
        }
        let at_slice = |lesions: &[LesionVoxels]| {
            let mut slices: Vec<usize> = lesions.iter().map(|(lesion, _)| lesion.slice).collect();
            slices.sort();
            slices
        };
        let plaque = joined_lesions(&volume, whole, 1.0, [15, 15, 2]).expect("joined");
        assert_eq!(at_slice(&plaque), [1, 2, 3]);
        let same = plaque.iter().all(|(lesion, voxels)| {
            let told = told
                .iter()
                .find(|(slice, v)| *slice == lesion.slice && v == voxels);
            told.is_some() && scored.lesions.iter().any(|scored| scored == lesion)
        });
        assert!(same, "the joined lesions are those the score found");
        let apart = joined_lesions(&volume, whole, 1.0, [11, 11, 5]).expect("joined");
        assert_eq!(at_slice(&apart), [5]);
        let small = joined_lesions(&volume, whole, 1.0, [30, 30, 0]).expect("joined");
        assert_eq!(at_slice(&small), [0]);
        // The strip is too small to be a lesion; soft tissue is none.
        for at in [[3, 35, 0], [25, 25, 2]] {
            assert!(
                joined_lesions(&volume, whole, 1.0, at)
                    .expect("joined")
                    .is_empty()
            );
        }
    }
}
