//! How a reader names calcium lesions on an axial slice, and how the lesions show there.
//! A click on a lesion takes its plaque (the lesion and those touching it on the slices
//! above and below, [`calcium::joined_lesions`]); a box drawn on a slice takes the
//! lesions of that slice whose centres lie inside. Each lesion taken becomes a region of
//! its own round its centre ([`NamedRegion::round_lesion`]), so that later scores name it
//! again. [`LesionMasks`] paints the lesions of a score per artery, as the slices show
//! them: the server's slice cells and the window rendering here alike.

use std::sync::Arc;

use glam::DVec3;
use hounsfield_segment::{Grid, Mask};
use hounsfield_volume::Volume;

use crate::arteries::{Artery, CANDIDATE_COLOUR};
use hounsfield_vocabulary::CalciumReport;

use crate::arteries::NamedRegion;
use crate::calcium::{self, CalciumError, LesionVoxels, VoxelBox};
use crate::scoring::{painted_calcium_report, rename_lesions};

/// Where a reader named lesions on an axial slice (LPS mm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NamingGesture {
    /// A click on a lesion.
    Click(DVec3),
    /// A box's two opposite corners, on one slice.
    Box(DVec3, DVec3),
}

/// The lesions of `region` (scored at `mg_per_cm3_per_hu`) `gesture` names, with their
/// voxels: the plaque under a click, or the lesions of a box's slice whose centres lie
/// in it. None is an error saying where.
pub fn named_lesions(
    volume: &Volume,
    region: VoxelBox,
    mg_per_cm3_per_hu: f64,
    gesture: NamingGesture,
) -> Result<Vec<LesionVoxels>, CalciumError> {
    match gesture {
        NamingGesture::Click(lps) => {
            let at = volume.lps_to_voxel(lps).round();
            let inside = (0..3).all(|axis| at[axis] >= 0.0 && at[axis] < volume.dims[axis] as f64);
            let lesions = if inside {
                let voxel = [at.x as usize, at.y as usize, at.z as usize];
                calcium::joined_lesions(volume, region, mg_per_cm3_per_hu, voxel)?
            } else {
                Vec::new()
            };
            if lesions.is_empty() {
                return Err(CalciumError::NoLesionClicked(at.z));
            }
            Ok(lesions)
        }
        NamingGesture::Box(a, b) => {
            let (a, b) = (volume.lps_to_voxel(a), volume.lps_to_voxel(b));
            let (low, high) = (a.min(b), a.max(b));
            let k = a.z.round();
            let slice = (k >= region.from[2] as f64 && k < region.to[2] as f64).then(|| {
                let k = k as usize;
                VoxelBox {
                    from: [region.from[0], region.from[1], k],
                    to: [region.to[0], region.to[1], k + 1],
                }
            });
            let mut lesions = Vec::new();
            if let Some(slice) = slice {
                calcium::score_each(volume, slice, mg_per_cm3_per_hu, |lesion, voxels| {
                    lesions.push((lesion.clone(), voxels.to_vec()));
                })?;
            }
            let inside: Vec<LesionVoxels> = lesions
                .into_iter()
                .filter(|(lesion, _)| {
                    let centre = volume.lps_to_voxel(lesion.centre_lps);
                    (0..2).all(|axis| low[axis] <= centre[axis] && centre[axis] <= high[axis])
                })
                .collect();
            if inside.is_empty() {
                return Err(CalciumError::NoLesionInBox(k));
            }
            Ok(inside)
        }
    }
}

/// A score's lesions as the slices show them: a mask of each artery's, and one of the
/// candidates no region names, each made only when a lesion falls in it (six masks of
/// the volume's grid at most, a bit a voxel). The slices are handed the masks
/// themselves; a repaint copies a mask only while they still show it.
pub struct LesionMasks {
    grid: Grid,
    /// Each artery's, in [`Artery::ALL`]'s order, then the candidates'.
    masks: [Option<Arc<Mask>>; Artery::ALL.len() + 1],
}

impl LesionMasks {
    /// No lesion yet, on `volume`'s grid.
    pub fn new(volume: &Volume) -> Self {
        Self {
            grid: Grid::of(volume),
            masks: Default::default(),
        }
    }

    /// Paints a lesion of `artery` (none: a candidate) at `voxels` (flat indices).
    pub fn paint(&mut self, artery: Option<Artery>, voxels: &[usize]) {
        let grid = self.grid;
        let mask = self.masks[slot(artery)].get_or_insert_with(|| Arc::new(Mask::empty(grid)));
        let mask = Arc::make_mut(mask);
        for &voxel in voxels {
            mask.insert(voxel);
        }
    }

    /// Paints a lesion painted as `was`'s as `artery`'s.
    pub fn repaint(&mut self, was: Option<Artery>, artery: Artery, voxels: &[usize]) {
        if let Some(mask) = self.masks[slot(was)].as_mut() {
            let mask = Arc::make_mut(mask);
            for &voxel in voxels {
                mask.remove(voxel);
            }
        }
        self.paint(Some(artery), voxels);
    }

    /// The masks made, each with its colour (sRGB): the candidates first, so that the
    /// arteries' are drawn over them.
    pub fn coloured(&self) -> Vec<(Arc<Mask>, [u8; 3])> {
        let [arteries @ .., candidates] = &self.masks;
        candidates
            .iter()
            .map(|mask| (mask.clone(), CANDIDATE_COLOUR))
            .chain(
                arteries
                    .iter()
                    .zip(Artery::ALL.map(Artery::colour))
                    .filter_map(|(mask, colour)| mask.clone().map(|mask| (mask, colour))),
            )
            .collect()
    }
}

