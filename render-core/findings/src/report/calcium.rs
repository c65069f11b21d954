//! A coronary calcium score in the Measurement Report: a measurement group for each
//! artery whose lesions were named and one for the total, each with the artery as its
//! finding site, its Agatston, volume and mass scores, its risk category, and as its
//! source the stored slice of its largest lesion (the key image a reader looks at).
//! Read back from a report this program saved, the groups are kept as a
//! [`SavedCalcium`], so that a later report of the series carries the score on until a
//! reader scores the series again.

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use glam::DVec3;
use hounsfield_vocabulary::{CalciumReport, CalciumTotals};
use hounsfield_volume::Volume;

use super::codes::{self, Code};
use super::content::{is_named, items, numeric_value, text};
use super::elements::{
    code_content, container, image_content, image_region, number, sequence, text_content,
    uid_content,
};
use super::subject::{ImageRef, ReportSubject};
use super::uid::new_uid;
use crate::arteries::{Artery, NamedRegion};
use crate::calcium::RiskCategory;
use crate::error::FindingError;

/// How a calcium score's groups' tracking identifiers begin.
pub(crate) const CALCIUM_TRACKING: &str = "Coronary calcium ";

/// The tracking identifier of a calcium score's group: "Coronary calcium LAD", or
/// "Coronary calcium total".
pub fn calcium_tracking_identifier(artery: Option<&str>) -> String {
    format!("{CALCIUM_TRACKING}{}", artery.unwrap_or("total"))
}

/// A calcium score to write in a report: one scored now, or the one the series' last
/// report held (carried on until the series is scored again).
#[derive(Debug, Clone, PartialEq)]
pub enum ReportedCalcium {
    /// Scored now: its lesions give each group's key image.
    Scored(Box<CalciumReport>),
    /// Read back from the series' last report.
    Saved(SavedCalcium),
}

/// One group of a calcium score as a report holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CalciumGroup {
    /// The artery its lesions were named; none for the total.
    pub artery: Option<Artery>,
    /// Its scores (the risk category follows the Agatston score).
    pub totals: CalciumTotals,
    /// The stored slice of its largest lesion, when it lies on one.
    pub key_image: Option<ImageRef>,
    /// An artery's lesions' centres (LPS mm, as a report's 32-bit coordinates keep
    /// them): what names them again when the series is scored anew. None for the total.
    pub named_centres: Vec<DVec3>,
}

/// The most lesion centres a score read back names, all arteries together; a score
/// naming more is read back with its scores, its names left out.
pub const MOST_NAMED_CENTRES: usize = 4096;

/// A calcium score as a report holds it: a group for each artery named, then the total's.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCalcium {
    groups: Vec<CalciumGroup>,
}

impl SavedCalcium {
    /// The most groups a score has: one per artery and the total's.
    pub const MOST_GROUPS: usize = Artery::ALL.len() + 1;

    /// The groups of `report` on `subject`'s series (scored on `volume`): an artery's
    /// group for each artery with lesions, then the total's, each with the stored slice of
    /// its largest lesion.
    pub fn of_report(subject: &ReportSubject, volume: &Volume, report: &CalciumReport) -> Self {
        let named = report
            .arteries
            .iter()
            .filter(|artery| artery.scores.lesions > 0)
            .filter_map(|artery| Some((Some(Artery::from_code(&artery.artery)?), &artery.scores)));
        let groups = named
            .chain([(None, &report.total)])
            .map(|(artery, totals)| {
                let code = artery.map(Artery::code);
                let largest = report
                    .lesions
                    .iter()
                    .filter(|lesion| code.is_none() || lesion.artery.as_deref() == code)
                    .max_by(|a, b| a.area_mm2.total_cmp(&b.area_mm2));
                let key_image = largest.and_then(|lesion| {
                    subject.image_nearest(volume, DVec3::from_array(lesion.centre_lps))
                });
                let named_centres = match code {
                    Some(code) => report
                        .lesions
                        .iter()
                        .filter(|lesion| lesion.artery.as_deref() == Some(code))
                        .map(|lesion| DVec3::from_array(lesion.centre_lps.map(as_stored)))
                        .collect(),
                    None => Vec::new(),
                };
                CalciumGroup {
                    artery,
                    totals: totals.clone(),
                    key_image: key_image.cloned(),
                    named_centres,
                }
            })
            .collect();
        Self { groups }
    }

