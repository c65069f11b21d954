//! The catalog: what a set of files, folders and DICOMDIRs holds, read from headers only,
//! grouped into studies → series by UID. A series whose images differ in orientation,
//! size or pixel spacing is split into parts (a 3-plane localiser becomes three series),
//! because only images of one geometry stack into one volume.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::DicomError;
use super::header::{FileKind, IMAGE_ORIENTATION, IMAGE_POSITION, ImageHeader, read_file_headers};
use super::header_reading::{FILE_READ_LIMIT, read_within};
use super::library_walk::files_under;
use super::series_kind::{self, SeriesKind};
use super::skipped::SkippedFile;
use super::stack::{StackPlan, plan_stack};
use crate::progress::{Counter, ProgressFn, Stage};
use crate::volume::ValueRange;

/// Orientation cosines closer than this are the same orientation.
const SAME_ORIENTATION: f64 = 1e-3;
/// Pixel spacings closer than this are the same spacing (mm).
const SAME_SPACING_MM: f64 = 1e-4;
/// Most images (frames) one scan lists; files past it are skipped with that reason.
pub const MAX_CATALOG_IMAGES: usize = 4_000_000;

/// Everything found under the scanned paths.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Studies, by date then UID.
    pub studies: Vec<Study>,
    /// Files that were not catalogued, with reasons.
    pub skipped: Vec<SkippedFile>,
}

/// One study: a patient's visit, holding series.
#[derive(Debug)]
pub struct Study {
    /// StudyInstanceUID.
    pub uid: String,
    /// PatientName.
    pub patient_name: String,
    /// PatientID.
    pub patient_id: String,
    /// StudyDate (YYYYMMDD).
    pub date: String,
    /// StudyDescription.
    pub description: String,
    /// AccessionNumber, may be empty.
    pub accession: String,
    /// Series, by number.
    pub series: Vec<Series>,
}

/// One series (or one geometric part of a split series).
#[derive(Debug)]
pub struct Series {
    /// Catalog id: the SeriesInstanceUID, with `-N` for the N-th part of a split series.
    pub id: String,
    /// SeriesInstanceUID.
    pub uid: String,
    /// SeriesNumber.
    pub number: Option<i32>,
    /// Modality code.
    pub modality: String,
    /// SeriesDescription.
    pub description: String,
    /// The images (frames), in file order.
    pub images: Vec<ImageHeader>,
    /// How the images stack into a volume, or why they do not.
    pub plan: Result<StackPlan, String>,
    /// Why the series cannot be loaded even though it stacks (e.g. mosaic, colour).
    pub unsupported: Option<String>,
    /// What the series is for: a volume, a localiser or a single image.
    pub kind: SeriesKind,
}

impl Series {
    /// Human-readable warnings: geometry findings and anything unsupported.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = match &self.plan {
            Ok(plan) => plan.warnings.iter().map(ToString::to_string).collect(),
            Err(reason) => vec![reason.clone()],
        };
        warnings.extend(self.unsupported.clone());
        warnings
    }

    /// The value range the headers allow: the stored bit range after each image's rescale.
    pub fn header_value_range(&self) -> Option<ValueRange> {
        self.images
            .iter()
            .map(|image| {
                let (lo, hi) = image.pixel_format.stored_range();
                let (a, b) = (image.rescale.apply(lo), image.rescale.apply(hi));
                ValueRange {
                    min: a.min(b),
                    max: a.max(b),
                }
            })
            .reduce(|x, y| ValueRange {
                min: x.min.min(y.min),
                max: x.max.max(y.max),
            })
    }
}

impl Catalog {
    /// Scans files, folders (recursively) and DICOMDIRs, reading headers only; at most
    /// [`MAX_CATALOG_IMAGES`] images are listed.
    pub fn scan(paths: &[PathBuf], progress: ProgressFn<'_>) -> Catalog {
        Self::scan_holding(paths, progress, MAX_CATALOG_IMAGES)
    }

    /// [`Self::scan`], listing at most `most_images` images: files past them are skipped
    /// with that reason.
    fn scan_holding(paths: &[PathBuf], progress: ProgressFn<'_>, most_images: usize) -> Catalog {
        let (files, mut skipped) = files_under(paths);
        let counter = Counter::new(Stage::Scanning, files.len(), progress);
        let (read, late) = read_within(files, read_isolated, FILE_READ_LIMIT, || counter.add(1));
        skipped.extend(late);
        let mut images = Vec::new();
        for (file, kind) in read {
            match kind {
                Ok(FileKind::Images(headers)) => match missing_geometry(&headers) {
                    Some(error) => skipped.push(SkippedFile {
                        file,
                        reason: error.reason(),
                    }),
                    None if images.len() + headers.len() > most_images => {
                        skipped.push(SkippedFile {
                            file,
                            reason: format!(
                                "the catalog is full: {most_images} images are the most one scan lists"
                            ),
                        });
                    }
                    None => images.extend(headers),
                },
                // A directory found while walking a folder: its files are walked too.
                Ok(FileKind::Directory) => {}
                Err(error) => skipped.push(SkippedFile {
                    file,
                    reason: error.reason(),
                }),
            }
        }
        let mut catalog = Catalog {
            studies: group_studies(images),
            skipped,
        };
        catalog.skipped.sort_by(|a, b| a.file.cmp(&b.file));
        catalog
    }

