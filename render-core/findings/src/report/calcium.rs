//! A coronary calcium score in the Measurement Report: a measurement group for each
//! artery whose lesions were named and one for the total, each with the artery as its
//! finding site, its Agatston, volume and mass scores, its risk category, and as its
//! source the stored slice of its largest lesion (the key image a reader looks at).

use dicom_object::InMemDicomObject;
use glam::DVec3;
use hounsfield_vocabulary::{CalciumLesion, CalciumReport, CalciumTotals};
use hounsfield_volume::Volume;

use super::codes::{self, Code};
use super::elements::{
    code_content, container, image_content, number, sequence, text_content, uid_content,
};
use super::subject::{ImageRef, ReportSubject};
use super::uid::new_uid;
use crate::error::FindingError;

/// How a calcium score's groups' tracking identifiers begin.
pub(crate) const CALCIUM_TRACKING: &str = "Coronary calcium ";

/// The tracking identifier of a calcium score's group: "Coronary calcium LAD", or
/// "Coronary calcium total".
pub fn calcium_tracking_identifier(artery: Option<&str>) -> String {
    format!("{CALCIUM_TRACKING}{}", artery.unwrap_or("total"))
}

/// The groups of `report` on `subject`'s series (drawn on `volume`), with the stored
/// slices they show (for the image library): an artery's group for each artery with
/// lesions, then the total's.
pub fn calcium_groups<'a>(
    subject: &'a ReportSubject,
    volume: &Volume,
    report: &CalciumReport,
) -> Result<(Vec<InMemDicomObject>, Vec<&'a ImageRef>), FindingError> {
    let mut groups = Vec::new();
    let mut images = Vec::new();
    let named = report
        .arteries
        .iter()
        .filter(|artery| artery.scores.lesions > 0)
        .map(|artery| (Some(artery.artery.as_str()), &artery.scores));
    for (artery, totals) in named.chain([(None, &report.total)]) {
        let largest = report
            .lesions
            .iter()
            .filter(|lesion| artery.is_none() || lesion.artery.as_deref() == artery)
            .max_by(|a, b| a.area_mm2.total_cmp(&b.area_mm2));
        let image = largest.and_then(|lesion| key_image(subject, volume, lesion));
        groups.push(calcium_group(artery, totals, image)?);
        images.extend(image);
    }
    Ok((groups, images))
}

/// The stored slice a lesion lies on.
fn key_image<'a>(
    subject: &'a ReportSubject,
    volume: &Volume,
    lesion: &CalciumLesion,
) -> Option<&'a ImageRef> {
    subject.image_nearest(volume, DVec3::from_array(lesion.centre_lps))
}

/// One artery's group (none: the total's).
fn calcium_group(
    artery: Option<&str>,
    totals: &CalciumTotals,
    image: Option<&ImageRef>,
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
