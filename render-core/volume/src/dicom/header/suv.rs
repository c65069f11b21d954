//! Standardized uptake values of a PET: the factor from its activity concentration (Bq/ml)
//! to SUV normalised by body weight, by QIBA's vendor-neutral formula:
//!
//! SUVbw = concentration × weight (g) / (injected dose × 2^(−decay time / half-life)),
//!
//! the decay time running from the radiopharmaceutical's start to the scan: the series'
//! date and time, or this image's acquisition when the series says a later time (a series
//! made again after the scan). The image must be in Bq/ml (Units BQML), corrected for
//! decay to the scan's start (DecayCorrection START) and for attenuation and decay
//! (CorrectedImage ATTN and DECY); anything else is refused naming the attribute.

use std::path::Path;

use chrono::NaiveDate;
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use serde::Serialize;

use super::attributes::AttributeReader;
use super::header_object;
use crate::dicom::error::{Attribute, DicomError};

/// What SUV normalised by body weight is computed from, as a PET's header gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SuvFactor {
    /// SUV a Bq/ml (g/ml per Bq/ml): the concentration's factor.
    pub factor: f64,
    /// PatientWeight (0010,1030), kg.
    pub weight_kg: f64,
    /// RadionuclideTotalDose (0018,1074), Bq at the start.
    pub injected_bq: f64,
    /// RadionuclideHalfLife (0018,1075), s.
    pub half_life_s: f64,
    /// From the radiopharmaceutical's start to the scan, s.
    pub decay_s: f64,
    /// The dose decayed to the scan, Bq.
    pub decayed_bq: f64,
}

const UNITS: Attribute = Attribute::new("Units", 0x0054, 0x1001);
const DECAY_CORRECTION: Attribute = Attribute::new("DecayCorrection", 0x0054, 0x1102);
const CORRECTED_IMAGE: Attribute = Attribute::new("CorrectedImage", 0x0028, 0x0051);
const PATIENT_WEIGHT: Attribute = Attribute::new("PatientWeight", 0x0010, 0x1030);
const RADIOPHARMACEUTICAL: Attribute =
    Attribute::new("RadiopharmaceuticalInformationSequence", 0x0054, 0x0016);
const TOTAL_DOSE: Attribute = Attribute::new("RadionuclideTotalDose", 0x0018, 0x1074);
const HALF_LIFE: Attribute = Attribute::new("RadionuclideHalfLife", 0x0018, 0x1075);
const START_TIME: Attribute = Attribute::new("RadiopharmaceuticalStartTime", 0x0018, 0x1072);
const SERIES_TIME: Attribute = Attribute::new("SeriesTime", 0x0008, 0x0031);

/// The SUV factor of a PET `series` (from its first image's header), or why it has none;
/// `None` for a series of another modality.
pub fn series_suv_factor(series: &crate::dicom::Series) -> Option<Result<SuvFactor, DicomError>> {
    if !series.modality.eq_ignore_ascii_case("PT") {
        return None;
    }
    series
        .images
        .first()
        .map(|first| read_suv_factor(&first.file))
}

/// The SUV factor of the PET image in `file`, or why it has none.
pub fn read_suv_factor(file: &Path) -> Result<SuvFactor, DicomError> {
    let (_, object) = header_object(file)?;
    suv_factor(&AttributeReader {
        file,
        object: &object,
    })
}