    /// Every series of every study.
    pub fn series(&self) -> impl Iterator<Item = &Series> {
        self.studies.iter().flat_map(|s| s.series.iter())
    }

    /// Finds a series by id, or by series number when that names exactly one.
    pub fn find(&self, id: &str) -> Result<&Series, DicomError> {
        if let Some(series) = self.series().find(|s| s.id == id) {
            return Ok(series);
        }
        let by_number: Vec<&Series> = match id.parse::<i32>() {
            Ok(number) => self.series().filter(|s| s.number == Some(number)).collect(),
            Err(_) => Vec::new(),
        };
        match by_number.as_slice() {
            [only] => Ok(only),
            _ => Err(DicomError::UnknownSeries { id: id.to_string() }),
        }
    }

    /// The series to open when none is named: the one with the most images that loads.
    pub fn default_series(&self) -> Option<&Series> {
        self.series()
            .filter(|s| s.plan.is_ok() && s.unsupported.is_none())
            .max_by_key(|s| {
                (
                    s.plan.as_ref().map_or(0, |p| p.slices.len()),
                    s.images.len(),
                )
            })
    }
}

/// Reads one file's headers; a panic in the reader becomes this file's error, so one
/// hostile file cannot end a scan.
fn read_isolated(file: &Path) -> Result<FileKind, DicomError> {
    std::panic::catch_unwind(|| read_file_headers(file)).unwrap_or_else(|panic| {
        Err(DicomError::NotDicom {
            file: file.to_path_buf(),
            reason: format!("the DICOM reader failed on it ({})", panic_text(&*panic)),
        })
    })
}

/// The message a panic carried, or `no message`.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    crate::panics::message(panic).unwrap_or("no message")
}

/// The first geometry attribute an image lacks: without it, it has no place in a volume.
fn missing_geometry(headers: &[ImageHeader]) -> Option<DicomError> {
    headers.iter().find_map(|h| {
        let attribute = if h.position.is_none() {
            IMAGE_POSITION
        } else if h.orientation.is_none() {
            IMAGE_ORIENTATION
        } else {
            return None;
        };
        Some(DicomError::MissingAttribute {
            file: h.file.clone(),
            attribute,
        })
    })
}

/// Groups images into studies and series, splitting series by geometry. Series ids are
/// unique in the catalog: a SeriesInstanceUID found in several studies gets the study's
/// place among them as a suffix (`UID.s2`), so each opens its own images.
fn group_studies(images: Vec<ImageHeader>) -> Vec<Study> {
    // (study, series) → parts, each part one geometry.
    let mut parts: HashMap<(String, String), Vec<Vec<ImageHeader>>> = HashMap::new();
    for image in images {
        let key = (
            image.identity.study_uid.clone(),
            image.identity.series_uid.clone(),
        );
        let series_parts = parts.entry(key).or_default();
        match series_parts
            .iter_mut()
            .find(|members| same_geometry(&members[0], &image))
        {
            Some(members) => members.push(image),
            None => series_parts.push(vec![image]),
        }
    }
    let mut studies_of_series: HashMap<String, Vec<String>> = HashMap::new();
    for (study, series) in parts.keys() {
        studies_of_series
            .entry(series.clone())
            .or_default()
            .push(study.clone());
    }
    for studies in studies_of_series.values_mut() {
        studies.sort();
    }
    let mut keys: Vec<(String, String)> = parts.keys().cloned().collect();
    keys.sort();
    let mut studies: Vec<Study> = Vec::new();
    for key in keys {
        let Some(mut series_parts) = parts.remove(&key) else {
            continue;
        };
        let (study_uid, series_uid) = key;
        for members in &mut series_parts {
            members.sort_by(|a, b| {
                (a.instance_number, &a.file, a.frame).cmp(&(b.instance_number, &b.file, b.frame))
            });
        }
        // Parts of one series in the order of their first instance.
        series_parts.sort_by(|a, b| a[0].instance_number.cmp(&b[0].instance_number));
        let study_place = studies_of_series
            .get(&series_uid)
            .filter(|studies| studies.len() > 1)
            .and_then(|studies| studies.iter().position(|s| *s == study_uid));
        let uid = if series_uid.is_empty() {
            "unknown"
        } else {
            series_uid.as_str()
        };
        let base = match study_place {
            Some(place) => format!("{uid}.s{}", place + 1),
            None => uid.to_string(),
        };
        let total = series_parts.len();
        let study_index = match studies.iter().position(|s| s.uid == study_uid) {
            Some(index) => index,
            None => {
                let first = &series_parts[0][0].identity;
                studies.push(Study {
                    uid: study_uid.clone(),
                    patient_name: first.patient_name.clone(),
                    patient_id: first.patient_id.clone(),
                    date: first.study_date.clone(),
                    description: first.study_description.clone(),
                    accession: first.accession_number.clone(),
                    series: Vec::new(),
                });
                studies.len() - 1
            }
        };
        for (index, members) in series_parts.into_iter().enumerate() {
            let id = if series_uid.is_empty() || total > 1 {
                format!("{base}-{}", index + 1)
            } else {
                base.clone()
            };
            studies[study_index].series.push(make_series(id, members));
        }
    }
    for study in &mut studies {
        study
            .series
            .sort_by(|a, b| (a.number, &a.id).cmp(&(b.number, &b.id)));
    }
    studies.sort_by(|a, b| (&a.date, &a.uid).cmp(&(&b.date, &b.uid)));
    studies
}

