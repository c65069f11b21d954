//! The coronary arteries a reader names calcium lesions by, and the lesions a region
//! drawn round them takes: a lesion is the region's when its centre lies inside. Scores
//! are then added up per artery.

use glam::DVec3;

use crate::calcium::{Lesion, Scores};

/// A coronary artery, as calcium scores are reported per vessel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Artery {
    /// The left main.
    LeftMain,
    /// The left anterior descending.
    LeftAnteriorDescending,
    /// The left circumflex.
    LeftCircumflex,
    /// The right coronary artery.
    RightCoronary,
    /// Another vessel (a ramus, a graft…).
    Other,
}

impl Artery {
    /// Every artery, in the order reports list them.
    pub const ALL: [Artery; 5] = [
        Artery::LeftMain,
        Artery::LeftAnteriorDescending,
        Artery::LeftCircumflex,
        Artery::RightCoronary,
        Artery::Other,
    ];

    /// Its short name: `LM`, `LAD`, `LCx`, `RCA` or `other`.
    pub fn code(self) -> &'static str {
        match self {
            Artery::LeftMain => "LM",
            Artery::LeftAnteriorDescending => "LAD",
            Artery::LeftCircumflex => "LCx",
            Artery::RightCoronary => "RCA",
            Artery::Other => "other",
        }
    }

    /// The colour its lesions are laid over the slices in (sRGB).
    pub fn colour(self) -> [u8; 3] {
        match self {
            Artery::LeftMain => [230, 80, 230],
            Artery::LeftAnteriorDescending => [60, 140, 255],
            Artery::LeftCircumflex => [60, 200, 90],
            Artery::RightCoronary => [240, 60, 60],
            Artery::Other => [0, 210, 210],
        }
    }

    /// The artery of a short name, in any case.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|artery| artery.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// The colour of the candidates: lesions no region names (sRGB).
pub const CANDIDATE_COLOUR: [u8; 3] = [255, 220, 0];

/// A region a reader drew and named: the box between two opposite corners (LPS mm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NamedRegion {
    /// The artery its lesions are.
    pub artery: Artery,
    /// One corner.
    pub a: DVec3,
    /// The opposite corner.
    pub b: DVec3,
}

impl NamedRegion {
    /// A region taking one lesion: a box of a micrometre round its centre (what a
    /// reader's click on the lesion names).
    pub fn round_lesion(artery: Artery, lesion: &Lesion) -> Self {
        Self::round_point(artery, lesion.centre_lps)
    }

    /// A region taking the lesion whose centre is `centre` (within a micrometre: a
    /// centre as a report's 32-bit coordinates keep it still names its lesion).
    pub fn round_point(artery: Artery, centre: DVec3) -> Self {
        let margin = DVec3::splat(1e-3);
        Self {
            artery,
            a: centre - margin,
            b: centre + margin,
        }
    }

    /// Whether a point lies inside (its faces included).
    pub fn holds(&self, point: DVec3) -> bool {
        let (low, high) = (self.a.min(self.b), self.a.max(self.b));
        point.cmpge(low).all() && point.cmple(high).all()
    }
}

/// Each lesion's artery: that of the last region drawn that holds its centre (a region
/// drawn later names again what an earlier one took), none when no region holds it.
pub fn name_lesions(lesions: &[Lesion], regions: &[NamedRegion]) -> Vec<Option<Artery>> {
    lesions
        .iter()
        .map(|lesion| name_lesion(lesion, regions))
        .collect()
}

/// One lesion's artery, as [`name_lesions`] names it.
pub fn name_lesion(lesion: &Lesion, regions: &[NamedRegion]) -> Option<Artery> {
    regions
        .iter()
        .rev()
        .find(|region| region.holds(lesion.centre_lps))
        .map(|region| region.artery)
}

/// The scores of each artery's lesions, every artery listed (zero where none is named).
pub fn scores_by_artery(lesions: &[Lesion], named: &[Option<Artery>]) -> Vec<(Artery, Scores)> {
    Artery::ALL
        .into_iter()
        .map(|artery| {
            let its = lesions
                .iter()
                .zip(named)
                .filter(|(_, name)| **name == Some(artery))
                .map(|(lesion, _)| lesion);
            (artery, Scores::of(its))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesion(x: f64, agatston: f64) -> Lesion {
        Lesion {
            slice: 0,
            centre_lps: DVec3::new(x, 0.0, 0.0),
            pixels: 4,
            area_mm2: 1.0,
            peak_hu: 300.0,
            mean_hu: 250.0,
            weight: 3,
            agatston,
            volume_mm3: 3.0,
            mass_mg: 0.5,
        }
    }

    #[test]
    fn a_region_takes_the_lesions_whose_centres_it_holds_and_a_later_one_names_again() {
        let lesions = [lesion(1.0, 10.0), lesion(5.0, 20.0), lesion(9.0, 40.0)];
        let box_of = |artery, from: f64, to: f64| NamedRegion {
            artery,
            a: DVec3::new(from, -1.0, -1.0),
            b: DVec3::new(to, 1.0, 1.0),
        };
        let regions = [
            box_of(Artery::LeftAnteriorDescending, 0.0, 6.0),
            box_of(Artery::RightCoronary, 4.0, 5.0),
        ];
        let named = name_lesions(&lesions, &regions);
        assert_eq!(
            named,
            [
                Some(Artery::LeftAnteriorDescending),
                Some(Artery::RightCoronary),
                None
            ]
        );
        let scores = scores_by_artery(&lesions, &named);
        assert_eq!(scores.len(), 5);
        assert_eq!(scores[1].0, Artery::LeftAnteriorDescending);
        assert_eq!(scores[1].1.agatston, 10.0);
        assert_eq!(scores[3].1.agatston, 20.0);
        assert_eq!(scores[0].1.lesions, 0);
        assert_eq!(Artery::from_code("lcx"), Some(Artery::LeftCircumflex));
        assert_eq!(Artery::from_code("aorta"), None);
    }
}