/// The mask of `artery`'s lesions among [`LesionMasks`]'s: `Artery::ALL` lists the
/// arteries in their declared order, the candidates after them.
fn slot(artery: Option<Artery>) -> usize {
    artery.map_or(Artery::ALL.len(), |artery| artery as usize)
}

/// What a reader asks of a calcium score: the region scored and the calibration (with
/// whether a region of known density gave it), regions naming arteries (none: those of
/// the score kept), lesions named now, and whether the lesions are shown.
pub struct CalciumAsked {
    /// The region scored.
    pub region: VoxelBox,
    /// The calibration (mg/cm³ per HU), and whether a region of known density gave it.
    pub factor: (f64, bool),
    /// Regions naming arteries, replacing those kept.
    pub given: Option<Vec<NamedRegion>>,
    /// Lesions named now: their artery and where.
    pub naming: Option<(Artery, NamingGesture)>,
    /// Whether the lesions are painted for the slices.
    pub shown: bool,
}

/// A calcium score kept while a reader names its lesions: the report, the regions
/// naming arteries so far, the lesions' masks when they are shown, and what was scored
/// (the region and the calibration), so that a naming repaints only the lesions it
/// names instead of scoring the series again.
pub struct NamedScore {
    /// The score, each lesion named as the regions say.
    pub report: CalciumReport,
    /// The regions naming arteries: boxes given and a region round each lesion named.
    pub regions: Vec<NamedRegion>,
    /// The lesions' masks, when they are shown.
    pub masks: Option<LesionMasks>,
    /// The region scored.
    pub region: VoxelBox,
    /// The calibration (mg/cm³ per HU) and whether a region of known density gave it.
    pub factor: (f64, bool),
}

impl NamedScore {
    /// Scores `volume` (series `series`) inside `region` at `factor`, the lesions named
    /// by `regions`, painted when `shown`.
    pub fn score(
        volume: &Volume,
        series: &str,
        region: VoxelBox,
        factor: (f64, bool),
        regions: Vec<NamedRegion>,
        shown: bool,
    ) -> Result<Self, CalciumError> {
        let mut masks = shown.then(|| LesionMasks::new(volume));
        let report = painted_calcium_report(volume, series, region, factor, &regions, |a, v| {
            if let Some(masks) = masks.as_mut() {
                masks.paint(a, v);
            }
        })?;
        Ok(Self {
            report,
            regions,
            masks,
            region,
            factor,
        })
    }

    /// The score `asked` of `volume` (series `series`), from the score `kept`: a naming on
    /// it (the same region, calibration and showing, no regions given) names and
    /// repaints only its lesions; anything else scores the series again, the lesions
    /// named joining the regions given or kept (at most `most_regions` in all). The score
    /// to keep from now on (on a refusal, `kept` as it was) and whether it was made.
    pub fn asked(
        volume: &Volume,
        series: &str,
        asked: CalciumAsked,
        kept: Option<NamedScore>,
        most_regions: usize,
    ) -> (Option<NamedScore>, Result<(), CalciumError>) {
        let CalciumAsked {
            region,
            factor,
            given,
            naming,
            shown,
        } = asked;
        let fits = |score: &NamedScore| {
            given.is_none()
                && score.region == region
                && score.factor == factor
                && score.masks.is_some() == shown
        };
        match (naming, kept) {
            (Some((artery, gesture)), Some(mut score)) if fits(&score) => {
                let named = score.name(volume, artery, gesture, most_regions);
                (Some(score), named)
            }
            (naming, kept) => {
                let mut regions = match (given, &kept) {
                    (Some(given), _) => given,
                    (None, Some(kept)) => kept.regions.clone(),
                    (None, None) => Vec::new(),
                };
                if let Some((artery, gesture)) = naming {
                    let named = match named_lesions(volume, region, factor.0, gesture) {
                        Ok(named) => named,
                        Err(error) => return (kept, Err(error)),
                    };
                    if regions.len() + named.len() > most_regions {
                        let error = CalciumError::TooManyNames {
                            kept: regions.len(),
                            more: named.len(),
                            most: most_regions,
                        };
                        return (kept, Err(error));
                    }
                    regions.extend(
                        named
                            .iter()
                            .map(|(lesion, _)| NamedRegion::round_lesion(artery, lesion)),
                    );
                }
                match Self::score(volume, series, region, factor, regions, shown) {
                    Ok(score) => (Some(score), Ok(())),
                    Err(error) => (kept, Err(error)),
                }
            }
        }
    }

    /// Names `artery` the lesions `gesture` takes (at most `most_regions` regions kept in
    /// all): their regions join the others, the report names them and sums each
    /// artery's scores again, and they are repainted; nothing else is scored again.
    pub fn name(
        &mut self,
        volume: &Volume,
        artery: Artery,
        gesture: NamingGesture,
        most_regions: usize,
    ) -> Result<(), CalciumError> {
        let named = named_lesions(volume, self.region, self.factor.0, gesture)?;
        if self.regions.len() + named.len() > most_regions {
            return Err(CalciumError::TooManyNames {
                kept: self.regions.len(),
                more: named.len(),
                most: most_regions,
            });
        }
        let was = rename_lesions(
            &mut self.report,
            named.iter().map(|(lesion, _)| lesion),
            artery,
        );
        if let Some(masks) = self.masks.as_mut() {
            for ((_, voxels), was) in named.iter().zip(was) {
                masks.repaint(was, artery, voxels);
            }
        }
        self.regions.extend(
            named
                .iter()
                .map(|(lesion, _)| NamedRegion::round_lesion(artery, lesion)),
        );
        Ok(())
    }
}