    /// Its groups: each artery's, then the total's.
    pub fn groups(&self) -> &[CalciumGroup] {
        &self.groups
    }

    /// The regions that name each lesion of the score again, as a reader's click named
    /// it: a box of a micrometre round each named lesion's centre.
    pub fn named_regions(&self) -> Vec<NamedRegion> {
        self.groups
            .iter()
            .filter_map(|group| Some((group.artery?, &group.named_centres)))
            .flat_map(|(artery, centres)| {
                centres
                    .iter()
                    .map(move |centre| NamedRegion::round_point(artery, *centre))
            })
            .collect()
    }

    /// The total's scores.
    pub fn total(&self) -> Option<&CalciumTotals> {
        self.groups
            .iter()
            .find(|group| group.artery.is_none())
            .map(|group| &group.totals)
    }

    /// The score that the calcium `groups` of a report hold, each read as this program
    /// writes it; none when one is not (unreadable, an artery twice, no total, too many).
    pub(crate) fn read(groups: &[&InMemDicomObject]) -> Option<Self> {
        if groups.is_empty() || groups.len() > Self::MOST_GROUPS {
            return None;
        }
        let mut groups: Vec<CalciumGroup> = groups
            .iter()
            .map(|group| read_group(group))
            .collect::<Option<_>>()?;
        let totals = groups.iter().filter(|g| g.artery.is_none()).count();
        let arteries = Artery::ALL
            .iter()
            .map(|artery| groups.iter().filter(|g| g.artery == Some(*artery)).count());
        if totals != 1 || arteries.into_iter().any(|count| count > 1) {
            return None;
        }
        let centres: usize = groups.iter().map(|g| g.named_centres.len()).sum();
        if centres > MOST_NAMED_CENTRES {
            groups
                .iter_mut()
                .for_each(|group| group.named_centres.clear());
        }
        Some(Self { groups })
    }
}

/// The groups of `calcium` on `subject`'s series (drawn on `volume`), with the stored
/// slices they show (for the image library): an artery's group for each artery with
/// lesions, then the total's. A saved score's key image is written only when it is one
/// of the series' images.
pub fn calcium_groups<'a>(
    subject: &'a ReportSubject,
    volume: &Volume,
    calcium: &ReportedCalcium,
) -> Result<(Vec<InMemDicomObject>, Vec<&'a ImageRef>), FindingError> {
    let scored;
    let saved = match calcium {
        ReportedCalcium::Scored(report) => {
            scored = SavedCalcium::of_report(subject, volume, report);
            &scored
        }
        ReportedCalcium::Saved(saved) => saved,
    };
    let mut groups = Vec::new();
    let mut images = Vec::new();
    for group in &saved.groups {
        let image = group
            .key_image
            .as_ref()
            .and_then(|image| subject.image_named(image));
        let named = (!group.named_centres.is_empty() && !subject.frame_of_reference_uid.is_empty())
            .then(|| {
                // The centres as the group's image region, in the series' frame.
                image_region(
                    "MULTIPOINT",
                    &group.named_centres,
                    &subject.frame_of_reference_uid,
                )
            });
        groups.push(calcium_group(
            group.artery.map(Artery::code),
            &group.totals,
            image,
            named,
        )?);
        images.extend(image);
    }
    Ok((groups, images))
}