fn make_series(id: String, images: Vec<ImageHeader>) -> Series {
    // A panic while planning makes this series unavailable, not the scan fail.
    let plan = std::panic::catch_unwind(|| plan_stack(&id, &images))
        .unwrap_or_else(|panic| {
            Err(DicomError::InconsistentSeries {
                series: id.clone(),
                reason: format!(
                    "its geometry could not be planned ({})",
                    panic_text(&*panic)
                ),
            })
        })
        .map_err(|e| e.to_string());
    let first = &images[0];
    let unsupported = if first.mosaic {
        Some(format!(
            "a Siemens mosaic that cannot be unpacked into its slices: {}",
            first
                .mosaic_refused
                .as_deref()
                .unwrap_or("its tiles are unknown")
        ))
    } else if first.pixel_format.samples_per_pixel != 1 {
        Some(format!(
            "colour images ({} {}) are not volumes",
            first.pixel_format.samples_per_pixel, first.photometric
        ))
    } else {
        None
    };
    let kind = series_kind::classify(
        &images,
        &first.identity.series_description,
        plan.as_ref().ok().map(|plan| plan.dims[2]),
    );
    Series {
        id,
        uid: first.identity.series_uid.clone(),
        number: first.identity.series_number,
        modality: first.identity.modality.clone(),
        description: first.identity.series_description.clone(),
        plan,
        unsupported,
        kind,
        images,
    }
}

/// Whether two images of a series can stack into one volume.
fn same_geometry(a: &ImageHeader, b: &ImageHeader) -> bool {
    let close = |x: &[f64], y: &[f64], tolerance: f64| {
        x.iter().zip(y).all(|(p, q)| (p - q).abs() < tolerance)
    };
    a.rows == b.rows
        && a.columns == b.columns
        && a.mosaic == b.mosaic
        && match (a.orientation, b.orientation) {
            (Some(x), Some(y)) => close(&x, &y, SAME_ORIENTATION),
            (None, None) => true,
            _ => false,
        }
        && match (a.pixel_spacing_mm, b.pixel_spacing_mm) {
            (Some(x), Some(y)) => close(&x, &y, SAME_SPACING_MM),
            (None, None) => true,
            _ => false,
        }
}

#[cfg(test)]
mod holding_tests {
    use super::*;
    use crate::progress::no_progress;

    #[test]
    fn a_scan_past_its_images_skips_the_rest_with_the_reason() {
        let series = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
            .join("mr-sag-oblique");
        let folder = tempfile::tempdir().expect("a folder");
        let mut copied = 0;
        for entry in std::fs::read_dir(&series).expect("the series").flatten() {
            if copied == 5 {
                break;
            }
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "dcm") {
                std::fs::copy(&path, folder.path().join(entry.file_name())).expect("copied");
                copied += 1;
            }
        }
        assert_eq!(copied, 5, "five images of the series");
        let catalog = Catalog::scan_holding(&[folder.path().to_path_buf()], &no_progress, 3);
        let listed: usize = catalog
            .studies
            .iter()
            .flat_map(|study| &study.series)
            .map(|series| series.images.len())
            .sum();
        assert_eq!(listed, 3);
        assert_eq!(catalog.skipped.len(), 2);
        assert!(
            catalog
                .skipped
                .iter()
                .all(|s| s.reason == "the catalog is full: 3 images are the most one scan lists"),
            "{:?}",
            catalog.skipped
        );
    }
}
