//! Reads findings back from a Measurement Report this program wrote: the measurement
//! groups whose tracking identifier it made, their outlines, numbers and notes. Groups
//! another program wrote are counted, not read.

use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use glam::DVec3;
use hounsfield_vocabulary::{FindingKind, MAX_POLYGON_VERTICES, RegionStatistics};
use hounsfield_volume::dicom::declared::{Reach, open_checked};

use super::calcium::{CALCIUM_TRACKING, SavedCalcium};
use super::codes::{self, Code};
use super::content::{is_named, items, numeric_value, text, unit_of};
use super::tracking::parse_tracking_identifier;
use super::write::{COMPREHENSIVE_3D_SR, MeasuredFinding};
use crate::error::FindingError;
use crate::{Finding, MAX_FINDINGS_PER_SERIES, MAX_REPORT_BYTES, Measurement};

/// What a Measurement Report holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReport {
    /// The report's SOP Instance UID.
    pub sop_instance_uid: String,
    /// The report's own series.
    pub report_series_uid: String,
    /// The study it belongs to.
    pub study_uid: String,
    /// The series of images its findings were drawn on (from its evidence).
    pub image_series_uids: Vec<String>,
    /// Who observed (the person observer's name).
    pub observer: String,
    /// ContentDate and ContentTime.
    pub written: String,
    /// The findings read, with the numbers stored with them.
    pub findings: Vec<MeasuredFinding>,
    /// The calcium score it holds, if any.
    pub calcium: Option<SavedCalcium>,
    /// Measurement groups another program wrote, left out.
    pub foreign_groups: usize,
}

/// Reads the report in `path`, its lengths checked before they are trusted.
pub fn read_report_file(path: &Path) -> Result<ReadReport, FindingError> {
    let checked =
        open_checked(path, Reach::WholeFile).map_err(|error| not_a_report(path, error))?;
    if checked.layout.bytes > MAX_REPORT_BYTES {
        return Err(not_a_report(
            path,
            format!(
                "{} bytes is over the {MAX_REPORT_BYTES}-byte limit of a findings report",
                checked.layout.bytes
            ),
        ));
    }
    let object = dicom_object::OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Auto)
        .from_reader(checked.file)
        .map_err(|error| not_a_report(path, error))?;
    read_report(&path.display().to_string(), &object)
}