/// One artery's group (none: the total's).
fn calcium_group(
    artery: Option<&str>,
    totals: &CalciumTotals,
    image: Option<&ImageRef>,
    named: Option<InMemDicomObject>,
) -> Result<InMemDicomObject, FindingError> {
    let mut agatston = number(codes::CALCIUM_SCORE, totals.agatston, codes::NO_UNITS);
    agatston.put(sequence(
        dicom_dictionary_std::tags::CONTENT_SEQUENCE,
        vec![code_content(
            "HAS CONCEPT MOD",
            codes::MEASUREMENT_METHOD,
            codes::AGATSTON_SCORING_METHOD,
        )],
    ));
    let mut items = vec![
        text_content(
            "CONTAINS",
            codes::TRACKING_IDENTIFIER,
            &calcium_tracking_identifier(artery),
        ),
        uid_content(codes::TRACKING_UNIQUE_IDENTIFIER, &new_uid()?),
        code_content("CONTAINS", codes::FINDING, codes::CALCIUM),
        code_content("HAS CONCEPT MOD", codes::FINDING_SITE, site(artery)),
    ];
    items.extend(named);
    if let Some(image) = image {
        items.push(image_content(Some(codes::SOURCE_IMAGE), image));
    }
    items.push(agatston);
    items.push(number(
        codes::CALCIUM_VOLUME,
        totals.volume_mm3,
        codes::CUBIC_MILLIMETRE,
    ));
    items.push(number(
        codes::CALCIUM_MASS,
        totals.mass_mg,
        codes::MILLIGRAM,
    ));
    items.push(text_content(
        "CONTAINS",
        codes::COMMENT,
        &format!(
            "{} lesion{}; risk category {} (Agatston {})",
            totals.lesions,
            if totals.lesions == 1 { "" } else { "s" },
            totals.category,
            totals.range
        ),
    ));
    Ok(container(codes::MEASUREMENT_GROUP, items))
}

/// A coordinate as a report's 32-bit graphic data keeps it.
fn as_stored(coordinate: f64) -> f64 {
    f64::from(coordinate as f32)
}

/// The finding site of an artery's group (`LM`, `LAD`, `LCx`, `RCA`; another vessel and
/// the total are the coronary arteries').
fn site(artery: Option<&str>) -> Code {
    match artery {
        Some("LM") => codes::LEFT_MAIN_CORONARY_ARTERY,
        Some("LAD") => codes::LEFT_ANTERIOR_DESCENDING_CORONARY_ARTERY,
        Some("LCx") => codes::CIRCUMFLEX_CORONARY_ARTERY,
        Some("RCA") => codes::RIGHT_CORONARY_ARTERY,
        _ => codes::CORONARY_ARTERY,
    }
}