fn suv_factor(reader: &AttributeReader<'_>) -> Result<SuvFactor, DicomError> {
    let invalid = |attribute, reason: String| DicomError::InvalidAttribute {
        file: reader.file.to_path_buf(),
        attribute,
        reason,
    };
    let missing = |attribute| DicomError::MissingAttribute {
        file: reader.file.to_path_buf(),
        attribute,
    };
    let units = reader.string(tags::UNITS);
    if !units.eq_ignore_ascii_case("BQML") {
        return Err(invalid(
            UNITS,
            format!("'{units}': SUV needs activity concentrations in Bq/ml (BQML)"),
        ));
    }
    let decay = reader.string(tags::DECAY_CORRECTION);
    if !decay.eq_ignore_ascii_case("START") {
        return Err(invalid(
            DECAY_CORRECTION,
            format!("'{decay}': SUV needs values decay-corrected to the scan's start (START)"),
        ));
    }
    let corrected = reader.strings(tags::CORRECTED_IMAGE);
    for needed in ["ATTN", "DECY"] {
        if !corrected.iter().any(|c| c.eq_ignore_ascii_case(needed)) {
            return Err(invalid(
                CORRECTED_IMAGE,
                format!("{corrected:?} lacks {needed}: the values are not corrected for it"),
            ));
        }
    }
    let positive = |attribute, value: Option<f64>| match value {
        None => Err(missing(attribute)),
        Some(v) if v > 0.0 => Ok(v),
        Some(v) => Err(invalid(attribute, format!("{v} is not positive"))),
    };
    let weight_kg = positive(PATIENT_WEIGHT, reader.f64(tags::PATIENT_WEIGHT))?;
    let drug = reader
        .object
        .get(tags::RADIOPHARMACEUTICAL_INFORMATION_SEQUENCE)
        .and_then(|e| e.items())
        .and_then(|items| items.first())
        .ok_or_else(|| missing(RADIOPHARMACEUTICAL))?;
    let drug = AttributeReader {
        file: reader.file,
        object: drug,
    };
    let injected_bq = positive(TOTAL_DOSE, drug.f64(tags::RADIONUCLIDE_TOTAL_DOSE))?;
    let half_life_s = positive(HALF_LIFE, drug.f64(tags::RADIONUCLIDE_HALF_LIFE))?;
    let series_day = date_of(reader.object, tags::SERIES_DATE);
    let scan = moment(series_day, reader.seconds_of_day(tags::SERIES_TIME))
        .ok_or_else(|| missing(SERIES_TIME))?;
    let acquired = moment(
        date_of(reader.object, tags::ACQUISITION_DATE).or(series_day),
        reader.seconds_of_day(tags::ACQUISITION_TIME),
    );
    let scan = match acquired {
        Some(acquired) if acquired < scan => acquired,
        _ => scan,
    };
    let start = start_moment(&drug, series_day).ok_or_else(|| missing(START_TIME))?;
    let decay_s = scan - start;
    if decay_s < 0.0 {
        return Err(invalid(
            START_TIME,
            format!(
                "the radiopharmaceutical starts {:.0} s after the scan",
                -decay_s
            ),
        ));
    }
    let decayed_bq = injected_bq * (-std::f64::consts::LN_2 * decay_s / half_life_s).exp();
    Ok(SuvFactor {
        factor: weight_kg * 1000.0 / decayed_bq,
        weight_kg,
        injected_bq,
        half_life_s,
        decay_s,
        decayed_bq,
    })
}

/// The radiopharmaceutical's start: its date and time, else its time on the series' day.
fn start_moment(drug: &AttributeReader<'_>, series_day: Option<NaiveDate>) -> Option<f64> {
    let date_time = drug
        .object
        .get(tags::RADIOPHARMACEUTICAL_START_DATE_TIME)
        .and_then(|e| e.to_datetime().ok());
    let day = date_time
        .as_ref()
        .and_then(|dt| naive_date(dt.date()))
        .or(series_day);
    let seconds = drug
        .seconds_of_day(tags::RADIOPHARMACEUTICAL_START_DATE_TIME)
        .or_else(|| drug.seconds_of_day(tags::RADIOPHARMACEUTICAL_START_TIME));
    moment(day, seconds)
}

/// Seconds from 1970 of a day and a time of it (the time alone when the day is unknown:
/// then both moments compared must lack it, as a series without dates does).
fn moment(day: Option<NaiveDate>, seconds: Option<f64>) -> Option<f64> {
    let seconds = seconds?;
    let days = day.map_or(0, |day| {
        day.signed_duration_since(NaiveDate::default()).num_days()
    });
    Some(days as f64 * 86_400.0 + seconds)
}

fn date_of(object: &InMemDicomObject, tag: Tag) -> Option<NaiveDate> {
    naive_date(&object.get(tag)?.to_date().ok()?)
}

fn naive_date(date: &dicom_core::value::DicomDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::from(*date.year()),
        u32::from(*date.month()?),
        u32::from(*date.day()?),
    )
}