fn not_a_report(path: &Path, error: impl std::fmt::Display) -> FindingError {
    FindingError::NotAReport {
        what: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// Reads a report already parsed; `what` names it in errors.
pub fn read_report(what: &str, object: &InMemDicomObject) -> Result<ReadReport, FindingError> {
    let refuse = |reason: String| FindingError::NotAReport {
        what: what.to_string(),
        reason,
    };
    let sop_class = text(object, tags::SOP_CLASS_UID);
    if sop_class != COMPREHENSIVE_3D_SR {
        return Err(refuse(format!(
            "SOPClassUID {sop_class:?} is not Comprehensive 3D SR"
        )));
    }
    let root = items(object, tags::CONTENT_SEQUENCE);
    let mut report = ReadReport {
        sop_instance_uid: text(object, tags::SOP_INSTANCE_UID),
        report_series_uid: text(object, tags::SERIES_INSTANCE_UID),
        study_uid: text(object, tags::STUDY_INSTANCE_UID),
        image_series_uids: evidence_series(object),
        observer: root
            .iter()
            .find(|item| is_named(item, codes::PERSON_OBSERVER_NAME))
            .map(|item| text(item, tags::PERSON_NAME))
            .unwrap_or_default(),
        written: format!(
            "{} {}",
            text(object, tags::CONTENT_DATE),
            text(object, tags::CONTENT_TIME)
        ),
        findings: Vec::new(),
        calcium: None,
        foreign_groups: 0,
    };
    let measurements = root
        .iter()
        .find(|item| is_named(item, codes::IMAGING_MEASUREMENTS))
        .ok_or_else(|| refuse("no Imaging Measurements container (TID 1500)".to_string()))?;
    let mut calcium = Vec::new();
    for group in items(measurements, tags::CONTENT_SEQUENCE) {
        if !is_named(group, codes::MEASUREMENT_GROUP) {
            continue;
        }
        // A calcium score's groups are read together, as no findings.
        if is_calcium_group(group) {
            calcium.push(group);
            continue;
        }
        if report.findings.len() >= MAX_FINDINGS_PER_SERIES {
            return Err(refuse(format!(
                "more than {MAX_FINDINGS_PER_SERIES} measurement groups"
            )));
        }
        match read_group(group) {
            Some(measured) => report.findings.push(measured),
            None => report.foreign_groups += 1,
        }
    }
    if !calcium.is_empty() {
        report.calcium = SavedCalcium::read(&calcium);
        if report.calcium.is_none() {
            report.foreign_groups += calcium.len();
        }
    }
    Ok(report)
}

/// Whether a group holds a calcium score (its tracking identifier says so).
fn is_calcium_group(group: &InMemDicomObject) -> bool {
    items(group, tags::CONTENT_SEQUENCE)
        .iter()
        .find(|item| is_named(item, codes::TRACKING_IDENTIFIER))
        .is_some_and(|item| text(item, tags::TEXT_VALUE).starts_with(CALCIUM_TRACKING))
}

/// One measurement group this program wrote; `None` for any other.
fn read_group(group: &InMemDicomObject) -> Option<MeasuredFinding> {
    let children = items(group, tags::CONTENT_SEQUENCE);
    let named = |code: Code| children.iter().find(|item| is_named(item, code));
    let tracking = text(named(codes::TRACKING_IDENTIFIER)?, tags::TEXT_VALUE);
    let tracked = parse_tracking_identifier(&tracking)?;
    let (id, kind) = (tracked.id, tracked.kind);
    let region = named(codes::IMAGE_REGION)?;
    let data = region
        .element(tags::GRAPHIC_DATA)
        .ok()?
        .to_multi_float64()
        .ok()?;
    if data.len() % 3 != 0 || data.len() / 3 > MAX_POLYGON_VERTICES + 1 {
        return None;
    }
    let stored: Vec<DVec3> = data
        .chunks_exact(3)
        .map(|p| DVec3::new(p[0], p[1], p[2]))
        .collect();
    let points = drawn_points(kind, &stored)?;
    let note = named(codes::COMMENT)
        .map(|item| text(item, tags::TEXT_VALUE))
        .unwrap_or_default();
    let finding = Finding::on_axes(id, kind, tracked.plane, tracked.axes, points, note).ok()?;
    let number = |code: Code| named(code).and_then(numeric_value);
    let measurement = match kind {
        FindingKind::Ellipse | FindingKind::Rectangle | FindingKind::Polygon => {
            let mean = named(codes::MEAN)?;
            Measurement::Region(RegionStatistics {
                mean: numeric_value(mean)?,
                sd: number(codes::STANDARD_DEVIATION)?,
                min: number(codes::MINIMUM)?,
                max: number(codes::MAXIMUM)?,
                area_mm2: number(codes::AREA)?,
                voxels: number(codes::VOXEL_COUNT)? as u64,
                unit: codes::unit_name(&unit_of(mean)).to_string(),
                suv: None,
            })
        }
        FindingKind::Ruler => Measurement::Length {
            mm: number(codes::LENGTH)?,
        },
        FindingKind::Angle => Measurement::Angle {
            degrees: number(codes::ANGLE)?,
        },
        FindingKind::Arrow => Measurement::Pointer,
    };
    Some(MeasuredFinding {
        finding,
        measurement,
    })
}

/// The points a finding was drawn by, from its stored outline.
fn drawn_points(kind: FindingKind, stored: &[DVec3]) -> Option<Vec<DVec3>> {
    match (kind, stored) {
        (FindingKind::Ellipse, [major_a, major_b, minor_a, minor_b]) => {
            let centre = (*major_a + *major_b) * 0.5;
            let half = (*major_b - *major_a) * 0.5 + (*minor_b - *minor_a) * 0.5;
            Some(vec![centre - half, centre + half])
        }
        (FindingKind::Rectangle, [a, _, b, _, _]) => Some(vec![*a, *b]),
        (FindingKind::Polygon, [first, .., last]) if first == last => {
            Some(stored[..stored.len() - 1].to_vec())
        }
        (FindingKind::Polygon, _) => Some(stored.to_vec()),
        (FindingKind::Ellipse | FindingKind::Rectangle, _) => None,
        _ => Some(stored.to_vec()),
    }
}

/// The image series the report's evidence names.
fn evidence_series(object: &InMemDicomObject) -> Vec<String> {
    items(object, tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE)
        .iter()
        .flat_map(|study| items(study, tags::REFERENCED_SERIES_SEQUENCE))
        .map(|series| text(series, tags::SERIES_INSTANCE_UID))
        .collect()
}
