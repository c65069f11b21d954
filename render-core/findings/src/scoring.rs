//! A calcium score as a report gives it: the lesions of a region scored, each named by
//! the artery region that holds it, each artery's scores and the total
//! ([`hounsfield_vocabulary::CalciumReport`]); what the command line prints and the
//! server tells.

use std::collections::HashMap;

use hounsfield_vocabulary::{ArteryTotals, CalciumLesion, CalciumReport, CalciumTotals};
use hounsfield_volume::Volume;

use crate::arteries::{Artery, NamedRegion, name_lesion, scores_by_artery};
use crate::calcium::{self, CalciumError, Lesion, Scores, VoxelBox};

/// Scores the calcium of `volume` (the series `series`) inside `region`, the mass at
/// `mg_per_cm3_per_hu` (`calibrated` when a region of known density gave it), the lesions
/// named by the regions `arteries` (each artery's scores listed when there are any).
pub fn calcium_report(
    volume: &Volume,
    series: &str,
    region: VoxelBox,
    mg_per_cm3_per_hu: f64,
    calibrated: bool,
    arteries: &[NamedRegion],
) -> Result<CalciumReport, CalciumError> {
    let factor = (mg_per_cm3_per_hu, calibrated);
    painted_calcium_report(volume, series, region, factor, arteries, |_, _| {})
}

/// As [`calcium_report`] (the factor with whether it was calibrated), telling
/// `paint(artery, voxels)` each lesion's artery (none when no region names it) and voxels
/// as it is found: what lays the lesions over the slices.
pub fn painted_calcium_report(
    volume: &Volume,
    series: &str,
    region: VoxelBox,
    (mg_per_cm3_per_hu, calibrated): (f64, bool),
    arteries: &[NamedRegion],
    mut paint: impl FnMut(Option<Artery>, &[usize]),
) -> Result<CalciumReport, CalciumError> {
    let mut named = Vec::new();
    let scored = calcium::score_each(volume, region, mg_per_cm3_per_hu, |lesion, voxels| {
        let artery = name_lesion(lesion, arteries);
        paint(artery, voxels);
        named.push(artery);
    })?;
    let by_artery = if arteries.is_empty() {
        Vec::new()
    } else {
        scores_by_artery(&scored.lesions, &named)
            .into_iter()
            .map(|(artery, scores)| ArteryTotals {
                artery: artery.code().to_string(),
                scores: totals(scores),
            })
            .collect()
    };
    Ok(CalciumReport {
        series: series.to_string(),
        slice_mm: scored.slice_mm,
        pixel_area_mm2: scored.pixel_area_mm2,
        mg_per_cm3_per_hu: scored.mg_per_cm3_per_hu,
        calibrated,
        calibration: None,
        lesions: scored
            .lesions
            .iter()
            .zip(named)
            .map(|(lesion, artery)| lesion_of(lesion, artery))
            .collect(),
        arteries: by_artery,
        total: totals(scored.total),
    })
}

/// Names `artery` the lesions of `report` that are `named` (found by slice and centre),
/// and sums each artery's scores again from the lesions (every artery listed, as a
/// score with regions lists them). What each named lesion was before (none: a
/// candidate, or not in the report).
pub fn rename_lesions<'a>(
    report: &mut CalciumReport,
    named: impl IntoIterator<Item = &'a Lesion>,
    artery: Artery,
) -> Vec<Option<Artery>> {
    // Each lesion of the report by its slice and centre, so that a plaque of thousands
    // of lesions is named in one pass.
    let key = |slice: usize, centre: [f64; 3]| (slice, centre.map(f64::to_bits));
    let at: HashMap<_, usize> = report
        .lesions
        .iter()
        .enumerate()
        .map(|(n, told)| (key(told.slice, told.centre_lps), n))
        .collect();
    let was = named
        .into_iter()
        .map(|lesion| {
            let n = *at.get(&key(lesion.slice, lesion.centre_lps.to_array()))?;
            let told = &mut report.lesions[n];
            let before = told.artery.as_deref().and_then(Artery::from_code);
            told.artery = Some(artery.code().to_string());
            before
        })
        .collect();
    report.arteries = Artery::ALL
        .into_iter()
        .map(|each| {
            let its = report
                .lesions
                .iter()
                .filter(|lesion| lesion.artery.as_deref() == Some(each.code()));
            let scores = its.fold(Scores::default(), |sum, lesion| Scores {
                agatston: sum.agatston + lesion.agatston,
                volume_mm3: sum.volume_mm3 + lesion.volume_mm3,
                mass_mg: sum.mass_mg + lesion.mass_mg,
                lesions: sum.lesions + 1,
            });
            ArteryTotals {
                artery: each.code().to_string(),
                scores: totals(scores),
            }
        })
        .collect();
    was
}

/// Scores as a report gives them, with their risk category.
fn totals(scores: Scores) -> CalciumTotals {
    CalciumTotals {
        agatston: scores.agatston,
        volume_mm3: scores.volume_mm3,
        mass_mg: scores.mass_mg,
        lesions: scores.lesions,
        category: scores.category().name().to_string(),
        range: scores.category().range().to_string(),
    }
}

/// A lesion as a report gives it, named by `artery`.
fn lesion_of(lesion: &Lesion, artery: Option<Artery>) -> CalciumLesion {
    CalciumLesion {
        slice: lesion.slice,
        centre_lps: lesion.centre_lps.to_array(),
        area_mm2: lesion.area_mm2,
        peak_hu: lesion.peak_hu,
        mean_hu: lesion.mean_hu,
        weight: lesion.weight,
        agatston: lesion.agatston,
        volume_mm3: lesion.volume_mm3,
        mass_mg: lesion.mass_mg,
        artery: artery.map(|artery| artery.code().to_string()),
    }
}