/// One calcium group as [`calcium_group`] writes it; none for anything else.
fn read_group(group: &InMemDicomObject) -> Option<CalciumGroup> {
    let children = items(group, tags::CONTENT_SEQUENCE);
    let named = |code: Code| children.iter().find(|item| is_named(item, code));
    let tracking = text(named(codes::TRACKING_IDENTIFIER)?, tags::TEXT_VALUE);
    let artery = match tracking.strip_prefix(CALCIUM_TRACKING)? {
        "total" => None,
        code => Some(Artery::from_code(code)?),
    };
    let score = |code: Code| {
        named(code)
            .and_then(numeric_value)
            .filter(|value| value.is_finite() && *value >= 0.0)
    };
    let agatston = score(codes::CALCIUM_SCORE)?;
    // The comment begins with the lesions counted: "3 lesions; risk category …".
    let comment = text(named(codes::COMMENT)?, tags::TEXT_VALUE);
    let (lesions, _) = comment.split_once(" lesion")?;
    let category = RiskCategory::of(agatston);
    let key_image = children
        .iter()
        .find(|item| is_named(item, codes::SOURCE_IMAGE))
        .and_then(|item| items(item, tags::REFERENCED_SOP_SEQUENCE).first())
        .map(|referenced| ImageRef {
            sop_class_uid: text(referenced, tags::REFERENCED_SOP_CLASS_UID),
            sop_instance_uid: text(referenced, tags::REFERENCED_SOP_INSTANCE_UID),
            frame: text(referenced, tags::REFERENCED_FRAME_NUMBER)
                .trim()
                .parse()
                .ok(),
        });
    let named_centres = match named(codes::IMAGE_REGION) {
        Some(region) if artery.is_some() => {
            if text(region, tags::GRAPHIC_TYPE) != "MULTIPOINT" {
                return None;
            }
            let data = region
                .element(tags::GRAPHIC_DATA)
                .ok()?
                .to_multi_float64()
                .ok()?;
            if data.len() % 3 != 0 || data.iter().any(|c| !c.is_finite()) {
                return None;
            }
            // Past the bound, the scores are read and the names left out.
            if data.len() / 3 > MOST_NAMED_CENTRES {
                Vec::new()
            } else {
                data.chunks_exact(3)
                    .map(|c| DVec3::new(c[0], c[1], c[2]))
                    .collect()
            }
        }
        Some(_) => return None,
        None => Vec::new(),
    };
    Some(CalciumGroup {
        named_centres,
        artery,
        totals: CalciumTotals {
            agatston,
            volume_mm3: score(codes::CALCIUM_VOLUME)?,
            mass_mg: score(codes::CALCIUM_MASS)?,
            lesions: lesions.trim().parse().ok()?,
            category: category.name().to_string(),
            range: category.range().to_string(),
        },
        key_image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(agatston: f64, lesions: usize) -> CalciumTotals {
        let category = RiskCategory::of(agatston);
        CalciumTotals {
            agatston,
            volume_mm3: agatston / 2.0,
            mass_mg: agatston / 5.0,
            lesions,
            category: category.name().to_string(),
            range: category.range().to_string(),
        }
    }

    fn group(artery: Option<&str>, agatston: f64) -> InMemDicomObject {
        calcium_group(artery, &totals(agatston, 3), None, None).expect("a group")
    }

    fn read(groups: &[InMemDicomObject]) -> Option<SavedCalcium> {
        SavedCalcium::read(&groups.iter().collect::<Vec<_>>())
    }

    #[test]
    fn a_score_naming_more_lesions_than_the_bound_is_read_without_its_names() {
        let subject = ReportSubject {
            frame_of_reference_uid: "2.25.7".into(),
            ..ReportSubject::default()
        };
        let centres = |n: usize| -> Vec<DVec3> { (0..n).map(|i| DVec3::splat(i as f64)).collect() };
        let named = |n: usize| {
            let region = image_region("MULTIPOINT", &centres(n), &subject.frame_of_reference_uid);
            calcium_group(Some("LAD"), &totals(10.0, n), None, Some(region)).expect("a group")
        };
        let within = read(&[named(3), group(None, 10.0)]).expect("read");
        assert_eq!(within.groups()[0].named_centres, centres(3));
        assert_eq!(within.named_regions().len(), 3);
        let beyond = read(&[named(MOST_NAMED_CENTRES + 1), group(None, 10.0)]).expect("read");
        assert_eq!(
            beyond.groups()[0].totals,
            totals(10.0, MOST_NAMED_CENTRES + 1)
        );
        assert!(
            beyond.named_regions().is_empty(),
            "the scores without the names"
        );
    }

    #[test]
    fn a_score_reads_back_from_its_groups_and_a_forged_one_does_not() {
        let saved = read(&[group(Some("RCA"), 120.5), group(None, 240.0)]).expect("read");
        assert_eq!(saved.groups().len(), 2);
        assert_eq!(saved.groups()[0].artery, Some(Artery::RightCoronary));
        assert_eq!(saved.groups()[0].totals, totals(120.5, 3));
        assert_eq!(saved.total(), Some(&totals(240.0, 3)));

        // No total, two totals, an artery twice, a negative score, an unknown artery,
        // more groups than arteries and a total.
        assert!(read(&[group(Some("LAD"), 1.0)]).is_none());
        assert!(read(&[group(None, 1.0), group(None, 2.0)]).is_none());
        let twice = [
            group(Some("LAD"), 1.0),
            group(Some("LAD"), 1.0),
            group(None, 2.0),
        ];
        assert!(read(&twice).is_none());
        assert!(read(&[group(None, -1.0)]).is_none());
        assert!(read(&[group(Some("aorta"), 1.0), group(None, 1.0)]).is_none());
        let many: Vec<_> = std::iter::repeat_with(|| group(Some("other"), 1.0))
            .take(SavedCalcium::MOST_GROUPS)
            .chain([group(None, 1.0)])
            .collect();
        assert!(read(&many).is_none());
    }
}
