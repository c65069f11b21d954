//! A calcium score as a report gives it: the lesions of a region scored, each named by
//! the artery region that holds it, each artery's scores and the total
//! ([`hounsfield_vocabulary::CalciumReport`]); what the command line prints and the
//! server tells.

use hounsfield_vocabulary::{ArteryTotals, CalciumLesion, CalciumReport, CalciumTotals};
use hounsfield_volume::Volume;

use crate::arteries::{Artery, NamedRegion, name_lesions, scores_by_artery};
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
    let scored = calcium::score(volume, region, mg_per_cm3_per_hu)?;
    let named = if arteries.is_empty() {
        vec![None; scored.lesions.len()]
    } else {
        name_lesions(&scored.lesions, arteries)
    };
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
